"""Commission rules: terms by kind, no overlap, consistency with the tree, and history kept when a rule
that has started is changed or removed."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from app.services.commissions import rules
from app.services.errors import Conflict, Invalid
from tests.commissions.conftest import add_rule

D = Decimal
TODAY = date(2026, 6, 15)


@pytest.mark.parametrize(("kind", "terms", "field"), [
    ("recurring", {}, "rate"),
    ("recurring", {"rate": "101"}, "rate"),
    ("recurring", {"rate": "10.12345"}, "rate"),
    ("recurring", {"rate": 10.5}, "rate"),  # a float has already lost the number
    ("recurring", {"rate": "10", "amount": "5.00", "currency": "USD"}, "amount"),
    ("usage", {"rate": "-1"}, "rate"),
    ("setup", {"rate": "10", "amount": "50.00", "currency": "USD"}, "rate"),
    ("setup", {"amount": "50.00"}, "currency"),
    ("setup", {"amount": "50.001", "currency": "USD"}, "amount"),
    ("retention", {"amount": "100.00", "currency": "USD"}, "months"),
    ("retention", {"amount": "100.00", "currency": "USD", "months": 0}, "months"),
    ("retention", {"months": 6}, "amount"),
    ("performance", {"tiers": []}, "tiers"),
    ("performance", {"tiers": [{"from": "0"}]}, "tiers"),
    ("performance", {"tiers": [{"from": "0", "rate": "1"}, {"from": "0.00", "rate": "2"}]}, "tiers"),
    ("performance", {"tiers": [{"from": "-5", "rate": "1"}]}, "tiers"),
    ("bonus", {"rate": "1"}, "kind"),
])
def test_terms_that_do_not_fit_the_kind_are_refused(db, make_tenant, kind, terms, field):
    tenant = make_tenant("RR")
    with pytest.raises(Invalid) as refused:
        add_rule(db, tenant, kind, **terms)
    assert refused.value.extra.get("field") == field


def test_a_rule_is_stored_normalised(db, make_tenant):
    tenant = make_tenant("RR")
    rule = add_rule(db, tenant, "performance", tiers=[{"from": "50000", "rate": "2"}, {"from": "0", "rate": "1.5"}])
    assert rule.tiers == [{"from": "0", "rate": "1.5000"}, {"from": "50000", "rate": "2.0000"}]
    setup = add_rule(db, tenant, "setup", amount="50", currency="kes")
    assert (setup.amount, setup.currency, setup.rate) == (D("50.00"), "KES", None)


def test_rules_of_one_kind_never_overlap(db, make_tenant):
    tenant = make_tenant("RR")
    add_rule(db, tenant, "recurring", effective_from=date(2026, 1, 1), rate="10")
    with pytest.raises(Conflict):
        add_rule(db, tenant, "recurring", effective_from=date(2026, 5, 1), rate="12")
    add_rule(db, tenant, "usage", effective_from=date(2026, 5, 1), rate="12")  # another kind
    add_rule(db, tenant, "retention", amount="100.00", currency="USD", months=6)
    add_rule(db, tenant, "retention", amount="250.00", currency="USD", months=12)  # another period kept
    with pytest.raises(Conflict):
        add_rule(db, tenant, "retention", amount="300.00", currency="USD", months=12)


def test_the_in_force_rule_is_looked_up_by_day(db, make_tenant):
    tenant = make_tenant("RR")
    first = add_rule(db, tenant, "recurring", effective_from=date(2026, 1, 1), rate="10")
    with db.session() as s:
        rules.get(s, tenant.id, first.id).effective_until = date(2026, 3, 31)
    second = add_rule(db, tenant, "recurring", effective_from=date(2026, 4, 1), rate="12")
    with db.session() as s:
        assert rules.effective(s, [tenant.id], "recurring", date(2026, 3, 31))[tenant.id].id == first.id
        assert rules.effective(s, [tenant.id], "recurring", date(2026, 4, 1))[tenant.id].id == second.id
        assert rules.effective(s, [tenant.id], "recurring", date(2025, 12, 31)) == {}


def test_a_pass_through_rate_stays_between_the_parent_and_the_children(db, tree):
    branch = tree()  # percents A 20, B 15, C 10
    with pytest.raises(Invalid, match="more than"):
        add_rule(db, branch.b, "recurring", rate="21")
    with pytest.raises(Invalid, match="less than"):
        add_rule(db, branch.b, "recurring", rate="9.99")
    assert add_rule(db, branch.b, "recurring", rate="18").rate == D("18")
    add_rule(db, branch.c, "usage", rate="5")
    with pytest.raises(Invalid, match="less than"):
        add_rule(db, branch.b, "usage", rate="4")
    add_rule(db, branch.b, "setup", amount="10.00", currency="USD")  # fixed amounts are not rates


def test_changing_a_started_rule_ends_it_and_starts_a_successor(db, make_tenant):
    tenant = make_tenant("RR")
    rule = add_rule(db, tenant, "recurring", effective_from=date(2026, 1, 1), rate="10")
    with db.session() as s:
        successor = rules.update(s, tenant.id, rule.id, today=TODAY, actor="test", rate="12")
    with db.session() as s:
        old = rules.get(s, tenant.id, rule.id)
        assert (old.rate, old.effective_until) == (D("10"), TODAY - timedelta(days=1))
        assert (successor.rate, successor.effective_from, successor.effective_until) == (D("12"), TODAY, None)
    future = add_rule(db, tenant, "usage", effective_from=date(2026, 9, 1), rate="3")
    with db.session() as s:  # not started yet: edited in place
        edited = rules.update(s, tenant.id, future.id, today=TODAY, actor="test", rate="4")
        assert (edited.id, edited.rate) == (future.id, D("4"))
    with db.session() as s, pytest.raises(Invalid):
        rules.update(s, tenant.id, successor.id, today=TODAY + timedelta(days=3), actor="test",
                     effective_from=TODAY, rate="13")
    with db.session() as s, pytest.raises(Conflict):  # the ended rule is history
        rules.update(s, tenant.id, rule.id, today=TODAY, actor="test", rate="11")


def test_deleting_removes_a_future_rule_and_ends_a_started_one(db, make_tenant):
    tenant = make_tenant("RR")
    started = add_rule(db, tenant, "recurring", effective_from=date(2026, 1, 1), rate="10")
    future = add_rule(db, tenant, "usage", effective_from=date(2026, 9, 1), rate="3")
    with db.session() as s:
        assert rules.end(s, tenant.id, future.id, today=TODAY, actor="test") is None
        ended = rules.end(s, tenant.id, started.id, today=TODAY, actor="test")
        assert ended.effective_until == TODAY - timedelta(days=1)
    with db.session() as s:
        assert [r.id for r in rules.list_rules(s, tenant.id)] == [started.id]
