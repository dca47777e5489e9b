"""Retail prices: markup, fixed prices, promotions, clamps, effective dates and tiers, to the cent."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from app import clock
from app.models.provisioning import PriceRule
from app.services import price_rules, pricing
from app.services.errors import Conflict, Invalid, NotFound
from tenants import tenant_context

D = Decimal
SEED = Path("/work/shared/seeds/001_02112c06f44ad205.txt")
JAN_1 = date(2024, 1, 1)


def rule(**fields) -> PriceRule:
    values = {"service_type": "internet", "markup_type": "percent", "markup_value": D("25.00"),
              "effective_from": JAN_1, "promo_enabled": False, **fields}
    return PriceRule(**values)


# -- the arithmetic, rule by rule -----------------------------------------------------------------

@pytest.mark.parametrize(("markup_type", "value", "wholesale", "expected"), [
    ("percent", "25.00", "60.00", "75.00"),
    ("percent", "12.50", "33.33", "37.50"),    # 37.49625 → 37.50 (half-up)
    ("percent", "10.00", "0.05", "0.06"),      # 0.055 → 0.06: half-up, not banker's
    ("percent", "15.00", "49.99", "57.49"),    # 57.4885 → 57.49
    ("percent", "0.00", "49.99", "49.99"),
    ("fixed", "12.34", "60.00", "72.34"),
    ("price", "99.90", "60.00", "99.90"),      # fixed retail, independent of wholesale
    ("price", "99.90", "150.00", "99.90"),
])
def test_markup(markup_type, value, wholesale, expected):
    out = pricing.apply_rule(D(wholesale), rule(markup_type=markup_type, markup_value=D(value)), JAN_1)
    assert out.price == D(expected)
    assert out.price.as_tuple().exponent == -2
    assert isinstance(out.price, Decimal)


def test_no_rule_sells_at_wholesale():
    out = pricing.apply_rule(D("60.00"), None, JAN_1)
    assert (out.base_price, out.price, out.clamped, out.promo_applied) == (D("60.00"), D("60.00"), None, False)


@pytest.mark.parametrize(("wholesale", "expected", "clamped"), [
    ("30.00", "50.00", "min"),    # 37.50 < 50 → the floor
    ("40.00", "50.00", "min"),    # 50.00 exactly: no clamp needed, same price
    ("100.00", "125.00", None),
    ("170.00", "200.00", "max"),  # 212.50 > 200 → the ceiling
])
def test_clamps(wholesale, expected, clamped):
    out = pricing.apply_rule(D(wholesale), rule(min_price=D("50.00"), max_price=D("200.00")), JAN_1)
    assert out.price == D(expected)
    assert out.clamped == (clamped if wholesale != "40.00" else None)


def test_promotion_inside_and_outside_its_window():
    promo = rule(promo_enabled=True, promo_discount_percent=D("10"), promo_valid_until=date(2024, 3, 31))
    inside = pricing.apply_rule(D("60.00"), promo, date(2024, 3, 31))
    assert (inside.base_price, inside.promo_discount, inside.price, inside.promo_applied) == (
        D("75.00"), D("7.50"), D("67.50"), True)
    after = pricing.apply_rule(D("60.00"), promo, date(2024, 4, 1))
    assert (after.price, after.promo_applied, after.promo_discount) == (D("75.00"), False, D("0.00"))
    before = pricing.apply_rule(D("60.00"), rule(promo_enabled=True, promo_discount_percent=D("10"),
                                                 promo_valid_from=date(2024, 2, 1)), date(2024, 1, 31))
    assert before.price == D("75.00")
    disabled = pricing.apply_rule(D("60.00"), rule(promo_enabled=False, promo_discount_percent=D("10")), JAN_1)
    assert disabled.price == D("75.00")


def test_promotion_rounds_its_discount_half_up_and_the_breakdown_adds_up():
    out = pricing.apply_rule(D("33.33"), rule(markup_value=D("12.50"), promo_enabled=True,
                                              promo_discount_percent=D("15")), JAN_1)
    # 37.50 × 15% = 5.625 → 5.63; 37.50 − 5.63 = 31.87
    assert (out.base_price, out.promo_discount, out.price) == (D("37.50"), D("5.63"), D("31.87"))
    assert out.base_price - out.promo_discount == out.price


def test_clamps_come_after_the_promotion():
    out = pricing.apply_rule(D("44.00"), rule(min_price=D("50.00"), promo_enabled=True,
                                              promo_discount_percent=D("20")), JAN_1)
    # 55.00 − 11.00 = 44.00, below the floor of 50.00: no promotion sells below the floor
    assert (out.base_price, out.promo_discount, out.price, out.clamped) == (D("55.00"), D("11.00"), D("50.00"), "min")


# -- choosing the rule, on the database --------------------------------------------------------------

def _rule(db, tenant, **values):
    with db.session() as s, tenant_context(tenant):
        return price_rules.create_rule(s, {"service_type": "internet", "markup_type": "percent",
                                           "markup_value": D("10"), "effective_from": JAN_1, **values}).id


def _quote(db, tenant, plan, on, **kwargs):
    with db.session() as s, tenant_context(tenant):
        return pricing.retail_price(s, plan.id, on, **kwargs)


def test_the_seed_json_is_accepted_as_is(db, make_shop):
    shop = make_shop()
    text = SEED.read_text()
    raw = re.search(r"\*\*Pricing Configuration:\*\*\s*```json\s*(\{.*?\})\s*```", text, re.S).group(1)
    config = json.loads(raw, parse_float=Decimal)
    # the ids are references: the seed's reseller 1 and tariff 5 are, here, this tenant and its plan
    config.update(reseller_id=shop.tenant.id, tariff_id=shop.plan.id)
    with db.session() as s, tenant_context(shop.tenant):
        made = price_rules.create_rule(s, config)
        out = price_rules.rule_out(made)
    assert {k: out[k] for k in ("service_type", "markup_type", "markup_value", "min_price", "max_price")} == {
        "service_type": "internet", "markup_type": "percent", "markup_value": D("25.00"),
        "min_price": D("50.00"), "max_price": D("200.00")}
    assert out["effective_from"] == JAN_1
    assert out["promotional_pricing"]["valid_until"] == date(2024, 3, 31)
    assert _quote(db, shop.tenant, shop.plan, date(2024, 2, 15)).price == D("67.50")
    assert _quote(db, shop.tenant, shop.plan, date(2024, 4, 1)).price == D("75.00")
    assert _quote(db, shop.tenant, shop.plan, date(2023, 12, 31)).price == D("60.00")  # before: wholesale


def test_effective_from_chooses_the_version(db, make_shop):
    shop = make_shop()
    first = _rule(db, shop.tenant, tariff_id=shop.plan.id, markup_value=D("10"), effective_from=date(2024, 1, 1))
    second = _rule(db, shop.tenant, tariff_id=shop.plan.id, markup_value=D("20"), effective_from=date(2024, 6, 1))
    assert _quote(db, shop.tenant, shop.plan, date(2024, 5, 31)).rule_id == first
    assert _quote(db, shop.tenant, shop.plan, date(2024, 5, 31)).price == D("66.00")
    assert _quote(db, shop.tenant, shop.plan, date(2024, 6, 1)).rule_id == second
    assert _quote(db, shop.tenant, shop.plan, date(2030, 1, 1)).price == D("72.00")


def test_tiers_by_category_and_volume(db, make_shop):
    shop = make_shop()
    kind_wide = _rule(db, shop.tenant, markup_value=D("50"))
    plan_rule = _rule(db, shop.tenant, tariff_id=shop.plan.id, markup_value=D("30"))
    company = _rule(db, shop.tenant, tariff_id=shop.plan.id, markup_value=D("20"), customer_category="Company")
    bulk = _rule(db, shop.tenant, tariff_id=shop.plan.id, markup_value=D("15"), min_volume=100)
    bulk_company = _rule(db, shop.tenant, tariff_id=shop.plan.id, markup_value=D("5"), customer_category="company",
                         min_volume=100)
    on = date(2025, 1, 1)
    assert _quote(db, shop.tenant, shop.plan, on, volume=0).rule_id == plan_rule  # the plan's beats the kind's
    assert _quote(db, shop.tenant, shop.plan, on, volume=0).price == D("78.00")
    assert _quote(db, shop.tenant, shop.plan, on, category="company", volume=0).rule_id == company
    assert _quote(db, shop.tenant, shop.plan, on, category="company", volume=0).price == D("72.00")
    assert _quote(db, shop.tenant, shop.plan, on, category="person", volume=150).rule_id == bulk
    assert _quote(db, shop.tenant, shop.plan, on, category="person", volume=150).price == D("69.00")
    assert _quote(db, shop.tenant, shop.plan, on, category="company", volume=100).rule_id == bulk_company
    assert _quote(db, shop.tenant, shop.plan, on, category="company", volume=100).price == D("63.00")
    assert _quote(db, shop.tenant, shop.plan, on, category="person", volume=99).rule_id == plan_rule
    assert kind_wide  # a rule for every internet plan: it prices plans without their own rule


def test_category_comes_from_the_customer(db, make_shop):
    from app.models import Customer

    shop = make_shop()
    company = _rule(db, shop.tenant, tariff_id=shop.plan.id, markup_value=D("20"), customer_category="company")
    _rule(db, shop.tenant, tariff_id=shop.plan.id, markup_value=D("30"))
    with db.session() as s, tenant_context(shop.tenant):
        customer = s.get(Customer, shop.customer_id)
        assert pricing.retail_price(s, shop.plan.id, date(2025, 1, 1), customer).rule_id != company  # a person
        customer.kind, customer.company_name = "company", "Acme Ltd"
        assert pricing.retail_price(s, shop.plan.id, date(2025, 1, 1), customer).rule_id == company


def test_kind_wide_rule_prices_every_plan_of_the_kind(db, make_shop, make_plan):
    shop = make_shop()
    other = make_plan(wholesale_price="80.00")
    with db.session() as s:
        from app.services import catalogue

        catalogue.authorise(s, other.id, shop.tenant.id)
    _rule(db, shop.tenant, markup_value=D("25"))
    assert _quote(db, shop.tenant, other, date(2025, 1, 1)).price == D("100.00")
    assert _quote(db, shop.tenant, shop.plan, date(2025, 1, 1)).price == D("75.00")


def test_rules_in_effect_are_never_rewritten_future_ones_may_be(db, make_shop):
    shop = make_shop()
    past = _rule(db, shop.tenant, tariff_id=shop.plan.id, effective_from=date(2024, 1, 1))
    future = _rule(db, shop.tenant, tariff_id=shop.plan.id, effective_from=clock.today() + timedelta(days=30))
    with db.session() as s, tenant_context(shop.tenant):
        with pytest.raises(Conflict, match="in effect"):
            price_rules.update_rule(s, past, {"markup_value": D("99")})
        with pytest.raises(Conflict, match="in effect"):
            price_rules.delete_rule(s, past)
        assert price_rules.update_rule(s, future, {"markup_value": D("12.5")}).markup_value == D("12.50")
        with pytest.raises(Invalid, match="past"):
            price_rules.update_rule(s, future, {"effective_from": date(2020, 1, 1)})
    with db.session() as s, tenant_context(shop.tenant):
        price_rules.delete_rule(s, future)
        assert [r.id for r in price_rules.list_rules(s)] == [past]


@pytest.mark.parametrize(("values", "error"), [
    ({"markup_value": 0.1}, "float"),
    ({"markup_value": D("1.234")}, "two decimal"),
    ({"min_price": D("90"), "max_price": D("80")}, "above"),
    ({"markup_type": "bogus"}, "markup_type"),
    ({"promotional_pricing": {"enabled": True}}, "discount_percent"),
    ({"promotional_pricing": {"enabled": True, "discount_percent": 120}}, "between"),
    ({"reseller_id": -1}, "not this reseller"),
    ({"service_type": "voice"}, "internet plan"),
])
def test_invalid_rules_are_refused(db, make_shop, values, error):
    shop = make_shop()
    with pytest.raises(Invalid, match=error), db.session() as s, tenant_context(shop.tenant):
        price_rules.create_rule(s, {"service_type": "internet", "tariff_id": shop.plan.id, "markup_type": "percent",
                                    "markup_value": D("10"), "effective_from": JAN_1, **values})


def test_a_rule_for_a_plan_not_authorised_is_refused(db, make_shop, make_plan):
    shop = make_shop()
    stranger = make_plan()
    with pytest.raises(NotFound), db.session() as s, tenant_context(shop.tenant):
        price_rules.create_rule(s, {"service_type": "internet", "tariff_id": stranger.id, "markup_type": "percent",
                                    "markup_value": D("10"), "effective_from": JAN_1})
