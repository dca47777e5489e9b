"""A tenant's settings: defaults written at provisioning, read with a fallback to those defaults."""

from __future__ import annotations

import copy

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

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
