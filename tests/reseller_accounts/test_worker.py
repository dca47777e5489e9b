"""The actors on a real worker and Redis: the tenant travels in `accrue_wholesale`'s message, the daily
run is platform-wide, and both leave one charge per service and period however often they run."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from dramatiq import Worker

from app.models.provisioning import Service
from app.services.billing import runs
from app.services.reseller_accounts import credit
from tenants import tenant_context
from tests.brokers import bound_broker
from worker.middleware import TenantRequired

NOV_1 = datetime(2026, 11, 1, 6, tzinfo=UTC)


@pytest.fixture
def accounts_broker(redis_url, db, monkeypatch):
    from worker.actors import reseller_accounts as actors

    with bound_broker(redis_url, monkeypatch, "accounts", (actors.accrue_wholesale, actors.reseller_accounts_daily),
                      db=db):
        yield actors


def _drain(broker):
    worker = Worker(broker, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        broker.join("daily", timeout=120_000)
        worker.join()
    finally:
        worker.stop()


def test_the_actors_accrue_once(db, billable, accounts_broker):
    b = billable(price="1000.00")
    with db.session() as s, tenant_context(b.tenant):
        service = s.get(Service, b.service_id)
        service.wholesale_price, service.activated_at = Decimal("600.00"), NOV_1
        run_id = runs.start(s, "2026-11", requested_by="test", enqueue=False).id
    with tenant_context(b.tenant):
        runs.run(db, run_id, now=NOV_1)
    with pytest.raises(TenantRequired):
        accounts_broker.accrue_wholesale.send()  # tenant-scoped: never run in public
    with tenant_context(b.tenant):
        accounts_broker.accrue_wholesale.send()
        accounts_broker.accrue_wholesale.send()
    accounts_broker.reseller_accounts_daily.send("2026-11-02")
    _drain(accounts_broker.accrue_wholesale.broker)
    with db.session() as s:
        assert credit.balance(s, b.tenant.id) == Decimal("600.00")
