"""Benchmark of the platform foundation: provisioning, tenant migrations, tenant resolution.

It measures three figures, each against its goal:

1. Provisioning one tenant (`app.services.tenants.provision` in one `Database.session()`): the median
   over N runs (default 15). Goal: < 1 s.
2. `db upgrade` of T tenant schemas (default 200): T tenants are provisioned, every tenant schema is
   downgraded to base, then `migrations.runner.upgrade_tenants` is timed with jobs=1 and (after another
   downgrade) jobs=2; also a no-op re-run with everything at head, and the real CLI
   (`backhaul db upgrade --jobs 2 -q` in a subprocess) as a cross-check of the jobs=2 run. No goal is
   set; the speed-up of jobs=2 over jobs=1 is shown.
3. Latency of `GET /api/v1/portal` (a tenant-resolved endpoint) over real HTTP against gunicorn, with
   1 tenant in the registry and with L tenants (default 500): the median of each and their ratio.
   Goal: ratio <= 1.1. The registry caches host lookups per process, so the uncached cost of
   `TenantDirectory.by_host` (cache invalidated before every call) is reported for 1 vs L tenants too.

Everything runs in scratch databases `backhaul_bench_<random>_<label>` created on the server of
`--database-url` and dropped at the end, even on error or Ctrl-C; servers listen on loopback only.

Run from the repository root:

    .venv/bin/python bench/foundation.py            # full run, a few minutes on 2 cores
    .venv/bin/python bench/foundation.py --quick    # smoke run, well under a minute
    .venv/bin/python bench/foundation.py --json bench/results/foundation.json
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import math
import os
import platform
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

from app.db import Database, make_engine, sqlalchemy_url
from app.services import tenants as tenant_service
from migrations import runner
from tenants import registry
from tenants.registry import TenantDirectory
from tenants.schema import subdomain_for_code

ROOT = Path(__file__).resolve().parent.parent
BASE_DOMAIN = "bench.test"
PORTAL_PATH = "/api/v1/portal"
PROVISION_GOAL_S = 1.0
LATENCY_RATIO_GOAL = 1.1
ROUNDS = 20  # small and large are sampled in alternating blocks of count / ROUNDS samples each

FULL = {"provisions": 15, "tenants": 200, "latency_tenants": 500, "requests": 2000, "warmup": 200,
        "lookups": 2000}
QUICK = {"provisions": 5, "tenants": 20, "latency_tenants": 50, "requests": 300, "warmup": 50,
         "lookups": 300}


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


def tenant_code(number: int) -> str:
    """Codes of equal length everywhere, so responses of the 1- and L-tenant servers are the same size."""
    return f"BENCH_{number:05d}"


def platform_host(code: str) -> str:
    return f"{subdomain_for_code(code)}.{BASE_DOMAIN}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _sigterm_as_exit(signum, _frame) -> None:
    """Turn SIGTERM into SystemExit so the `finally` blocks drop the scratch databases."""
    raise SystemExit(128 + signum)


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


# -- tenants ---------------------------------------------------------------------------------------
def provision_one(db: Database, number: int) -> float:
    """Seconds to provision one tenant, committed, exactly as `backhaul tenants create` does it."""
    code = tenant_code(number)
    started = time.perf_counter()
    with db.session() as session:
        tenant_service.provision(session, code=code, name=f"Bench tenant {number:05d}", base_domain=BASE_DOMAIN)
    return time.perf_counter() - started


def provision_range(db: Database, first: int, last: int) -> list[float]:
    """Provision tenants numbered first..last (inclusive); returns each one's duration."""
    return [provision_one(db, n) for n in range(first, last + 1)]


def downgrade_all(engine: Engine) -> float:
    """Every tenant schema back to base, so that the next upgrade has real work to do."""
    started = time.perf_counter()
    for tenant in runner.list_tenants(engine):
        runner.downgrade_tenant(engine, tenant, "base")
    return time.perf_counter() - started


# -- figure 1 --------------------------------------------------------------------------------------
def bench_provision(admin_url: str, runs: int) -> dict:
    """Fresh database, `runs` tenants provisioned one after another, each timed on its own."""
    with migrated_database(admin_url, "prov") as (_, db):
        log(f"figure 1: provisioning {runs} tenants one by one")
        durations = provision_range(db, 1, runs)
    summary = stats(durations)
    return {"runs": runs, "seconds": summary, "first_run_s": durations[0], "goal_s": PROVISION_GOAL_S,
            "goal_met": summary["median"] < PROVISION_GOAL_S}


# -- figure 2 --------------------------------------------------------------------------------------
def time_upgrade(engine: Engine, jobs: int, expect_changed: int) -> float:
    """Wall time of one `upgrade_tenants` call; checks it did the work it should have."""
    tenants = runner.list_tenants(engine)
    seconds, changed = timed(lambda: runner.upgrade_tenants(engine, tenants, jobs=jobs))
    if changed != expect_changed:
        raise BenchError(f"upgrade with jobs={jobs} changed {changed} schemas, expected {expect_changed}")
    log(f"  upgrade_tenants(jobs={jobs}) of {len(tenants)} schemas ({changed} changed): {seconds:.2f} s")
    return seconds


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


def time_cli_upgrade(env: dict, jobs: int, expect_changed: int) -> float:
    """Wall time of the real command, process start-up and imports included."""
    argv = [*backhaul_cli(), "db", "upgrade", "--jobs", str(jobs), "-q"]
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0 or f"tenant schemas upgraded: {expect_changed}" not in done.stdout:
        raise BenchError(f"`{' '.join(argv[-5:])}` failed (exit {done.returncode}):\n{done.stdout}{done.stderr}")
    log(f"  CLI db upgrade --jobs {jobs} ({expect_changed} changed): {seconds:.2f} s")
    return seconds


def bench_upgrade(db: Database, count: int, env: dict | None) -> dict:
    """Provision `count` tenants, then time upgrades from base to head; `env` None skips the CLI check."""
    engine = db.engine
    log(f"figure 2: provisioning {count} tenants")
    durations = provision_range(db, 1, count)
    log(f"  provisioned {count} tenants in {sum(durations):.1f} s")
    result: dict = {"tenants": count, "provision_total_s": sum(durations)}
    result["downgrade_s"] = downgrade_all(engine)
    result["jobs1_s"] = time_upgrade(engine, 1, count)
    downgrade_all(engine)
    result["jobs2_s"] = time_upgrade(engine, 2, count)
    result["noop_jobs2_s"] = time_upgrade(engine, 2, 0)
    result["noop_jobs1_s"] = time_upgrade(engine, 1, 0)
    result["speedup_jobs2"] = result["jobs1_s"] / result["jobs2_s"]
    if env is not None:
        downgrade_all(engine)
        result["cli_jobs2_s"] = time_cli_upgrade(env, 2, count)
        result["cli_noop_jobs2_s"] = time_cli_upgrade(env, 2, 0)
    return result


# -- figure 3 --------------------------------------------------------------------------------------
@dataclass
class Server:
    """One gunicorn serving `app:create_app()` on a loopback port."""

    proc: subprocess.Popen
    port: int
    log_path: Path

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


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


@contextlib.contextmanager
def gunicorn(env: dict, log_dir: Path, label: str) -> Iterator[Server]:
    """One worker like `backhaul run` uses (gthread: keep-alive works); stopped by its pid at the end."""
    port = free_port()
    log_path = log_dir / f"gunicorn-{label}.log"
    argv = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
            "--worker-class", "gthread", "--threads", "4", "--keep-alive", "60", "app:create_app()"]
    with log_path.open("w") as log_file:
        proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT,
                                start_new_session=True)
    server = Server(proc, port, log_path)
    try:
        wait_ready(server)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


class PortalProbe:
    """Keep-alive HTTP client asking one server for one tenant's portal; a call is one timed request."""

    def __init__(self, port: int, host: str, code: str):
        self.port, self.host, self.code = port, host, code
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        self.reconnects = 0

    def check(self) -> None:
        """The server answers for the right tenant, so we time the real thing and not a 404."""
        self.conn.request("GET", PORTAL_PATH, headers={"Host": self.host})
        response = self.conn.getresponse()
        body = response.read()
        if response.status != 200 or json.loads(body)["tenant"]["code"] != self.code:
            raise BenchError(f"GET {PORTAL_PATH} on {self.host}: {response.status} {body[:300]!r}")

    def __call__(self) -> float:
        try:
            return self._once()
        except (http.client.RemoteDisconnected, ConnectionError):
            self.reconnects += 1  # the server dropped the idle connection: reconnect, time the retry
            self.conn.close()
            return self._once()

    def _once(self) -> float:
        started = time.perf_counter()
        self.conn.request("GET", PORTAL_PATH, headers={"Host": self.host})
        response = self.conn.getresponse()
        response.read()
        elapsed = time.perf_counter() - started
        if response.status != 200:
            raise BenchError(f"GET {PORTAL_PATH} on {self.host}: HTTP {response.status}")
        if response.will_close:
            self.reconnects += 1
        return elapsed

    def close(self) -> None:
        self.conn.close()


class LookupProbe:
    """`TenantDirectory.by_host` cycling over hosts; `cached=False` empties the cache before each call."""

    def __init__(self, directory: TenantDirectory, hosts: list[str], cached: bool):
        self.directory, self.hosts, self.cached = directory, hosts, cached
        self.calls = 0

    def __call__(self) -> float:
        host = self.hosts[self.calls % len(self.hosts)]
        self.calls += 1
        if not self.cached:
            self.directory.invalidate()
        started = time.perf_counter()
        tenant = self.directory.by_host(host)
        elapsed = time.perf_counter() - started
        if tenant is None:
            raise BenchError(f"by_host({host!r}) found no tenant")
        return elapsed


def interleaved(probes: dict[str, Callable[[], float]], count: int, warmup: int,
                rounds: int = ROUNDS) -> dict[str, list[list[float]]]:
    """`count` samples per probe in alternating blocks (one block per probe per round, the order flipped
    every round), so that drift on a shared box hits every probe alike; returns the blocks."""
    for probe in probes.values():
        for _ in range(warmup):
            probe()
    blocks: dict[str, list[list[float]]] = {name: [] for name in probes}
    per_round = math.ceil(count / rounds)
    names = list(probes)
    for number in range(rounds):
        for name in names if number % 2 == 0 else reversed(names):
            take = min(per_round, count - sum(map(len, blocks[name])))
            if take > 0:
                blocks[name].append([probes[name]() for _ in range(take)])
    return blocks


def compare(blocks: dict[str, list[list[float]]]) -> dict:
    """Statistics of `small` and `large`, the ratio of their medians, and the median over rounds of the
    per-round ratio (each round's two blocks ran back to back, so drift between rounds cancels out)."""
    result = {size: stats([x for block in blocks[size] for x in block]) for size in ("small", "large")}
    result["ratio"] = result["large"]["median"] / result["small"]["median"]
    result["paired_ratio"] = statistics.median(
        statistics.median(large) / statistics.median(small)
        for small, large in zip(blocks["small"], blocks["large"], strict=True))
    return result


def registry_hosts(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT host FROM public.domains ORDER BY id")).scalars())


def bench_lookups(small: Database, large: Database, count: int, warmup: int) -> dict:
    """In-process `by_host`: uncached (a database round trip each) and cached, for 1 vs L tenants."""
    result = {}
    for cached in (False, True):
        probes = {size: LookupProbe(TenantDirectory(db.engine, listen=False), registry_hosts(db.engine), cached)
                  for size, db in (("small", small), ("large", large))}
        result["cached" if cached else "uncached"] = compare(interleaved(probes, count, warmup))
    return result


def bench_http(servers: dict[str, tuple[Server, str]], count: int, warmup: int) -> dict:
    """Median latency of the portal endpoint on each server, over one keep-alive connection each."""
    probes = {size: PortalProbe(server.port, platform_host(code), code) for size, (server, code) in servers.items()}
    try:
        for probe in probes.values():
            probe.check()
        result = compare(interleaved(probes, count, warmup))
    finally:
        for probe in probes.values():
            probe.close()
    result["reconnects"] = {size: probe.reconnects for size, probe in probes.items()}
    return result


def bench_latency(stack: contextlib.ExitStack, opts: argparse.Namespace, large: tuple[str, Database],
                  work_dir: Path) -> dict:
    """A 1-tenant database vs `large` topped up to --latency-tenants; everything else set up alike.

    Databases and servers are entered on `stack`, so the caller tears them down in the right order.
    """
    size = opts.latency_tenants
    small_url, small_db = stack.enter_context(migrated_database(opts.database_url, "one"))
    provision_one(small_db, 1)
    large_url, large_db = large
    have = len(runner.list_tenants(large_db.engine))
    if have < size:
        log(f"figure 3: topping the registry up from {have} to {size} tenants")
        provision_range(large_db, have + 1, size)
    registry_size = len(runner.list_tenants(large_db.engine))
    middle = tenant_code(max(1, registry_size // 2))
    for url in (small_url, large_url):
        settle(url)

    log(f"figure 3: uncached and cached by_host, {opts.lookups} lookups each, 1 vs {registry_size} tenants")
    lookups = bench_lookups(small_db, large_db, opts.lookups, min(opts.warmup, opts.lookups))

    log(f"figure 3: GET {PORTAL_PATH}, {opts.requests} requests (+{opts.warmup} warm-up) per server")
    small_server = stack.enter_context(gunicorn(child_env(small_url, opts.redis_url, work_dir), work_dir, "one"))
    large_server = stack.enter_context(gunicorn(child_env(large_url, opts.redis_url, work_dir), work_dir, "many"))
    http_result = bench_http({"small": (small_server, tenant_code(1)), "large": (large_server, middle)},
                             opts.requests, opts.warmup)
    return {"registry_sizes": {"small": 1, "large": registry_size}, "http": http_result, "lookups": lookups,
            "goal_ratio": LATENCY_RATIO_GOAL, "goal_met": http_result["ratio"] <= LATENCY_RATIO_GOAL}


# -- report ----------------------------------------------------------------------------------------
def _ms(seconds: float) -> str:
    """Milliseconds, or microseconds for the in-memory cache hits that would show as 0.000 ms."""
    return f"{seconds * 1000:.3f} ms" if seconds >= 1e-4 else f"{seconds * 1e6:.2f} µs"


def summary_rows(results: dict) -> list[tuple[str, str, str, str]]:
    """(figure, result, goal, verdict) for each line of the table."""
    prov, up, lat = results["provision"], results["upgrade"], results["latency"]
    n, big = up["tenants"], lat["registry_sizes"]["large"]
    http_, look = lat["http"], lat["lookups"]
    verdict = {True: "PASS", False: "FAIL"}
    rows = [
        (f"1. provision one tenant (median of {prov['runs']})", f"{prov['seconds']['median']:.3f} s",
         "< 1 s", verdict[prov["goal_met"]]),
        ("   min / max / first run", f"{prov['seconds']['min']:.3f} / {prov['seconds']['max']:.3f} / "
         f"{prov['first_run_s']:.3f} s", "", ""),
        (f"2. upgrade_tenants, {n} schemas base->head, jobs=1", f"{up['jobs1_s']:.2f} s", "", ""),
        (f"   upgrade_tenants, {n} schemas base->head, jobs=2", f"{up['jobs2_s']:.2f} s", "",
         f"{up['speedup_jobs2']:.2f}x vs jobs=1"),
        ("   no-op re-run (all at head), jobs=1 / jobs=2", f"{up['noop_jobs1_s']:.2f} / {up['noop_jobs2_s']:.2f} s",
         "", ""),
    ]
    if "cli_jobs2_s" in up:
        rows += [
            (f"   CLI `backhaul db upgrade --jobs 2 -q`, {n} schemas", f"{up['cli_jobs2_s']:.2f} s", "",
             "cross-check of jobs=2"),
            ("   CLI `backhaul db upgrade --jobs 2 -q`, no-op", f"{up['cli_noop_jobs2_s']:.2f} s", "", ""),
        ]
    rows += [
        (f"3. GET {PORTAL_PATH} median, 1 tenant", _ms(http_["small"]["median"]), "", ""),
        (f"   GET {PORTAL_PATH} median, {big} tenants", _ms(http_["large"]["median"]), "", ""),
        (f"   latency ratio {big} / 1 tenants", f"{http_['ratio']:.3f}", "<= 1.1", verdict[lat["goal_met"]]),
        ("   median over rounds of the per-round ratio", f"{http_['paired_ratio']:.3f}", "",
         "drift-resistant check"),
        (f"   p90: 1 / {big} tenants", f"{_ms(http_['small']['p90'])} / {_ms(http_['large']['p90'])}", "", ""),
        (f"   by_host uncached median, 1 / {big} tenants",
         f"{_ms(look['uncached']['small']['median'])} / {_ms(look['uncached']['large']['median'])}", "",
         f"ratio {look['uncached']['ratio']:.3f} (paired {look['uncached']['paired_ratio']:.3f})"),
        (f"   by_host cached median, 1 / {big} tenants",
         f"{_ms(look['cached']['small']['median'])} / {_ms(look['cached']['large']['median'])}", "",
         f"ratio {look['cached']['ratio']:.3f} (paired {look['cached']['paired_ratio']:.3f})"),
    ]
    return rows


def print_summary(results: dict) -> None:
    env = results["environment"]
    print(f"\nBackhaul foundation benchmark ({env['mode']} run; PostgreSQL {env['postgres']}, "
          f"Python {env['python']}, {env['cpus']} CPUs)")
    rows = [("figure", "result", "goal", "verdict"), *summary_rows(results)]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for number, row in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        if number == 0:
            print("  ".join("-" * width for width in widths))
    reconnects = results["latency"]["http"]["reconnects"]
    print(f"(HTTP: {results['latency']['http']['small']['n']} timed requests per server after warm-up, one "
          f"keep-alive connection each; reconnects {reconnects}. Total run {results['total_s']:.0f} s.)")


# -- main ------------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL")
                        or "postgresql://postgres@127.0.0.1:5432/postgres",
                        help="server (and a database to connect to) where scratch databases are created")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15")
    parser.add_argument("--quick", action="store_true", help="small smoke run (" +
                        ", ".join(f"{k}={v}" for k, v in QUICK.items()) + ")")
    parser.add_argument("--provisions", type=int, help=f"figure 1 runs (default {FULL['provisions']})")
    parser.add_argument("--tenants", type=int, help=f"figure 2 tenant schemas (default {FULL['tenants']})")
    parser.add_argument("--latency-tenants", type=int,
                        help=f"figure 3 registry size (default {FULL['latency_tenants']})")
    parser.add_argument("--requests", type=int, help=f"figure 3 timed requests per server (default {FULL['requests']})")
    parser.add_argument("--warmup", type=int, help=f"figure 3 warm-up requests per server (default {FULL['warmup']})")
    parser.add_argument("--lookups", type=int,
                        help=f"figure 3 timed by_host calls per size (default {FULL['lookups']})")
    parser.add_argument("--no-cli", action="store_true", help="skip the `backhaul db upgrade` subprocess check")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results as JSON")
    opts = parser.parse_args(argv)
    for key, full in FULL.items():
        if getattr(opts, key) is None:
            setattr(opts, key, QUICK[key] if opts.quick else full)
        if getattr(opts, key) < 1:
            parser.error(f"--{key.replace('_', '-')} must be at least 1")
    return opts


def run(opts: argparse.Namespace) -> dict:
    """The three figures in order; the 200-tenant database of figure 2 becomes the large one of figure 3."""
    started = time.perf_counter()
    results: dict = {"environment": {
        "mode": "quick" if opts.quick else "full", "postgres": server_version(opts.database_url),
        "python": platform.python_version(), "cpus": os.cpu_count(),
        "options": {k: v for k, v in vars(opts).items() if k not in ("database_url", "json")}}}
    results["provision"] = bench_provision(opts.database_url, opts.provisions)
    with tempfile.TemporaryDirectory(prefix="backhaul-bench-") as tmp, contextlib.ExitStack() as stack:
        work_dir = Path(tmp)
        large = stack.enter_context(migrated_database(opts.database_url, "many"))
        env = None if opts.no_cli else child_env(large[0], opts.redis_url, work_dir)
        results["upgrade"] = bench_upgrade(large[1], opts.tenants, env)
        results["latency"] = bench_latency(stack, opts, large, work_dir)
    results["total_s"] = time.perf_counter() - started
    return results


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _sigterm_as_exit)
    opts = parse_args(argv)
    results = run(opts)
    print_summary(results)
    if opts.json:
        opts.json.parent.mkdir(parents=True, exist_ok=True)
        opts.json.write_text(json.dumps(results, indent=2) + "\n")
        print(f"results written to {opts.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
