"""`make test` (scripts/bootstrap.py) as a developer runs it on a machine with no DATABASE_URL / REDIS_URL: the
embedded services it starts are stopped at the end, one that was already running is left alone, the runs
see the clock they are given, and a failure in any run fails the command."""

from __future__ import annotations

import importlib.util
import re
import textwrap
from datetime import date

import pytest

from app import embedded
from tests.conftest import ROOT


@pytest.fixture
def bootstrap():
    spec = importlib.util.spec_from_file_location("bootstrap", ROOT / "scripts" / "bootstrap.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def bare_machine(tmp_path, monkeypatch):
    """No configured services: the embedded ones go under a data folder of this test, stopped after it."""
    data_dir = tmp_path / "test-data"
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("BACKHAUL_TEST_DATA_DIR", str(data_dir))
    yield data_dir
    embedded.stop(data_dir)


def write_test(folder, name: str, body: str):
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(body))
    return str(path)


@pytest.mark.slow
def test_the_services_the_run_started_are_stopped_and_one_already_running_is_kept(bootstrap, bare_machine, tmp_path):
    embedded.ensure_redis(bare_machine)  # somebody's Redis under the same folder, up before the run
    uses_both = write_test(tmp_path / "suite", "test_uses_both.py", """
        import os, psycopg, redis

        def test_the_run_is_pointed_at_the_embedded_services():
            url = os.environ["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
            with psycopg.connect(url) as conn:
                assert conn.execute("SELECT 1").fetchone() == (1,)
            assert redis.Redis.from_url(os.environ["REDIS_URL"]).ping()
    """)
    assert bootstrap.execute([("the suite", [uses_both], {})], ["-q", "-p", "no:cacheprovider"]) == 0
    assert embedded.running(bare_machine) == ["redis"]  # PostgreSQL was started by the run: stopped
    assert (embedded.postgres_dir(bare_machine) / "PG_VERSION").exists()  # it was there, made for the run


@pytest.mark.slow
def test_each_run_sees_its_clock_and_a_failing_run_fails_the_command(bootstrap, bare_machine, tmp_path, capfd):
    folder = tmp_path / "suite"
    passes = write_test(folder, "test_passes.py", "def test_passes():\n    pass\n")
    leap_day = write_test(folder, "test_leap_day.py", """
        from app import clock

        def test_the_clock_is_moved_to_the_leap_day():
            assert clock.today().isoformat() == "2028-02-29"
    """)
    fails = write_test(folder, "test_fails.py", "def test_fails():\n    assert False\n")
    runs = [("the suite", [passes], {}), ("at the leap day", [leap_day], {"BACKHAUL_CLOCK": "2028-02-29T12:00:00Z"}),
            ("a failing one", [fails], {}), ("after it", [passes], {})]
    assert bootstrap.execute(runs, ["-q", "-p", "no:cacheprovider", "-n", "0"]) == 1
    summary = [re.fullmatch(r"(passed|FAILED \(exit \d+\))\s+(.+) \([\d.]+ min\)", line).groups()
               for line in capfd.readouterr().out.splitlines()[-4:]]
    assert summary == [("passed", "the suite"), ("passed", "at the leap day"), ("FAILED (exit 1)", "a failing one"),
                       ("passed", "after it")]
    assert embedded.running(bare_machine) == []  # both were started by the command: both stopped


def test_the_guard_runs_each_moment_over_the_date_sensitive_suites(bootstrap):
    runs = bootstrap.plan(whole_suite=True, clocks=True)
    assert runs[0] == ("the suite", [], {})
    moments = [extra["BACKHAUL_CLOCK"] for _title, _paths, extra in runs[1:]]
    assert moments[:2] == ["2027-04-30T12:00:00Z", "2028-02-29T12:00:00Z"] and len(moments) == 3
    assert all("tests/billing" in paths and "tests/radius/test_fup.py" in paths for _t, paths, _e in runs[1:])
    assert bootstrap.plan(whole_suite=False, clocks=True)[0][2]["BACKHAUL_CLOCK"] == "2027-04-30T12:00:00Z"
    assert bootstrap._parallel([]) == ["-n", "auto"]
    assert bootstrap._parallel(["-p", "no:xdist"]) == [] and bootstrap._parallel(["-n", "2"]) == []


def test_a_year_ahead_of_a_leap_day_is_the_28th():
    from tests.moved_clocks import resolve

    assert resolve("+1y", date(2026, 12, 6)) == "2027-12-06T12:00:00Z"
    assert resolve("+1y", date(2028, 2, 29)) == "2029-02-28T12:00:00Z"
    assert resolve("2027-04-30T12:00:00Z", date(2026, 12, 6)) == "2027-04-30T12:00:00Z"
