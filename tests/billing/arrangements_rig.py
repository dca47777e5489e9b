"""A reseller for the dispute and payment plan tests: a customer with an active service, its usage and an issued
invoice (a service line and an installation line), a second customer of the same reseller, and the team's ways
in (Admin, Readonly); made through the services, as the reseller's own work makes them."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy.dialects.postgresql import insert

from app.models.usage import UsageDaily
from app.services import catalogue, customers, services
from app.services.auth import users
from app.services.billing import invoices
from app.services.settings import local_today
from tenants import tenant_context
from tests.auth.conftest import PASSWORD, bearer
from tests.conftest import host_of

MB = 2**20
_n = itertools.count(1)


@dataclass
class Case:
    tenant: object
    host: str
    customer_id: int
    portal_id: str
    service_id: int
    other_customer_id: int
    other_portal_id: str
    admin: str
    viewer: str


def usage(s, service_id: int, day, megabytes: int) -> None:
    s.execute(insert(UsageDaily).values(service_id=service_id, day=day, download=megabytes * MB, upload=MB)
              .on_conflict_do_update(index_elements=["service_id", "day"],
                                     set_={"download": megabytes * MB, "upload": MB}))


def bill(s, customer_id: int, service_id: int | None, *, overdue_days: int | None = None,
         service_price: str = "1000.00", other_price: str = "500.00"):
    """An issued invoice of two lines: the service's month and an installation; `overdue_days` past its due
    date (issued that much earlier than the payment terms), else due in 14 days."""
    lines = [{"description": "Installation", "unit_price": Decimal(other_price), "taxable": False}]
    if service_id is not None:
        lines.insert(0, {"description": "Home 10, this month", "unit_price": Decimal(service_price),
                         "service_id": service_id, "kind": "recurring", "taxable": False})
    today = local_today(s)
    draft = invoices.create_draft(s, customer_id, lines, currency="KES")
    day = today if overdue_days is None else today - timedelta(days=14 + overdue_days)
    issued = invoices.issue(s, draft.id, today=day)
    if overdue_days is not None:
        invoices.mark_overdue(s, today)
    return issued


@pytest.fixture(name="case")
def case_fixture(db, make_tenant, make_plan):
    def make(prefix: str = "DISP") -> Case:
        tenant = make_tenant(prefix)
        plan = make_plan(wholesale_price="1000.00", currency="KES", name="Home 10")
        with db.session() as s:
            catalogue.authorise(s, plan.id, tenant.id)
        n = next(_n)
        with db.session() as s, tenant_context(tenant):
            person = customers.create(s, first_name="Neema", last_name=f"Otieno{n}", email=f"neema{n}@example.com",
                                      billing_day=1)
            users.set_portal_password(s, person.id, PASSWORD)
            other = customers.create(s, first_name="Juma", last_name=f"Kariuki{n}", email=f"juma{n}@example.com")
            users.set_portal_password(s, other.id, PASSWORD)
            service = services.create(s, person.id, plan.id)
            services.activate(s, service.id, reason="test")
            today = local_today(s)
            for back in range(1, 40):  # every day before today has a little, yesterday a lot
                usage(s, service.id, today - timedelta(days=back), 5000 if back == 1 else 100)
            admin, _ = users.create_user(s, username=f"admin{n}@disp.example", email=f"admin{n}@disp.example",
                                         role="Admin", password=PASSWORD)
            viewer, _ = users.create_user(s, username=f"viewer{n}@disp.example", email=f"viewer{n}@disp.example",
                                          role="Readonly", password=PASSWORD)
            return Case(tenant, host_of(tenant), person.id, person.portal_id, service.id, other.id, other.portal_id,
                        admin.username, viewer.username)

    return make


def team(client, case: Case, username: str | None = None) -> dict:
    reply = client.post("/reseller/auth/login", json={"username": username or case.admin, "password": PASSWORD},
                        headers={"Host": case.host})
    assert reply.status_code == 200, reply.get_json()
    return bearer(reply.get_json()["token"], case.host)


def customer(client, case: Case, portal_id: str | None = None) -> dict:
    reply = client.post("/portal/auth/login", json={"portal_id": portal_id or case.portal_id, "password": PASSWORD},
                        headers={"Host": case.host})
    assert reply.status_code == 200, reply.get_json()
    return bearer(reply.get_json()["token"], case.host)
