"""Billing runs: one invoice per customer and period, numbered without gaps, whatever happens to the run.

- a run bills every billable customer once (services Active, Suspended or Limited; nothing Pending), one
  line per service, credit already held paying the new invoice; its progress is in the `billing_runs` row;
- run again (or resumed), it bills nobody twice; a customer that cannot be billed is recorded as an
  error and the others are billed;
- the daily `bill_customers_due` and the month's run share the billing keys;
- the real thing: a Dramatiq worker process doing a run is killed half-way (SIGKILL), another one runs it
  again, and every customer has exactly one invoice, numbered 1..N;
- the API and the `backhaul billing run` command start runs and show their progress.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from click.testing import CliRunner
from dramatiq import Worker
from sqlalchemy import func, select, text

from app.cli import main
from app.models.billing import BillingRun, Invoice, InvoiceLine
from app.models.provisioning import Service
from app.services import customers, services
from app.services.billing import payments, runs
from tenants import registry, tenant_context
from tests.billing.test_invoice_pdfs import billing_broker  # noqa: F401  (fixture)
from tests.billing.test_payments import finance_headers
from tests.conftest import ROOT

D = Decimal
NOV_1 = datetime(2026, 11, 1, 6, tzinfo=UTC)
pytestmark = pytest.mark.clock(NOV_1)  # these runs are of November 2026: the clock is there too


def _run(db, tenant, period: str = "2026-11", *, now: datetime = NOV_1, batch_size: int = runs.BATCH) -> BillingRun:
    with db.session() as s, tenant_context(tenant):
        run_id = runs.start(s, period, requested_by="test", enqueue=False).id
    with tenant_context(tenant):
        return runs.run(db, run_id, now=now, batch_size=batch_size)


def _invoices(db, tenant) -> list[Invoice]:
    with db.session() as s, tenant_context(tenant):
        return list(s.execute(select(Invoice).order_by(Invoice.id)).scalars())


def _add(db, tenant, plan, price: str, *, activate: bool = True, status: str | None = None, billing_day=None,
         activated: str = "2026-10-01") -> tuple[int, int]:
    with db.session() as s, tenant_context(tenant):
        customer = customers.create(s, first_name="Baraka", last_name=f"K{secrets.token_hex(3)}",
                                    billing_day=billing_day)
        service = services.create(s, customer.id, plan.id)
        if activate:
            services.activate(s, service.id, reason="test")
            service.price = D(price)
            service.activated_at = datetime.fromisoformat(activated).replace(tzinfo=UTC)
        if status:
            service.status = status
        return customer.id, service.id


def test_a_run_bills_every_billable_customer_once_with_a_line_per_service(db, billable):
    b = billable(price="1000.00")
    tenant, plan = b.tenant, b.plan
    with db.session() as s, tenant_context(tenant):
        s.get(Service, b.service_id).activated_at = NOV_1
        second = services.create(s, b.customer_id, plan.id)  # a second service of the same customer
        services.activate(s, second.id, reason="test")
        second.price, second.activated_at = D("500.00"), NOV_1
        payments.record(s, customer_id=b.customer_id, amount="600.00", method="cash")  # credit held
    suspended, _ = _add(db, tenant, plan, "700.00", status="Suspended", activated="2026-11-01")
    pending, _ = _add(db, tenant, plan, "900.00", activate=False)
    gone, _ = _add(db, tenant, plan, "900.00", status="Terminated", activated="2026-11-01")

    done = _run(db, tenant)
    assert (done.status, done.customers_total, done.customers_done, done.invoices_created) == ("done", 2, 2, 2)
    assert done.errors == [] and done.started_at and done.finished_at
    made = {i.customer_id: i for i in _invoices(db, tenant)}
    assert set(made) == {b.customer_id, suspended} and pending not in made and gone not in made
    both = made[b.customer_id]
    assert both.billing_key == f"{b.customer_id}:2026-11" and both.total == D("1500.00")
    assert (both.amount_paid, both.status) == (D("600.00"), "Partially Paid")  # the credit paid part of it
    assert both.due_on == date(2026, 11, 15) and both.issued_at == NOV_1
    with db.session() as s, tenant_context(tenant):
        lines = s.execute(select(InvoiceLine.service_id, InvoiceLine.amount).where(InvoiceLine.invoice_id == both.id)
                          .order_by(InvoiceLine.position)).all()
    assert lines == [(b.service_id, D("1000.00")), (second.id, D("500.00"))]
    assert sorted(i.number for i in made.values()) == ["INV-2026-000001", "INV-2026-000002"]

    again = _run(db, tenant)  # repeated: nobody billed twice
    assert again.invoices_created == 2 and len(_invoices(db, tenant)) == 2


def test_a_customer_that_cannot_be_billed_is_an_error_and_the_others_are_billed(db, billable):
    b = billable(price="1000.00")
    broken, broken_service = _add(db, b.tenant, b.plan, "100.00")
    fine, _ = _add(db, b.tenant, b.plan, "300.00")
    with db.session() as s, tenant_context(b.tenant):
        s.get(Service, broken_service).price = D("-100.00")  # would make a negative invoice
    done = _run(db, b.tenant, batch_size=50)
    assert done.status == "done" and done.customers_done == 3 and done.invoices_created == 2
    assert [e["customer_id"] for e in done.errors] == [broken] and "negative" in done.errors[0]["error"]
    made = _invoices(db, b.tenant)
    assert {i.customer_id for i in made} == {b.customer_id, fine}
    assert sorted(i.number for i in made) == ["INV-2026-000001", "INV-2026-000002"]  # no gap for the failure


def test_the_daily_bill_and_the_months_run_share_the_billing_keys(db, billable):
    b = billable(price="1000.00", billing_day=1)
    on_15th, _ = _add(db, b.tenant, b.plan, "800.00", billing_day=15, activated="2026-11-15")
    with db.session() as s, tenant_context(b.tenant):
        assert runs.due_customers(s, date(2026, 11, 15)) == [on_15th]
        assert runs.due_customers(s, date(2026, 11, 1)) == [b.customer_id]
    with tenant_context(b.tenant):
        result = runs.bill_due(db, date(2026, 11, 15), now=datetime(2026, 11, 15, 3, tzinfo=UTC))
        assert (result.invoices, result.skipped) == (1, 0)
        assert runs.bill_due(db, date(2026, 11, 15)).invoices == 0  # the scheduler repeating itself
    [first] = _invoices(db, b.tenant)
    assert (first.customer_id, first.period_start, first.period_end) == (on_15th, date(2026, 11, 15),
                                                                         date(2026, 12, 14))
    done = _run(db, b.tenant)
    assert done.invoices_created == 2  # the month's run billed only the other one
    assert sorted(i.customer_id for i in _invoices(db, b.tenant)) == sorted([b.customer_id, on_15th])


def test_runs_over_the_api(app, db, billable):
    b = billable()
    headers = finance_headers(app, db, b.tenant)
    client = app.test_client()
    started = client.post("/reseller/api/billing-runs", headers=headers, json={"period": "2026-11"})
    assert started.status_code == 202 and started.get_json()["status"] == "queued"
    run_id = started.get_json()["id"]
    assert client.post("/reseller/api/billing-runs", headers=headers, json={"period": "2026-13"}).status_code == 422
    with tenant_context(b.tenant):
        runs.run(db, run_id, now=NOV_1)
    progress = client.get(f"/reseller/api/billing-runs/{run_id}", headers=headers).get_json()
    assert (progress["status"], progress["customers_done"], progress["invoices_created"]) == ("done", 1, 1)
    assert [r["period"] for r in client.get("/reseller/api/billing-runs", headers=headers).get_json()] == ["2026-11"]
    listed = client.get("/reseller/api/invoices?period=2026-11", headers=headers).get_json()
    assert listed["total"] == 1 and listed["items"][0]["billing_key"] == f"{b.customer_id}:2026-11"
    assert client.get("/reseller/api/invoices?period=2026-10", headers=headers).get_json()["total"] == 0


def test_the_cli_queues_the_run_and_follows_it_to_the_end(db, billable, billing_broker):  # noqa: F811
    b = billable()
    worker = Worker(billing_broker, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        result = CliRunner().invoke(main,
                                    ["billing", "run", "--period", "2026-11", "--tenant", b.tenant.code, "--wait",
                                     "--poll", "0.1"], catch_exceptions=False)
    finally:
        worker.stop()
        registry.bind(db.engine)  # the command bound its own engine; give the suite's back
    assert result.exit_code == 0, result.output
    assert "queued" in result.output and "done, 1/1 customers, 1 invoices, 0 errors" in result.output
    assert len(_invoices(db, b.tenant)) == 1
    refused = CliRunner().invoke(main,
                                 ["billing", "run", "--period", "2026-11", "--tenant", "NO_SUCH"])
    assert refused.exit_code == 1 and "NO_SUCH" in refused.output


# -- the worker killed half-way --------------------------------------------------------------------------

SEED = ["""
INSERT INTO customers (portal_id, first_name, last_name, status, billing_day)
SELECT 'KILL' || lpad(n::text, 6, '0'), 'Kill', 'Test ' || n, 'Active', 1 + n % 28 FROM generate_series(1, :n) AS n
""", """
INSERT INTO services (customer_id, plan_id, kind, status, price, currency, billing_period, activated_at)
SELECT id, :plan, 'internet', 'Active', 1000.00 + id % 7, 'KES', 'monthly', '2026-09-01' FROM customers
"""]


def _worker(env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "dramatiq", "worker.main", "--processes", "1", "--threads", "1",
                             "--queues", "billing"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def _stop(proc: subprocess.Popen, sig=signal.SIGKILL) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, sig)  # the worker's own process group: dramatiq forks its worker process
        proc.wait(timeout=30)


def _progress(db, tenant, run_id: int) -> BillingRun:
    with db.session() as s, tenant_context(tenant):
        return s.get(BillingRun, run_id)


def _wait(db, tenant, run_id: int, ok, timeout: float, what: str) -> BillingRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = _progress(db, tenant, run_id)
        if ok(row):
            return row
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}: {row.status} {row.customers_done}/{row.customers_total}")


def _numbers(db, tenant) -> list[int]:
    with db.session() as s, tenant_context(tenant):
        return sorted(int(n.rsplit("-", 1)[1]) for n in s.execute(select(Invoice.number)).scalars())


def test_a_worker_killed_half_way_and_run_again_bills_each_customer_once_without_gaps(
        db, make_tenant, make_plan, billing_broker, test_env):  # noqa: F811
    from app.services import catalogue
    from worker.actors import billing as actors

    count = 1200
    tenant = make_tenant("KILL")
    plan = make_plan(wholesale_price="800.00", currency="KES")
    with db.session() as s:
        catalogue.authorise(s, plan.id, tenant.id)
    with db.session() as s, tenant_context(tenant):
        for statement in SEED:
            s.execute(text(statement), {"n": count, "plan": plan.id})
        run_id = runs.start(s, "2026-11", requested_by="test", enqueue=False).id
    env = {**os.environ, **test_env, "BACKHAUL_QUEUE_NAMESPACE": billing_broker.namespace}
    with tenant_context(tenant):
        actors.run_billing.send(run_id, batch_size=4)
    first = _worker(env)
    try:
        half = _wait(db, tenant, run_id, lambda r: r.customers_done >= 200, 120, "the run to be under way")
        _stop(first)  # SIGKILL: no goodbye, the open batch's transaction dies with the connection
    finally:
        _stop(first)
    killed = _progress(db, tenant, run_id)
    assert killed.status == "running" and half.customers_done <= killed.customers_done < count
    assert _numbers(db, tenant) == list(range(1, killed.invoices_created + 1))  # what was committed is whole

    with tenant_context(tenant), db.session() as s:
        runs.start(s, "2026-11", requested_by="test", enqueue=False)  # as the API or the CLI would, again
    with tenant_context(tenant):
        actors.run_billing.send(run_id, batch_size=50)
    second = _worker(env)
    try:
        done = _wait(db, tenant, run_id, lambda r: r.status == "done", 180, "the run to finish")
    finally:
        _stop(second, signal.SIGTERM)
    assert done.customers_total == count and done.customers_done == count and done.errors == []
    assert done.invoices_created == count
    with db.session() as s, tenant_context(tenant):
        per_customer = s.execute(select(Invoice.customer_id, func.count()).group_by(Invoice.customer_id)).all()
        assert len(per_customer) == count and all(n == 1 for _, n in per_customer)
        keys = s.execute(select(func.count(func.distinct(Invoice.billing_key)))).scalar_one()
        assert keys == count
    assert _numbers(db, tenant) == list(range(1, count + 1))


def test_the_actor_refuses_to_run_outside_a_tenant():
    from worker.actors import billing as actors
    from worker.middleware import TenantRequired

    with pytest.raises(TenantRequired):
        actors.run_billing.send(1)
