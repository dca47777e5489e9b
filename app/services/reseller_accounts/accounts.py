"""The account of a reseller with the master ISP, and its credit settings.

One account per reseller at any depth of the tree (a sub-reseller's wholesale services are the master
ISP's too). The account comes into being when the master ISP first sets it up, or when the first
wholesale charge accrues (then with no credit limit: no limit, no thresholds, no actions).
"""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.models import Tenant as TenantRow
from app.models.base import utcnow
from app.models.reseller_accounts import (
    NEW_CUSTOMER_ACTIONS,
    PAYMENT_ACTIONS,
    PAYMENT_TERMS,
    SERVICE_ACTIONS,
    AccountEntry,
    ResellerAccount,
)
from app.services.errors import Conflict, Invalid, NotFound
from app.services.money import money

DEFAULT_CURRENCY = "KES"
SETTINGS = ("currency", "credit_limit", "warning_percent", "restriction_percent", "at_limit_new_customers",
            "at_limit_services", "at_limit_payments", "payment_terms_days")


def find(session: Session, tenant_id: int, *, lock: bool = False) -> ResellerAccount | None:
    query = select(ResellerAccount).where(ResellerAccount.tenant_id == tenant_id)
    if lock:
        query = query.with_for_update()
    return session.execute(query).scalar_one_or_none()


def get(session: Session, tenant_id: int, *, lock: bool = False) -> ResellerAccount:
    account = find(session, tenant_id, lock=lock)
    if account is None:
        raise NotFound("this reseller has no account with the master ISP yet")
    return account


def ensure(session: Session, tenant_id: int, currency: str, *, actor: str = "system") -> ResellerAccount:
    """The reseller's account, made (no limit, default settings) if it has none; safe when two callers
    make it at once (the unique tenant id decides, the loser reads the winner's row)."""
    account = find(session, tenant_id)
    if account is not None:
        return account
    session.execute(insert(ResellerAccount).values(tenant_id=tenant_id, currency=_currency(currency),
                                                   updated_by=actor)
                    .on_conflict_do_nothing(index_elements=[ResellerAccount.tenant_id]))
    return get(session, tenant_id)


def tenant_id_of(session: Session, code: str) -> int:
    tenant_id = session.execute(select(TenantRow.id).where(TenantRow.code == code)).scalar_one_or_none()
    if tenant_id is None:
        raise NotFound(f"no reseller with code {code!r}")
    return tenant_id


def _currency(value) -> str:
    text = str(value or "").strip().upper()
    if len(text) != 3 or not text.isalpha() or not text.isascii():
        raise Invalid("currency: a three-letter ISO 4217 code, e.g. KES", field="currency")
    return text


def _whole(value, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Invalid(f"{field}: a whole number from {low} to {high}", field=field)
    return value


def _choice(value, field: str, choices: tuple) -> str | int:
    if value not in choices:
        raise Invalid(f"{field}: one of {', '.join(str(c) for c in choices)}", field=field)
    return value


def clean_settings(values: dict, current: ResellerAccount | None) -> dict:
    """Validated settings; the thresholds are checked together with what the account already has, so a
    change of one cannot leave restriction at or below warning."""
    unknown = sorted(set(values) - set(SETTINGS))
    if unknown:
        raise Invalid(f"unknown setting(s): {', '.join(unknown)}", field=unknown[0])
    out: dict = {}
    if "currency" in values:
        out["currency"] = _currency(values["currency"])
    if "credit_limit" in values:
        limit = values["credit_limit"]
        if limit is not None:
            limit = money(limit, "credit_limit")
            if limit <= 0:
                raise Invalid("credit_limit: more than 0 (or null for no limit)", field="credit_limit")
        out["credit_limit"] = limit
    if "warning_percent" in values:
        out["warning_percent"] = _whole(values["warning_percent"], "warning_percent", 50, 95)
    if "restriction_percent" in values:
        out["restriction_percent"] = _whole(values["restriction_percent"], "restriction_percent", 75, 99)
    warning = out.get("warning_percent", current.warning_percent if current else 80)
    restriction = out.get("restriction_percent", current.restriction_percent if current else 90)
    if restriction <= warning:
        raise Invalid(f"restriction_percent ({restriction}) must be above warning_percent ({warning})",
                      field="restriction_percent")
    for field, choices in (("at_limit_new_customers", NEW_CUSTOMER_ACTIONS), ("at_limit_services", SERVICE_ACTIONS),
                           ("at_limit_payments", PAYMENT_ACTIONS), ("payment_terms_days", PAYMENT_TERMS)):
        if field in values:
            out[field] = _choice(values[field], field, choices)
    return out


def configure(session: Session, tenant_id: int, values: dict, *, actor: str) -> ResellerAccount:
    """Create or change the account's settings (the master ISP's console). The currency can change only
    while nothing has been posted; new thresholds are evaluated at once (an alert may follow)."""
    from app.services.reseller_accounts import credit

    account = find(session, tenant_id, lock=True)
    cleaned = clean_settings(values, account)
    if account is None:
        account = ensure(session, tenant_id, cleaned.get("currency", DEFAULT_CURRENCY), actor=actor)
        account = get(session, tenant_id, lock=True)
    if "currency" in cleaned and cleaned["currency"] != account.currency and session.execute(
            select(exists().where(AccountEntry.account_id == account.id))).scalar():
        raise Conflict("the currency of an account with entries cannot change", currency=account.currency)
    for field, value in cleaned.items():
        setattr(account, field, value)
    account.updated_by = actor
    account.updated_at = utcnow()
    session.flush()
    credit.evaluate(session, tenant_id)
    return account


def check_deletable(session: Session, tenant_id: int, code: str) -> None:
    """A reseller whose account with the master ISP has entries cannot be deleted: the account is an
    append-only record of money owed and paid. An account without entries goes with the reseller."""
    account = find(session, tenant_id)
    if account is not None and session.execute(select(exists().where(AccountEntry.account_id == account.id))).scalar():
        raise Conflict(f"{code} has an account with the master ISP with charges or payments on it; it cannot be "
                       "deleted (suspend or deactivate it instead)")
