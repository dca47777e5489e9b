"""Accounting-Requests as a router sends them, the store driven directly or through the running server,
and what the tenant's tables hold afterwards."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select, update

from app.models.nas import NasClient
from app.models.usage import RadiusSession, UsageDaily
from radius import accounting
from radius import packet as rp
from tenants import tenant_context
from tests.radius.conftest import SECRET, udp_exchange, wait_for

START, STOP, INTERIM, ACCOUNTING_ON, ACCOUNTING_OFF = "Start", "Stop", "Interim-Update", "Accounting-On", \
    "Accounting-Off"
_ids = itertools.count(1)


def acct_attributes(user: str | None, session_id: str | None, status: str, *, octets_in: int = 0,
                    octets_out: int = 0, session_time: int = 0, nas_ip: str = "127.0.0.1",
                    framed_ip: str | None = None, cause: str | None = None, event_timestamp: int | None = None,
                    delay: int | None = None) -> bytes:
    """The attributes of an Accounting-Request; octet counts above 2³² are split into Gigawords."""
    pairs: list = [("Acct-Status-Type", status), ("NAS-IP-Address", nas_ip)]
    if user is not None:
        pairs.append(("User-Name", user))
    if session_id is not None:
        pairs.append(("Acct-Session-Id", session_id))
    if status not in (ACCOUNTING_ON, ACCOUNTING_OFF):
        pairs += [("Acct-Input-Octets", octets_in & 0xFFFFFFFF), ("Acct-Output-Octets", octets_out & 0xFFFFFFFF),
                  ("Acct-Session-Time", session_time)]
        if octets_in >> 32:
            pairs.append(("Acct-Input-Gigawords", octets_in >> 32))
        if octets_out >> 32:
            pairs.append(("Acct-Output-Gigawords", octets_out >> 32))
    if framed_ip:
        pairs.append(("Framed-IP-Address", framed_ip))
    if cause:
        pairs.append(("Acct-Terminate-Cause", cause))
    if event_timestamp is not None:
        pairs.append(("Event-Timestamp", event_timestamp))
    if delay is not None:
        pairs.append(("Acct-Delay-Time", delay))
    return rp.encode_attributes(pairs)


def acct_request(*args, ident: int | None = None, secret: str = SECRET, **kwargs) -> bytes:
    """The datagram (Request Authenticator computed, no Message-Authenticator, as most routers send)."""
    return rp.sign_request(rp.ACCOUNTING_REQUEST, next(_ids) % 256 if ident is None else ident,
                           acct_attributes(*args, **kwargs), secret.encode(), message_authenticator=False)


def acct_packet(*args, **kwargs) -> rp.Packet:
    return rp.parse(acct_request(*args, **kwargs))


def is_accounting_response(reply: bytes | None) -> bool:
    return reply is not None and reply[0] == rp.ACCOUNTING_RESPONSE


@dataclass
class Store:
    """`store_batch` on the test database with the test NAS, and what it stored."""

    db: object
    nas: object

    def __call__(self, *packets: rp.Packet, check_fair_use: bool = True) -> list[bool]:
        results = accounting.store_batch(self.db, [(self.nas, p) for p in packets])
        if check_fair_use:
            accounting.wait_for_fair_use()
        return results

    def sessions(self, tenant, **where) -> list[RadiusSession]:
        with tenant_context(tenant), self.db.session() as s:
            query = select(RadiusSession).order_by(RadiusSession.id)
            for name, value in where.items():
                query = query.where(getattr(RadiusSession, name) == value)
            return list(s.execute(query).scalars())

    def usage_total(self, tenant, service_id: int) -> tuple[int, int]:
        with tenant_context(tenant), self.db.session() as s:
            row = s.execute(select(func.coalesce(func.sum(UsageDaily.upload), 0),
                                   func.coalesce(func.sum(UsageDaily.download), 0))
                            .where(UsageDaily.service_id == service_id)).one()
            return int(row[0]), int(row[1])


@pytest.fixture
def acct_nas(db, set_nas, radius_server):
    """127.0.0.1 as a platform MikroTik NAS; returns the server's view of it (the `Nas` the store gets)."""

    def make(tenant=None, coa_port: int | None = None):
        set_nas(tenant=tenant)
        if coa_port is not None:
            with db.session() as s:
                s.execute(update(NasClient).where(NasClient.network == "127.0.0.1/32").values(coa_port=coa_port))
            radius_server.nas.invalidate()
        return radius_server.nas.find("127.0.0.1")

    return make


@pytest.fixture
def store(db, acct_nas):
    return Store(db, acct_nas())


def send_to_server(server, data: bytes, source_port: int = 0, timeout: float = 1.0) -> bytes | None:
    return udp_exchange(server.acct_port, data, timeout=timeout, source_port=source_port)


__all__ = ["ACCOUNTING_OFF", "ACCOUNTING_ON", "INTERIM", "START", "STOP", "Store", "acct_nas", "acct_packet",
           "acct_request", "is_accounting_response", "send_to_server", "store", "wait_for"]
