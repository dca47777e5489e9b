"""A demo-like customer for the dashboard's tests, made through the services as the reseller's work makes
one: two services of the demo's plans (the first Limited by fair use), an overdue invoice part-paid by
M-PESA, a portal password; in ABC Internet, beside the demo's own customers."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from app.models.catalogue import Plan
from app.models.usage import UsageDaily
from app.services import customers, demo, services
from app.services.auth import users
from app.services.billing import invoices, payments
from app.services.usage import fup, views
from tenants import tenant_context
from tenants.registry import directory

MB = 2**20
_n = itertools.count(1)


@dataclass
class Customer:
    tenant: object
    host: str
    id: int
    portal_id: str
    name: str
    limited_id: int  # the service Limited by fair use
    active_id: int
    invoice_number: str
    receipt_number: str


def add_usage(session, service_id: int, megabytes: int, day=None) -> None:
    day = day or views.local_today(session)
    session.execute(insert(UsageDaily).values(service_id=service_id, day=day, download=megabytes * MB, upload=0)
                    .on_conflict_do_update(index_elements=["service_id", "day"],
                                           set_={"download": UsageDaily.download + megabytes * MB}))


def make_customer(db, code: str = "ABC_ISP", host: str = "abc.test.example") -> Customer:
    tenant = directory().by_code(code)
    n = next(_n)
    with db.session() as s, tenant_context(tenant):
        plans = {p.code: p for p in s.execute(select(Plan)).scalars()}
        person = customers.create(s, first_name="Zawadi", last_name=f"Mwangi{n}", email=f"zawadi{n}@example.com",
                                  phone=f"+25471100{n:04d}", billing_day=5)
        users.set_portal_password(s, person.id, demo.DEMO_PASSWORD)
        limited = services.create(s, person.id, plans["HOME-10"].id)
        active = services.create(s, person.id, plans["HOME-20"].id)
        services.activate(s, limited.id, reason="test")
        services.activate(s, active.id, reason="test")
        add_usage(s, limited.id, plans["HOME-10"].data_allowance_mb + 1)  # past the allowance: fair use limits it
        add_usage(s, active.id, 1500)
        fup.check(s, [limited.id, active.id])
        today = views.local_today(s)
        bill = invoices.create_draft(s, person.id, [{"description": "Installation", "unit_price": Decimal("2000.00"),
                                                     "taxable": False}])
        invoices.issue(s, bill.id, today=today - timedelta(days=30))
        invoices.mark_overdue(s, today)
        paid = payments.record(s, customer_id=person.id, amount=Decimal("500.00"), method="mpesa", provider="mpesa",
                               provider_ref=f"TEST{tenant.id}X{person.id}", reference=person.portal_id)
        s.commit()
        return Customer(tenant, host, person.id, person.portal_id, person.display_name, limited.id, active.id,
                        bill.number, paid.receipt_number)
