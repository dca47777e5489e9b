"""Writing a reseller's price rules, in the shape of "Pricing Configuration" in the reseller journey.

A rule in effect (`effective_from` on or before today, in the reseller's time zone) is history: it is
never changed or deleted, only ended by a newer rule of the same tier. Future rules may be changed or
withdrawn. Services carry their own price snapshot, so no rule, new or old, ever changes what an
active service costs or what an invoice said.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.catalogue import PLAN_KINDS
from app.models.provisioning import PriceRule
from app.services import catalogue
from app.services.errors import Conflict, Invalid, NotFound
from app.services.ids import valid_id
from app.services.money import money, percent
from app.services.pricing import today
from tenants import require_tenant

MARKUP_TYPES = ("percent", "fixed", "price")


def _check(session: Session, rule: PriceRule) -> None:
    tenant = require_tenant()
    if rule.service_type not in PLAN_KINDS:
        raise Invalid(f"service_type must be one of {', '.join(PLAN_KINDS)}", field="service_type")
    if rule.plan_id is not None:
        plan = catalogue.sellable_plan(session, rule.plan_id, tenant.id, check_region=False)
        if plan.kind != rule.service_type:
            raise Invalid(f"tariff {plan.code} is a {plan.kind} plan, not {rule.service_type}", field="service_type")
    elif not catalogue.kind_allowed(catalogue._tenant(session, tenant.id), rule.service_type):
        raise Invalid(f"you may not sell {rule.service_type} services", field="service_type")
    if rule.markup_type not in MARKUP_TYPES:
        raise Invalid(f"markup_type must be one of {', '.join(MARKUP_TYPES)}", field="markup_type")
    if rule.markup_value < 0:
        raise Invalid("markup_value cannot be negative", field="markup_value")
    for field in ("min_price", "max_price", "setup_fee"):
        if getattr(rule, field) is not None and getattr(rule, field) < 0:
            raise Invalid(f"{field} cannot be negative", field=field)
    if rule.min_price is not None and rule.max_price is not None and rule.min_price > rule.max_price:
        raise Invalid("min_price is above max_price", field="min_price")
    if rule.promo_enabled and not rule.promo_discount_percent:
        raise Invalid("an enabled promotion needs a discount_percent", field="promotional_pricing")
    if rule.promo_discount_percent is not None and not 0 <= rule.promo_discount_percent <= 100:
        raise Invalid("discount_percent is between 0 and 100", field="promotional_pricing")
    if rule.promo_valid_from and rule.promo_valid_until and rule.promo_valid_from > rule.promo_valid_until:
        raise Invalid("the promotion ends before it starts", field="promotional_pricing")
    if rule.min_volume is not None and rule.min_volume < 0:
        raise Invalid("min_volume cannot be negative", field="min_volume")


def _date(value, field: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise Invalid(f"{field}: a date as YYYY-MM-DD", field=field) from None


def _fields(values: dict) -> dict:
    """The journey's JSON (tariff_id, promotional_pricing {…}) → columns."""
    out = {}
    for key in ("service_type", "markup_type", "customer_category", "min_volume"):
        if key in values:
            out[key] = values[key]
    if "customer_category" in out:
        out["customer_category"] = (out["customer_category"] or "").strip().lower() or None
    if "tariff_id" in values or "plan_id" in values:
        out["plan_id"] = values.get("tariff_id", values.get("plan_id"))
    if "effective_from" in values:
        out["effective_from"] = _date(values["effective_from"], "effective_from")
    if "markup_value" in values:
        out["markup_value"] = money(values["markup_value"], "markup_value")
    for key in ("min_price", "max_price", "setup_fee"):
        if key in values:
            out[key] = money(values[key], key) if values[key] is not None else None
    if "promotional_pricing" in values:
        promo = values["promotional_pricing"] or {}
        discount = promo.get("discount_percent")
        out.update(
            promo_enabled=bool(promo.get("enabled", bool(promo))),
            promo_discount_percent=percent(discount, "discount_percent") if discount is not None else None,
            promo_valid_from=_date(promo.get("valid_from"), "valid_from"),
            promo_valid_until=_date(promo.get("valid_until"), "valid_until"),
        )
    return out


def create_rule(session: Session, values: dict, actor: str | None = None) -> PriceRule:
    """A new rule from the journey's JSON. `reseller_id`, when given, must be this reseller's id.

    `effective_from` may lie in the past (as in the journey's example): that only decides which rule
    prices services activated from now on and what a preview for a past date says; nothing already
    sold or invoiced changes, because services keep their snapshot.
    """
    tenant = require_tenant()
    reseller_id = values.get("reseller_id")
    if reseller_id is not None and reseller_id != tenant.id:
        raise Invalid(f"reseller_id {reseller_id} is not this reseller ({tenant.id})", field="reseller_id")
    fields = _fields(values)
    for key in ("service_type", "markup_type", "markup_value", "effective_from"):
        if fields.get(key) is None:
            raise Invalid(f"{key} is required", field=key)
    rule = PriceRule(**fields, created_by=actor)
    rule.promo_enabled = bool(rule.promo_enabled)
    _check(session, rule)
    session.add(rule)
    session.flush()
    return rule


def get_rule(session: Session, rule_id: int) -> PriceRule:
    rule = session.get(PriceRule, rule_id) if valid_id(rule_id) else None
    if rule is None:
        raise NotFound("no such price rule")
    return rule


def _future(session: Session, rule: PriceRule) -> date:
    now = today(session)
    if rule.effective_from <= now:
        raise Conflict("this rule is in effect already: it cannot be changed or withdrawn; add a newer rule "
                       "to end it", rule_id=rule.id, effective_from=rule.effective_from.isoformat())
    return now


def update_rule(session: Session, rule_id: int, values: dict) -> PriceRule:
    """Change a rule that is not in effect yet (it may not be moved into the past either)."""
    rule = get_rule(session, rule_id)
    now = _future(session, rule)
    if values.get("reseller_id") not in (None, require_tenant().id):
        raise Invalid("reseller_id is not this reseller", field="reseller_id")
    fields = _fields(values)
    if fields.get("effective_from") is not None and fields["effective_from"] < now:
        raise Invalid("a rule cannot be moved into the past", field="effective_from")
    with session.no_autoflush:  # checked before the database sees it: a 422 on the field, not a constraint's 500
        for key, value in fields.items():
            if value is None and key in ("service_type", "markup_type", "markup_value", "effective_from"):
                raise Invalid(f"{key} cannot be empty", field=key)
            setattr(rule, key, value)
        _check(session, rule)
    session.flush()
    return rule


def delete_rule(session: Session, rule_id: int) -> None:
    """Withdraw a rule that is not in effect yet."""
    rule = get_rule(session, rule_id)
    _future(session, rule)
    session.delete(rule)
    session.flush()


def list_rules(session: Session, plan_id: int | None = None) -> list[PriceRule]:
    query = select(PriceRule).order_by(PriceRule.service_type, PriceRule.plan_id.nulls_first(),
                                       PriceRule.effective_from, PriceRule.id)
    if plan_id is not None:
        query = query.where(PriceRule.plan_id == plan_id)
    return list(session.execute(query).scalars())


def rule_out(rule: PriceRule) -> dict:
    """A rule in the journey's shape (plus the tier fields)."""
    return {
        "id": rule.id, "reseller_id": require_tenant().id, "service_type": rule.service_type,
        "tariff_id": rule.plan_id, "markup_type": rule.markup_type, "markup_value": rule.markup_value,
        "min_price": rule.min_price, "max_price": rule.max_price, "setup_fee": rule.setup_fee,
        "customer_category": rule.customer_category, "min_volume": rule.min_volume,
        "effective_from": rule.effective_from,
        "promotional_pricing": {
            "enabled": rule.promo_enabled, "discount_percent": rule.promo_discount_percent,
            "valid_from": rule.promo_valid_from, "valid_until": rule.promo_valid_until,
        },
        "created_at": rule.created_at, "created_by": rule.created_by,
    }
