"""Months and date ranges in a tenant's time zone, turned into the UTC instants the queries compare with.

Why instants: every timestamp is stored in UTC, and a month is a month of the reseller's clock (a payment
at 01:00 in Nairobi on the 1st belongs to the new month). The boundaries are computed here once and passed
to SQL, which buckets rows with `width_bucket(at, boundaries)`: one pass over the rows for all months.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.services.errors import Invalid

SERIES_MONTHS = 12
MAX_RANGE_DAYS = 3 * 366  # a report covers at most about three years


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """The first of the month `months` after (or before) the month of `day`."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def instant(day: date, zone: ZoneInfo) -> datetime:
    """Midnight at the start of `day` on the tenant's clock."""
    return datetime.combine(day, time.min, tzinfo=zone)


@dataclass(frozen=True)
class Months:
    """The last `SERIES_MONTHS` months up to and including the one of `today`."""

    starts: tuple[date, ...]  # first day of each month, oldest first
    zone: ZoneInfo

    @classmethod
    def ending(cls, today: date, zone: ZoneInfo, count: int = SERIES_MONTHS) -> Months:
        last = month_start(today)
        return cls(tuple(add_months(last, -i) for i in range(count - 1, -1, -1)), zone)

    @property
    def boundaries(self) -> list[datetime]:
        """Each month's first instant, then the first instant of the month after the last: bucket k (1-based)
        of `width_bucket` is month k, 0 is before the window, len(starts) + 1 after it."""
        return [instant(d, self.zone) for d in (*self.starts, add_months(self.starts[-1], 1))]

    @property
    def first(self) -> datetime:
        return instant(self.starts[0], self.zone)

    def labels(self) -> list[str]:
        return [d.strftime("%Y-%m") for d in self.starts]

    def __len__(self) -> int:
        return len(self.starts)


@dataclass(frozen=True)
class DateRange:
    """Inclusive dates on the tenant's clock."""

    start: date
    end: date
    zone: ZoneInfo

    @classmethod
    def of(cls, start: date | None, end: date | None, today: date, zone: ZoneInfo) -> DateRange:
        """Given bounds, or by default the month to date."""
        end = end or today
        start = start or month_start(end)
        if start > end:
            raise Invalid("from: the range starts after it ends", field="from")
        if (end - start).days > MAX_RANGE_DAYS:
            raise Invalid(f"the range is at most {MAX_RANGE_DAYS} days", field="to")
        return cls(start, end, zone)

    @property
    def lower(self) -> datetime:
        return instant(self.start, self.zone)

    @property
    def upper(self) -> datetime:
        """The first instant after the range (exclusive)."""
        return instant(self.end + timedelta(days=1), self.zone)

    @property
    def params(self) -> dict:
        return {"lower": self.lower, "upper": self.upper, "zone": self.zone.key, "start": self.start,
                "end": self.end}
