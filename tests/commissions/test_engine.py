"""The arithmetic of commission lines: pass-through along a three-level tree, rounding, rules over time,
setup once per customer, idempotency, and reversal on refund."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import delete

from app.models.commissions import CommissionLine
from app.services.billing import payments
from app.services.commissions import engine, reversal
from tenants import tenant_context
from tests.commissions.conftest import add_rule, amounts, issue_invoice, lines_of, new_customer, pay, set_percent

D = Decimal


def compute(db, tenant, *payment_ids):
    with tenant_context(tenant):
        return engine.compute_many(db, list(payment_ids))


def refund(db, tenant, payment_id, amount=None):
    with db.session() as s, tenant_context(tenant):
        payments.refund(s, payment_id, amount=amount, reason="customer left")
    with tenant_context(tenant):
        return reversal.reverse_payment(db, payment_id)


def test_split_is_the_difference_of_rounded_cumulative_amounts():
    levels = [engine.Level(1, D("1.11"), D("3.3333")), engine.Level(2, D("2.42"), D("7.25")),
              engine.Level(3, D("4.17"), D("12.5"))]
    out = engine.split(levels)
    assert [(amount, share) for _, amount, share in out] == [
        (D("1.11"), D("3.3333")), (D("1.31"), D("3.9167")), (D("1.75"), D("5.25"))]


def test_three_level_pass_through_each_earner_in_its_own_schema(db, tree):
    branch = tree()  # A 20 %, B 15 %, C 10 %
    customer = new_customer(db, branch.c)
    payment = pay(db, branch.c, customer, "1000.00")
    outcome = compute(db, branch.c, payment)
    assert (outcome.payments, outcome.lines) == (1, 3)
    [a], [b], [c] = (lines_of(db, t) for t in branch.all)
    assert (c.amount, b.amount, a.amount) == (D("100.00"), D("50.00"), D("50.00"))
    assert (c.rate, b.rate, a.rate) == (D("10"), D("5"), D("5"))
    for line, earner in ((c, branch.c), (b, branch.b), (a, branch.a)):
        assert line.reseller_id == earner.id
        assert (line.source_tenant_id, line.source_payment_id, line.customer_id) == (branch.c.id, payment, customer)
        assert (line.kind, line.status, line.currency, line.base_amount) == ("recurring", "Pending", "USD",
                                                                             D("1000.00"))
        assert (line.period_start, line.period_end) == (date(2026, 3, 1), date(2026, 3, 31))


def test_rounding_lines_always_add_up_to_the_top_rate_of_the_base(db, tree):
    branch = tree(("12.5", "7.25", "3.3333"))
    customer = new_customer(db, branch.c)
    compute(db, branch.c, pay(db, branch.c, customer, "33.33"))
    got = [amounts(db, t) for t in branch.all]
    # cumulative: 3.3333 % → 1.11, 7.25 % → 2.42 (2.416425), 12.5 % → 4.17 (4.16625, half-up)
    assert got == [[D("1.75")], [D("1.31")], [D("1.11")]]
    assert sum(x[0] for x in got) == D("4.17")


def test_the_specification_example_rounds_half_up(db, make_tenant):
    """"Commission Calculation" (001): base 99.99 at 15.00 %. 14.9985 is 15.00 half-up (the platform's rule;
    the specification's 14.99 is the truncated value, see engine.py)."""
    tenant = make_tenant("CX")
    set_percent(db, tenant, "15.00")
    customer = new_customer(db, tenant)
    payment = pay(db, tenant, customer, "99.99", at=datetime(2024, 1, 15, 12, tzinfo=UTC))
    compute(db, tenant, payment)
    [line] = lines_of(db, tenant)
    assert (line.reseller_id, line.customer_id, line.kind, line.base_amount, line.rate, line.amount) == (
        tenant.id, customer, "recurring", D("99.99"), D("15.0000"), D("15.00"))
    assert (line.period_start, line.period_end, line.status) == (date(2024, 1, 1), date(2024, 1, 31), "Pending")


def test_a_parent_below_its_child_earns_nothing_never_a_negative_line(db, tree):
    branch = tree(("20", "10", "15"))  # B below C: set by hand, rule validation would refuse it
    compute(db, branch.c, pay(db, branch.c, new_customer(db, branch.c), "200.00"))
    assert [amounts(db, t) for t in branch.all] == [[D("10.00")], [], [D("30.00")]]


def test_a_level_without_any_rate_earns_nothing_and_the_next_gets_the_difference(db, tree):
    branch = tree(("20", None, "10"))
    compute(db, branch.c, pay(db, branch.c, new_customer(db, branch.c), "500.00"))
    assert [amounts(db, t) for t in branch.all] == [[D("50.00")], [], [D("50.00")]]


def test_a_rule_overrides_commission_percent_from_its_first_day(db, tree):
    branch = tree()
    add_rule(db, branch.b, "recurring", effective_from=date(2026, 3, 15), rate="18")
    customer = new_customer(db, branch.c)
    before = pay(db, branch.c, customer, "100.00", at=datetime(2026, 3, 14, 12, tzinfo=UTC))
    after = pay(db, branch.c, customer, "100.00", at=datetime(2026, 3, 20, 12, tzinfo=UTC))
    compute(db, branch.c, before, after)
    assert amounts(db, branch.b, source_payment_id=before) == [D("5.00")]
    assert amounts(db, branch.b, source_payment_id=after) == [D("8.00")]
    assert amounts(db, branch.a, source_payment_id=after) == [D("2.00")]
    [line] = lines_of(db, branch.b, source_payment_id=after)
    assert line.rule_id is not None and line.rate == D("8")


def test_setup_once_per_customer_on_the_first_payment_passed_through(db, tree):
    branch = tree()
    add_rule(db, branch.c, "setup", amount="50.00", currency="USD")
    add_rule(db, branch.b, "setup", amount="80.00", currency="USD")
    add_rule(db, branch.a, "setup", rate="10")  # 10 % of a 3000.00 setup fee: 300.00 in all
    customer = new_customer(db, branch.c)
    issue_invoice(db, branch.c, customer, [{"description": "Installation", "unit_price": "3000.00", "kind": "setup"},
                                           {"description": "March", "unit_price": "1000.00", "kind": "recurring"}])
    first = pay(db, branch.c, customer, "4000.00")
    second = pay(db, branch.c, customer, "1000.00", at=datetime(2026, 3, 11, 9, tzinfo=UTC))
    compute(db, branch.c, first, second)
    setup = [lines_of(db, t, kind="setup") for t in branch.all]
    assert [[line.amount for line in lines] for lines in setup] == [[D("220.00")], [D("30.00")], [D("50.00")]]
    assert all(lines[0].source_payment_id == first and lines[0].base_amount == D("3000.00") for lines in setup)
    assert setup[2][0].source_key == f"set:{branch.c.id}:{customer}"
    # the next customer's first payment earns its own setup commission
    other = new_customer(db, branch.c)
    compute(db, branch.c, pay(db, branch.c, other, "10.00"))
    assert amounts(db, branch.c, kind="setup", customer_id=other) == [D("50.00")]


def test_the_same_payment_twice_gives_one_set_of_lines(db, tree):
    branch = tree()
    payment = pay(db, branch.c, new_customer(db, branch.c), "1000.00")
    assert compute(db, branch.c, payment).lines == 3
    assert compute(db, branch.c, payment, payment).lines == 0
    assert [len(lines_of(db, t)) for t in branch.all] == [1, 1, 1]


def test_a_crash_between_earners_is_completed_by_the_retry(db, tree):
    branch = tree()
    payment = pay(db, branch.c, new_customer(db, branch.c), "1000.00")
    compute(db, branch.c, payment)
    with db.session() as s, tenant_context(branch.a):  # as if the job died before A's transaction
        s.execute(delete(CommissionLine))
    assert compute(db, branch.c, payment).lines == 1
    assert [amounts(db, t) for t in branch.all] == [[D("50.00")], [D("50.00")], [D("100.00")]]


def test_payments_that_did_not_bring_money_earn_nothing(db, tree):
    branch = tree()
    customer = new_customer(db, branch.c)
    with db.session() as s, tenant_context(branch.c):
        pending = payments.record(s, customer_id=customer, amount="100.00", method="mpesa", status="pending",
                                  provider="mpesa", provider_ref="QWE123").id
    assert compute(db, branch.c, pending).lines == 0
    with db.session() as s, tenant_context(branch.c):
        payments.confirm(s, pending)
    assert compute(db, branch.c, pending).lines == 3


def test_partial_then_full_refund_reverses_in_proportion_in_every_schema(db, tree):
    branch = tree(("20", "15", "10.5"))
    payment = pay(db, branch.c, new_customer(db, branch.c), "333.33")
    compute(db, branch.c, payment)
    # C 10.5 % → 35.00 (34.99965), B 15 % → 50.00 (49.9995) − 35.00, A 20 % → 66.67 (66.666) − 50.00
    assert [amounts(db, t) for t in branch.all] == [[D("16.67")], [D("15.00")], [D("35.00")]]
    assert refund(db, branch.c, payment, "111.11") == 3  # a third
    assert [amounts(db, t)[1:] for t in branch.all] == [[D("-5.56")], [D("-5.00")], [D("-11.67")]]
    assert refund(db, branch.c, payment) == 3  # the rest
    for tenant in branch.all:
        lines = lines_of(db, tenant)
        assert sum(line.amount for line in lines) == 0
        assert sum(line.base_amount for line in lines) == 0
        assert all(line.reverses_id == lines[0].id for line in lines[1:])
    with tenant_context(branch.c):  # the job delivered twice
        assert reversal.reverse_payment(db, payment) == 0


def test_a_reversed_payment_takes_back_everything_including_setup(db, tree):
    branch = tree()
    add_rule(db, branch.c, "setup", amount="25.00", currency="USD")
    payment = pay(db, branch.c, new_customer(db, branch.c), "100.00")
    compute(db, branch.c, payment)
    with db.session() as s, tenant_context(branch.c):
        payments.reverse(s, payment, reason="typed twice")
    with tenant_context(branch.c):
        assert reversal.reverse_payment(db, payment) == 4
    assert sorted(amounts(db, branch.c)) == [D("-25.00"), D("-10.00"), D("10.00"), D("25.00")]
    assert sum(amounts(db, branch.a)) == sum(amounts(db, branch.b)) == 0


def test_a_payment_computed_after_its_refund_nets_out(db, tree):
    branch = tree()
    payment = pay(db, branch.c, new_customer(db, branch.c), "100.00")
    with db.session() as s, tenant_context(branch.c):
        payments.refund(s, payment, amount="50.00", reason="overpaid")
    outcome = compute(db, branch.c, payment)  # the commission job ran late
    assert (outcome.lines, outcome.reversed) == (3, 3)
    assert [sum(amounts(db, t)) for t in branch.all] == [D("2.50"), D("2.50"), D("5.00")]


def test_a_paid_line_is_reversed_by_a_negative_line_not_edited(db, tree):
    branch = tree()
    payment = pay(db, branch.c, new_customer(db, branch.c), "100.00")
    compute(db, branch.c, payment)
    with db.session() as s, tenant_context(branch.c):
        s.get(CommissionLine, lines_of(db, branch.c)[0].id).status = "Paid"
    refund(db, branch.c, payment)
    paid, negative = lines_of(db, branch.c)
    assert (paid.status, paid.amount) == ("Paid", D("10.00"))
    assert (negative.status, negative.amount, negative.reverses_id) == ("Pending", D("-10.00"), paid.id)


def test_recording_and_refunding_a_payment_queue_the_jobs_after_commit(db, tree, commission_worker):
    branch = tree()
    customer = new_customer(db, branch.c)
    payment = pay(db, branch.c, customer, "1000.00")
    commission_worker.drain()
    assert [amounts(db, t) for t in branch.all] == [[D("50.00")], [D("50.00")], [D("100.00")]]
    with db.session() as s, tenant_context(branch.c):
        payments.refund(s, payment, amount="100.00", reason="goodwill")
    commission_worker.drain()
    assert [sum(amounts(db, t)) for t in branch.all] == [D("45.00"), D("45.00"), D("90.00")]
    with db.session() as s, tenant_context(branch.c):  # rolled back: nothing is queued
        payments.record(s, customer_id=customer, amount="500.00", method="cash")
        s.rollback()
    commission_worker.drain()
    assert len(lines_of(db, branch.c)) == 2
