"""A month named "YYYY-MM", as every door takes a `period`: billing runs, invoice and commission filters.

Why one reader: each route had its own regular expression, which let "0000-01" through to `date(0, 1, 1)`
(a 500) and "9999-12" through to the month after it (another). Here a period is a month the calendar holds,
0001-01 to 9999-12, and arithmetic on it stays inside that range or says so, so no caller meets a
ValueError of the date type.

What a use allows on top is the use's rule, said with the range in the error (`within`):

- a billing run writes invoices, so it bills from the tenant's first month to the next billing cycle
  (billing/run_periods.py);
- a report or a filter only reads: any month is fine, an empty month is an honest answer, and one indexed
  query costs the same in 1990 as in 2026.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from app.services.errors import Invalid

_SHAPE = re.compile(r"([0-9]{4})-([0-9]{2})")  # ASCII digits only: "２０２６-11" is not a period


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    def __post_init__(self) -> None:
        if not (1 <= self.year <= 9999 and 1 <= self.month <= 12):
            raise ValueError(f"no such month: {self.year}-{self.month}")

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def shifted(self, months: int) -> Month | None:
        """The month `months` later (earlier when negative); None past either end of the calendar."""
        index = self.year * 12 + self.month - 1 + months
        year, month = divmod(index, 12)
        return Month(year, month + 1) if 1 <= year <= 9999 else None

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


FIRST = Month(1, 1)
LAST = Month(9999, 12)
SHAPE_HINT = f"a month as YYYY-MM, {FIRST} to {LAST}, e.g. 2026-11"


def parse(value: object, *, field: str = "period") -> Month:
    """The month `value` names; Invalid (422, naming `field`) for anything that is not one."""
    found = _SHAPE.fullmatch(value.strip()) if isinstance(value, str) else None
    if found:
        year, month = int(found[1]), int(found[2])
        if year >= 1 and 1 <= month <= 12:
            return Month(year, month)
    raise Invalid(f"{field}: {SHAPE_HINT}", field=field, allowed={"from": str(FIRST), "to": str(LAST)})


def within(month: Month, earliest: Month, latest: Month, *, field: str = "period", why: str = "") -> Month:
    """`month` if it lies in earliest..latest (both included), else Invalid naming the field and the range."""
    if earliest <= month <= latest:
        return month
    reason = f" ({why})" if why else ""
    raise Invalid(f"{field}: {month} is outside {earliest} to {latest}{reason}", field=field,
                  allowed={"from": str(earliest), "to": str(latest)})
