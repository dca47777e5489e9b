"""The period close: usage (passed through), retention and performance bonuses, the sweep of payments the
per-payment job missed, and running it again."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import text

from app import clock
from app.services import catalogue, services
from app.services.billing import payments
from app.services.commissions import close
from tenants import tenant_context
from tests.commissions.conftest import add_rule, amounts, issue_invoice, lines_of, new_customer, pay

D = Decimal


def close_now(db, tenant):
    today = clock.now().date()
    with tenant_context(tenant):
        return close.close(db, today.year, today.month)


def now_pay(db, tenant, customer, amount):
    return pay(db, tenant, customer, amount, at=clock.now() - timedelta(seconds=5))


def test_usage_is_the_part_of_the_payments_that_paid_usage_passed_through(db, tree):
    branch = tree()
    add_rule(db, branch.c, "usage", rate="10")
    add_rule(db, branch.b, "usage", rate="20")
    customer = new_customer(db, branch.c)
    issue_invoice(db, branch.c, customer, [{"description": "Data top-up", "unit_price": "500.00", "kind": "usage"},
                                           {"description": "Plan", "unit_price": "1500.00", "kind": "recurring"}])
    now_pay(db, branch.c, customer, "1000.00")  # half the invoice: 250.00 of it paid usage
    done = close_now(db, branch.c)
    assert (done.payments, done.payment_lines, done.usage) == (1, 3, 2)
    [c] = lines_of(db, branch.c, kind="usage")
    [b] = lines_of(db, branch.b, kind="usage")
    assert (c.base_amount, c.rate, c.amount, c.customer_id) == (D("250.00"), D("10"), D("25.00"), customer)
    assert (b.base_amount, b.rate, b.amount) == (D("250.00"), D("10"), D("25.00"))
    assert lines_of(db, branch.a, kind="usage") == []
    again = close_now(db, branch.c)
    assert (again.payment_lines, again.usage, again.retention, again.performance) == (0, 0, 0, 0)


def _active_since(db, tenant, plan, customer_id, since: datetime, status: str = "Active") -> None:
    with db.session() as s, tenant_context(tenant):
        service = services.create(s, customer_id, plan.id)
        services.activate(s, service.id, reason="test")
        s.execute(text("UPDATE services SET activated_at = :at WHERE id = :id"), {"at": since, "id": service.id})
        s.execute(text("UPDATE customers SET status = :st WHERE id = :id"), {"st": status, "id": customer_id})


def test_retention_bonus_once_per_customer_kept_long_enough(db, tree, make_plan):
    branch = tree()
    plan = make_plan()
    with db.session() as s:
        for tenant in branch.all:
            catalogue.authorise(s, plan.id, tenant.id)
    rule = add_rule(db, branch.c, "retention", amount="100.00", currency="USD", months=6)
    now = clock.now()
    kept = new_customer(db, branch.c)
    _active_since(db, branch.c, plan, kept, now - timedelta(days=240))
    recent = new_customer(db, branch.c)
    _active_since(db, branch.c, plan, recent, now - timedelta(days=40))
    churned = new_customer(db, branch.c)
    _active_since(db, branch.c, plan, churned, now - timedelta(days=400), status="Suspended")
    done = close_now(db, branch.c)
    assert done.retention == 1
    [line] = lines_of(db, branch.c, kind="retention")
    assert (line.customer_id, line.amount, line.currency, line.rule_id) == (kept, D("100.00"), "USD", rule.id)
    assert line.source_key == f"ret:{branch.c.id}:{kept}:{rule.id}"
    assert lines_of(db, branch.b, kind="retention") == []  # a bonus is not passed through
    today = now.date()
    with tenant_context(branch.c):  # next month's close: the same customer is not paid twice
        nxt = (today.replace(day=28) + timedelta(days=10))
        assert close.close(db, nxt.year, nxt.month).retention == 0


def test_performance_tier_reached_by_the_volume_net_of_refunds(db, tree):
    branch = tree()
    add_rule(db, branch.c, "performance", tiers=[{"from": "0", "rate": "1"}, {"from": "1000", "rate": "2.5"}])
    customer = new_customer(db, branch.c)
    now_pay(db, branch.c, customer, "600.00")
    second = now_pay(db, branch.c, customer, "700.00")
    with db.session() as s, tenant_context(branch.c):
        payments.refund(s, second, amount="100.00", reason="overcharged")
    done = close_now(db, branch.c)
    assert done.performance == 1 and done.reversed == 3
    [line] = lines_of(db, branch.c, kind="performance")
    assert (line.customer_id, line.base_amount, line.rate, line.amount) == (None, D("1200.00"), D("2.5"), D("30.00"))
    # recurring of the sweep, net of the refund: 10 % of 1300 − 10 % of 100
    assert sum(amounts(db, branch.c, kind="recurring")) == D("120.00")
    assert close_now(db, branch.c).performance == 0


def test_daily_closes_the_previous_month_on_the_first_only(db, tree):
    branch = tree()
    with tenant_context(branch.c):
        assert close.daily(db, date(2026, 4, 2)) is None
        assert close.daily(db, date(2026, 4, 1))["period"] == "2026-03"
        assert close.daily(db, date(2026, 1, 1))["period"] == "2025-12"


def test_months_before_keeps_the_day_or_the_months_last():
    assert close.months_before(date(2026, 8, 31), 6) == date(2026, 2, 28)
    assert close.months_before(date(2026, 3, 15), 14) == date(2025, 1, 15)


def test_the_daily_job_closes_last_month_through_the_worker(db, tree, commission_worker):
    from worker.actors import commissions

    branch = tree()
    payment = pay(db, branch.c, new_customer(db, branch.c), "400.00", at=datetime(2026, 3, 31, 20, tzinfo=UTC))
    commission_worker.drain()  # the per-payment job, queued by the payment
    with db.session() as s, tenant_context(branch.a):  # lost in A's schema: the close's sweep makes it good
        s.execute(text("DELETE FROM commission_lines"))
    with tenant_context(branch.c):
        commissions.commissions_daily.send("2026-04-01")
    commission_worker.drain()
    assert [amounts(db, t, source_payment_id=payment) for t in branch.all] == [[D("20.00")], [D("20.00")],
                                                                                [D("40.00")]]
