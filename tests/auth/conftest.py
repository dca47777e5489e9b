"""Accounts to sign in with: a tenant with an Admin user and a customer with a portal password, and a staff member."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from app.services import customers
from app.services.auth import users
from tenants import tenant_context
from tests.conftest import host_of

PASSWORD = "Str0ng#Pass"
_n = itertools.count(1)


@dataclass
class Accounts:
    tenant: object
    host: str
    username: str
    user_id: int
    portal_id: str
    customer_id: int
    customer_email: str


@pytest.fixture
def accounts(db, make_tenant):
    """A fresh tenant with one Admin user and one customer with portal access."""

    def make(role: str = "Admin", **user_kwargs):
        tenant = make_tenant("AUTH")
        n = next(_n)
        with db.session() as s, tenant_context(tenant):
            user, _ = users.create_user(s, username=f"admin{n}@reseller.example", email=f"admin{n}@reseller.example",
                                        role=role, password=PASSWORD, **user_kwargs)
            customer = customers.create(s, first_name="Wanjiru", last_name="Mwangi", email=f"wanjiru{n}@example.com")
            users.set_portal_password(s, customer.id, PASSWORD)
            return Accounts(tenant, host_of(tenant), user.username, user.id, customer.portal_id, customer.id,
                            customer.email)

    return make


@pytest.fixture
def staff(db):
    from app.services.auth import users as svc

    n = next(_n)
    with db.session() as s:
        member = svc.create_staff(s, email=f"ops{n}@isp.example", name="Ops", password=PASSWORD, can_impersonate=True)
        return member.email


def reseller_login(client, acc: Accounts, password: str = PASSWORD, code: str | None = None, host: str | None = None,
                   **extra):
    body = {"username": acc.username, "password": password, **extra}
    if code:
        body["two_factor_code"] = code
    return client.post("/reseller/auth/login", json=body, headers={"Host": host or acc.host})


def bearer(token: str, host: str) -> dict:
    return {"Authorization": f"Bearer {token}", "Host": host}
