"""Billing periods: which days an invoice pays for, from a customer's billing day and a service's cycle.

A period is a run of whole days, both ends included: billing day 15 on a monthly cycle gives 15 Nov –
14 Dec. Billing days are 1–28 (a customer without one is billed on the 1st), so every month has the
billing day and no period ever needs "the last day of a short month" rules.

A billing run is named by a month, "2026-11". For a customer it happens on their **billing date** in that
month (billing day 15 → 2026-11-15), and bills one period per service:

- **prepaid**: the period that starts on the billing date (15 Nov – 14 Dec), paid in advance;
- **postpaid**: the period that ended the day before it (15 Oct – 14 Nov), paid in arrears.

Quarterly and yearly services have periods of 3 and 12 months on the same billing day. Which months
start one is fixed by the service's **anchor**: its first billing date on or after its activation; a
quarterly service anchored on 1 Nov is billed in the runs of Nov, Feb, May and Aug, and the runs of the
months between leave it alone. The days before the anchor (activation on 20 Oct, anchor 1 Nov) are a
short first period, billed with the first full one (prepaid) or as the period that ended (postpaid);
see runs.py for how a service's unbilled days are found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from app.services import periods
from app.services.errors import Invalid

MONTHS = {"monthly": 1, "quarterly": 3, "yearly": 12}
MODES = ("prepaid", "postpaid")
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, order=True)
class Period:
    """Days `start` to `end`, both included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"a period ends on or after its start: {self.start} > {self.end}")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end

    def overlap(self, other: Period) -> Period | None:
        start, end = max(self.start, other.start), min(self.end, other.end)
        return Period(start, end) if start <= end else None

    def covers(self, other: Period) -> bool:
        return self.start <= other.start and other.end <= self.end

    def __str__(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


def parse_period(key: str) -> tuple[int, int]:
    """(year, month) of a run's name "YYYY-MM" (app/services/periods.py); Invalid for anything else."""
    month = periods.parse(key)
    return month.year, month.month


def period_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def month_of(key: str) -> Period:
    """The calendar month a run's name stands for (for filters, not for billing)."""
    month = periods.parse(key)
    return Period(month.first_day, month.last_day)


def billing_day_of(value: int | None) -> int:
    """A customer's billing day, 1 when they have none."""
    if value is None:
        return 1
    if not 1 <= int(value) <= 28:
        raise Invalid("billing_day: 1 to 28", field="billing_day")
    return int(value)


def add_months(day: date, months: int) -> date:
    """The same day of the month `months` later (or earlier). Only for days 1–28 or the 1st: always exists."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, day.day)


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def billing_date(key: str, billing_day: int | None) -> date:
    """When a customer is billed in the run of month `key`."""
    year, month = parse_period(key)
    return date(year, month, billing_day_of(billing_day))


def anchor(activated_on: date, billing_day: int | None) -> date:
    """A service's first billing date on or after its activation: where its cycles are counted from."""
    day = billing_day_of(billing_day)
    same_month = activated_on.replace(day=day)
    return same_month if activated_on.day <= day else add_months(same_month, 1)


def cycle_months(billing_period: str) -> int:
    try:
        return MONTHS[billing_period]
    except KeyError:
        raise Invalid(f"billing period: one of {', '.join(MONTHS)}", field="billing_period") from None


def cycle_containing(day: date, anchor_date: date, months: int) -> Period:
    """The service cycle (counted from `anchor_date`, `months` long) that `day` falls in; before the
    anchor, the cycles run backwards from it."""
    steps = (_month_index(day) - _month_index(anchor_date)) // months
    start = add_months(anchor_date, steps * months)
    if start > day:
        start = add_months(start, -months)
    return Period(start, add_months(start, months) - ONE_DAY)


def is_boundary(day: date, anchor_date: date, months: int) -> bool:
    """Whether a cycle of the service starts on `day`."""
    return day.day == anchor_date.day and (_month_index(day) - _month_index(anchor_date)) % months == 0


def billed_cycle(run_date: date, anchor_date: date, months: int, mode: str) -> Period | None:
    """The cycle a run on `run_date` bills (prepaid: the one starting then; postpaid: the one that just
    ended), or None when no cycle of the service starts on that day (a quarterly service between its
    quarters)."""
    if mode not in MODES:
        raise Invalid(f"billing mode: one of {', '.join(MODES)}", field="mode")
    if not is_boundary(run_date, anchor_date, months):
        return None
    if mode == "prepaid":
        return Period(run_date, add_months(run_date, months) - ONE_DAY)
    return Period(add_months(run_date, -months), run_date - ONE_DAY)


def split(span: Period, anchor_date: date, months: int) -> list[tuple[Period, Period]]:
    """`span` cut at cycle boundaries: [(part, the whole cycle it belongs to)], oldest first."""
    parts = []
    day = span.start
    while day <= span.end:
        cycle = cycle_containing(day, anchor_date, months)
        part = Period(day, min(cycle.end, span.end))
        parts.append((part, cycle))
        day = part.end + ONE_DAY
    return parts
