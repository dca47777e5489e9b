"""A running RADIUS server (in a thread of the test process, on free ports), NAS rows, subscribers in
each service status, and clients: `radclient` (the real one, from freeradius-utils) and a raw UDP one for
what radclient cannot send (wrong authenticators, retransmissions, junk)."""

from __future__ import annotations

import itertools
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass

import pytest
from sqlalchemy import delete

from app.models.nas import NasClient
from app.services import customers, services  # customers first: the services module imports it back
from app.services import nas as nas_service
from radius import packet as rp
from radius.cachebus import bus_for
from radius.server import RadiusServer
from tenants import tenant_context
from tests.provisioning.conftest import make_plan, make_shop  # noqa: F401  (fixtures)

SECRET = "s3cret-nas-key"
PASSWORD = "net-Pass-2024"
RADCLIENT = shutil.which("radclient")
_n = itertools.count(1)


@pytest.fixture(scope="session")
def radius_server(db):
    server = RadiusServer(db, "127.0.0.1", 0, 0)
    server.bind()
    server.start()
    yield server
    server.stop()
    bus_for(db.engine).stop()


@pytest.fixture
def set_nas(db, radius_server):
    """Make 127.0.0.1 the NAS described (owner, vendor, Message-Authenticator switch); the server sees it at once."""

    def make(tenant=None, vendor: str = "mikrotik", require_message_authenticator: bool = True,
             secret: str = SECRET, network: str = "127.0.0.1/32"):
        with db.session() as s:
            s.execute(delete(NasClient).where(NasClient.network == network))
            nas_service.create(s, name="test NAS", network=network, secret=secret, vendor=vendor,
                               tenant_id=tenant.id if tenant else None,
                               require_message_authenticator=require_message_authenticator)
        radius_server.nas.invalidate()

    yield make
    with db.session() as s:
        s.execute(delete(NasClient))
    radius_server.nas.invalidate()


@dataclass
class Subscriber:
    tenant: object
    portal_id: str
    username: str
    service_id: int
    password: str = PASSWORD


@pytest.fixture
def subscriber(db, make_shop, make_plan):  # noqa: F811
    """A customer whose internet service is in `status` (Pending, Active, Limited, Suspended, Terminated)."""

    def make(status: str = "Active", shop=None, static_ip: bool = False, **plan_fields) -> Subscriber:
        plan_fields.setdefault("limited_download_kbps", 1024)
        plan_fields.setdefault("limited_upload_kbps", 512)
        shop = shop or make_shop("RAD", plan=make_plan(**plan_fields))
        with db.session() as s, tenant_context(shop.tenant):
            customer = customers.create(s, first_name="Juma", last_name=f"Ali{next(_n)}",
                                        email=f"juma{next(_n)}@example.com")
            service = services.create(s, customer.id, shop.plan.id)
            if status == "Pending":
                services.set_network_credentials(s, service.id, password=PASSWORD)
            else:
                services.activate(s, service.id, network_password=PASSWORD, reason="test",
                                  **({"static_ip": True} if static_ip else {}))
            if status in ("Limited", "Suspended", "Terminated"):
                services.apply(s, service.id, {"Limited": "limit", "Suspended": "suspend",
                                               "Terminated": "terminate"}[status], reason="test")
            return Subscriber(shop.tenant, customer.portal_id, service.network_username, service.id)

    return make


# -- clients ---------------------------------------------------------------------------------------------
@dataclass
class Reply:
    code: str | None  # "Access-Accept", "Access-Reject", … ; None: no reply
    attributes: dict[str, list[str]]
    output: str


def radclient(port: int, pairs: str, *, kind: str = "auth", secret: str = SECRET, flags: tuple = (),
              timeout: float = 1.0) -> Reply:
    """Send one request with the real radclient; its reply as radclient printed it."""
    assert RADCLIENT, "radclient (freeradius-utils) is not installed: .ci/run installs it"
    proc = subprocess.run([RADCLIENT, "-x", "-r", "1", "-t", str(timeout), *flags, f"127.0.0.1:{port}", kind, secret],
                          input=pairs, capture_output=True, text=True, timeout=30)
    output = proc.stdout + proc.stderr
    code, attributes, receiving = None, {}, False
    for line in output.splitlines():
        if line.startswith("Received "):
            code, receiving = line.split()[1], True
        elif line.startswith("Sent "):
            receiving = False
        elif receiving and "=" in line and line.startswith(("\t", " ")):
            name, _, value = line.strip().partition(" = ")
            attributes.setdefault(name, []).append(value.strip('"'))
    return Reply(code, attributes, output)


def udp_exchange(port: int, data: bytes, timeout: float = 0.5, source_port: int = 0) -> bytes | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", source_port))
        sock.settimeout(timeout)
        sock.sendto(data, ("127.0.0.1", port))
        try:
            return sock.recv(8192)
        except TimeoutError:
            return None


def access_request(user: str, password: str, *, secret: str = SECRET, ident: int = 7,
                   message_authenticator: bool = True, extra: list | None = None) -> bytes:
    authenticator = rp.os.urandom(16)
    attrs = rp.encode_attributes([("User-Name", user)]) + bytes((rp.USER_PASSWORD, 18)) + \
        rp.encrypt_password(password.encode(), secret.encode(), authenticator) + \
        rp.encode_attributes(extra or [])
    return rp.sign_request(rp.ACCESS_REQUEST, ident, attrs, secret.encode(),
                           message_authenticator=message_authenticator, authenticator=authenticator)


def wait_for(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def free_udp_ports() -> tuple[int, int]:
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2)]
    try:
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return socks[0].getsockname()[1], socks[1].getsockname()[1]
    finally:
        for sock in socks:
            sock.close()
