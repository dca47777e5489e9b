"""Benchmark of the console's platform dashboard: every tenant summed, computed, and read back from Redis.

Why: the platform's figures are a pass over every tenant's schema (app/services/reports/dashboard.py `build`, one
short transaction per tenant), so their cost grows with the number of resellers; the console's page and its three
charts read them from Redis for five minutes (app/services/reports/platform_dashboard.py). This measures both,
in-process, one call at a time: `figures(fresh=True)` (the pass, as "Refresh now" or the first view of five
minutes pays it) and `figures()` (what every other view and chart pays), median and p90 of `--repeat`.

Seeding, in a scratch database `backhaul_bench_<random>_console` (dropped at the end): `--tenants` resellers
(default 100), each with `--customers` customers (default 200) with their services and open invoices, seeded as
bench/customers.py seeds; VACUUM ANALYZE. Redis: the `--redis-url` database, under a namespace of its own that is
deleted at the end.

Goal: the cached view p50 < 20 ms whatever the number of tenants; the fresh pass is reported per tenant.

    .venv/bin/python bench/console.py                       # 100 tenants of 200 customers
    .venv/bin/python bench/console.py --tenants 20 --quick
    .venv/bin/python bench/console.py --json bench/results/console.json
"""

from __future__ import annotations

import argparse
import os
import platform
import secrets
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import redis as redis_lib
from common import (
    add_connection_args,
    log,
    migrated_database,
    print_table,
    repeated,
    server_version,
    settle,
    write_json,
)
from customers import seed as seed_customers

from app.services import tenants as tenant_service
from app.services.reports import platform_dashboard
from app.services.settings import put_setting
from tenants import tenant_context

UTC_ZONE = ZoneInfo("UTC")
GOAL_CACHED_S = 0.020


def _letters(n: int) -> str:
    """A Portal ID prefix of its own for tenant n: BAAA, BAAB, …"""
    out = ""
    for _ in range(3):
        n, rest = divmod(n, 26)
        out = chr(ord("A") + rest) + out
    return "B" + out


def run(opts: argparse.Namespace) -> dict:
    started = time.perf_counter()
    os.environ["BACKHAUL_QUEUE_NAMESPACE"] = f"bench-console-{secrets.token_hex(4)}"  # redis_key's namespace
    redis = redis_lib.Redis.from_url(opts.redis_url)
    results: dict = {"environment": {
        "postgres": server_version(opts.database_url), "python": platform.python_version(), "cpus": os.cpu_count(),
        "loadavg_start": " ".join(f"{x:.2f}" for x in os.getloadavg()), "tenants": opts.tenants,
        "customers_per_tenant": opts.customers, "repeat": opts.repeat}}
    try:
        with migrated_database(opts.database_url, "console") as (url, db):
            log(f"provisioning {opts.tenants} tenants of {opts.customers} customers…")
            for n in range(opts.tenants):
                with db.session() as s:
                    tenant = tenant_service.provision(s, code=f"BENCH{n:04d}", name=f"Bench reseller {n}",
                                                      base_domain="bench.test")
                with db.session() as s, tenant_context(tenant):  # Portal IDs are unique across the platform
                    put_setting(s, "portal_id_format", {"prefix": _letters(n), "digits": 6})
                    s.commit()
                seed_customers(db, tenant, opts.customers)
            settle(url)
            today = datetime.now(UTC).date()
            results["fresh"] = repeated(lambda: platform_dashboard.figures(db, redis, today, UTC_ZONE, fresh=True),
                                     opts.repeat)
            results["fresh"]["per_tenant_ms"] = results["fresh"]["median"] * 1000 / opts.tenants
            log(f"fresh: median {results['fresh']['median'] * 1000:.0f} ms")
            results["cached"] = repeated(lambda: platform_dashboard.figures(db, redis, today, UTC_ZONE),
                                      opts.repeat * 10)
            log(f"cached: median {results['cached']['median'] * 1000:.1f} ms")
            found = platform_dashboard.figures(db, redis, today, UTC_ZONE)
            results["customers_total"] = found["figures"]["customers_total"]["value"]
    finally:
        for key in redis.scan_iter(f"{os.environ['BACKHAUL_QUEUE_NAMESPACE']}:*"):
            redis.delete(key)
    results["environment"]["loadavg_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    results["total_s"] = time.perf_counter() - started
    return results


def print_summary(results: dict) -> None:
    env = results["environment"]
    print(f"\nConsole dashboard over {env['tenants']} tenants of {env['customers_per_tenant']} customers "
          f"({results['customers_total']:,} customers counted); PostgreSQL {env['postgres']}, {env['cpus']} CPUs, "
          f"load {env['loadavg_start']} → {env['loadavg_end']}")
    fresh, cached = results["fresh"], results["cached"]
    print_table([
        ["what", "median ms", "p90 ms", f"goal p50 < {GOAL_CACHED_S * 1000:.0f} ms"],
        [f"computed over every tenant ({fresh['per_tenant_ms']:.1f} ms a tenant)", f"{fresh['median'] * 1000:.0f}",
         f"{fresh['p90'] * 1000:.0f}", ""],
        ["read back from Redis", f"{cached['median'] * 1000:.2f}", f"{cached['p90'] * 1000:.2f}",
         "ok" if cached["median"] < GOAL_CACHED_S else "SLOW"],
    ])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_connection_args(parser)
    parser.add_argument("--tenants", type=int, default=100)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="3 repeats")
    parser.add_argument("--json", type=Path)
    opts = parser.parse_args(argv)
    if opts.quick:
        opts.repeat = 3
    return opts


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    results = run(opts)
    print_summary(results)
    if opts.json:
        write_json(opts.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
