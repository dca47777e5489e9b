"""Months and ranges on the reseller's clock, as UTC instants."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from app.services.errors import Invalid
from app.services.reports.periods import DateRange, Months, add_months

NAIROBI = ZoneInfo("Africa/Nairobi")  # UTC+3, no daylight saving


def test_months_end_with_the_current_one_on_the_resellers_clock():
    months = Months.ending(date(2026, 1, 15), NAIROBI)
    assert months.labels()[0] == "2025-02" and months.labels()[-1] == "2026-01" and len(months) == 12
    # a payment at 22:30 UTC on 31 October is 01:30 on 1 November in Nairobi: November's
    assert months.boundaries[0] == datetime(2025, 1, 31, 21, 0, tzinfo=UTC)
    assert months.boundaries[-1] == datetime(2026, 1, 31, 21, 0, tzinfo=UTC)
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 1) and add_months(date(2026, 1, 5), -13) == date(
        2024, 12, 1)


def test_ranges_default_to_the_month_to_date_and_are_checked():
    r = DateRange.of(None, None, date(2026, 11, 22), NAIROBI)
    assert (r.start, r.end) == (date(2026, 11, 1), date(2026, 11, 22))
    assert r.lower == datetime(2026, 10, 31, 21, 0, tzinfo=UTC) and r.upper == datetime(2026, 11, 22, 21, 0, tzinfo=UTC)
    with pytest.raises(Invalid):
        DateRange.of(date(2026, 5, 2), date(2026, 5, 1), date(2026, 11, 22), NAIROBI)
    with pytest.raises(Invalid):
        DateRange.of(date(2020, 1, 1), date(2026, 1, 1), date(2026, 11, 22), NAIROBI)
