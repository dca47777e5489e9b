"""A reseller's retail price for a plan on a date, for a customer: which rule applies, and the arithmetic.

Choosing the rule (`select_rule`). Candidates are the reseller's rules for the plan's kind that are in
effect on the date (`effective_from <= on`) and fit the customer: the rule's `customer_category` is
NULL or the customer's category, its `min_volume` is NULL or at most the reseller's volume. Of those,
the most specific wins, in this order: a rule for this very plan over a rule for every plan of the kind;
a rule for the customer's category over one for everyone; the highest volume tier reached. Among
versions equally specific, the latest `effective_from` wins (a newer rule ends an older one without
rewriting it; the newest id breaks a same-day tie). With no rule at all, the retail price is the
wholesale price.

- category: the customer's `category` when it has one, else its type (`person` / `company`, the
  journey's "customer type"); compared case-insensitively.
- volume: how many of the reseller's services of this plan are live (Active, Suspended or Limited).

The arithmetic (`apply_rule`), exact Decimals, rounded half-up to two places at each step that yields an
amount shown in the breakdown, so the breakdown always adds up:
1. base  = wholesale × (1 + markup/100)   (percent)
         = wholesale + markup             (fixed)
         = markup                         (price: a fixed retail price, independent of wholesale)
   rounded.
2. promo: when enabled and `promo_valid_from` (default: the rule's `effective_from`) <= on <=
   `promo_valid_until` (inclusive; NULL: open-ended), discount = base × discount%/100, rounded;
   price = base − discount.
3. clamps last: price = max(min_price, min(max_price, price)). Last, because the clamps are the
   reseller's floor and ceiling for what a customer pays: no promotion goes below the floor.
The setup fee is the rule's `setup_fee` when set, else the plan's; neither markup nor promotion
applies to it. Amounts are in the plan's currency.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.catalogue import Plan
from app.models.provisioning import PriceRule, Service
from app.services.money import HUNDRED, round_money
from app.services.settings import local_today

LIVE = ("Active", "Suspended", "Limited")


@dataclass(frozen=True)
class Breakdown:
    wholesale_price: Decimal
    base_price: Decimal
    promo_applied: bool
    promo_discount_percent: Decimal | None
    promo_discount: Decimal
    clamped: str | None  # "min", "max" or None
    price: Decimal


@dataclass(frozen=True)
class Quote:
    """The retail price of a plan on a date for a customer, and how it was reached."""

    plan_id: int
    plan_code: str
    on: date
    currency: str
    billing_period: str
    customer_category: str | None
    volume: int
    rule_id: int | None
    markup_type: str | None
    markup_value: Decimal | None
    wholesale_price: Decimal
    base_price: Decimal
    promo_applied: bool
    promo_discount_percent: Decimal | None
    promo_discount: Decimal
    clamped: str | None
    price: Decimal
    setup_fee: Decimal

    def as_dict(self) -> dict:
        return asdict(self)


def apply_rule(wholesale: Decimal, rule: PriceRule | None, on: date) -> Breakdown:
    """The arithmetic of one rule on one date (see the module's docstring for the order)."""
    if rule is None:
        price = round_money(wholesale)
        return Breakdown(wholesale, price, False, None, Decimal("0.00"), None, price)
    value = Decimal(rule.markup_value)
    if rule.markup_type == "percent":
        base = wholesale * (HUNDRED + value) / HUNDRED
    elif rule.markup_type == "fixed":
        base = wholesale + value
    elif rule.markup_type == "price":
        base = value
    else:
        raise ValueError(f"unknown markup_type {rule.markup_type!r}")
    base = round_money(base)
    price, discount, applied = base, Decimal("0.00"), promo_active(rule, on)
    if applied:
        discount = round_money(base * Decimal(rule.promo_discount_percent) / HUNDRED)
        price = base - discount
    clamped = None
    if rule.min_price is not None and price < rule.min_price:
        price, clamped = Decimal(rule.min_price), "min"
    if rule.max_price is not None and price > rule.max_price:
        price, clamped = Decimal(rule.max_price), "max"
    return Breakdown(wholesale, base, applied, rule.promo_discount_percent if applied else None, discount, clamped,
                     round_money(price))


def promo_active(rule: PriceRule, on: date) -> bool:
    if not rule.promo_enabled or not rule.promo_discount_percent:
        return False
    starts = rule.promo_valid_from or rule.effective_from
    return starts <= on and (rule.promo_valid_until is None or on <= rule.promo_valid_until)


def customer_category(customer) -> str | None:
    if customer is None:
        return None
    category = getattr(customer, "category", None) or getattr(customer, "kind", None)
    return category.strip().lower() if category else None


def volume_of(session: Session, plan_id: int) -> int:
    return session.execute(
        select(func.count()).select_from(Service).where(Service.plan_id == plan_id, Service.status.in_(LIVE))
    ).scalar_one()


def select_rule(session: Session, plan: Plan, on: date, category: str | None, volume: int) -> PriceRule | None:
    """The rule that prices `plan` on `on` for this category and volume (order: the module's docstring)."""
    category_fits = PriceRule.customer_category.is_(None)
    if category:
        category_fits = category_fits | (func.lower(PriceRule.customer_category) == category)
    return session.execute(
        select(PriceRule)
        .where(PriceRule.service_type == plan.kind,
               (PriceRule.plan_id == plan.id) | PriceRule.plan_id.is_(None),
               PriceRule.effective_from <= on,
               category_fits,
               PriceRule.min_volume.is_(None) | (PriceRule.min_volume <= volume))
        .order_by(PriceRule.plan_id.is_not(None).desc(), PriceRule.customer_category.is_not(None).desc(),
                  func.coalesce(PriceRule.min_volume, 0).desc(), PriceRule.effective_from.desc(),
                  PriceRule.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def retail_price(session: Session, plan: Plan | int, on: date, customer=None, *, category: str | None = None,
                 volume: int | None = None) -> Quote:
    """The reseller's retail price (current tenant) for `plan` on `on` for `customer` (None: anyone).

    `category` and `volume` override what is read from the customer and from the reseller's services.
    """
    if not isinstance(plan, Plan):
        plan = session.get(Plan, plan)
        if plan is None:
            raise LookupError("no such plan")
    category = category.strip().lower() if category else customer_category(customer)
    volume = volume_of(session, plan.id) if volume is None else volume
    rule = select_rule(session, plan, on, category, volume)
    out = apply_rule(Decimal(plan.wholesale_price), rule, on)
    setup_fee = rule.setup_fee if rule is not None and rule.setup_fee is not None else plan.setup_fee
    return Quote(
        plan_id=plan.id, plan_code=plan.code, on=on, currency=plan.currency, billing_period=plan.billing_period,
        customer_category=category, volume=volume, rule_id=rule.id if rule else None,
        markup_type=rule.markup_type if rule else None, markup_value=rule.markup_value if rule else None,
        wholesale_price=out.wholesale_price, base_price=out.base_price, promo_applied=out.promo_applied,
        promo_discount_percent=out.promo_discount_percent, promo_discount=out.promo_discount, clamped=out.clamped,
        price=out.price, setup_fee=round_money(Decimal(setup_fee)),
    )


def today(session: Session) -> date:
    """Today in the reseller's time zone (prices change at the reseller's midnight, not UTC's)."""
    return local_today(session)


def steps(quote: Quote) -> list[dict]:
    """How `quote` was reached, one step a line, in the order `apply_rule` takes them: the wholesale price,
    the markup (or the rule's fixed price), the promotion, a clamp, and the price; each step's `amount` is
    the running price after it. Why a list: a reseller checking a price rule wants to see which rule did
    what, not only the result, and the page and the API's preview show the same steps."""
    out = [{"step": "wholesale", "amount": quote.wholesale_price}]
    if quote.rule_id is None:
        out.append({"step": "no_rule", "amount": quote.base_price})
    else:
        out.append({"step": "markup", "rule_id": quote.rule_id, "markup_type": quote.markup_type,
                    "markup_value": quote.markup_value, "change": quote.base_price - quote.wholesale_price,
                    "amount": quote.base_price})
    running = quote.base_price
    if quote.promo_applied:
        running = quote.base_price - quote.promo_discount
        out.append({"step": "promotion", "percent": quote.promo_discount_percent,
                    "change": -quote.promo_discount, "amount": running})
    if quote.clamped:
        out.append({"step": f"clamp_{quote.clamped}", "change": quote.price - running, "amount": quote.price})
    out.append({"step": "price", "amount": quote.price})
    return out
