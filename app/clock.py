"""The one clock Backhaul reads for "now" and "today".

Billing periods, due dates, overdue checks, fair-use cycles, commission months and the scheduler all
hang on the current day; reading the system clock in each of them made the behaviour depend on the day
the code happened to run (and a test suite that passed in November failed in December). Every business
reading of the time goes through here instead, so a test, a demo seed or a backfill can move it:

- `BACKHAUL_CLOCK=2028-02-29T12:00:00Z` in the environment starts the process's clock at that moment,
  ticking from there. The offset it implies is written back as `BACKHAUL_CLOCK_OFFSET`, so every child
  process (worker, RADIUS, a CLI command started by a test) shares the very same clock.
- `travel(moment)` moves it inside a block (frozen, or ticking with `tick=True`); tests pin days with it.

What does not come from here, on purpose: durations and timeouts (`time.monotonic()`), and checks against
another party's real clock (TOTP codes from the customer's phone, a gateway's signature timestamp), which
must keep the wall clock whatever day Backhaul is told it is.

This module imports nothing of Backhaul: models, services, the worker and RADIUS all read it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta, tzinfo

ENV_MOMENT = "BACKHAUL_CLOCK"
ENV_OFFSET = "BACKHAUL_CLOCK_OFFSET"

_offset = timedelta(0)
_frozen: datetime | None = None


def now() -> datetime:
    """The current moment, timezone-aware, in UTC."""
    if _frozen is not None:
        return _frozen
    if _offset:
        return datetime.now(UTC) + _offset
    return datetime.now(UTC)


def today(zone: tzinfo = UTC) -> date:
    """Today's date where `zone` is (a reseller's day starts at its own midnight, not UTC's)."""
    return now().astimezone(zone).date()


def moment(value: str | date | datetime) -> datetime:
    """An aware UTC datetime from an ISO string, a date (noon UTC, far from every zone's midnight) or a datetime."""
    if isinstance(value, str):
        text = value.strip()
        value = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text.replace("Z", "+00:00"))
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(12, 0), tzinfo=UTC)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def set_to(value: str | date | datetime | None, *, tick: bool = True) -> None:
    """Move this process's clock (None: back to the system clock) and tell child processes started from now on."""
    global _offset, _frozen
    if value is None:
        _offset, _frozen = timedelta(0), None
        os.environ.pop(ENV_OFFSET, None)
        os.environ.pop(ENV_MOMENT, None)
        return
    target = moment(value)
    if tick:
        _offset, _frozen = target - datetime.now(UTC), None
    else:
        _offset, _frozen = target - datetime.now(UTC), target
    os.environ[ENV_OFFSET] = repr(_offset.total_seconds())
    os.environ.pop(ENV_MOMENT, None)


@contextmanager
def travel(value: str | date | datetime, *, tick: bool = False) -> Iterator[datetime]:
    """The clock at `value` inside the block (frozen unless `tick`), restored after it."""
    saved = _offset, _frozen, os.environ.get(ENV_OFFSET), os.environ.get(ENV_MOMENT)
    set_to(value, tick=tick)
    try:
        yield now()
    finally:
        _restore(*saved)


def _restore(offset: timedelta, frozen: datetime | None, env_offset: str | None, env_moment: str | None) -> None:
    global _offset, _frozen
    _offset, _frozen = offset, frozen
    for key, value in ((ENV_OFFSET, env_offset), (ENV_MOMENT, env_moment)):
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def is_moved() -> bool:
    return _frozen is not None or bool(_offset)


def _from_environment() -> None:
    """An offset inherited from a parent process wins (it is the same clock); else a moment to start at."""
    global _offset
    inherited = os.environ.get(ENV_OFFSET)
    if inherited:
        _offset = timedelta(seconds=float(inherited))
        return
    start = os.environ.get(ENV_MOMENT)
    if start:
        set_to(start, tick=True)


_from_environment()
