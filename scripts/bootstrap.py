#!/usr/bin/env python3
"""Set up and run Backhaul from a fresh checkout with nothing but Python 3.11+.

    python3 scripts/bootstrap.py run          # install, start embedded services if needed, migrate, seed, serve
    python3 scripts/bootstrap.py test         # install (with test tools) and run the suite
    python3 scripts/bootstrap.py test-clocks  # the moved-clock guard: date-sensitive suites on other days

`make run`, `make test` and `make test-clocks` call this. The virtual environment is `.venv/` (or
$BACKHAUL_VENV); it is (re)installed whenever pyproject.toml changes. Extra arguments go to `backhaul run`
or to pytest.

The tests run in parallel (pytest-xdist, `-n auto`; `BACKHAUL_TEST_WORKERS=N` or `-n N` in the arguments to
choose, `-p no:xdist` for one process). Without DATABASE_URL / REDIS_URL they use an embedded PostgreSQL and
Redis under `.test-data/` (or $BACKHAUL_TEST_DATA_DIR), started once for every run and stopped at the end:
only the ones this command started, never one that was already running.

The moved-clock guard runs the date-sensitive suites once more per moment of tests/moved_clocks.py, with
BACKHAUL_CLOCK set (app/clock.py), so that a rule or a test hanging on the day it runs fails here before
it fails for a user. It is a command of its own because on two cores the suite and its three re-runs take
well over the 20 minutes `make test` is held to; .ci/run runs both. Any failing run fails the command.
"""

from __future__ import annotations

import hashlib
import json
import os
import runpy
import subprocess
import sys
import time
import venv
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("BACKHAUL_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def ensure_installed(extras: str) -> None:
    if sys.version_info < (3, 11):  # noqa: UP036  (this file runs under whatever python3 is first)
        sys.exit(f"Backhaul needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    stamp = VENV / ".backhaul-installed"
    if stamp.exists() and stamp.read_text() == digest:
        return
    if not (BIN / "python").exists():
        print(f"creating the virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("installing Backhaul and its dependencies (first run takes a minute)", flush=True)
    target = f".[{extras}]" if extras else "."
    subprocess.run([str(BIN / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    "-e", target], cwd=ROOT, check=True)
    stamp.write_text(digest)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("run", "test", "test-clocks", "install"):
        print(__doc__)
        return 2
    what, rest = argv[0], argv[1:]
    ensure_installed("test")  # one environment for both: running the tests never reinstalls
    os.chdir(ROOT)
    if what == "install":
        return 0
    if what == "run":
        os.execv(str(BIN / "backhaul"), [str(BIN / "backhaul"), "run", "--demo", *rest])
    if what == "test-clocks" and _names_tests(rest):
        print("the moved-clock guard runs the suites of tests/moved_clocks.py: name no tests", file=sys.stderr)
        return 2
    return execute(plan(whole_suite=what == "test", clocks=what == "test-clocks"), rest)


def plan(*, whole_suite: bool, clocks: bool) -> list[tuple[str, list[str], dict]]:
    """(title, test paths, extra environment) of each pytest run: the suite, then one per moved clock."""
    runs = [("the suite", [], {})] if whole_suite else []
    if clocks:
        guard = runpy.run_path(str(ROOT / "tests" / "moved_clocks.py"))
        for moment in guard["MOMENTS"]:
            at = guard["resolve"](moment, date.today())
            runs.append((f"the date-sensitive suites at {at}", list(guard["SUITES"]), {"BACKHAUL_CLOCK": at}))
    return runs


def execute(runs: list[tuple[str, list[str], dict]], args: list[str]) -> int:
    """Every run, on services started here when none is configured (and stopped after); non-zero if any
    run failed, with a line per run saying which."""
    env = {key: value for key, value in os.environ.items() if key not in ("BACKHAUL_CLOCK", "BACKHAUL_CLOCK_OFFSET")}
    started, data_dir = _embedded_services(env)
    results = []
    try:
        for title, paths, extra in runs:
            print(f"\n===== {title} =====", flush=True)
            began = time.monotonic()
            code = _pytest([*_parallel(args), *args, *paths], {**env, **extra})
            results.append((title, code, time.monotonic() - began))
            if code == INTERRUPTED:
                break
    finally:
        if started:
            subprocess.run([str(BIN / "backhaul"), "embedded", "stop", *(f"--only={name}" for name in started)],
                           env={**env, "BACKHAUL_DATA_DIR": str(data_dir)}, check=False)
    print()
    for title, code, seconds in results:
        print(f"{'passed' if code == 0 else f'FAILED (exit {code})':<16} {title} ({seconds / 60:.1f} min)")
    return next((code for _title, code, _s in results if code != 0), 0)


INTERRUPTED = 130


def _pytest(args: list[str], env: dict) -> int:
    """One pytest run. Ctrl-C reaches pytest too: let it drop its databases and stop its workers rather than
    killing it at once (what subprocess.run does); a second Ctrl-C does kill it."""
    proc = subprocess.Popen([str(BIN / "python"), "-m", "pytest", *args], env=env)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        try:
            proc.wait(timeout=120)
        except (KeyboardInterrupt, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()
        return INTERRUPTED


def _embedded_services(env: dict) -> tuple[list[str], Path | None]:
    """Start the embedded PostgreSQL / Redis the environment lacks, once for every run, and point the runs at
    them; returns the ones started here (to stop at the end) and their data folder."""
    missing = [name for name, var in (("postgres", "DATABASE_URL"), ("redis", "REDIS_URL")) if not env.get(var)]
    if not missing:
        return [], None
    data_dir = Path(env.get("BACKHAUL_TEST_DATA_DIR") or ROOT / ".test-data").resolve()
    answer = subprocess.run([str(BIN / "backhaul"), "embedded", "start", "--json",
                             *(f"--only={name}" for name in missing)],
                            env={**env, "BACKHAUL_DATA_DIR": str(data_dir)}, check=True, stdout=subprocess.PIPE,
                            text=True)
    found = json.loads(answer.stdout.strip().splitlines()[-1])
    if "postgres" in missing:
        env["DATABASE_URL"] = found["database_url"]
    if "redis" in missing:
        env["REDIS_URL"] = found["redis_url"]
    env["BACKHAUL_TEST_DATA_DIR"] = str(data_dir)
    if found["started"]:
        print(f"started the embedded {' and '.join(found['started'])} of {data_dir} (stopped at the end)", flush=True)
    return found["started"], data_dir


def _parallel(args: list[str]) -> list[str]:
    """`-n auto` unless the arguments choose (`-n`, `--numprocesses`, `-p no:xdist`, `--dist`)."""
    chosen = any(a in ("-n", "--numprocesses", "--dist", "no:xdist") or a.startswith(("-n", "--numprocesses=",
                                                                                      "--dist=", "-pno:xdist"))
                 for a in args)
    return [] if chosen else ["-n", os.environ.get("BACKHAUL_TEST_WORKERS") or "auto"]


def _names_tests(args: list[str]) -> bool:
    """Whether the arguments pick tests by path or node id (the guard has its own)."""
    return any(not a.startswith("-") and ("::" in a or (ROOT / a).exists()) for a in args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
