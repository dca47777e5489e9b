"""Benchmark of the dashboard and the reports on a tenant with 100,000 customers (goal: dashboard < 1 s).

Seeding: the customers, services and open invoices of bench/customers.py (its `seed`), then, set-based,
each live service's activation in `service_status_history`, and a ledger of `--months` months (default
12): every live service charged 1,500.00 on the 1st of each month (an invoice and its ledger entry) and
~90 % of them paid by M-PESA on the 5th (a payment, its ledger entry and its allocation). With 100,000
customers and 12 months that is ~1.1 M invoices, ~1 M payments and ~2.1 M ledger entries: a year of a
large reseller. Then VACUUM ANALYZE.

Timed in-process, one call at a time (median of `--repeat`): `dashboard.build` for the tenant (every
figure with its 12-month series; the very first view, which reads the whole year and keeps the closed
months in `report_months`, is timed on its own), and each report over the last full month (JSON rows, and CSV/XLSX
rendering of the same table).

Everything runs in a scratch database `backhaul_bench_<random>_reports`, dropped at the end.

    .venv/bin/python bench/reports.py                   # 100,000 customers, 12 months of ledger
    .venv/bin/python bench/reports.py --quick           # 100,000 customers, 3 months, fewer repeats
    .venv/bin/python bench/reports.py --json bench/results/reports.json
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

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
from sqlalchemy import text

from app.services import tenants as tenant_service
from app.services.reports import dashboard, export, reports, scope
from app.services.reports.periods import DateRange, add_months
from tenants import tenant_context

TENANT_CODE = "BENCH_REPORTS"
GOAL_S = 1.0
UTC_ZONE = ZoneInfo("UTC")

ACTIVATIONS = """
INSERT INTO service_status_history (service_id, at, from_status, to_status, reason, actor)
SELECT id, activated_at, 'Pending', 'Active', 'seeded', 'system' FROM services"""
# one invoice per live service and month, on the 1st, with its ledger entry
INVOICES = """
WITH m AS (SELECT generate_series(0, :months - 1) AS k),
     s AS (SELECT id, customer_id FROM services WHERE status <> 'Terminated')
INSERT INTO invoices (kind, series, number, status, customer_id, currency, period_start, period_end, issued_at,
                      due_on, subtotal, total, amount_paid, created_at, updated_at)
SELECT 'invoice', 'M', 'M-' || m.k || '-' || s.id,
       CASE WHEN hashint8(s.id * 31 + m.k) % 10 = 0 THEN 'Issued' ELSE 'Paid' END,
       s.customer_id, 'KES', d::date, (d + interval '1 month' - interval '1 day')::date, d,
       (d + interval '14 days')::date,
       1500.00, 1500.00, CASE WHEN hashint8(s.id * 31 + m.k) % 10 = 0 THEN 0 ELSE 1500.00 END, d, d
FROM m CROSS JOIN s
CROSS JOIN LATERAL (SELECT date_trunc('month', now()) - interval '1 month' * m.k AS d) AS dd"""
CHARGES = """
INSERT INTO ledger_entries (customer_id, at, kind, amount, currency, invoice_id, description)
SELECT customer_id, issued_at, 'charge', total, 'KES', id, 'Invoice ' || number FROM invoices WHERE series = 'M'"""
PAYMENTS = """
INSERT INTO payments (customer_id, method, amount, currency, status, provider, provider_ref, received_at,
                      receipt_number)
SELECT customer_id, 'mpesa', total, 'KES', 'succeeded', 'mpesa', 'BENCH' || id, issued_at + interval '4 days',
       'R-' || id
FROM invoices WHERE series = 'M' AND status = 'Paid'"""
PAYMENT_ENTRIES = """
INSERT INTO ledger_entries (customer_id, at, kind, amount, currency, payment_id, description)
SELECT customer_id, received_at, 'payment', -amount, 'KES', id, 'Payment ' || receipt_number FROM payments
WHERE provider_ref LIKE 'BENCH%'"""
ALLOCATIONS = """
INSERT INTO payment_allocations (payment_id, invoice_id, amount, at)
SELECT p.id, substr(p.provider_ref, 6)::bigint, p.amount, p.received_at FROM payments p
WHERE p.provider_ref LIKE 'BENCH%'"""


def seed(db, tenant, customers: int, months: int) -> dict:
    started = time.perf_counter()
    seed_customers(db, tenant, customers)
    counts = {}
    with db.session() as s, tenant_context(tenant):
        for name, sql in (("activations", ACTIVATIONS), ("invoices", INVOICES), ("charges", CHARGES),
                          ("payments", PAYMENTS), ("payment_entries", PAYMENT_ENTRIES),
                          ("allocations", ALLOCATIONS)):
            counts[name] = s.execute(text(sql), {"months": months}).rowcount
            log(f"  {name}: {counts[name]}")
    counts["seed_s"] = time.perf_counter() - started
    return counts


def run(opts: argparse.Namespace) -> dict:
    started = time.perf_counter()
    results: dict = {"environment": {
        "postgres": server_version(opts.database_url), "python": platform.python_version(), "cpus": os.cpu_count(),
        "loadavg_start": " ".join(f"{x:.2f}" for x in os.getloadavg()), "customers": opts.customers,
        "months": opts.months, "repeat": opts.repeat}}
    with migrated_database(opts.database_url, "reports") as (url, db):
        with db.session() as s:
            tenant = tenant_service.provision(s, code=TENANT_CODE, name="Bench reports", base_domain="bench.test")
        log(f"seeding {opts.customers} customers and {opts.months} months of ledger…")
        results["seed"] = seed(db, tenant, opts.customers, opts.months)
        log(f"seeded in {results['seed']['seed_s']:.1f} s; VACUUM ANALYZE")
        settle(url)
        with db.session() as s:
            where = scope.of_tenant(s, tenant)
        today = datetime.now(UTC).date()
        began = time.perf_counter()
        board = dashboard.build(db, where, today, UTC_ZONE)  # the first view reads the year, keeps closed months
        results["dashboard_first_s"] = time.perf_counter() - began
        log(f"dashboard, first view: {results['dashboard_first_s'] * 1000:.0f} ms")
        results["dashboard_values"] = {k: v["value"] for k, v in board["figures"].items()}
        results["dashboard"] = repeated(lambda: dashboard.build(db, where, today, UTC_ZONE), opts.repeat)
        log(f"dashboard: median {results['dashboard']['median'] * 1000:.0f} ms")
        last_month = add_months(today, -1)
        range_ = DateRange(last_month, add_months(today, 0).replace(day=1) - timedelta(days=1), UTC_ZONE)
        results["reports"] = {}
        for name in reports.REPORTS:
            table = reports.run(db, where, name, range_, {})
            figures = repeated(lambda name=name: reports.run(db, where, name, range_, {}), max(3, opts.repeat // 2))
            figures["rows"] = len(table.rows)
            figures["xlsx_s"] = repeated(lambda table=table: export.render(table, "xlsx"), 3)["median"]
            results["reports"][name] = figures
            log(f"{name}: median {figures['median'] * 1000:.0f} ms, {len(table.rows)} rows")
    results["environment"]["loadavg_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    results["total_s"] = time.perf_counter() - started
    return results


def print_summary(results: dict) -> None:
    env = results["environment"]
    print(f"\nDashboard and reports, {env['customers']:,} customers, {env['months']} months of ledger "
          f"({results['seed']['charges']:,} charges, {results['seed']['payment_entries']:,} payments); "
          f"PostgreSQL {env['postgres']}, {env['cpus']} CPUs, load {env['loadavg_start']} → {env['loadavg_end']}")
    d = results["dashboard"]
    rows = [["what", "median ms", "p90 ms", "rows", f"goal < {GOAL_S:.0f} s"],
            ["dashboard, first view (reads 12 months)", f"{results['dashboard_first_s'] * 1000:.0f}", "", "", ""],
            ["dashboard (12-month series)", f"{d['median'] * 1000:.0f}", f"{d['p90'] * 1000:.0f}", "",
             "ok" if d["median"] < GOAL_S else "SLOW"]]
    for name, r in results["reports"].items():
        rows.append([f"report {name}", f"{r['median'] * 1000:.0f}", f"{r['p90'] * 1000:.0f}", str(r["rows"]), ""])
    print_table(rows)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_connection_args(parser)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="3 months of ledger, 5 repeats")
    parser.add_argument("--json", type=Path)
    opts = parser.parse_args(argv)
    if opts.quick:
        opts.months, opts.repeat = 3, 5
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
