"""A tenant's settings: defaults written at provisioning, read with a fallback to those defaults."""

from __future__ import annotations

import copy
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app import clock
from app.models import Setting
from tenants.context import current_tenant


def default_settings(code: str, name: str) -> dict:
    letters = "".join(ch for ch in code if ch.isalpha())[:3] or "CUS"
    return {
        "portal_id_format": {"prefix": letters.upper(), "digits": 6},
        "timezone": "UTC",
        "currency": "USD",
        "language": "en",
        "portal": {"title": name, "support_email": None, "support_phone": None},
        "customers": {"require_approval": False, "login_with_email": False},
        # invoices: numbering per series ({YYYY}, {MM} and a zero-padded counter like {000000}), payment
        # terms, whether catalogue prices include tax, postpaid (bill the period that ended) or prepaid
        "billing": {"invoice_format": "INV-{YYYY}-{000000}", "proforma_format": "PRO-{YYYY}-{000000}",
                    "credit_note_format": "CRN-{YYYY}-{000000}", "receipt_format": "RCT-{YYYY}-{000000}",
                    "payment_terms_days": 14, "prices_include_tax": False, "mode": "prepaid"},
        # "Dunning" per reseller (app/services/billing/dunning.py): reminders on these days after the due date
        # (e-mail; sms is recorded), then after `grace_days` the action, limit (reduced speed) or suspend, and
        # an optional late fee, fixed and/or a percent of what is owed, as decimal strings ("50.00", "2.5")
        "dunning": {"enabled": True, "reminder_days": [1, 3, 7], "channels": ["email"], "grace_days": 7,
                    "action": "limit", "late_fee": None, "late_fee_percent": None},
        "payments": {"retry_days": [1, 3, 7, 14]},
    }


_FALLBACKS = default_settings("CUS", "")
_MEMO = "backhaul.settings"


def _memo(session: Session) -> dict:
    """The settings this transaction has read, by tenant schema and key.

    A page reads the time zone and the billing settings a dozen times (every date it shows, every cycle);
    one query each is most of a dashboard's time. The memo belongs to the innermost transaction: a new one
    (after a commit, a rollback, or inside a savepoint) starts empty, so nothing outlives what the database
    would have shown, and the schema in the key keeps one tenant's values from another's when a session
    changes tenant. `put_setting` writes through it."""
    transaction = session.get_nested_transaction() or session.get_transaction()
    if transaction is None:  # none begun yet: the read about to begin one is not memoised
        return {}
    held = session.info.get(_MEMO)
    if held is None or held[0] is not transaction:
        held = (transaction, {})
        session.info[_MEMO] = held
    return held[1]


def _schema() -> str | None:
    tenant = current_tenant()
    return tenant.schema if tenant is not None else None


def get_setting(session: Session, key: str):
    memo, schema = _memo(session), _schema()
    if (schema, key) not in memo:
        memo[schema, key] = session.execute(select(Setting.value).where(Setting.key == key)).scalar_one_or_none()
    return _value(key, memo[schema, key])


def _value(key: str, stored):
    return copy.deepcopy(_FALLBACKS.get(key) if stored is None else stored)  # a caller may change what it got


def get_settings(session: Session, *keys: str) -> dict:
    """Several settings in one query, each falling back to its default."""
    memo, schema = _memo(session), _schema()
    missing = [key for key in keys if (schema, key) not in memo]
    if missing:
        found = dict(session.execute(select(Setting.key, Setting.value).where(Setting.key.in_(missing))).all())
        memo.update({(schema, key): found.get(key) for key in missing})
    return {key: _value(key, memo[schema, key]) for key in keys}


def zone(session: Session) -> ZoneInfo:
    """The current tenant's time zone (UTC when unset or unknown): a reseller's day, month and due dates
    begin at its own midnight."""
    try:
        return ZoneInfo(get_setting(session, "timezone") or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_today(session: Session, now: datetime | None = None) -> date:
    """Today (or the day of `now`) in the current tenant's time zone, by the one clock."""
    return (now or clock.now()).astimezone(zone(session)).date()


def put_setting(session: Session, key: str, value) -> None:
    session.execute(
        insert(Setting).values(key=key, value=value)
        .on_conflict_do_update(index_elements=[Setting.key], set_={"value": value})
    )
    _memo(session)[_schema(), key] = copy.deepcopy(value)


def seed_defaults(session: Session, code: str, name: str, overrides: dict | None = None) -> None:
    values = default_settings(code, name)
    values.update(overrides or {})
    for key, value in values.items():
        put_setting(session, key, value)
