"""Proration: what part of a period's price a service owes for the days it had.

The rule, the same everywhere (a service starting, changing plan or ending mid-period):

    amount = price × days used / days in the period, rounded half-up to the cent, once per line

Days are whole calendar days, both ends included (the day of activation and the day of termination
each count as a day used; a plan change's day is billed at the new plan). "The period" is the service's
whole cycle that the days fall in (a month of 30 or 31 days, a quarter of 90–92, a year of 365 or 366),
so a day costs a little less in a long month: that is what keeps a full period at exactly its price,
which customers check first. Nothing is divided before it is multiplied, and the one rounding is the
last step, so the results are exact Decimals that the tests can name to the cent.

Credits for days paid in advance and not used (a prepaid service terminated or moved to another plan
mid-period) are the same fraction of what was actually charged for those days, so a credit can never
exceed its charge, even when the charge itself was prorated.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from app.services.billing.cycles import ONE_DAY, Period
from app.services.money import round_money

ZERO = Decimal("0.00")


def prorate(price: Decimal, used: Period, cycle: Period) -> Decimal:
    """The part of `price` (for the whole `cycle`) owed for the days of `used` (within the cycle)."""
    if not cycle.covers(used):
        raise ValueError(f"{used} is not within the cycle {cycle}")
    if used == cycle:
        return round_money(price)
    return round_money(price * used.days / Decimal(cycle.days))


def unused_credit(charged: Decimal, billed: Period, last_day_used: date) -> tuple[Period, Decimal] | None:
    """The credit for the days of `billed` after `last_day_used` (a termination, the day before a plan
    change): (those days, the same fraction of `charged`). None when no billed day is left unused."""
    first_unused = max(last_day_used + ONE_DAY, billed.start)
    if first_unused > billed.end:
        return None
    unused = Period(first_unused, billed.end)
    if unused == billed:
        return unused, round_money(charged)
    return unused, round_money(charged * unused.days / Decimal(billed.days))


def plan_change(old_charged: Decimal, billed: Period, new_price: Decimal, new_cycle: Period,
                changed_on: date) -> tuple[Period, Decimal, Decimal] | None:
    """A plan change on `changed_on` inside a period already billed (`billed`, charged `old_charged` at
    the old plan): (the days from the change to the end of `billed`, the credit for them at the old plan,
    the charge for them at the new plan's `new_price` per `new_cycle`). None if the change is after it."""
    credit = unused_credit(old_charged, billed, changed_on - ONE_DAY)
    if credit is None:
        return None
    days, old_part = credit
    return days, old_part, prorate(new_price, days, new_cycle)
