"""A billing run holds the tenant's invoice counter only while it writes a batch (issue 13).

Issuing an invoice takes the counter (numbering.py), so whatever holds it holds up every invoice of the
tenant. A run plans a batch first, with nothing locked, then locks the counter, plans again whoever got
a document meanwhile, and writes:

- a hand-made invoice issued while a run is planning completes at once, and the numbers stay gap-free;
- two runs of consecutive months planning the same customer at once do not bill the same days twice:
  the one that writes second sees the other's invoice under the lock and plans that customer again.

The run is paused mid-planning by wrapping `runs.plan_customer` (the real planning goes on after the
pause); every wait is bounded.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from app.models.billing import Invoice, InvoiceLine
from app.services import customers
from app.services.billing import invoices, runs
from tenants import tenant_context

TODAY = datetime(2026, 12, 3, 9, tzinfo=UTC)
pytestmark = pytest.mark.clock(TODAY)
WAIT = 60  # seconds any step may take before the test calls it hung


class Pause:
    """Holds the first planning of one period's run until released."""

    def __init__(self, monkeypatch, period: str):
        self.planning, self.release = threading.Event(), threading.Event()
        real = runs.plan_customer

        def plan_customer(ctx, *args, **kwargs):
            if ctx.period == period and not self.planning.is_set():
                self.planning.set()
                assert self.release.wait(WAIT), "the test never released the run"
            return real(ctx, *args, **kwargs)

        monkeypatch.setattr(runs, "plan_customer", plan_customer)


def _in_thread(tenant, work) -> tuple[threading.Thread, list]:
    outcome: list = []

    def target() -> None:
        try:
            with tenant_context(tenant):
                outcome.append(work())
        except BaseException as exc:  # reported by the test, not lost in the thread
            outcome.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, outcome


def _run(db, tenant, period: str):
    with db.session() as s, tenant_context(tenant):
        run_id = runs.start(s, period, requested_by="test", enqueue=False).id
    return lambda: runs.run(db, run_id)


def _finished(thread: threading.Thread, outcome: list):
    thread.join(WAIT)
    assert not thread.is_alive(), "still waiting"
    [result] = outcome
    if isinstance(result, BaseException):
        raise result
    return result


def test_an_invoice_issued_by_hand_while_a_run_plans_is_issued_at_once(db, billable, monkeypatch):
    b = billable(price="1000.00")
    with db.session() as s, tenant_context(b.tenant):
        walk_in = customers.create(s, first_name="Walk", last_name="In").id  # no service: not in the run
    pause = Pause(monkeypatch, "2026-12")
    thread, outcome = _in_thread(b.tenant, _run(db, b.tenant, "2026-12"))
    try:
        assert pause.planning.wait(WAIT), "the run never started planning"
        with db.session() as s, tenant_context(b.tenant):
            s.execute(text("SET LOCAL lock_timeout = '5s'"))  # hung behind the run: an error, not a hang
            draft = invoices.create_draft(s, walk_in, [{"description": "Router", "unit_price": "2500.00"}])
            by_hand = invoices.issue(s, draft.id).number
    finally:
        pause.release.set()
    done = _finished(thread, outcome)
    assert (done.status, done.invoices_created) == ("done", 1)
    with db.session() as s, tenant_context(b.tenant):
        numbers = dict(s.execute(select(Invoice.customer_id, Invoice.number)).all())
    assert by_hand == "INV-2026-000001" and numbers == {walk_in: by_hand, b.customer_id: "INV-2026-000002"}


def test_runs_of_two_months_planning_one_customer_at_once_bill_each_day_once(db, billable, monkeypatch):
    b = billable(price="3100.00")  # active since today, 3 December: December is billed prorated, then January
    pause = Pause(monkeypatch, "2027-01")
    january, outcome = _in_thread(b.tenant, _run(db, b.tenant, "2027-01"))
    try:
        assert pause.planning.wait(WAIT)  # January has read the customer's history: nothing billed yet
        december, other = _in_thread(b.tenant, _run(db, b.tenant, "2026-12"))
        assert _finished(december, other).invoices_created == 1  # not held up by January's planning
    finally:
        pause.release.set()
    assert _finished(january, outcome).invoices_created == 1
    with db.session() as s, tenant_context(b.tenant):
        lines = s.execute(select(Invoice.billing_key, InvoiceLine.period_start, InvoiceLine.period_end,
                                 InvoiceLine.amount).join(Invoice).order_by(InvoiceLine.period_start)).all()
    assert [(key.split(":")[1], start, end, amount) for key, start, end, amount in lines] == [
        ("2026-12", date(2026, 12, 3), date(2026, 12, 31), Decimal("2900.00")),
        ("2027-01", date(2027, 1, 1), date(2027, 1, 31), Decimal("3100.00"))]
