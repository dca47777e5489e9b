"""Commission rules: what the master ISP agrees with each reseller, kind by kind, with effective dates.

Terms by kind (anything else given is refused, so a rule never carries a number that is silently ignored):

- `recurring`, `usage`: `rate` (percent of the base, 0–100, up to four decimals);
- `setup`: `rate` (percent of the customer's setup fee) or `amount` (fixed, in `currency`), not both;
- `retention`: `amount` and `currency`, and `months` (the customer is kept at least that long);
- `performance`: `tiers`, [{"from": "0", "rate": "1.00"}, {"from": "100000", "rate": "2.00"}]: the highest
  tier whose `from` the period's volume reaches gives the rate for the whole volume.

Two rules of the same kind (for retention: the same kind and `months`) of one reseller never overlap in
time, so "the rule on day D" is one row or none. With no recurring rule on a day, a sub-reseller's
`commission_percent` (set by its parent when it was created) is its recurring rate.

Pass-through kinds (recurring, usage, percent setup) also keep the tree in order: a reseller's rate on
the rule's first day is at most its parent's and at least each direct sub-reseller's (where those have
one), so a parent never "earns" a negative difference. The engine clamps at zero anyway, for rates
edited over time in ways this check (made on one day) cannot see.

History is kept: once a rule has started (its first day is before today) changing its terms ends it
yesterday and starts a new rule today with the new terms; deleting it ends it the same way. A rule that
has not started yet is edited or deleted in place. Lines refer to the rule that made them (`rule_id`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app.models import Tenant as TenantRow
from app.models.commissions import RULE_KINDS, CommissionRule
from app.services import audit
from app.services.errors import Conflict, Invalid, NotFound
from app.services.money import to_decimal

PASS_THROUGH = ("recurring", "usage", "setup")
TERMS = ("rate", "amount", "months", "tiers", "currency")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
RATE_PLACES = Decimal("0.0001")
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Tier:
    start: Decimal
    rate: Decimal


# -- validation -----------------------------------------------------------------------------------------
def _rate(value, field: str = "rate") -> Decimal:
    rate = to_decimal(value, field)
    if rate < 0 or rate > HUNDRED:
        raise Invalid(f"{field}: a percent between 0 and 100", field=field)
    if rate != rate.quantize(RATE_PLACES):
        raise Invalid(f"{field}: at most four decimals", field=field)
    return rate.quantize(RATE_PLACES)


def _amount(value) -> Decimal:
    amount = to_decimal(value, "amount")
    if amount < 0 or amount >= Decimal(10) ** 10:
        raise Invalid("amount: zero or more, below 10,000,000,000", field="amount")
    if amount != amount.quantize(Decimal("0.01")):
        raise Invalid("amount: at most two decimals", field="amount")
    return amount.quantize(Decimal("0.01"))


def parse_tiers(value) -> list[Tier]:
    """Tiers from their JSON form, ascending; refused unless each has a `from` (≥ 0) and a `rate`."""
    if not isinstance(value, list) or not value:
        raise Invalid("tiers: a non-empty list of {from, rate}", field="tiers")
    tiers = []
    for n, item in enumerate(value):
        if not isinstance(item, dict) or set(item) != {"from", "rate"}:
            raise Invalid(f"tiers[{n}]: an object with `from` and `rate`", field="tiers")
        start = to_decimal(item["from"], "tiers.from")
        if start < 0:
            raise Invalid(f"tiers[{n}].from: zero or more", field="tiers")
        tiers.append(Tier(start, _rate(item["rate"], "tiers.rate")))
    tiers.sort(key=lambda t: t.start)
    if len({t.start for t in tiers}) != len(tiers):
        raise Invalid("tiers: two tiers start at the same volume", field="tiers")
    return tiers


def _tiers_json(tiers: list[Tier]) -> list[dict]:
    return [{"from": str(t.start), "rate": str(t.rate)} for t in tiers]


def _terms(kind: str, given: dict) -> dict:
    """The rule's terms for its kind, normalised; what the kind does not use must not be given."""
    if kind not in RULE_KINDS:
        raise Invalid(f"kind: one of {', '.join(RULE_KINDS)}", field="kind")
    used = {"recurring": {"rate"}, "usage": {"rate"}, "setup": {"rate", "amount", "currency"},
            "retention": {"amount", "currency", "months"}, "performance": {"tiers"}}[kind]
    extra = sorted(k for k in TERMS if given.get(k) is not None and k not in used)
    if extra:
        raise Invalid(f"a {kind} rule has no {', '.join(extra)}", field=extra[0])
    out = {k: None for k in TERMS}
    if given.get("rate") is not None:
        out["rate"] = _rate(given["rate"])
    if given.get("amount") is not None:
        out["amount"] = _amount(given["amount"])
    if given.get("currency") is not None:
        currency = str(given["currency"]).strip().upper()
        if not _CURRENCY.match(currency):
            raise Invalid("currency: a three-letter ISO code", field="currency")
        out["currency"] = currency
    if kind in ("recurring", "usage") and out["rate"] is None:
        raise Invalid(f"rate: a {kind} rule is a percent", field="rate")
    if kind == "setup" and (out["rate"] is None) == (out["amount"] is None):
        raise Invalid("a setup rule has either a rate (percent of the setup fee) or a fixed amount", field="rate")
    if kind == "retention":
        if out["amount"] is None:
            raise Invalid("amount: a retention bonus is a fixed amount", field="amount")
        months = given.get("months")
        if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= 120:
            raise Invalid("months: a whole number of months from 1 to 120", field="months")
        out["months"] = months
    if out["amount"] is not None and out["currency"] is None:
        raise Invalid("currency: a fixed amount needs its currency", field="currency")
    if kind == "performance":
        out["tiers"] = _tiers_json(parse_tiers(given.get("tiers")))
    return out


def _dates(effective_from, effective_until) -> tuple[date, date | None]:
    if not isinstance(effective_from, date):
        raise Invalid("effective_from: a date", field="effective_from")
    if effective_until is not None and (not isinstance(effective_until, date) or effective_until < effective_from):
        raise Invalid("effective_until: a date on or after effective_from", field="effective_until")
    return effective_from, effective_until


def _overlapping(session: Session, tenant_id: int, kind: str, months: int | None, start: date, end: date | None,
                 excluding: int | None) -> CommissionRule | None:
    query = select(CommissionRule).where(
        CommissionRule.tenant_id == tenant_id, CommissionRule.kind == kind,
        or_(CommissionRule.effective_until.is_(None), CommissionRule.effective_until >= start))
    if end is not None:
        query = query.where(CommissionRule.effective_from <= end)
    if kind == "retention":
        query = query.where(CommissionRule.months == months)
    if excluding is not None:
        query = query.where(CommissionRule.id != excluding)
    return session.execute(query.limit(1)).scalar_one_or_none()


def recurring_rate(session: Session, tenant: TenantRow, on: date) -> Decimal | None:
    """The tenant's recurring percent on a day: its rule, else its `commission_percent`."""
    rule = effective(session, [tenant.id], "recurring", on).get(tenant.id)
    if rule is not None:
        return rule.rate
    return tenant.commission_percent


def _rate_on(session: Session, tenant: TenantRow, kind: str, on: date) -> Decimal | None:
    if kind == "recurring":
        return recurring_rate(session, tenant, on)
    rule = effective(session, [tenant.id], kind, on).get(tenant.id)
    return rule.rate if rule is not None else None


def _within_tree(session: Session, tenant: TenantRow, kind: str, rate: Decimal | None, on: date) -> None:
    """A pass-through rate between the parent's and the children's on the rule's first day."""
    if kind not in PASS_THROUGH or rate is None:
        return
    if tenant.parent_id is not None:
        parent = session.get(TenantRow, tenant.parent_id)
        above = _rate_on(session, parent, kind, on)
        if above is not None and rate > above:
            raise Invalid(f"rate {rate} is more than {parent.code}'s {kind} rate {above} on {on}: a sub-reseller's "
                          "commission is passed through out of its parent's", field="rate")
    children = session.execute(select(TenantRow).where(TenantRow.parent_id == tenant.id)).scalars().all()
    for child in children:
        below = _rate_on(session, child, kind, on)
        if below is not None and rate < below:
            raise Invalid(f"rate {rate} is less than sub-reseller {child.code}'s {kind} rate {below} on {on}",
                          field="rate")


# -- reading ----------------------------------------------------------------------------------------------
def effective(session: Session, tenant_ids: Iterable[int], kind: str, on: date) -> dict[int, CommissionRule]:
    """The rule of `kind` in force on `on`, per tenant (retention: the one with the most months)."""
    rows = session.execute(select(CommissionRule).where(
        CommissionRule.tenant_id.in_(list(tenant_ids)), CommissionRule.kind == kind,
        CommissionRule.effective_from <= on,
        or_(CommissionRule.effective_until.is_(None), CommissionRule.effective_until >= on),
    ).order_by(CommissionRule.months.asc().nulls_first(), CommissionRule.id)).scalars()
    return {rule.tenant_id: rule for rule in rows}


def overlapping(session: Session, tenant_ids: Iterable[int], start: date, end: date,
                kinds: Iterable[str] = RULE_KINDS) -> list[CommissionRule]:
    """Every rule of the tenants that is in force on some day of [start, end] (for the engine's batches)."""
    return list(session.execute(select(CommissionRule).where(
        CommissionRule.tenant_id.in_(list(tenant_ids)), CommissionRule.kind.in_(list(kinds)),
        CommissionRule.effective_from <= end,
        or_(CommissionRule.effective_until.is_(None), CommissionRule.effective_until >= start),
    ).order_by(CommissionRule.id)).scalars())


def in_force(rules: Iterable[CommissionRule], tenant_id: int, kind: str, on: date) -> CommissionRule | None:
    """From rules already read, the one of `kind` in force on `on` for the tenant."""
    for rule in rules:
        if rule.tenant_id == tenant_id and rule.kind == kind and rule.effective_from <= on \
                and (rule.effective_until is None or rule.effective_until >= on):
            return rule
    return None


def list_rules(session: Session, tenant_id: int, *, kind: str | None = None,
               on: date | None = None) -> list[CommissionRule]:
    query = select(CommissionRule).where(CommissionRule.tenant_id == tenant_id)
    if kind is not None:
        query = query.where(CommissionRule.kind == kind)
    if on is not None:
        query = query.where(CommissionRule.effective_from <= on,
                            or_(CommissionRule.effective_until.is_(None), CommissionRule.effective_until >= on))
    return list(session.execute(query.order_by(CommissionRule.kind, CommissionRule.effective_from,
                                               CommissionRule.id)).scalars())


def get(session: Session, tenant_id: int, rule_id: int) -> CommissionRule:
    rule = session.execute(select(CommissionRule).where(and_(CommissionRule.id == rule_id,
                                                             CommissionRule.tenant_id == tenant_id))
                           .with_for_update()).scalar_one_or_none()
    if rule is None:
        raise NotFound("no such commission rule for this reseller")
    return rule


# -- writing ----------------------------------------------------------------------------------------------
def _tenant(session: Session, tenant_id: int) -> TenantRow:
    # locked: two rules of one reseller written at once would each miss the other's overlap
    tenant = session.get(TenantRow, tenant_id, with_for_update=True)
    if tenant is None:
        raise NotFound("no such reseller")
    return tenant


def create(session: Session, tenant_id: int, *, kind: str, effective_from: date, effective_until: date | None = None,
           actor: str = "system", **terms) -> CommissionRule:
    """A new rule for the reseller; refused when it overlaps another of the same kind or breaks the tree."""
    unknown = sorted(set(terms) - set(TERMS))
    if unknown:
        raise Invalid(f"unknown field {unknown[0]}", field=unknown[0])
    tenant = _tenant(session, tenant_id)
    values = _terms(kind, terms)
    start, end = _dates(effective_from, effective_until)
    clash = _overlapping(session, tenant_id, kind, values["months"], start, end, None)
    if clash is not None:
        raise Conflict(f"{tenant.code} already has a {kind} rule (#{clash.id}) from {clash.effective_from} to "
                       f"{clash.effective_until or 'open'}; end it first", rule_id=clash.id)
    _within_tree(session, tenant, kind, values["rate"], start)
    rule = CommissionRule(tenant_id=tenant_id, kind=kind, effective_from=start, effective_until=end,
                          created_by=actor, **values)
    session.add(rule)
    session.flush()
    audit.record(session, actor, "commission_rule.created", tenant_id=tenant_id, rule_id=rule.id, kind=kind,
                 **{k: _plain(v) for k, v in values.items() if v is not None}, effective_from=str(start),
                 effective_until=str(end) if end else None)
    return rule


def update(session: Session, tenant_id: int, rule_id: int, *, today: date, actor: str = "system",
           **changes) -> CommissionRule:
    """Change a rule. A rule that has not started is edited; one that has is ended yesterday and a new
    rule with the new terms starts today (the returned one), so lines keep pointing at the terms that
    made them. Changing only `effective_until` ends (or extends) the rule itself."""
    unknown = sorted(set(changes) - set(TERMS) - {"effective_from", "effective_until"})
    if unknown:
        raise Invalid(f"unknown field {unknown[0]}", field=unknown[0])
    rule = get(session, tenant_id, rule_id)
    tenant = _tenant(session, tenant_id)
    if rule.effective_until is not None and rule.effective_until < today:
        raise Conflict(f"rule #{rule.id} ended on {rule.effective_until}: it is history, create a new rule instead",
                       rule_id=rule.id)
    terms = {k: changes.get(k, getattr(rule, k)) for k in TERMS}
    new_terms = _terms(rule.kind, terms)
    terms_changed = any(new_terms[k] != getattr(rule, k) for k in TERMS)
    start = changes.get("effective_from", rule.effective_from)
    end = changes.get("effective_until", rule.effective_until)
    if rule.effective_from < today and (terms_changed or start != rule.effective_from):
        if "effective_from" in changes and start < today:
            raise Invalid("effective_from: a started rule's new terms start today or later", field="effective_from")
        start = start if "effective_from" in changes else today
        _dates(start, end)
        rule.effective_until = start - timedelta(days=1)
        session.flush()
        replacement = create(session, tenant_id, kind=rule.kind, effective_from=start, effective_until=end,
                             actor=actor, **{k: v for k, v in new_terms.items() if v is not None})
        audit.record(session, actor, "commission_rule.ended", tenant_id=tenant_id, rule_id=rule.id,
                     effective_until=str(rule.effective_until), replaced_by=replacement.id)
        return replacement
    start, end = _dates(start, end)
    if rule.effective_from < today and end is not None and end < today - timedelta(days=1):
        raise Invalid("effective_until: a started rule ends yesterday at the earliest", field="effective_until")
    clash = _overlapping(session, tenant_id, rule.kind, new_terms["months"], start, end, rule.id)
    if clash is not None:
        raise Conflict(f"{tenant.code} already has a {rule.kind} rule (#{clash.id}) in that time", rule_id=clash.id)
    if terms_changed or start != rule.effective_from:
        _within_tree(session, tenant, rule.kind, new_terms["rate"], start)
    for key, value in new_terms.items():
        setattr(rule, key, value)
    rule.effective_from, rule.effective_until = start, end
    session.flush()
    audit.record(session, actor, "commission_rule.updated", tenant_id=tenant_id, rule_id=rule.id,
                 **{k: _plain(v) for k, v in new_terms.items() if v is not None}, effective_from=str(start),
                 effective_until=str(end) if end else None)
    return rule


def end(session: Session, tenant_id: int, rule_id: int, *, today: date, actor: str = "system") -> CommissionRule | None:
    """Delete a rule that has not started (None back); end one that has (yesterday, or today when it
    started today), keeping it for the lines it made."""
    rule = get(session, tenant_id, rule_id)
    if rule.effective_from > today:
        session.delete(rule)
        session.flush()
        audit.record(session, actor, "commission_rule.deleted", tenant_id=tenant_id, rule_id=rule_id)
        return None
    last = max(rule.effective_from, today - timedelta(days=1))
    if rule.effective_until is None or rule.effective_until > last:
        rule.effective_until = last
    session.flush()
    audit.record(session, actor, "commission_rule.ended", tenant_id=tenant_id, rule_id=rule.id,
                 effective_until=str(rule.effective_until))
    return rule


def _plain(value):
    return str(value) if isinstance(value, Decimal) else value
