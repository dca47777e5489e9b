"""The one clock: moved for a block, for a process by its environment, and shared by the processes it starts."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from app import clock
from app.models.base import utcnow
from tests.conftest import ROOT

LEAP_DAY_LATE = datetime(2028, 2, 29, 22, 30, tzinfo=UTC)


def test_travel_freezes_the_clock_and_gives_it_back():
    before, moved = clock.now(), clock.is_moved()
    with clock.travel(LEAP_DAY_LATE) as moment:
        assert moment == clock.now() == LEAP_DAY_LATE
        assert clock.today() == date(2028, 2, 29)
        assert clock.today(ZoneInfo("Africa/Nairobi")) == date(2028, 3, 1)  # 01:30 the next day there
        assert utcnow() == LEAP_DAY_LATE  # what column defaults stamp
    assert abs(clock.now() - before) < timedelta(seconds=5) and clock.is_moved() == moved


def test_a_ticking_clock_runs_on_from_where_it_was_set():
    with clock.travel("2027-04-30", tick=True):
        first = clock.now()
        assert first.date() == date(2027, 4, 30) and first.hour == 12  # a date alone is noon UTC
        assert clock.now() >= first


def _child_now(env: dict) -> datetime:
    out = subprocess.run([sys.executable, "-c", "from app import clock; print(clock.now().isoformat())"],
                         cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout
    return datetime.fromisoformat(out.strip())


def test_the_environment_moves_a_process_and_its_children_share_its_offset():
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKHAUL_CLOCK")}
    code = ("import os, subprocess, sys; from app import clock; print(clock.now().isoformat()); "
            "print(os.environ['BACKHAUL_CLOCK_OFFSET']); sys.stdout.flush(); "
            "subprocess.run([sys.executable, '-c', 'from app import clock; print(clock.now().isoformat())'])")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={**env, "BACKHAUL_CLOCK": "2028-02-29T12:00:00Z"}).stdout.split()
    parent, child = datetime.fromisoformat(out[0]), datetime.fromisoformat(out[2])
    assert parent.date() == date(2028, 2, 29) and timedelta(0) <= child - parent < timedelta(seconds=30)
    assert float(out[1]) > 0  # the offset a child inherits


def test_travel_reaches_processes_started_inside_it():
    env_before = dict(os.environ)
    with clock.travel(LEAP_DAY_LATE):
        seen = _child_now(dict(os.environ))
    assert timedelta(0) <= seen - LEAP_DAY_LATE < timedelta(seconds=30)
    assert {k: v for k, v in os.environ.items() if k.startswith("BACKHAUL_CLOCK")} == \
        {k: v for k, v in env_before.items() if k.startswith("BACKHAUL_CLOCK")}
