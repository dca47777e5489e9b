"""Billing periods and proration: the days a bill covers and what part of the price they cost, to the cent.

The rule customers can check by hand: price × days used / days in the period, rounded half-up once per
line; a whole period costs exactly its price. The run-level cases (a service starting, changing plan or
ending mid-period, prepaid and postpaid) go through a real billing run on a real tenant.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.models.billing import Invoice, InvoiceLine
from app.models.provisioning import Service, ServiceRequest
from app.services.billing import cycles, proration, runs
from app.services.billing.cycles import Period
from app.services.errors import Invalid
from app.services.settings import get_setting, put_setting
from tenants import tenant_context

D = Decimal


def P(a: str, b: str) -> Period:  # noqa: N802 - reads like the periods in the tests' names
    return Period(date.fromisoformat(a), date.fromisoformat(b))


# -- periods ---------------------------------------------------------------------------------------------

def test_billing_day_15_bills_15_nov_to_14_dec_prepaid_and_15_oct_to_14_nov_postpaid():
    run_date = cycles.billing_date("2026-11", 15)
    assert run_date == date(2026, 11, 15)
    anchor = cycles.anchor(date(2026, 9, 3), 15)
    assert anchor == date(2026, 9, 15)
    assert cycles.billed_cycle(run_date, anchor, 1, "prepaid") == P("2026-11-15", "2026-12-14")
    assert cycles.billed_cycle(run_date, anchor, 1, "postpaid") == P("2026-10-15", "2026-11-14")
    assert cycles.billing_date("2026-11", None) == date(2026, 11, 1)  # no billing day: the 1st


def test_quarterly_and_yearly_cycles_start_only_in_their_months():
    anchor = cycles.anchor(date(2026, 10, 20), 1)  # activated 20 Oct, billed on the 1st → cycles from 1 Nov
    assert anchor == date(2026, 11, 1)
    quarterly = [key for key in ("2026-11", "2026-12", "2027-01", "2027-02", "2027-05")
                 if cycles.billed_cycle(cycles.billing_date(key, 1), anchor, 3, "prepaid")]
    assert quarterly == ["2026-11", "2027-02", "2027-05"]
    assert cycles.billed_cycle(date(2027, 2, 1), anchor, 3, "prepaid") == P("2027-02-01", "2027-04-30")
    assert cycles.billed_cycle(date(2027, 11, 1), anchor, 12, "postpaid") == P("2026-11-01", "2027-10-31")
    assert cycles.billed_cycle(date(2027, 10, 1), anchor, 12, "postpaid") is None
    # the days before the anchor belong to the cycle that would have ended there
    assert cycles.cycle_containing(date(2026, 10, 20), anchor, 3) == P("2026-08-01", "2026-10-31")


def test_split_cuts_a_span_at_cycle_boundaries():
    anchor = date(2026, 11, 15)
    parts = cycles.split(P("2026-11-03", "2027-01-20"), anchor, 1)
    assert parts == [(P("2026-11-03", "2026-11-14"), P("2026-10-15", "2026-11-14")),
                     (P("2026-11-15", "2026-12-14"), P("2026-11-15", "2026-12-14")),
                     (P("2026-12-15", "2027-01-14"), P("2026-12-15", "2027-01-14")),
                     (P("2027-01-15", "2027-01-20"), P("2027-01-15", "2027-02-14"))]


@pytest.mark.parametrize("key", ["2026-13", "26-11", "2026-1", "", "2026-11-01"])
def test_a_period_is_a_month(key):
    with pytest.raises(Invalid):
        cycles.parse_period(key)


# -- the proration rule ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("price", "used", "cycle", "expected"), [
    ("1000.00", P("2026-10-20", "2026-10-31"), P("2026-10-01", "2026-10-31"), "387.10"),  # 12/31 = 387.0967…
    ("1000.00", P("2026-11-01", "2026-11-30"), P("2026-11-01", "2026-11-30"), "1000.00"),  # whole month, exact
    ("999.99", P("2026-02-10", "2026-02-28"), P("2026-02-01", "2026-02-28"), "678.56"),  # 19/28 = 678.5646…
    ("3000.00", P("2026-11-15", "2026-11-15"), P("2026-11-15", "2026-12-14"), "100.00"),  # one day of 30
    ("100.00", P("2026-01-01", "2026-01-08"), P("2026-01-01", "2026-01-16"), "50.00"),
    ("0.05", P("2026-01-01", "2026-01-15"), P("2026-01-01", "2026-01-30"), "0.03"),  # 0.025: half-up
    ("12000.00", P("2026-11-01", "2027-02-14"), P("2026-11-01", "2027-10-31"), "3484.93"),  # 106/365 of a year
])
def test_prorate_is_price_times_days_used_over_days_in_period_rounded_half_up(price, used, cycle, expected):
    assert proration.prorate(D(price), used, cycle) == D(expected)


def test_a_credit_for_unused_days_is_the_same_fraction_of_what_was_charged():
    billed = P("2026-11-01", "2026-11-30")
    days, credit = proration.unused_credit(D("1000.00"), billed, date(2026, 11, 10))
    assert days == P("2026-11-11", "2026-11-30") and credit == D("666.67")  # 20/30
    assert proration.unused_credit(D("1000.00"), billed, date(2026, 11, 30)) is None
    days, credit = proration.unused_credit(D("387.10"), P("2026-10-20", "2026-10-31"), date(2026, 10, 25))
    assert credit == D("193.55")  # never more than the prorated charge: 6/12 of 387.10


def test_a_plan_change_credits_the_old_plan_and_charges_the_new_from_the_change_day():
    billed = P("2026-11-01", "2026-11-30")
    days, old, new = proration.plan_change(D("1000.00"), billed, D("2500.00"), billed, date(2026, 11, 21))
    assert days == P("2026-11-21", "2026-11-30")
    assert (old, new) == (D("333.33"), D("833.33"))  # 10/30 of each


# -- through a billing run -------------------------------------------------------------------------------

def _set_mode(db, tenant, mode: str):
    with db.session() as s, tenant_context(tenant):
        billing = get_setting(s, "billing")
        put_setting(s, "billing", {**billing, "mode": mode})


def _bill(db, tenant, period: str, day: int = 1) -> list[Invoice]:
    """The run of `period`, as a worker would do it on the billing day (the scenario's "now")."""
    with db.session() as s, tenant_context(tenant):
        run = runs.start(s, period, requested_by="test", enqueue=False)
        run_id = run.id
    with tenant_context(tenant):
        done = runs.run(db, run_id, now=_at(f"{period}-{day:02d}"))
    assert done.status == "done" and done.errors == []
    with db.session() as s, tenant_context(tenant):
        return list(s.execute(select(Invoice).where(Invoice.billing_key.like(f"%:{period}%"))
                              .order_by(Invoice.id)).scalars())


def _lines(db, tenant, invoice_id: int) -> list[tuple]:
    with db.session() as s, tenant_context(tenant):
        return [(line.kind, line.period_start, line.period_end, line.amount) for line in s.execute(
            select(InvoiceLine).where(InvoiceLine.invoice_id == invoice_id).order_by(InvoiceLine.position)).scalars()]


def _set_service(db, tenant, service_id, **values):
    with db.session() as s, tenant_context(tenant):
        service = s.get(Service, service_id)
        for key, value in values.items():
            setattr(service, key, value)


def _at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=9, tzinfo=UTC)


def test_prepaid_a_service_started_mid_month_pays_its_first_days_with_the_first_month(db, billable):
    b = billable(price="1000.00")
    _set_service(db, b.tenant, b.service_id, activated_at=_at("2026-10-20"), setup_fee=D("500.00"))
    [invoice] = _bill(db, b.tenant, "2026-11")
    lines = _lines(db, b.tenant, invoice.id)
    assert lines == [("setup", None, None, D("500.00")),
                     ("recurring", date(2026, 10, 20), date(2026, 10, 31), D("387.10")),
                     ("recurring", date(2026, 11, 1), date(2026, 11, 30), D("1000.00"))]
    assert invoice.total == D("1887.10") and invoice.period_start == date(2026, 10, 20)
    [december] = _bill(db, b.tenant, "2026-12")  # no setup again, no days twice
    assert _lines(db, b.tenant, december.id) == [("recurring", date(2026, 12, 1), date(2026, 12, 31), D("1000.00"))]


def test_postpaid_bills_the_month_that_ended_prorated_to_activation_and_termination(db, billable):
    b = billable(price="3000.00", billing_day=15)
    _set_mode(db, b.tenant, "postpaid")
    _set_service(db, b.tenant, b.service_id, activated_at=_at("2026-10-25"))
    [first] = _bill(db, b.tenant, "2026-11", 15)  # 25 Oct – 14 Nov: 21 of 31 days (15 Oct – 14 Nov)
    assert _lines(db, b.tenant, first.id) == [("recurring", date(2026, 10, 25), date(2026, 11, 14), D("2032.26"))]
    _set_service(db, b.tenant, b.service_id, status="Terminated", terminated_at=_at("2026-12-04"))
    [last] = _bill(db, b.tenant, "2026-12", 15)  # 15 Nov – 4 Dec: 20 of 30 days
    assert _lines(db, b.tenant, last.id) == [("recurring", date(2026, 11, 15), date(2026, 12, 4), D("2000.00"))]
    assert _bill(db, b.tenant, "2027-01", 15) == []  # nothing left to bill


def test_prepaid_termination_mid_month_is_credited_for_the_days_paid_and_not_used(db, billable):
    b = billable(price="1000.00")
    _set_service(db, b.tenant, b.service_id, activated_at=_at("2026-11-01"))
    [november] = _bill(db, b.tenant, "2026-11")
    assert november.total == D("1000.00")
    _set_service(db, b.tenant, b.service_id, status="Terminated", terminated_at=_at("2026-11-10"))
    [note] = _bill(db, b.tenant, "2026-12")
    assert note.kind == "credit_note" and note.credited_invoice_id == november.id
    assert _lines(db, b.tenant, note.id) == [("unused", date(2026, 11, 11), date(2026, 11, 30), D("666.67"))]
    with db.session() as s, tenant_context(b.tenant):
        assert s.get(Invoice, november.id).amount_paid == D("666.67")  # spent on the invoice it credits
    assert _bill(db, b.tenant, "2027-01") == []  # credited once


def test_prepaid_upgrade_mid_month_is_adjusted_on_the_next_invoice(db, billable):
    b = billable(price="1000.00")
    _set_service(db, b.tenant, b.service_id, activated_at=_at("2026-11-01"))
    [november] = _bill(db, b.tenant, "2026-11")
    with db.session() as s, tenant_context(b.tenant):  # the upgrade, as service_requests completes it
        s.add(ServiceRequest(service_id=b.service_id, kind="upgrade", status="Completed",
                             payload={"plan_id": b.plan.id}, requested_by="test", completed_at=_at("2026-11-21")))
        s.get(Service, b.service_id).price = D("2500.00")
    december = _bill(db, b.tenant, "2026-12")
    invoice = next(i for i in december if i.kind == "invoice")
    note = next(i for i in december if i.kind == "credit_note")
    assert _lines(db, b.tenant, invoice.id) == [
        ("proration", date(2026, 11, 21), date(2026, 11, 30), D("833.33")),  # 10/30 of the new plan
        ("recurring", date(2026, 12, 1), date(2026, 12, 31), D("2500.00"))]
    assert _lines(db, b.tenant, note.id) == [("unused", date(2026, 11, 21), date(2026, 11, 30), D("333.33"))]
    assert note.credited_invoice_id == november.id
    january = _bill(db, b.tenant, "2027-01")  # adjusted once
    assert [(i.kind, i.total) for i in january] == [("invoice", D("2500.00"))]


def test_postpaid_plan_change_splits_the_month_at_the_change(db, billable):
    b = billable(price="1000.00")
    _set_mode(db, b.tenant, "postpaid")
    _set_service(db, b.tenant, b.service_id, activated_at=_at("2026-09-01"))
    [october] = _bill(db, b.tenant, "2026-10")  # September, whole
    assert october.total == D("1000.00")
    with db.session() as s, tenant_context(b.tenant):
        s.add(ServiceRequest(service_id=b.service_id, kind="upgrade", status="Completed",
                             payload={"plan_id": b.plan.id}, requested_by="test", completed_at=_at("2026-10-11")))
        s.get(Service, b.service_id).price = D("3100.00")
    [november] = _bill(db, b.tenant, "2026-11")
    assert _lines(db, b.tenant, november.id) == [
        ("recurring", date(2026, 10, 1), date(2026, 10, 10), D("322.58")),  # 10/31 of 1000.00
        ("recurring", date(2026, 10, 11), date(2026, 10, 31), D("2100.00"))]  # 21/31 of 3100.00
