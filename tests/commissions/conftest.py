"""A three-level reseller tree (A ← B ← C) to compute commissions in, and helpers to pay and to read the
lines each tenant earned. Payouts and disputes add their own fixtures in a separate file."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.models import Tenant as TenantRow
from app.models.commissions import CommissionLine
from app.services import customers
from app.services.billing import payments
from app.services.commissions import rules
from tenants import tenant_context
from tests.auth.conftest import staff  # noqa: F401  (fixture)
from tests.provisioning.conftest import make_plan  # noqa: F401  (fixture)

_n = itertools.count(1)
DAY = date(2026, 3, 10)


@dataclass
class Branch:
    a: object
    b: object
    c: object

    @property
    def all(self):
        return (self.a, self.b, self.c)


def set_percent(db, tenant, percent) -> None:
    with db.session() as s:
        s.get(TenantRow, tenant.id).commission_percent = Decimal(percent) if percent is not None else None


@pytest.fixture
def tree(db, make_tenant):
    """A (top-level reseller) ← B ← C, with recurring percents 20 / 15 / 10 (commission_percent)."""

    def make(percents=("20", "15", "10")) -> Branch:
        a = make_tenant("CA")
        b = make_tenant("CB", parent_code=a.code)
        c = make_tenant("CC", parent_code=b.code)
        for tenant, percent in zip((a, b, c), percents, strict=True):
            set_percent(db, tenant, percent)
        return Branch(a, b, c)

    return make


def add_rule(db, tenant, kind: str, effective_from: date = date(2026, 1, 1), **terms):
    with db.session() as s:
        return rules.create(s, tenant.id, kind=kind, effective_from=effective_from, actor="test", **terms)


def new_customer(db, tenant, **fields) -> int:
    n = next(_n)
    with db.session() as s, tenant_context(tenant):
        return customers.create(s, first_name="Amina", last_name=f"Otieno{n}", email=f"amina{n}@example.com",
                                **fields).id


def pay(db, tenant, customer_id: int, amount: str, at: datetime | None = None) -> int:
    with db.session() as s, tenant_context(tenant):
        return payments.record(s, customer_id=customer_id, amount=amount, method="cash",
                               received_at=at or datetime(DAY.year, DAY.month, DAY.day, 9, tzinfo=UTC)).id


def lines_of(db, tenant, **where) -> list[CommissionLine]:
    with db.session() as s, tenant_context(tenant):
        query = select(CommissionLine).order_by(CommissionLine.id)
        for key, value in where.items():
            query = query.where(getattr(CommissionLine, key) == value)
        return list(s.execute(query).scalars())


def amounts(db, tenant, **where) -> list[Decimal]:
    return [line.amount for line in lines_of(db, tenant, **where)]


def issue_invoice(db, tenant, customer_id: int, lines: list[dict]) -> int:
    """An issued invoice of these lines (no taxes unless the tenant has rates)."""
    from app.services.billing import invoices

    with db.session() as s, tenant_context(tenant):
        draft = invoices.create_draft(s, customer_id, lines, actor="test")
        return invoices.issue(s, draft.id, actor="test").id


@pytest.fixture
def commission_worker(redis_url, db, monkeypatch):
    """A broker of this test's own namespace with the commission actors bound to it, and a Dramatiq
    worker in this process consuming it; `drain()` waits until its queues are empty."""
    import secrets

    from dramatiq import Worker

    import worker.broker
    from worker.actors import commissions
    from worker.broker import build_broker

    namespace = f"backhaul-test-comm-{secrets.token_hex(4)}"
    broker = build_broker(redis_url, namespace=namespace)
    for actor in (commissions.commission_payment, commissions.reverse_commissions, commissions.commissions_daily):
        monkeypatch.setattr(actor, "broker", broker)
        broker.declare_actor(actor)
    monkeypatch.setattr(worker.broker, "database", lambda: db)
    running = Worker(broker, worker_threads=1, worker_timeout=100)
    running.start()

    class Running:
        def drain(self, timeout_ms: int = 20_000) -> None:
            for queue in ("commissions", "daily"):
                broker.join(queue, timeout=timeout_ms)
            running.join()

    yield Running()
    running.stop()
    broker.flush_all()
    broker.client.delete(*broker.client.keys(f"{namespace}*") or ["-"])
    broker.close()
