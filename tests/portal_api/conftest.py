"""A reseller with two plans to move between, a signed-in customer with an active service, a second
customer of the same reseller (whose ids the first must never reach), and ways in as a read-only or
read-write API key and as support staff signed in as the customer.

Every tenant made here is audited after the test: the documents and the ledger must agree (the billing
suite's `make_tenant`), whatever the portal did with the customer's money.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import Decimal

import pytest

from app.services import catalogue, customers, services
from app.services.auth import users
from app.services.billing import invoices, payments
from tenants import tenant_context
from tests.auth.conftest import PASSWORD, bearer, staff  # noqa: F401  (fixtures)
from tests.billing.conftest import make_tenant  # noqa: F401  (the audited tenant)
from tests.conftest import host_of
from tests.provisioning.conftest import make_plan  # noqa: F401

CONSOLE = "console.test.example"
_n = itertools.count(1)


@dataclass
class Portal:
    tenant: object
    host: str
    customer_id: int
    portal_id: str
    email: str
    service_id: int
    network_password: str
    home: object  # the plan the service has (1000.00 KES a month)
    fast: object  # a dearer, faster plan (2000.00)
    other_customer_id: int
    other_service_id: int
    token: str

    @property
    def headers(self) -> dict:
        return bearer(self.token, self.host)


def sign_in(client, host: str, portal_id: str, password: str = PASSWORD) -> str:
    answer = client.post("/portal/auth/login", json={"portal_id": portal_id, "password": password},
                         headers={"Host": host})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["token"]


def _customer(s, n: int, **fields):
    values = {"first_name": "Wanjiru", "last_name": f"Mwangi{n}", "email": f"wanjiru{n}@example.com",
              "phone": "+254712000001", "billing_day": 1, **fields}
    customer = customers.create(s, **values)
    users.set_portal_password(s, customer.id, PASSWORD)
    return customer


@pytest.fixture
def portal(db, client, make_tenant, make_plan):  # noqa: F811
    """A fresh reseller and its signed-in customer (see the module docstring)."""

    def make(prefix: str = "PAPI", **tenant_kwargs) -> Portal:
        tenant = make_tenant(prefix, **tenant_kwargs)
        home = make_plan(wholesale_price="1000.00", currency="KES", name="Home 10", download_kbps=10_000)
        fast = make_plan(wholesale_price="2000.00", currency="KES", name="Home 20", download_kbps=20_000)
        with db.session() as s:
            for plan in (home, fast):
                catalogue.authorise(s, plan.id, tenant.id)
        n, m = next(_n), next(_n)
        with db.session() as s, tenant_context(tenant):
            customer = _customer(s, n)
            service = services.create(s, customer.id, home.id, installation_address="Moi Avenue 1, Nairobi")
            _, password = services.activate(s, service.id, reason="test")
            other = _customer(s, m, first_name="Baraka")
            other_service = services.create(s, other.id, home.id, installation_address="Kenyatta Avenue 2")
            services.activate(s, other_service.id, reason="test")
            ids = (customer.id, customer.portal_id, customer.email, service.id, other.id, other_service.id)
        host = host_of(tenant)
        token = sign_in(client, host, ids[1])
        return Portal(tenant, host, ids[0], ids[1], ids[2], ids[3], password, home, fast, ids[4], ids[5], token)

    return make


def reseller_admin(client, db, p: Portal) -> dict:
    """Headers of a new Admin of the customer's reseller, signed in on its host."""
    name = f"admin{next(_n)}@{p.tenant.code.lower()}.example"
    with db.session() as s, tenant_context(p.tenant):
        users.create_user(s, username=name, email=name, role="Admin", password=PASSWORD)
    answer = client.post("/reseller/auth/login", json={"username": name, "password": PASSWORD},
                         headers={"Host": p.host})
    return bearer(answer.get_json()["token"], p.host)


def api_key(client, p: Portal, access: str) -> dict:
    made = client.post("/portal/api/api-keys", json={"name": access, "access": access}, headers=p.headers)
    assert made.status_code == 201, made.get_json()
    return bearer(made.get_json()["key"], p.host)


def impersonate(app, client, p: Portal, staff_email: str):
    """A test client signed in (by cookie) as support staff impersonating the customer."""
    token = client.post("/console/auth/login", json={"email": staff_email, "password": PASSWORD},
                        headers={"Host": CONSOLE}).get_json()["token"]
    ticket = client.post("/console/api/impersonations", json={"portal_id": p.portal_id},
                         headers=bearer(token, CONSOLE)).get_json()["ticket"]
    support = app.test_client()
    assert support.post("/portal/auth/impersonate", json={"ticket": ticket},
                        headers={"Host": p.host}).status_code == 200
    return support


def invoice(db, p: Portal, amount: str = "1000.00", *, customer_id: int | None = None, issue: bool = True,
            **fields):
    """An invoice of one line for the customer (issued unless told), made by the reseller's billing."""
    with db.session() as s, tenant_context(p.tenant):
        made = invoices.create_draft(s, customer_id or p.customer_id, [{"description": "Internet", "unit_price":
                                                                        Decimal(amount)}], **fields)
        if issue:
            made = invoices.issue(s, made.id)
        return made.id


def pay(db, p: Portal, amount: str, *, customer_id: int | None = None, method: str = "cash") -> int:
    with db.session() as s, tenant_context(p.tenant):
        return payments.record(s, customer_id=customer_id or p.customer_id, amount=Decimal(amount),
                               method=method).id
