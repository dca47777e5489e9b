"""The scheduler on the real Redis and a real Dramatiq worker: each tenant's daily jobs start once per day
of the tenant's own calendar (the tick is driven with explicit moments), and each job runs in the tenant
it was sent for.

The jobs' actors are re-bound to a broker of this test's own (a fresh Redis namespace, the same tenant
middleware), as tests/notifications/conftest.py explains for the e-mail actors: nothing is mocked, only
which broker instance the actors use is chosen here. The day keys live under that namespace too.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import UTC, datetime

import pytest
from dramatiq import Message, Worker

from app import clock
from app.models.billing import DunningStep
from app.services import events, services
from app.services.settings import put_setting
from tenants import current_tenant, tenant_context
from tests.billing.test_dunning import overdue_invoice, set_policy
from tests.brokers import bound_broker


@pytest.fixture
def job_broker(redis_url, db, monkeypatch):
    from worker import scheduler
    from worker.actors import daily, dunning

    # the jobs of other modules stay on the process broker (their own tests run them); only ours run here
    monkeypatch.setattr(scheduler, "DAILY_JOBS", tuple(j for j in scheduler.DAILY_JOBS
                                                       if j[0] in ("worker.actors.dunning", "worker.actors.daily")))
    monkeypatch.setattr(scheduler, "PLATFORM_JOBS", tuple(j for j in scheduler.PLATFORM_JOBS
                                                          if j[0] == "worker.actors.daily"))
    with bound_broker(redis_url, monkeypatch, "sched",
                      (dunning.dunning_daily, daily.apply_service_requests_due, daily.platform_daily), db=db,
                      options={"max_retries": 0}) as broker:
        monkeypatch.setenv("BACKHAUL_QUEUE_NAMESPACE", broker.namespace)
        yield broker


def queued(broker, queue: str) -> list[Message]:
    return [Message.decode(raw) for raw in broker.client.hvals(f"{broker.namespace}:{queue}.msgs")]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_a_tenant_in_nairobi_gets_its_daily_jobs_once_per_local_day(db, make_tenant, job_broker):
    from worker.scheduler import tick

    nairobi, london = make_tenant("NBO"), make_tenant("UTC")
    with db.session() as s, tenant_context(nairobi):
        put_setting(s, "timezone", "Africa/Nairobi")
    client = job_broker.client
    ours = [nairobi, london]

    def run(moment: str) -> dict[str, str]:
        ticked = tick(at(moment), db=db, redis=client, tenants=ours)
        assert ticked.failed == []
        return {code: day for code, (day, _jobs) in ticked.tenants.items()}

    first = tick(at("2026-03-10T20:00:00"), db=db, redis=client, tenants=ours)
    assert {c: d for c, (d, _) in first.tenants.items()} == {nairobi.code: "2026-03-10", london.code: "2026-03-10"}
    assert first.tenants[nairobi.code][1] == ["dunning_daily", "apply_service_requests_due"]
    assert first.platform == ["platform_daily"]
    assert run("2026-03-10T20:15:00") == {}  # the same local day for both
    assert run("2026-03-10T20:59:59") == {}
    assert run("2026-03-10T21:00:00") == {nairobi.code: "2026-03-11"}  # midnight in Nairobi, 21:00 UTC
    assert run("2026-03-10T21:15:00") == {}
    assert run("2026-03-10T23:45:00") == {}
    assert run("2026-03-11T00:00:00") == {london.code: "2026-03-11"}
    assert run("2026-03-11T00:15:00") == {}

    sent = Counter((m.actor_name, m.options["tenant"], m.args[0]) for m in queued(job_broker, "billing"))
    assert sent == Counter({("dunning_daily", nairobi.code, "2026-03-10"): 1,
                            ("dunning_daily", nairobi.code, "2026-03-11"): 1,
                            ("dunning_daily", london.code, "2026-03-10"): 1,
                            ("dunning_daily", london.code, "2026-03-11"): 1})
    daily = Counter((m.actor_name, m.options.get("tenant"), m.args[0]) for m in queued(job_broker, "daily"))
    assert daily[("apply_service_requests_due", nairobi.code, "2026-03-11")] == 1
    assert daily[("platform_daily", None, "2026-03-10")] == daily[("platform_daily", None, "2026-03-11")] == 1
    assert sum(daily.values()) == 6


def test_a_lost_day_key_is_claimed_again_and_inactive_tenants_are_left_alone(db, make_tenant, job_broker):
    from worker.scheduler import day_key, tick

    tenant, closed = make_tenant("AGAIN"), make_tenant("GONE")
    closed = dataclasses.replace(closed, status="Suspended")
    client = job_broker.client
    first = tick(at("2026-05-01T06:00:00"), db=db, redis=client, tenants=[tenant, closed])
    assert list(first.tenants) == [tenant.code]
    client.delete(day_key(tenant.schema, datetime(2026, 5, 1).date()))  # Redis lost it: the jobs go again
    assert list(tick(at("2026-05-01T06:15:00"), db=db, redis=client, tenants=[tenant]).tenants) == [tenant.code]


def test_each_job_runs_in_the_tenant_it_was_sent_for(db, billable, job_broker):
    from worker.scheduler import tick

    a, b = billable(), billable()
    with db.session() as s, tenant_context(a.tenant):
        set_policy(s, grace_days=0, action="limit")
        overdue_invoice(s, a.customer_id, days=2)
    with db.session() as s, tenant_context(b.tenant):
        set_policy(s, grace_days=0, action="suspend")
        overdue_invoice(s, b.customer_id, days=2)  # the same invoice id as a's, in b's own schema
    seen: list[tuple[str, str, int]] = []

    def remember(**payload):
        seen.append((payload["tenant_code"], current_tenant().code, payload["service_id"]))

    events.subscribe("service.status_changed", remember)
    worker = Worker(job_broker, worker_threads=2, worker_timeout=100)
    worker.start()
    try:
        ticked = tick(clock.now(), db=db, redis=job_broker.client, tenants=[a.tenant, b.tenant])
        assert set(ticked.tenants) == {a.tenant.code, b.tenant.code}
        job_broker.join("billing", timeout=30_000)
        job_broker.join("daily", timeout=30_000)
        worker.join()
    finally:
        worker.stop()
        events.unsubscribe("service.status_changed", remember)
    assert sorted(seen) == sorted([(a.tenant.code, a.tenant.code, a.service_id),
                                   (b.tenant.code, b.tenant.code, b.service_id)])
    for billed, held, action in ((a, "Limited", "limit"), (b, "Suspended", "suspend")):
        with db.session() as s, tenant_context(billed.tenant):
            assert services.get(s, billed.service_id).status == held
            step = s.query(DunningStep).filter(DunningStep.step == "action").one()
            assert step.detail["action"] == action and step.customer_id == billed.customer_id
