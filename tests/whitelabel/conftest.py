"""A real DNS server for the test (tests/whitelabel/dns_stub.py), and the app pointed at it.

The `app` fixture is made once per run; its settings live in the app's State, so a test points the
app at its own name server by replacing them there for its duration (monkeypatch puts them back).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from app.services.auth import users
from tenants import tenant_context
from tests.conftest import host_of
from tests.whitelabel.dns_stub import DnsStub, SilentPort

PASSWORD = "Str0ng#Pass"

DNS_TIMEOUT = 2.0


def _use_nameserver(app, monkeypatch, address: str, port: int, timeout: float) -> None:
    state = app.extensions["backhaul"]
    monkeypatch.setattr(state, "settings",
                        replace(state.settings, dns_nameservers=((address, port),), dns_timeout=timeout))


@pytest.fixture
def dns_stub(app, monkeypatch):
    """The DNS server the app asks when verifying domains; set records with `dns_stub.set_txt(name, *values)`."""
    with DnsStub() as stub:
        _use_nameserver(app, monkeypatch, stub.address, stub.port, DNS_TIMEOUT)
        yield stub


@pytest.fixture
def silent_dns(app, monkeypatch):
    """A name server that never answers, with a short timeout so the test stays quick."""
    with SilentPort() as port:
        _use_nameserver(app, monkeypatch, port.address, port.port, 0.5)
        yield port


@dataclass
class Reseller:
    tenant: object  # tenants.Tenant
    host: str  # its platform sub-domain
    headers: dict  # its Admin's bearer token, on its own host

    @property
    def slug(self) -> str:
        return self.tenant.code.lower().replace("_", "-")


@pytest.fixture
def reseller(app, db, make_tenant):
    """Make a reseller with a signed-in Admin (who holds `settings.manage`); `reseller(role=...)` for others."""

    def make(prefix: str = "DOM", role: str = "Admin") -> Reseller:
        tenant = make_tenant(prefix)
        host = host_of(tenant)
        username = f"admin@{tenant.code.lower().replace('_', '-')}.example"
        with db.session() as s, tenant_context(tenant):
            users.create_user(s, username=username, email=username, role=role, password=PASSWORD)
        login = app.test_client().post("/reseller/auth/login", json={"username": username, "password": PASSWORD},
                                       headers={"Host": host})
        assert login.status_code == 200, login.get_json()
        return Reseller(tenant, host, {"Authorization": f"Bearer {login.get_json()['token']}", "Host": host})

    return make
