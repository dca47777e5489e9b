"""Money as Decimal: reading amounts in, and the one rounding rule (half-up to the minor unit).

Why refuse floats rather than convert them: a float has already lost the amount (0.1 is not 0.1), and
converting hides that at the one place it could be caught. Amounts given with more decimals than the
currency has are refused too, rather than silently rounded: the caller meant something we cannot store.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from app.services.errors import Invalid

CENT = Decimal("0.01")
LIMIT = Decimal(10) ** 10  # what numeric(12, 2) holds
HUNDRED = Decimal(100)


def round_money(value: Decimal) -> Decimal:
    """Half-up to two places (every currency we price in has a two-digit minor unit)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def to_decimal(value, field: str = "amount") -> Decimal:
    """An exact Decimal from a Decimal, an int or a string; floats are refused."""
    if isinstance(value, (bool, float)):
        raise Invalid(f"{field}: give a decimal string or a Decimal, not a float", field=field)
    try:
        result = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise Invalid(f"{field}: {value!r} is not a number", field=field) from None
    if not result.is_finite():
        raise Invalid(f"{field}: {value!r} is not a number", field=field)
    return result


def money(value, field: str = "amount") -> Decimal:
    """An amount with at most two decimals, as a two-place Decimal."""
    result = to_decimal(value, field)
    if abs(result) >= LIMIT:
        raise Invalid(f"{field}: below {LIMIT:,.0f}", field=field)
    if result != result.quantize(CENT, rounding=ROUND_HALF_UP):
        raise Invalid(f"{field}: at most two decimal places", field=field)
    return result.quantize(CENT)


def percent(value, field: str = "percent") -> Decimal:
    """A percentage with at most two decimals."""
    return money(value, field)
