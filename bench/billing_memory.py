"""Benchmark of a billing run's memory: does it stay flat however far ahead of the last bill the run is?

Issue 13: a run's memory grew with its period (a line per cycle between a service's last bill and the
period, all of a 1,000-customer batch at once), so "3000-01" grew a worker to gigabytes. Periods are now
bounded (to the next month) and a batch stops planning at `runs.LINE_BUDGET` lines; this measures what
that leaves.

For each case, a tenant of N customers (one monthly service each, billing day 1, activated on
1 Jan 2025) is billed for January 2025 with the clock there, then the clock is moved K months on and the
run of that month is measured: every customer has K months to catch up, a line each. Measured in this
one process: the run's Python peak (tracemalloc, from just before the run to its end), its wall time,
the largest batch (lines) and the batch count.

- K = 1, 12 and 36 with the line budget: the question. Flat means the peak stops growing once a batch
  reaches the budget (about 2 KiB a line planned): 36 months ahead holds what 12 months ahead holds;
- K = 36 with the budget lifted (`--no-budget-case`: skipped): what a batch of 1,000 customers with
  three years each to catch up would hold without it, for scale (before the budget, any period did
  this, and "3000-01" planned some 11,700 lines a customer).

Run from the repository root:

    .venv/bin/python bench/billing_memory.py                 # 2,000 customers
    .venv/bin/python bench/billing_memory.py --customers 500 --json /tmp/billing-memory.json
"""

from __future__ import annotations

import argparse
import gc
import platform
import sys
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

from common import BenchError, add_connection_args, log, migrated_database, print_table, server_version, write_json
from sqlalchemy import text

from app import clock
from app.services import catalogue
from app.services import tenants as tenant_service
from app.services.billing import runs
from tenants import tenant_context

FIRST = datetime(2025, 1, 1, 6, tzinfo=UTC)
SEED = ["""
INSERT INTO customers (portal_id, first_name, last_name, status, billing_day, created_at)
SELECT 'MEM' || lpad(n::text, 7, '0'), 'Customer', 'Number ' || n, 'Active', 1, :at FROM generate_series(1, :n) AS n
""", """
INSERT INTO services (customer_id, plan_id, kind, status, price, currency, billing_period, activated_at)
SELECT id, :plan, 'internet', 'Active', 1500.00, 'KES', 'monthly', :at FROM customers
"""]


def _month(moment: datetime, ahead: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 + ahead
    return moment.replace(year=index // 12, month=index % 12 + 1)


def _run(db, tenant, period: str, **kwargs):
    with db.session() as s, tenant_context(tenant):
        run_id = runs.start(s, period, requested_by="bench", enqueue=False).id
    with tenant_context(tenant):
        done = runs.run(db, run_id, **kwargs)
    if done is None or done.status != "done" or done.errors:
        raise BenchError(f"the run of {period} ended {done and done.status}: {done and done.errors[:3]}")
    return done


def case(db, plan_id: int, n: int, customers: int, ahead: int, budget: int) -> dict:
    with clock.travel(FIRST):
        with db.session() as s:
            tenant = tenant_service.provision(s, code=f"BENCH_MEM_{n:02d}", name=f"Bench memory {n}",
                                              base_domain="bench.test")
            catalogue.authorise(s, plan_id, tenant.id)
        with db.session() as s, tenant_context(tenant):
            for statement in SEED:
                s.execute(text(statement), {"n": customers, "plan": plan_id, "at": FIRST})
        _run(db, tenant, "2025-01")
    later = _month(FIRST, ahead)
    batches: list = []
    saved = runs.LINE_BUDGET
    runs.LINE_BUDGET = budget
    try:
        with clock.travel(later):
            gc.collect()
            tracemalloc.start()
            started = time.perf_counter()
            done = _run(db, tenant, f"{later:%Y-%m}", on_batch=batches.append)
            seconds = time.perf_counter() - started
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
    finally:
        runs.LINE_BUDGET = saved
    lines = sum(b.lines for b in batches)
    if lines != customers * ahead:
        raise BenchError(f"{ahead} months ahead billed {lines} lines, not {customers * ahead}")
    result = {"months_ahead": ahead, "line_budget": budget, "customers": customers, "invoices": done.invoices_created,
              "lines": lines, "batches": len(batches), "largest_batch_lines": max(b.lines for b in batches),
              "peak_mib": peak / 2**20, "seconds": seconds}
    log(f"{ahead:>2} months ahead, budget {budget:,}: peak {result['peak_mib']:.1f} MiB, {seconds:.1f} s, "
        f"{len(batches)} batches")
    return result


def run(opts: argparse.Namespace) -> dict:
    cases = [(1, runs.LINE_BUDGET), (12, runs.LINE_BUDGET), (36, runs.LINE_BUDGET)]
    if not opts.no_budget_case:
        cases.append((36, 10**9))
    results = {"environment": {"postgres": server_version(opts.database_url), "python": platform.python_version(),
                               "customers": opts.customers, "batch": runs.BATCH}, "cases": []}
    with migrated_database(opts.database_url, "billmem") as (_url, db):
        with db.session() as s:
            plan_id = catalogue.create_plan(s, code="BENCH-MEM", kind="internet", name="Home Fibre 20 Mbps",
                                            currency="KES", billing_period="monthly", wholesale_price=1000,
                                            download_kbps=20000, upload_kbps=5000).id
        for n, (ahead, budget) in enumerate(cases):
            results["cases"].append(case(db, plan_id, n, opts.customers, ahead, budget))
    flat = {c["months_ahead"]: c["peak_mib"] for c in results["cases"] if c["line_budget"] == runs.LINE_BUDGET}
    results["peak_ratio_36_to_12"] = flat[36] / flat[12]
    return results


def print_summary(results: dict) -> None:
    env = results["environment"]
    print(f"\nBilling run memory, {env['customers']:,} customers, batches of up to {env['batch']:,} customers "
          f"(PostgreSQL {env['postgres']}, Python {env['python']})\n")
    rows = [["months ahead", "line budget", "lines", "batches", "largest batch", "peak (tracemalloc)", "seconds"]]
    for c in results["cases"]:
        rows.append([str(c["months_ahead"]), f"{c['line_budget']:,}" if c["line_budget"] < 10**9 else "none",
                     f"{c['lines']:,}", str(c["batches"]), f"{c['largest_batch_lines']:,} lines",
                     f"{c['peak_mib']:.1f} MiB", f"{c['seconds']:.1f}"])
    print_table(rows)
    print(f"\npeak with the budget, 36 months ahead / 12 months ahead: {results['peak_ratio_36_to_12']:.2f} "
          "(flat: about 1)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_connection_args(parser)
    parser.add_argument("--customers", type=int, default=2000, help="customers per case (default 2,000)")
    parser.add_argument("--no-budget-case", action="store_true", help="skip the case with the line budget lifted")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results there")
    opts = parser.parse_args(argv)
    if not 10 <= opts.customers <= 200_000:
        parser.error("--customers in [10, 200000]")
    results = run(opts)
    print_summary(results)
    if opts.json:
        write_json(opts.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
