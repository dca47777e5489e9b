"""A customer's profile fields, checked and normalised before anything is stored ("Required Information"
in 004): M-PESA numbers as 2547XXXXXXXX or 2541XXXXXXXX, GPS to 6 decimals, money as Decimal with 2.

Every field's problem is reported at once (`Invalid.errors`), so that a form can show them all in one go.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from app.services.errors import Invalid

KINDS = ("person", "company")
PAYMENT_METHODS = ("mpesa", "card", "bank_transfer", "wire", "cheque", "digital_wallet", "cash")
MONEY_MAX = Decimal("9999999999.99")
_CENT = Decimal("0.01")
_MICRODEGREE = Decimal("0.000001")

PROFILE_FIELDS = ("kind", "first_name", "last_name", "company_name", "email", "phone", "national_id", "address",
                  "city", "county", "sub_county", "postal_code", "latitude", "longitude", "mpesa_number",
                  "category", "billing_day", "payment_method", "deposit", "credit_limit", "extra")

_MSISDN = re.compile(r"^(?:\+?254|0)?([17]\d{8})$")
_PHONE = re.compile(r"^\+?\d{7,15}$")
_NATIONAL_ID = re.compile(r"^[A-Z0-9][A-Z0-9/-]{3,39}$")
_SEPARATORS = re.compile(r"[\s\-().]")
_SPACES = re.compile(r"\s+")


def normalise_msisdn(value: str) -> str:
    """A Kenyan mobile number (as M-PESA knows it) in the form 2547XXXXXXXX or 2541XXXXXXXX.

    Accepts what people type: 0712 345 678, 712345678, +254 712-345-678, 254112345678, 00254712345678.
    """
    compact = _SEPARATORS.sub("", value or "")
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    match = _MSISDN.match(compact)
    if not match:
        raise ValueError("not a Kenyan mobile number: use 07XXXXXXXX, 01XXXXXXXX or 2547XXXXXXXX/2541XXXXXXXX")
    return "254" + match.group(1)


def _text(value, limit: int) -> str | None:
    """Trimmed, inner whitespace collapsed; empty is None."""
    if value is None:
        return None
    value = _SPACES.sub(" ", str(value)).strip()
    if "\x00" in value:
        raise ValueError("contains a NUL character")
    if len(value) > limit:
        raise ValueError(f"at most {limit} characters")
    return value or None


def clean_phone(value) -> str | None:
    compact = _SEPARATORS.sub("", str(value or ""))
    if not compact:
        return None
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if not _PHONE.match(compact):
        raise ValueError("not a phone number: 7 to 15 digits, optionally after a +")
    return compact


def clean_email(value) -> str | None:
    value = (value or "").strip().lower()
    if not value:
        return None
    local, at, domain = value.partition("@")
    if not (at and local and "." in domain and " " not in value and len(value) <= 254):
        raise ValueError("not a valid e-mail address")
    return value


def _national_id(value) -> str | None:
    value = _SPACES.sub("", str(value or "")).upper()
    if not value:
        return None
    if not _NATIONAL_ID.match(value):
        raise ValueError("4 to 40 letters, digits, '/' or '-'")
    return value


def _money(value, *, nullable: bool) -> Decimal | None:
    """Money as Decimal with 2 places: more places are refused (never rounded silently), floats never used."""
    if value is None or value == "":
        if nullable:
            return None
        raise ValueError("an amount is needed (0 for none)")
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        raise ValueError("not an amount") from None
    if not amount.is_finite() or amount < 0 or amount > MONEY_MAX:  # first: quantize fails on huge numbers
        raise ValueError(f"an amount between 0 and {MONEY_MAX}")
    if amount != amount.quantize(_CENT, rounding=ROUND_HALF_UP):
        raise ValueError("at most 2 decimal places")
    return amount.quantize(_CENT)


def _coordinate(value, bound: int) -> Decimal | None:
    """GPS to 6 decimals (about 0.1 m), rounded half-up: phones report more than a street address needs."""
    if value is None or value == "":
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        raise ValueError("not a number") from None
    if not number.is_finite() or not -bound <= number <= bound:
        raise ValueError(f"between -{bound} and {bound}")
    return number.quantize(_MICRODEGREE, rounding=ROUND_HALF_UP)


def _billing_day(value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 28:
        raise ValueError("a day of the month from 1 to 28 (every month has it)")
    return value


def _payment_method(value) -> str | None:
    if value is None:
        return None
    if value not in PAYMENT_METHODS:
        raise ValueError(f"one of {', '.join(PAYMENT_METHODS)}")
    return value


def _kind(value) -> str:
    if value not in KINDS:
        raise ValueError(f"one of {', '.join(KINDS)}")
    return value


def _extra(value) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError("an object")
    return value


_CLEANERS = {
    "kind": _kind,
    "first_name": lambda v: _text(v, 100),
    "last_name": lambda v: _text(v, 100),
    "company_name": lambda v: _text(v, 200),
    "email": clean_email,
    "phone": clean_phone,
    "national_id": _national_id,
    "address": lambda v: _text(v, 300),
    "city": lambda v: _text(v, 100),
    "county": lambda v: _text(v, 100),
    "sub_county": lambda v: _text(v, 100),
    "postal_code": lambda v: _text(v, 20),
    "latitude": lambda v: _coordinate(v, 90),
    "longitude": lambda v: _coordinate(v, 180),
    "mpesa_number": lambda v: normalise_msisdn(v) if v not in (None, "") else None,
    "category": lambda v: _text(v, 40),
    "billing_day": _billing_day,
    "payment_method": _payment_method,
    "deposit": lambda v: _money(v, nullable=False),
    "credit_limit": lambda v: _money(v, nullable=True),
    "extra": _extra,
}


def clean_profile(values: dict, current: dict | None = None) -> dict:
    """Validate and normalise profile fields; `current` (an update) fills in what `values` leaves out for
    the checks that span fields. Raises Invalid with every field's problem at once."""
    errors: dict[str, list[str]] = {}
    cleaned = {}
    for name, value in values.items():
        if name not in _CLEANERS:
            errors.setdefault(name, []).append("unknown field")
            continue
        try:
            cleaned[name] = _CLEANERS[name](value)
        except ValueError as exc:
            errors.setdefault(name, []).append(str(exc))
    merged = {**(current or {}), **cleaned}
    kind = merged.get("kind", "person")
    if kind == "company" and not merged.get("company_name") and "company_name" not in errors:
        errors.setdefault("company_name", []).append("a company needs a company_name")
    if kind == "person":
        for name in ("first_name", "last_name"):
            if not merged.get(name) and name not in errors:
                errors.setdefault(name, []).append("a person needs a first and a last name")
    if (merged.get("latitude") is None) != (merged.get("longitude") is None) and not (
            {"latitude", "longitude"} & errors.keys()):
        errors.setdefault("longitude" if merged.get("longitude") is None else "latitude", []).append(
            "GPS coordinates come in pairs: latitude and longitude")
    if errors:
        raise Invalid("the customer's details are not valid: " + "; ".join(
            f"{k}: {', '.join(v)}" for k, v in sorted(errors.items())), errors=errors)
    return cleaned
