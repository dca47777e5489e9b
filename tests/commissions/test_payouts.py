"""Commission payouts: the processing day of each frequency, the minimum carried over into the next
payout, reversals netting there, gap-free numbers, idempotent daily runs, and the conversion rate recorded
when the payout is paid (not before)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from app import clock
from app.models import AuditEvent
from app.models.payouts import CommissionAdjustment
from app.services.commissions import payouts
from app.services.errors import Conflict, Invalid
from tenants import tenant_context
from tests.commissions.payout_fixtures import add_line, line, payee, payouts_of, run_day, set_schedule  # noqa: F401


def test_below_the_minimum_is_carried_over_and_the_next_period_pays_both(db, payee):  # noqa: F811  (a fixture)
    who = payee()
    set_schedule(db, who.tenant, minimum_threshold="50.00")
    january = add_line(db, who.tenant, "30.00", date(2026, 1, 10))

    run_day(db, who.tenant, date(2026, 2, 15))
    [first] = payouts_of(db, who.tenant)
    assert (first.status, first.amount, first.period_start, first.period_end) == (
        "Carried over", Decimal("30.00"), date(2026, 1, 1), date(2026, 1, 31))
    assert line(db, who.tenant, january).status == "Approved"

    february = add_line(db, who.tenant, "40.00", date(2026, 2, 5))
    run_day(db, who.tenant, date(2026, 3, 15))
    first, second = payouts_of(db, who.tenant)
    assert first.carried_into_id == second.id
    assert (second.status, second.gross, second.carried_in, second.amount) == (
        "Scheduled", Decimal("40.00"), Decimal("30.00"), Decimal("70.00"))
    assert {line(db, who.tenant, i).payout_id for i in (january, february)} == {second.id}
    assert [first.number, second.number] == ["PO-2026-000001", "PO-2026-000002"]


def test_the_daily_run_waits_for_the_processing_day_and_builds_once(db, payee):  # noqa: F811  (a fixture)
    who = payee()
    set_schedule(db, who.tenant, processing_day=20)
    add_line(db, who.tenant, "75.00", date(2026, 1, 31))
    later = add_line(db, who.tenant, "10.00", date(2026, 2, 2))  # earned after the period: not in it

    assert run_day(db, who.tenant, date(2026, 2, 19))["period"] is None
    assert payouts_of(db, who.tenant) == []
    done = run_day(db, who.tenant, date(2026, 2, 20))
    assert done["approved"] == 1 and len(done["payouts"]) == 1
    again = run_day(db, who.tenant, date(2026, 2, 21))  # a day later, or the same job retried
    assert again["payouts"] == []
    [payout] = payouts_of(db, who.tenant)
    assert payout.amount == Decimal("75.00")
    assert (line(db, who.tenant, later).status, line(db, who.tenant, later).payout_id) == ("Pending", None)


@pytest.mark.parametrize(("frequency", "quiet", "due", "period"), [
    ("quarterly", date(2026, 3, 15), date(2026, 4, 15), (date(2026, 1, 1), date(2026, 3, 31))),
    ("bi-annual", date(2026, 4, 15), date(2026, 7, 15), (date(2026, 1, 1), date(2026, 6, 30))),
    ("annual", date(2026, 12, 15), date(2027, 1, 15), (date(2026, 1, 1), date(2026, 12, 31))),
])
def test_each_frequency_pays_the_period_that_ended(db, payee, frequency, quiet, due, period):  # noqa: F811  (a fixture)
    who = payee()
    set_schedule(db, who.tenant, frequency=frequency)
    add_line(db, who.tenant, "60.00", date(2026, 2, 1))
    assert run_day(db, who.tenant, quiet)["period"] is None
    run_day(db, who.tenant, due)
    [payout] = payouts_of(db, who.tenant)
    assert (payout.period_start, payout.period_end, payout.amount) == (*period, Decimal("60.00"))


def test_a_reversal_nets_in_the_next_payout(db, payee):  # noqa: F811  (a fixture)
    who = payee()
    set_schedule(db, who.tenant)
    paid_line = add_line(db, who.tenant, "100.00", date(2026, 1, 12))
    run_day(db, who.tenant, date(2026, 2, 15))
    [january] = payouts_of(db, who.tenant)
    with db.session() as s, tenant_context(who.tenant):
        payouts.approve(s, january.id, actor="ops@isp")
        payouts.mark_paid(s, january.id, method="bank_transfer", reference="TRX-1", actor="ops@isp")
    assert line(db, who.tenant, paid_line).status == "Paid"

    # the customer's January payment was refunded in February: the engine wrote a negative line
    reversal = add_line(db, who.tenant, "-20.00", date(2026, 2, 3), reverses_id=paid_line)
    add_line(db, who.tenant, "80.00", date(2026, 2, 10))
    run_day(db, who.tenant, date(2026, 3, 15))
    _, february = payouts_of(db, who.tenant)
    assert (february.gross, february.amount, february.status) == (Decimal("60.00"), Decimal("60.00"), "Scheduled")
    assert line(db, who.tenant, reversal).payout_id == february.id
    assert line(db, who.tenant, paid_line).payout_id == january.id  # paid once, never again


def test_a_reversal_larger_than_the_earnings_is_carried_as_a_negative_balance(db, payee):  # noqa: F811  (a fixture)
    who = payee()
    set_schedule(db, who.tenant)
    add_line(db, who.tenant, "-30.00", date(2026, 1, 3), reverses_id=None)
    run_day(db, who.tenant, date(2026, 2, 15))
    add_line(db, who.tenant, "100.00", date(2026, 2, 3))
    run_day(db, who.tenant, date(2026, 3, 15))
    first, second = payouts_of(db, who.tenant)
    assert (first.status, first.amount) == ("Carried over", Decimal("-30.00"))
    assert (second.status, second.carried_in, second.amount) == ("Scheduled", Decimal("-30.00"), Decimal("70.00"))


def test_the_rate_is_recorded_at_payment_time_and_rounded_half_up(db, payee):  # noqa: F811  (a fixture)
    who = payee()
    set_schedule(db, who.tenant, currency="USD")
    add_line(db, who.tenant, "123.45", date(2026, 1, 12))
    run_day(db, who.tenant, date(2026, 2, 15))
    [payout] = payouts_of(db, who.tenant)
    assert (payout.fx_rate, payout.converted_amount, payout.payout_currency) == (None, None, None)
    with db.session() as s, tenant_context(who.tenant):
        with pytest.raises(Conflict):  # not approved yet
            payouts.mark_paid(s, payout.id, method="wire", reference="W-1", actor="ops@isp", fx_rate="0.00775")
        payouts.approve(s, payout.id, actor="ops@isp")
        with pytest.raises(Invalid, match="fx_rate"):  # KES paid in USD needs the day's rate
            payouts.mark_paid(s, payout.id, method="wire", reference="W-1", actor="ops@isp")
        paid_at = datetime(2026, 2, 19, 10, tzinfo=UTC)
        payouts.mark_paid(s, payout.id, method="wire", reference="W-1", actor="ops@isp", fx_rate="0.00775",
                          paid_at=paid_at)
    [payout] = payouts_of(db, who.tenant)
    # 123.45 x 0.00775 = 0.9567375 -> 0.96
    assert (payout.status, payout.payout_currency, payout.fx_rate, payout.converted_amount, payout.paid_at) == (
        "Paid", "USD", Decimal("0.00775000"), Decimal("0.96"), paid_at)
    with db.session() as s, tenant_context(who.tenant):
        trail = s.execute(select(CommissionAdjustment.action, CommissionAdjustment.after)
                          .where(CommissionAdjustment.payout_id == payout.id).order_by(CommissionAdjustment.id)).all()
        logged = s.execute(select(AuditEvent.action).where(AuditEvent.tenant_id == who.tenant.id)
                           .order_by(AuditEvent.id)).scalars().all()
    assert [a for a, _ in trail] == ["payout.built", "payout.approved", "payout.paid"]
    assert trail[-1][1]["fx_rate"] == "0.00775000" and trail[-1][1]["converted_amount"] == "0.96"
    assert logged[-2:] == ["payout.approved", "payout.paid"]


def test_the_schedule_is_checked_and_its_details_encrypted(db, payee):  # noqa: F811  (a fixture)
    who = payee()
    for bad in ({"minimum_threshold": "49.99"}, {"minimum_threshold": "1000.01"}, {"processing_day": 29},
                {"frequency": "weekly"}, {"method": "cash"}, {"currency": "kes1"}):
        with pytest.raises(Invalid):
            set_schedule(db, who.tenant, **bad)
    found = set_schedule(db, who.tenant, details={"bank_name": "KCB", "account_number": "1100223344"})
    assert found.details == {"bank_name": "KCB", "account_number": "1100223344"}
    assert payouts.masked(found.details)["account_number"] == "••••••3344"
    with db.session() as s, tenant_context(who.tenant):
        raw = s.execute(text("SELECT details_encrypted FROM payout_schedules")).scalar_one()
    assert "1100223344" not in raw


def test_the_daily_actor_runs_in_its_tenant(db, payee, monkeypatch):  # noqa: F811  (a fixture)
    import worker.broker
    from worker.actors.payouts import payouts_daily

    monkeypatch.setattr(worker.broker, "database", lambda: db)
    who = payee()
    set_schedule(db, who.tenant)
    add_line(db, who.tenant, "55.00", date(2026, 1, 9))
    with tenant_context(who.tenant):
        done = payouts_daily.fn("2026-02-15")
        assert payouts_daily.fn("2026-02-15")["payouts"] == []
    assert done["period"] == "2026-01-01/2026-01-31" and done["payouts"][0]["amount"] == "55.00"


def test_the_demo_sets_a_schedule_once(db, payee, monkeypatch):  # noqa: F811  (a fixture)
    from app.services.commissions import payout_demo

    who = payee()
    monkeypatch.setattr(payout_demo, "SCHEDULES", {who.code: payout_demo.SCHEDULES["XYZ_NET"],
                                                   "NOT_A_TENANT": payout_demo.SCHEDULES["ABC_ISP"]})
    assert [d["code"] for d in payout_demo.seed_demo(db)] == [who.code]
    assert payout_demo.seed_demo(db) == []
    with db.session() as s, tenant_context(who.tenant):
        found = payouts.schedule(s)
    assert (found.frequency, found.minimum_threshold, found.details["swift"]) == ("quarterly", Decimal("1000.00"),
                                                                                 "KCBLKENX")


def test_a_refund_after_payment_nets_in_the_next_payout_through_the_engine(db, tree):  # noqa: F811
    """The engine's own lines, end to end: a payment of last month is paid out this month; refunded today,
    its reversal (dated this month) is netted in next month's payout, in every schema of the branch."""
    from datetime import timedelta

    from app.services.billing import payments as billing_payments
    from app.services.commissions import engine, reversal
    from tests.commissions.conftest import new_customer, pay

    branch = tree()  # A 20 %, B 15 %, C 10 %
    today = clock.today()
    this_month = today.replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    next_month = (this_month + timedelta(days=32)).replace(day=1)
    for tenant in branch.all:
        set_schedule(db, tenant, currency="USD")
    customer = new_customer(db, branch.c)
    first = pay(db, branch.c, customer, "1500.00", at=datetime.combine(last_month, datetime.min.time(), UTC))
    with tenant_context(branch.c):
        engine.compute_payment(db, first)
    run_day(db, branch.c, this_month.replace(day=15))
    [paid] = payouts_of(db, branch.c)
    assert paid.amount == Decimal("150.00")
    with db.session() as s, tenant_context(branch.c):
        payouts.approve(s, paid.id, actor="ops@isp")
        payouts.mark_paid(s, paid.id, method="wire", reference="W-7", actor="ops@isp")
        billing_payments.refund(s, first, amount="500.00", reason="customer left")
    second = pay(db, branch.c, customer, "1000.00", at=clock.now())
    with tenant_context(branch.c):
        assert reversal.reverse_payment(db, first) == 3
        engine.compute_payment(db, second)
    # C: 100.00 earned this month - 50.00 taken back. B and A (5 % each) had no payout last month: their
    # 75.00 of last month comes in as well, with this month's 50.00 less the 25.00 taken back
    for tenant, carried, gross in ((branch.c, "0.00", "50.00"), (branch.b, "75.00", "25.00"),
                                   (branch.a, "75.00", "25.00")):
        run_day(db, tenant, next_month.replace(day=15))
        latest = payouts_of(db, tenant)[-1]
        assert (latest.period_start, latest.carried_in, latest.gross) == (this_month, Decimal(carried),
                                                                          Decimal(gross)), tenant.code


def test_the_admins_get_the_statement_and_the_payment_confirmation(db, payee):  # noqa: F811  (a fixture)
    from app.models import Outbox
    from app.models.reports import OutboxAttachment

    who = payee()
    set_schedule(db, who.tenant, currency="USD")
    add_line(db, who.tenant, "200.00", date(2026, 1, 12))
    run_day(db, who.tenant, date(2026, 2, 15))
    run_day(db, who.tenant, date(2026, 2, 16))  # built once, mailed once
    [payout] = payouts_of(db, who.tenant)
    with db.session() as s, tenant_context(who.tenant):
        payouts.approve(s, payout.id, actor="ops@isp")
        payouts.mark_paid(s, payout.id, method="wire", reference="W-42", actor="ops@isp", fx_rate="0.0077")
        mails = s.execute(select(Outbox).order_by(Outbox.id)).scalars().all()
        files = s.execute(select(OutboxAttachment).order_by(OutboxAttachment.id)).scalars().all()
    assert [(m.template, m.to_address) for m in mails] == [("reseller/commission_statement", who.admin),
                                                           ("reseller/commission_paid", who.admin)]
    assert payout.number in mails[0].subject and "200.00 KES" in mails[0].body_text
    assert "1.54 USD" in mails[1].body_text and "W-42" in mails[1].body_text  # 200.00 x 0.0077
    assert [f.filename for f in files] == [f"commission-statement-{payout.number}.pdf"] * 2
    assert all(f.content.startswith(b"%PDF") for f in files)
