"""Fixtures of the payout and dispute tests: a reseller to pay (with an Admin to sign in as), commission
lines written as the engine writes them, a payout schedule, and console and reseller headers.

Lines are inserted as rows (the engine's own tests cover how they are computed); payouts, disputes and
statements then work on them through the services and the API, on the real database."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.models.commissions import CommissionLine
from app.models.payouts import Payout
from app.services.auth import users
from app.services.commissions import payouts
from tenants import tenant_context
from tests.auth.conftest import PASSWORD, bearer
from tests.conftest import host_of

CONSOLE = "console.test.example"
_n = itertools.count(1)


@dataclass
class Payee:
    tenant: object
    host: str
    admin: str

    @property
    def code(self) -> str:
        return self.tenant.code


@pytest.fixture
def payee(db, make_tenant):
    """A reseller earning commissions in KES, with an Admin user; its schedule is set by `schedule`."""

    def make(prefix: str = "PAY") -> Payee:
        tenant = make_tenant(prefix)
        n = next(_n)
        with db.session() as s, tenant_context(tenant):
            admin, _ = users.create_user(s, username=f"payee{n}@reseller.example", email=f"payee{n}@reseller.example",
                                         role="Admin", password=PASSWORD)
        return Payee(tenant, host_of(tenant), admin.username)

    return make


def set_schedule(db, tenant, **overrides):
    values = {"frequency": "monthly", "processing_day": 15, "minimum_threshold": "50.00",
              "method": "bank_transfer", "currency": "KES", "dispute_window_days": 5, "details": None}
    values.update(overrides)
    with db.session() as s, tenant_context(tenant):
        return payouts.set_schedule(s, actor="test", **values)


def add_line(db, tenant, amount: str, earned: date, *, kind: str = "recurring", status: str = "Pending",
             currency: str = "KES", customer_id: int | None = 1, reverses_id: int | None = None,
             base: str | None = None, rate: str | None = "10") -> int:
    n = next(_n)
    with db.session() as s, tenant_context(tenant):
        line = CommissionLine(reseller_id=tenant.id, customer_id=customer_id, source_tenant_id=tenant.id,
                              source_payment_id=n, kind=kind, base_amount=Decimal(base or abs(Decimal(amount)) * 10),
                              rate=Decimal(rate) if rate else None, amount=Decimal(amount), currency=currency,
                              period_start=earned, period_end=earned, status=status, reverses_id=reverses_id,
                              source_key=f"test:{n}")
        s.add(line)
        s.flush()
        return line.id


def run_day(db, tenant, on: date, at: datetime | None = None) -> dict:
    moment = at or datetime(on.year, on.month, on.day, 2, tzinfo=UTC)
    with db.session() as s, tenant_context(tenant):
        return payouts.run_day(s, on, now=moment)


def payouts_of(db, tenant) -> list[Payout]:
    with db.session() as s, tenant_context(tenant):
        return list(s.execute(select(Payout).order_by(Payout.id)).scalars())


def line(db, tenant, line_id: int) -> CommissionLine:
    with db.session() as s, tenant_context(tenant):
        return s.get(CommissionLine, line_id)


def sign_in(client, host: str, username: str) -> dict:
    reply = client.post("/reseller/auth/login", json={"username": username, "password": PASSWORD},
                        headers={"Host": host})
    assert reply.status_code == 200, reply.get_json()
    return bearer(reply.get_json()["token"], host)


def staff_headers(client, db) -> dict:
    n = next(_n)
    with db.session() as s:
        email = users.create_staff(s, email=f"payouts{n}@isp.example", name="Payouts", password=PASSWORD).email
    reply = client.post("/console/auth/login", json={"email": email, "password": PASSWORD}, headers={"Host": CONSOLE})
    assert reply.status_code == 200, reply.get_json()
    return bearer(reply.get_json()["token"], CONSOLE)
