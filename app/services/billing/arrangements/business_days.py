"""Business days, for the day a dispute's answer is due: Monday to Friday of the reseller's own calendar.

Public holidays are not counted out: they differ by country and by year, no reseller setting lists them yet,
and a date shown one or two days early is a promise kept rather than broken.
"""

from __future__ import annotations

from datetime import date, timedelta

SATURDAY = 5


def add_business_days(start: date, days: int) -> date:
    """The day `days` business days after `start` (a Friday plus 1 is the Monday)."""
    day, left = start, days
    while left > 0:
        day += timedelta(days=1)
        if day.weekday() < SATURDAY:
            left -= 1
    return day
