"""What the customer and the reseller type, read as the rules of disputes and plans need it: trimmed text
within its length, dates in ISO form. Refusals are 422s that name the field."""

from __future__ import annotations

from datetime import date

from app.services.errors import Invalid

MAX_MESSAGE = 2000


def text(value, field: str, *, required: bool, limit: int = MAX_MESSAGE) -> str | None:
    """Free text, trimmed; an optional one left empty is None."""
    if value is not None and not isinstance(value, str):
        raise Invalid(f"{field}: text", field=field)
    value = (value or "").strip()
    if not value and not required:
        return None
    if not value or len(value) > limit:
        raise Invalid(f"{field}: 1 to {limit} characters", field=field)
    return value


def date_of(value, field: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise Invalid(f"{field}: a date (YYYY-MM-DD)", field=field) from None
