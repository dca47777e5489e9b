"""CoA and Disconnect (RFC 5176): telling routers about a service's change while its sessions are live.

Who asks. `service.status_changed` and `service.plan_changed` (app/services/events.py) are heard here,
after the change has committed, in whichever process made it (web, worker, or the RADIUS server when
fair use limits a service). For each open session of the service a `coa_requests` row is written, and
`send_coa(request_id)` (worker/actors/usage.py) is enqueued once that row has committed.

What is sent. Terminated or Pending → Disconnect-Request. Anything else → CoA-Request with what the
router would be told on a new sign-in (`radius.profiles.profile_for`, so the two never disagree): the
rate of an Active plan, the reduced rate of a Limited one, the payment-page profile of a Suspended one
when the reseller's policy says `payment_page`; when the profile is a Reject (a suspension under the
default policy), a Disconnect-Request instead. The session is named by User-Name, Acct-Session-Id,
NAS-IP-Address and Framed-IP-Address; Message-Authenticator is always included (BlastRADIUS).

How. The worker sends to the session's NAS-IP-Address (else the NAS's own address when it is registered
as a single host) on the NAS's `coa_port`, with its shared secret, and waits `TIMEOUT` seconds for a
reply whose Response Authenticator (and Message-Authenticator, when present) checks out; anything else
on the socket is ignored. ACK or NAK (with its Error-Cause) is final and recorded; no answer is an attempt
recorded and retried with backoff by the worker, up to `MAX_ATTEMPTS`, then the request is Failed. A
request whose session has ended meanwhile is closed without sending (nothing left to change).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from pyrad import packet as pyrad_packet
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.db import Database
from app.models.base import utcnow
from app.models.catalogue import Plan
from app.models.provisioning import Service
from app.models.usage import CoaRequest, RadiusSession
from app.services import events
from app.services.after_commit import AfterCommit
from app.services.auth.crypto import decrypt
from app.services.usage import sessions as usage_sessions
from radius import profiles
from radius.dictionary import load as load_dictionary
from tenants import current_tenant

log = logging.getLogger(__name__)

EVENTS = ("service.status_changed", "service.plan_changed")
DISCONNECT_STATUSES = frozenset({"Terminated", "Pending"})
MAX_ATTEMPTS = 5
TIMEOUT = 3.0
ERROR_CAUSE = 101
ACKS = {pyrad_packet.CoAACK: "ACK", pyrad_packet.DisconnectACK: "ACK",
        pyrad_packet.CoANAK: "NAK", pyrad_packet.DisconnectNAK: "NAK"}


class Unanswered(Exception):
    """The router did not answer (or could not be reached); the worker retries."""


@dataclass(frozen=True)
class NasTarget:
    id: int
    name: str
    vendor: str
    secret: bytes
    network: str
    coa_port: int


# -- planning: a service changed ---------------------------------------------------------------------

def create_requests(session: Session, service_id: int, trigger: str, *, disconnect: bool) -> list[int]:
    """A request per open session of the service, in the caller's transaction; each is enqueued for
    sending once that transaction commits."""
    ids = []
    for live in usage_sessions.open_for_service(session, service_id):
        row = CoaRequest(service_id=service_id, session_id=live.id, nas_id=live.nas_id, nas_ip=live.nas_ip,
                         kind="Disconnect" if disconnect else "CoA", trigger=trigger[:200])
        session.add(row)
        session.flush()
        _queued.add(session, row.id)
        ids.append(row.id)
    return ids


def on_status_changed(service_id: int, to_status: str, from_status: str | None = None, reason: str | None = None,
                      **_) -> None:
    trigger = f"status {from_status} → {to_status}" + (f": {reason}" if reason else "")
    _plan(service_id, trigger, disconnect=to_status in DISCONNECT_STATUSES)


def on_plan_changed(service_id: int, from_plan_id: int | None = None, to_plan_id: int | None = None, **_) -> None:
    _plan(service_id, f"plan {from_plan_id} → {to_plan_id}", disconnect=False)


def _plan(service_id: int, trigger: str, *, disconnect: bool) -> None:
    if current_tenant() is None:
        return
    with _database().session() as session:
        created = create_requests(session, service_id, trigger, disconnect=disconnect)
    if created:
        log.info("service %s (%s): CoA requests %s", service_id, trigger, created)


def _database() -> Database:
    from tenants.registry import directory

    return _database_for(directory().engine)


@cache
def _database_for(engine) -> Database:
    return Database(engine)


def _dispatch(request_id: int) -> None:
    """Enqueue the send (in the tenant the row was written in: AfterCommit restores it). The worker's
    actor is imported here, at the first send, as the outbox does: the services need no broker."""
    from worker.actors import usage as actors

    actors.send_coa.send(request_id)


_queued = AfterCommit("coa", _dispatch, "CoA request (pending; `send_coa` it again to retry)")


def register() -> None:
    """Listen for the events (idempotent; importing this module does it)."""
    events.subscribe("service.status_changed", on_status_changed)
    events.subscribe("service.plan_changed", on_plan_changed)


register()


def resend_pending(session: Session, *, older_than: timedelta = timedelta(minutes=10)) -> list[int]:
    """Enqueue again the requests still Pending after `older_than` (a lost job, Redis down at the commit);
    sending is idempotent (a request is sent while Pending only, and describes the service as it is when
    sent). Returns their ids."""
    ids = list(session.execute(select(CoaRequest.id).where(
        CoaRequest.status == "Pending", CoaRequest.created_at < utcnow() - older_than).order_by(CoaRequest.id))
        .scalars())
    for request_id in ids:
        _dispatch(request_id)
    return ids


# -- sending -------------------------------------------------------------------------------------------

_NAS = text("SELECT id, name, vendor, secret_encrypted, host(network) AS host, masklen(network) AS bits, "
            "family(network) AS family, coa_port FROM public.nas_clients WHERE id = :id")


def _nas(session: Session, nas_id: int) -> tuple[NasTarget | None, str | None]:
    row = session.execute(_NAS, {"id": nas_id}).first()
    if row is None:
        return None, None
    single = row.bits == (32 if row.family == 4 else 128)
    nas = NasTarget(id=row.id, name=row.name, vendor=row.vendor, secret=decrypt(row.secret_encrypted).encode(),
                    network=row.host, coa_port=row.coa_port)
    return nas, row.host if single else None


def build(kind: str, nas: NasTarget, attributes: dict[str, list]) -> pyrad_packet.CoAPacket:
    code = pyrad_packet.CoARequest if kind == "CoA" else pyrad_packet.DisconnectRequest
    request = pyrad_packet.CoAPacket(code=code, secret=nas.secret, dict=load_dictionary())
    for name, values in attributes.items():
        for value in values:
            request.AddAttribute(name, value)
    request.add_message_authenticator()
    return request


def exchange(request: pyrad_packet.CoAPacket, address: str, port: int, timeout: float = TIMEOUT):
    """Send the request and return the first reply that verifies, or raise Unanswered."""
    raw = request.RequestPacket()
    family = socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect((address, port))
            sock.send(raw)
        except OSError as exc:
            raise Unanswered(f"cannot send to {address}:{port}: {exc}") from exc
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                data = sock.recv(4096)
            except TimeoutError:
                break
            except OSError as exc:  # ICMP port unreachable surfaces here
                raise Unanswered(f"{address}:{port}: {exc}") from exc
            reply = _verified(request, data)
            if reply is not None:
                return reply
    raise Unanswered(f"no answer from {address}:{port} in {timeout:g}s")


def _verified(request: pyrad_packet.CoAPacket, data: bytes):
    try:
        reply = request.CreateReply(packet=data)
    except Exception:  # noqa: BLE001 - junk on the socket is not an answer
        return None
    if reply.code not in ACKS or not request.VerifyReply(reply, data):
        return None
    return reply


def send(session: Session, request_id: int, *, timeout: float = TIMEOUT, max_attempts: int = MAX_ATTEMPTS) -> str:
    """Send one pending request; returns "ACK", "NAK", "skipped" or "failed", or raises Unanswered after
    recording the attempt (the worker retries). The outcome is committed here."""
    row = session.execute(select(CoaRequest).where(CoaRequest.id == request_id).with_for_update(skip_locked=True)
                          .execution_options(populate_existing=True)).scalar_one_or_none()
    if row is None or row.status != "Pending":
        session.commit()
        return "skipped"
    live = session.get(RadiusSession, row.session_id) if row.session_id else None
    if live is None or live.status != "Open":
        return _finish(session, row, "Done", error="the session ended before the request was sent")
    nas, host = _nas(session, row.nas_id)
    address = str(row.nas_ip) if row.nas_ip else host
    if nas is None or address is None:
        return _finish(session, row, "Failed", error="the NAS is no longer registered" if nas is None else
                       "no address to send to: the session has no NAS-IP-Address and the NAS is a network")
    kind, attributes = _what(session, row, live, nas)
    row.kind, row.attributes, row.attempts = kind, attributes, row.attempts + 1
    try:
        reply = exchange(build(kind, nas, attributes), address, nas.coa_port, timeout)
    except Unanswered as exc:
        row.last_error = str(exc)[:2000]
        if row.attempts >= max_attempts:
            return _finish(session, row, "Failed", error=row.last_error)
        session.commit()
        raise
    result = ACKS[reply.code]
    causes = OrderedDict.get(reply, ERROR_CAUSE)
    error_cause = int.from_bytes(causes[0], "big") if causes and len(causes[0]) == 4 else None
    if result == "NAK":
        log.warning("NAS %s refused %s %s for service %s: Error-Cause %s", nas.name, kind, row.id, row.service_id,
                    error_cause)
    return _finish(session, row, "Done", result=result, error_cause=error_cause)


def _what(session: Session, row: CoaRequest, live: RadiusSession, nas: NasTarget) -> tuple[str, dict]:
    """The kind to send and its attributes (JSON-ready: name → list of values)."""
    identity: dict[str, list] = {"User-Name": [live.username], "Acct-Session-Id": [live.acct_session_id]}
    if live.nas_ip:
        identity["NAS-IP-Address"] = [str(live.nas_ip)]
    if live.framed_ip:
        identity["Framed-IP-Address"] = [str(live.framed_ip)]
    if row.kind == "Disconnect":
        return "Disconnect", identity
    service = session.get(Service, row.service_id)
    plan = session.get(Plan, service.plan_id) if service is not None else None
    profile = profiles.profile_for(session, service, plan, nas) if service is not None else profiles.reject("unknown")
    if not profile.accept:
        return "Disconnect", identity
    changes = {name: list(values) for name, values in profile.attributes.items()
               if name not in ("Framed-IP-Address", "Service-Type", "Framed-Protocol")}
    return "CoA", {**identity, **changes}


def _finish(session: Session, row: CoaRequest, status: str, *, result: str | None = None,
            error_cause: int | None = None, error: str | None = None) -> str:
    row.status, row.result, row.error_cause, row.completed_at = status, result, error_cause, utcnow()
    if error is not None:
        row.last_error = error[:2000]
    session.commit()
    if status == "Failed":
        log.error("CoA request %s for service %s failed: %s", row.id, row.service_id, row.last_error)
        return "failed"
    return result or "skipped"
