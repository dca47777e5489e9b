"""A billing run's period is bounded, and a run's memory does not grow with it (issue 13).

- a period is a month of the calendar (0001-01 to 9999-12), read the same way by every route that takes
  one: "0000-01" is a 422 naming `period`, never a 500;
- a run bills from the tenant's first customer or service (a migrated history's old activations count)
  to the next month: outside, the API answers 422 with the range and queues nothing, the CLI exits 2
  naming the range and queues nothing, and a worker handed such a run (queued by an older version) fails
  it at once without billing anyone;
- a run for the furthest month allowed, over years of unbilled days, finishes in bounded time, in
  batches that each stay within the line budget.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text

from app.cli import main
from app.cli.billing import _billable
from app.models.billing import BillingRun, Invoice, InvoiceLine
from app.services import periods
from app.services.billing import runs
from app.services.errors import Invalid
from tenants import registry, tenant_context
from tests.billing.test_invoice_pdfs import billing_broker  # noqa: F401  (fixture)
from tests.billing.test_payments import finance_headers

TODAY = datetime(2026, 11, 6, 9, tzinfo=UTC)
pytestmark = pytest.mark.clock(TODAY)  # "the next month" is December 2026 in every test here


def _runs(db, tenant) -> list[BillingRun]:
    with db.session() as s, tenant_context(tenant):
        return list(s.execute(select(BillingRun)).scalars())


def _activated(db, tenant, service_id: int, on: str) -> None:
    with db.session() as s, tenant_context(tenant):
        s.execute(text("UPDATE services SET activated_at = :at WHERE id = :id"),
                  {"at": datetime.fromisoformat(on).replace(tzinfo=UTC), "id": service_id})


@pytest.mark.parametrize("value", ["0000-01", "2026-00", "2026-13", "10000-01", "2026-1", "26-11", "2026/11", "",
                                   None, 202611, "2026-11-01", "２０２６-11"])
def test_what_is_not_a_month_of_the_calendar_is_refused_naming_the_field(value):
    with pytest.raises(Invalid) as refused:
        periods.parse(value, field="period")
    assert refused.value.extra["field"] == "period" and "0001-01 to 9999-12" in refused.value.detail


def test_every_month_of_the_calendar_is_a_period_and_its_arithmetic_stays_inside():
    assert str(periods.parse("0001-01")) == "0001-01" and periods.parse(" 2026-11 ") == periods.Month(2026, 11)
    last = periods.parse("9999-12")
    assert (last.first_day, last.last_day) == (date(9999, 12, 1), date(9999, 12, 31))
    assert last.shifted(1) is None and periods.parse("0001-01").shifted(-1) is None
    assert periods.parse("2028-02").last_day == date(2028, 2, 29)
    assert periods.Month(2026, 12).shifted(1) == periods.Month(2027, 1)


def test_an_out_of_range_run_is_a_422_with_the_range_and_nothing_is_queued(app, db, billable,
                                                                          billing_broker):  # noqa: F811
    b = billable()  # its first customer and service: today, 2026-11
    headers = finance_headers(app, db, b.tenant)
    client = app.test_client()
    for period, allowed in (("3000-01", True), ("5391-01", True), ("9999-12", True), ("2027-01", True),
                            ("2026-10", True), ("0000-01", False), ("2026-13", False)):
        reply = client.post("/reseller/api/billing-runs", headers=headers, json={"period": period})
        assert reply.status_code == 422, (period, reply.get_json())
        assert reply.headers["Content-Type"].startswith("application/problem+json")
        problem = reply.get_json()
        if allowed:  # well formed, outside the tenant's months: the range is in the answer
            assert problem["field"] == "period" and problem["allowed"] == {"from": "2026-11", "to": "2026-12"}
            assert "2026-11 to 2026-12" in problem["detail"]
        else:  # not a month at all
            assert "0001-01 to 9999-12" in problem["errors"]["json"]["period"][0]
    assert _runs(db, b.tenant) == [] and billing_broker.do_qsize("billing") == 0

    furthest = client.post("/reseller/api/billing-runs", headers=headers, json={"period": "2026-12"})
    assert furthest.status_code == 202 and furthest.get_json()["status"] == "queued"
    assert billing_broker.do_qsize("billing") == 1


def test_a_reseller_migrating_its_history_bills_from_its_first_activation(app, db, billable,
                                                                         billing_broker):  # noqa: F811
    b = billable()  # the customer is created today, as an import would, with a service active since 2019
    _activated(db, b.tenant, b.service_id, "2019-03-01T08:00:00")
    headers = finance_headers(app, db, b.tenant)
    client = app.test_client()
    early = client.post("/reseller/api/billing-runs", headers=headers, json={"period": "2019-02"})
    assert early.status_code == 422 and early.get_json()["allowed"] == {"from": "2019-03", "to": "2026-12"}
    assert client.post("/reseller/api/billing-runs", headers=headers, json={"period": "2019-03"}).status_code == 202


def test_the_cli_refuses_an_out_of_range_period_naming_the_range_and_queues_nothing(db, billable,
                                                                                   billing_broker):  # noqa: F811
    b = billable()
    try:
        far = CliRunner().invoke(main, ["billing", "run", "--period", "3000-01", "--tenant", b.tenant.code])
        nonsense = CliRunner().invoke(main, ["billing", "run", "--period", "0000-01", "--tenant", b.tenant.code])
    finally:
        registry.bind(db.engine)  # the command bound its own engine; give the suite's back
    assert far.exit_code == 2 and "3000-01 is outside 2026-11 to 2026-12" in far.output, far.output
    assert "nothing was queued" in far.output
    assert nonsense.exit_code == 2 and "--period: a month as YYYY-MM, 0001-01 to 9999-12" in nonsense.output
    assert _runs(db, b.tenant) == [] and billing_broker.do_qsize("billing") == 0


def test_billing_every_tenant_skips_one_opened_after_the_period_and_refuses_a_period_beyond_the_next_month(
        db, billable, make_tenant):
    old = billable()
    _activated(db, old.tenant, old.service_id, "2026-09-01T08:00:00")
    opened_today = make_tenant("NEW")

    class Runtime:
        pass

    runtime = Runtime()
    runtime.db = db
    assert _billable(runtime, [old.tenant, opened_today], "2026-10", chosen=False) == [old.tenant]
    with pytest.raises(SystemExit) as refused:  # named by --tenant, it is refused rather than skipped
        _billable(runtime, [opened_today], "2026-10", chosen=True)
    assert refused.value.code == 2
    with pytest.raises(SystemExit):
        _billable(runtime, [old.tenant, opened_today], "2027-01", chosen=False)


def test_a_worker_handed_a_run_out_of_range_fails_it_without_billing_anyone(db, billable):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):  # as a version before the bounds could have queued it
        s.add(BillingRun(period="3000-01", requested_by="old"))
        s.flush()
        run_id = s.execute(select(BillingRun.id).where(BillingRun.period == "3000-01")).scalar_one()
    with tenant_context(b.tenant):
        done = runs.run(db, run_id)
    assert done.status == "failed" and done.invoices_created == 0 and done.finished_at is not None
    assert [e["customer_id"] for e in done.errors] == [None] and "2026-11 to 2026-12" in done.errors[0]["error"]
    with db.session() as s, tenant_context(b.tenant):
        assert s.execute(select(func.count()).select_from(Invoice)).scalar_one() == 0


SEED = ["""
INSERT INTO customers (portal_id, first_name, last_name, status, billing_day, created_at)
SELECT 'FAR' || lpad(n::text, 6, '0'), 'Far', 'Ahead ' || n, 'Active', 1, :now FROM generate_series(1, :n) AS n
""", """
INSERT INTO services (customer_id, plan_id, kind, status, price, currency, billing_period, activated_at)
SELECT id, :plan, 'internet', 'Active', 1000.00, 'KES', 'monthly', '2019-01-01 08:00+00' FROM customers
"""]


def test_the_furthest_month_over_years_unbilled_finishes_in_bounded_time_within_the_line_budget(
        db, make_tenant, make_plan, monkeypatch):
    from app.services import catalogue

    customers, budget = 30, 400
    tenant = make_tenant("FAR")
    plan = make_plan(wholesale_price="800.00", currency="KES")
    with db.session() as s:
        catalogue.authorise(s, plan.id, tenant.id)
    with db.session() as s, tenant_context(tenant):
        for statement in SEED:
            s.execute(text(statement), {"n": customers, "plan": plan.id, "now": TODAY})
        first = runs.start(s, "2019-01", requested_by="test", enqueue=False).id
        furthest = runs.start(s, "2026-12", requested_by="test", enqueue=False).id
    with tenant_context(tenant):
        assert runs.run(db, first).invoices_created == customers  # billed once, in January 2019; then nothing
    monkeypatch.setattr(runs, "LINE_BUDGET", budget)
    batches: list[runs.BatchResult] = []
    finished: list = []

    def bill() -> None:
        with tenant_context(tenant):
            finished.append(runs.run(db, furthest, batch_size=1000, on_batch=batches.append))

    worker = threading.Thread(target=bill, daemon=True)
    worker.start()
    worker.join(timeout=180)
    assert not worker.is_alive(), "the run of the furthest month allowed did not finish"
    [done] = finished
    assert (done.status, done.customers_done, done.invoices_created, done.errors) == ("done", customers, customers,
                                                                                      [])
    months = (2026 - 2019) * 12 + 11  # February 2019 to December 2026, a line each
    assert len(batches) > 1 and sum(r.customers for r in batches) == customers
    assert all(r.lines <= budget + months for r in batches)  # a batch stops once past the budget
    with db.session() as s, tenant_context(tenant):
        lines = s.execute(select(InvoiceLine.period_start, func.count()).join(Invoice)
                          .where(Invoice.billing_key.like("%:2026-12")).group_by(InvoiceLine.period_start)).all()
    assert len(lines) == months and all(n == customers for _, n in lines)
    assert min(day for day, _ in lines) == date(2019, 2, 1) and max(day for day, _ in lines) == date(2026, 12, 1)


def test_every_route_that_filters_by_period_answers_a_month_outside_the_calendar_with_a_422(app, db, billable):
    b = billable()
    headers = finance_headers(app, db, b.tenant)
    client = app.test_client()
    for period in ("0000-01", "0000-12"):
        reply = client.get(f"/reseller/api/invoices?period={period}", headers=headers)
        assert reply.status_code == 422 and reply.get_json()["field"] == "period", reply.get_json()
    for period in ("0001-01", "9999-12"):  # reading any month of the calendar is fine, and empty
        reply = client.get(f"/reseller/api/invoices?period={period}", headers=headers)
        assert reply.status_code == 200 and reply.get_json()["total"] == 0
