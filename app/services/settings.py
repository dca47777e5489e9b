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


def get_setting(session: Session, key: str):
    value = session.execute(select(Setting.value).where(Setting.key == key)).scalar_one_or_none()
    if value is None:
        return copy.deepcopy(_FALLBACKS.get(key))
    return value


def get_settings(session: Session, *keys: str) -> dict:
    """Several settings in one query, each falling back to its default."""
    found = dict(session.execute(select(Setting.key, Setting.value).where(Setting.key.in_(keys))).all())
    return {key: found[key] if found.get(key) is not None else copy.deepcopy(_FALLBACKS.get(key)) for key in keys}


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


def seed_defaults(session: Session, code: str, name: str, overrides: dict | None = None) -> None:
    values = default_settings(code, name)
    values.update(overrides or {})
    for key, value in values.items():
        put_setting(session, key, value)
