"""The moved-clock guard: after the normal run, `make test` runs the date-sensitive suites once more with
Backhaul's clock (app/clock.py, `BACKHAUL_CLOCK`) started at each of these moments.

A suite that passed in November and failed in December was a test, or a rule, that hung on the day it ran;
the moments are the days such bugs show on: the last day of a month (a month's end, a billing day past the
28th), a leap day, and a year ahead (next year's periods, an expiry that has passed). Add a suite here when
it computes with dates, a moment when a new kind of day turns up a bug. scripts/bootstrap.py reads this file
with the standard library alone, before anything is installed: keep it plain Python.
"""

from __future__ import annotations

from datetime import date

MOMENTS = (
    "2027-04-30T12:00:00Z",  # the last day of a 30-day month
    "2028-02-29T12:00:00Z",  # a leap day
    "+1y",  # one year after today, at noon UTC
)

SUITES = (
    "tests/billing",  # invoices, runs, payments, dunning, top-ups and the scheduler (test_scheduler.py)
    "tests/commissions",  # commission months, close and payouts
    "tests/reseller_accounts",
    "tests/reports",
    "tests/radius/test_fup.py",  # fair-use cycles
    "tests/radius/test_usage.py",
    "tests/radius/test_usage_api.py",
    "tests/portal_api",  # the customer's statements, renewals, plan-change proration, bucket expiry
    "tests/privacy",  # data exports that expire, deletion requests answered in time
)


def resolve(moment: str, today: date) -> str:
    """An ISO moment as given, or `+Ny` as noon UTC N years after `today` (29 February → 28 February)."""
    if not moment.startswith("+"):
        return moment
    years = int(moment[1:].rstrip("y"))
    try:
        day = today.replace(year=today.year + years)
    except ValueError:
        day = today.replace(year=today.year + years, day=28)
    return f"{day.isoformat()}T12:00:00Z"
