"""Helpers shared by the benchmark scripts of `bench/`: logging, statistics, scratch databases, gunicorn.

The scripts are run as `.venv/bin/python bench/<name>.py`, so this folder is on `sys.path` and they
`import common`. Everything here is generic: what a figure measures stays in its own script.

- `scratch_database` / `migrated_database`: a new database `backhaul_bench_<random>_<label>` on the
  server of an admin URL, dropped (FORCE) at the end whatever happens;
- `gunicorn`: the app served by gunicorn on a loopback port, optionally pinned to some CPUs, stopped
  by its pid at the end;
- `log` (progress on stderr, so that stdout carries only the summary), `stats`, `timed`, `print_table`.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from app.db import Database, make_engine, sqlalchemy_url
from migrations import runner
from tenants import registry
from tenants.schema import subdomain_for_code

ROOT = Path(__file__).resolve().parent.parent
BASE_DOMAIN = "bench.test"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"


class BenchError(RuntimeError):
    """Something the benchmark relies on did not behave (a failed request, a wrong count...)."""


# -- small helpers ---------------------------------------------------------------------------------
def log(message: str) -> None:
    """Progress on stderr, so stdout carries only the summary."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def stats(samples: list[float]) -> dict:
    """Median first (robust to the odd GC pause or scheduler hiccup on a shared 2-core box)."""
    ordered = sorted(samples)
    pct = statistics.quantiles(ordered, n=100, method="inclusive") if len(ordered) > 1 else ordered * 99
    return {"n": len(ordered), "median": statistics.median(ordered), "mean": statistics.fmean(ordered),
            "p90": pct[89], "p99": pct[98], "min": ordered[0], "max": ordered[-1]}


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def repeated(call: Callable[[], object], repeat: int) -> dict:
    """`call` timed `repeat` times, one after the other: the stats of its wall-clock seconds."""
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        call()
        samples.append(time.perf_counter() - began)
    return stats(samples)


def ms(seconds: float) -> str:
    """Milliseconds, or microseconds for the in-memory cache hits that would show as 0.000 ms."""
    return f"{seconds * 1000:.3f} ms" if seconds >= 1e-4 else f"{seconds * 1e6:.2f} µs"


def platform_host(code: str) -> str:
    """A tenant's platform host: `<code, lower case, '_' as '-'>.bench.test`."""
    return f"{subdomain_for_code(code)}.{BASE_DOMAIN}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _sigterm_as_exit(signum, _frame) -> None:
    """Turn SIGTERM into SystemExit so the `finally` blocks drop the scratch databases."""
    raise SystemExit(128 + signum)


def _out_of_time(_signum, _frame) -> None:
    raise BenchError("the run took longer than its time budget; stopped")


def within_budget(seconds: int, run: Callable[[], dict]) -> dict:
    """`run()` stopped (BenchError) after `seconds`: a bench that hangs on a wedged server must end, and its
    `finally` blocks drop what it made, as they do on SIGTERM."""
    signal.signal(signal.SIGTERM, _sigterm_as_exit)
    signal.signal(signal.SIGALRM, _out_of_time)
    signal.alarm(int(seconds))
    try:
        return run()
    finally:
        signal.alarm(0)


def print_table(rows: Sequence[Sequence[str]]) -> None:
    """Columns padded to their widest cell; the first row is the header, underlined."""
    width = len(rows[0])
    widths = [max(len(row[i]) for row in rows) for i in range(width)]
    for number, row in enumerate(rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if number == 0:
            print("  ".join("-" * w for w in widths))


def add_connection_args(parser: argparse.ArgumentParser) -> None:
    """`--database-url` and `--redis-url`, defaulting to the environment, then to the local services."""
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
                        help="server (and a database to connect to) where scratch databases are created")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL)


def write_json(path: Path, results: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results written to {path}")


# -- scratch databases -----------------------------------------------------------------------------
@contextlib.contextmanager
def scratch_database(admin_url: str, label: str) -> Iterator[str]:
    """A new, empty database on the admin URL's server; dropped (FORCE) whatever happens."""
    name = f"backhaul_bench_{secrets.token_hex(4)}_{label}"
    admin = create_engine(sqlalchemy_url(admin_url), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        log(f"created database {name}")
        try:
            yield make_url(sqlalchemy_url(admin_url)).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            log(f"dropped database {name}")
    finally:
        admin.dispose()


@contextlib.contextmanager
def migrated_database(admin_url: str, label: str) -> Iterator[tuple[str, Database]]:
    """Scratch database with `public` at head and the registry bound to it, as the app would have it."""
    with scratch_database(admin_url, label) as url:
        engine = make_engine(url)
        try:
            runner.upgrade_public(engine)
            registry.bind(engine, listen=False)  # no LISTEN thread: it would outlive the dropped database
            yield url, Database(engine)
        finally:
            engine.dispose()


def settle(url: str) -> None:
    """VACUUM ANALYZE after bulk provisioning, so autovacuum does not wake up mid-measurement."""
    engine = create_engine(sqlalchemy_url(url), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE)")
    finally:
        engine.dispose()


def server_version(admin_url: str) -> str:
    engine = create_engine(sqlalchemy_url(admin_url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SHOW server_version")).scalar_one()
    finally:
        engine.dispose()


# -- processes -------------------------------------------------------------------------------------
def child_env(db_url: str, redis_url: str, data_dir: Path) -> dict:
    """What a deployment would set; SECRET_KEY and the data folder keep the app out of the repo."""
    env = dict(os.environ)
    env.update(DATABASE_URL=db_url, REDIS_URL=redis_url, BACKHAUL_BASE_DOMAIN=BASE_DOMAIN,
               SECRET_KEY="bench-secret-not-for-production", BACKHAUL_DATA_DIR=str(data_dir))
    return env


def backhaul_cli() -> list[str]:
    """The `backhaul` entry point of this interpreter's environment (fallback: the same via -c)."""
    script = Path(sys.executable).with_name("backhaul")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from app.cli import main; main()"]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    """One gunicorn serving `app:create_app()` on a loopback port."""

    proc: subprocess.Popen
    port: int
    log_path: Path

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def worker_pids(self) -> list[int]:
        """The gunicorn workers: the children of the master process (Linux /proc)."""
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []


def wait_ready(server: Server, timeout: float = 30.0) -> None:
    """Poll /healthz until it answers: the worker has imported the app and can serve."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise BenchError(f"gunicorn exited with {server.proc.returncode}:\n{server.log_tail()}")
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=2)
        try:
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.1)
    raise BenchError(f"gunicorn on port {server.port} not ready after {timeout:.0f} s:\n{server.log_tail()}")


def pinned(argv: list[str], cpus: Iterable[int] | None) -> tuple[list[str], Callable[[], None] | None]:
    """`argv` run on `cpus` only: behind `taskset -c` (util-linux) when there is one, else through a
    `preexec_fn` that sets the child's affinity before it execs. Children inherit the affinity."""
    if cpus is None:
        return argv, None
    cpus = sorted(set(cpus))
    taskset = shutil.which("taskset")
    if taskset:
        return [taskset, "-c", ",".join(map(str, cpus)), *argv], None
    return argv, lambda: os.sched_setaffinity(0, cpus)


@contextlib.contextmanager
def gunicorn(env: dict, log_dir: Path, label: str, *, workers: int = 1, threads: int = 4,
             cpus: Iterable[int] | None = None, ready_timeout: float = 30.0) -> Iterator[Server]:
    """Like `backhaul run` serves the web (gthread workers: keep-alive works), by default one worker of 4
    threads; `cpus` pins the master and its workers to those CPUs. Stopped by its pid at the end."""
    port = free_port()
    log_path = log_dir / f"gunicorn-{label}.log"
    argv = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
            "--worker-class", "gthread", "--threads", str(threads), "--keep-alive", "60", "app:create_app()"]
    argv, preexec = pinned(argv, cpus)
    with log_path.open("w") as log_file:
        proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT,
                                start_new_session=True, preexec_fn=preexec)
    server = Server(proc, port, log_path)
    try:
        wait_ready(server, ready_timeout)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
