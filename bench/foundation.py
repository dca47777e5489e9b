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
`--database-url` and dropped at the end, even on error or Ctrl-C; servers listen on loopback only. The
generic helpers (scratch databases, gunicorn, statistics) are in `bench/common.py`.

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
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from common import (
    BASE_DOMAIN,
    ROOT,
    BenchError,
    Server,
    _sigterm_as_exit,
    add_connection_args,
    backhaul_cli,
    child_env,
    gunicorn,
    log,
    migrated_database,
    ms,
    platform_host,
    print_table,
    server_version,
    settle,
    stats,
    timed,
    write_json,
)
from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.db import Database
from app.services import tenants as tenant_service
from migrations import runner
from tenants.registry import TenantDirectory

PORTAL_PATH = "/api/v1/portal"
PROVISION_GOAL_S = 1.0
LATENCY_RATIO_GOAL = 1.1
ROUNDS = 20  # small and large are sampled in alternating blocks of count / ROUNDS samples each

FULL = {"provisions": 15, "tenants": 200, "latency_tenants": 500, "requests": 2000, "warmup": 200,
        "lookups": 2000}
QUICK = {"provisions": 5, "tenants": 20, "latency_tenants": 50, "requests": 300, "warmup": 50,
         "lookups": 300}


# -- small helpers ---------------------------------------------------------------------------------
def tenant_code(number: int) -> str:
    """Codes of equal length everywhere, so responses of the 1- and L-tenant servers are the same size."""
    return f"BENCH_{number:05d}"


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
        (f"3. GET {PORTAL_PATH} median, 1 tenant", ms(http_["small"]["median"]), "", ""),
        (f"   GET {PORTAL_PATH} median, {big} tenants", ms(http_["large"]["median"]), "", ""),
        (f"   latency ratio {big} / 1 tenants", f"{http_['ratio']:.3f}", "<= 1.1", verdict[lat["goal_met"]]),
        ("   median over rounds of the per-round ratio", f"{http_['paired_ratio']:.3f}", "",
         "drift-resistant check"),
        (f"   p90: 1 / {big} tenants", f"{ms(http_['small']['p90'])} / {ms(http_['large']['p90'])}", "", ""),
        (f"   by_host uncached median, 1 / {big} tenants",
         f"{ms(look['uncached']['small']['median'])} / {ms(look['uncached']['large']['median'])}", "",
         f"ratio {look['uncached']['ratio']:.3f} (paired {look['uncached']['paired_ratio']:.3f})"),
        (f"   by_host cached median, 1 / {big} tenants",
         f"{ms(look['cached']['small']['median'])} / {ms(look['cached']['large']['median'])}", "",
         f"ratio {look['cached']['ratio']:.3f} (paired {look['cached']['paired_ratio']:.3f})"),
    ]
    return rows


def print_summary(results: dict) -> None:
    env = results["environment"]
    print(f"\nBackhaul foundation benchmark ({env['mode']} run; PostgreSQL {env['postgres']}, "
          f"Python {env['python']}, {env['cpus']} CPUs)")
    print_table([("figure", "result", "goal", "verdict"), *summary_rows(results)])
    reconnects = results["latency"]["http"]["reconnects"]
    print(f"(HTTP: {results['latency']['http']['small']['n']} timed requests per server after warm-up, one "
          f"keep-alive connection each; reconnects {reconnects}. Total run {results['total_s']:.0f} s.)")


# -- main ------------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_connection_args(parser)
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
        write_json(opts.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
