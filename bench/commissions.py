"""Benchmark of the commission engine: one month of customer payments across a three-level tree of 50
resellers, computed the way the period close computes them.

1. A scratch database gets a tree of 50 tenants: 5 resellers of the master ISP, 3 sub-resellers under
   each (15), 2 under each of those (30). Recurring percents differ per level and per tenant (commission
   percent, and a recurring rule for every third tenant), so the pass-through has work at each level;
   every tenant has a fixed setup rule, so each customer's first payment also earns setup lines.
2. Each tenant gets customers and its share of the month's payments (N in all, November 2026), in
   set-based SQL (`INSERT … SELECT generate_series`): amounts from 100.00 to 4,999.99.
3. **The figure**: for every tenant, the month's payment ids, then `engine.compute_many` (what
   `close.close` runs for its sweep, and what the per-payment job runs for one): batches of payments read
   in one query each, the branch's rules read once, one multi-row insert per earner and batch, each earner
   in its own schema and transaction. Wall time, and payments per second.
4. **Check**: the lines of all 50 schemas add up to what PostgreSQL computes independently — per payment,
   its amount at the top rate of its branch, rounded half-up (`round(numeric, 2)`), plus the setup amounts
   of the first payments — and the line count is what it should be.
5. **Again**: the same computation a second time (the close run twice, a retried job): no line is
   written, and its time is reported.

Run from the repository root:

    .venv/bin/python bench/commissions.py            # 100,000 payments
    .venv/bin/python bench/commissions.py --quick    # 10,000 payments
    .venv/bin/python bench/commissions.py --json bench/results/commissions.json
"""

from __future__ import annotations

import argparse
import platform
import signal
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

from common import (
    BenchError,
    _sigterm_as_exit,
    add_connection_args,
    log,
    migrated_database,
    print_table,
    server_version,
    settle,
    write_json,
)
from sqlalchemy import text

from app.models import Tenant as TenantRow
from app.services import tenants as tenant_service
from app.services.commissions import engine, rules
from tenants import Tenant, tenant_context

FULL = 100_000
QUICK = 10_000
SHAPE = (5, 3, 2)  # children per node at each level: 5 + 15 + 30 = 50 tenants
PAYMENTS_PER_CUSTOMER = 10
SETUP = Decimal("25.00")  # every tenant's fixed setup amount per new customer (KES)
RESULTS = Path(__file__).resolve().parent / "results"

SEED_CUSTOMERS = """
INSERT INTO customers (portal_id, first_name, last_name, email, status)
SELECT :prefix || lpad(n::text, 7, '0'), 'Customer', 'Number ' || n, 'c' || n || '@example.com', 'Active'
FROM generate_series(1, :count) AS n
"""
# amounts 100.00–4,999.99 spread by a multiplicative hash; times spread over November (UTC)
SEED_PAYMENTS = """
INSERT INTO payments (customer_id, method, amount, currency, status, provider, received_at)
SELECT c.id, 'mpesa', (10000 + (n * 7919 + c.id * 104729) % 489999) / 100.0, 'KES', 'succeeded', 'manual',
       timestamptz '2026-11-01 00:00+00' + ((n * 2654435761) % 2592000) * interval '1 second'
FROM (SELECT id, row_number() OVER (ORDER BY id) AS k FROM customers) c
JOIN generate_series(1, :count) AS n ON (n - 1) % :customers = c.k - 1
"""
EXPECTED = """
SELECT COALESCE(SUM(round(amount * :rate / 100, 2)), 0), COUNT(*) FROM payments
"""


def _percent(level: int, n: int) -> Decimal:
    """Rates fall with depth and differ between siblings: 20–22 %, 12.5–14.5 %, 7.25–9.25 %."""
    return (Decimal("20.00"), Decimal("12.50"), Decimal("7.25"))[level] + Decimal(n % 3)


def build_tree(db) -> list[tuple[Tenant, int, list[int]]]:
    """50 tenants; returns (tenant, level, branch ids payer first)."""
    made: list[tuple[Tenant, int, list[int]]] = []
    frontier: list[tuple[Tenant | None, list[int]]] = [(None, [])]
    n = 0
    for level, fan in enumerate(SHAPE):
        nxt = []
        for parent, above in frontier:
            for _ in range(fan):
                n += 1
                with db.session() as s:
                    tenant = tenant_service.provision(s, code=f"BENCH_COM_{n:03d}", name=f"Bench commissions {n}",
                                                      base_domain="bench.test",
                                                      parent_code=parent.code if parent else None)
                    row = s.get(TenantRow, tenant.id)
                    row.commission_percent = _percent(level, n)
                with db.session() as s:
                    if n % 3 == 0:  # a rule overrides the percent from mid-month: both paths in the figure
                        rules.create(s, tenant.id, kind="recurring", effective_from=date(2026, 11, 16),
                                     rate=str(_percent(level, n) + Decimal("0.5")), actor="bench")
                    rules.create(s, tenant.id, kind="setup", effective_from=date(2026, 1, 1), amount=str(SETUP),
                                 currency="KES", actor="bench")
                branch = [tenant.id, *above]
                made.append((tenant, level, branch))
                nxt.append((tenant, branch))
        frontier = nxt
        log(f"level {level}: {len(nxt)} tenants")
    return made


def seed(db, tree, payments: int) -> None:
    per_tenant = payments // len(tree)
    for number, (tenant, _, _) in enumerate(tree):
        count = per_tenant + (1 if number < payments % len(tree) else 0)
        customers = max(1, count // PAYMENTS_PER_CUSTOMER)
        with db.session() as s, tenant_context(tenant):
            s.execute(text(SEED_CUSTOMERS), {"prefix": f"B{number:02d}", "count": customers})
            s.execute(text(SEED_PAYMENTS), {"count": count, "customers": customers})


def compute(db, tree) -> dict:
    started = time.perf_counter()
    paid = lines = 0
    for tenant, _, _ in tree:
        with tenant_context(tenant):
            with db.session() as s:
                ids = list(s.execute(text("SELECT id FROM payments ORDER BY id")).scalars())
            outcome = engine.compute_many(db, ids)
        paid += outcome.payments
        lines += outcome.lines
    seconds = time.perf_counter() - started
    return {"payments": paid, "lines_written": lines, "seconds": round(seconds, 3),
            "payments_per_second": round(paid / seconds, 1)}


def _top_rates(db, tree) -> dict[int, Decimal]:
    """Per tenant, the highest recurring rate of its branch on the day (before and after the 16th)."""
    with db.session() as s:
        rows = {r.id: r for r in s.execute(text("SELECT id, commission_percent FROM public.tenants")).all()}
        rule_rates = dict(s.execute(text("SELECT tenant_id, rate FROM public.commission_rules "
                                         "WHERE kind = 'recurring'")).all())
    out = {}
    for tenant, _, branch in tree:
        before = max(Decimal(rows[t].commission_percent) for t in branch)
        after = max(Decimal(rule_rates.get(t, rows[t].commission_percent)) for t in branch)
        out[tenant.id] = (before, after)
    return out


def check(db, tree) -> dict:
    """The engine's lines against PostgreSQL's own arithmetic, payment by payment."""
    tops = _top_rates(db, tree)
    expected = Decimal(0)
    payments = customers = 0
    for tenant, _, _ in tree:
        before, after = tops[tenant.id]
        with db.session() as s, tenant_context(tenant):
            for rate, when in ((before, "received_at < timestamptz '2026-11-16 00:00+00'"),
                               (after, "received_at >= timestamptz '2026-11-16 00:00+00'")):
                total, count = s.execute(text(EXPECTED.replace("FROM payments", f"FROM payments WHERE {when}")),
                                         {"rate": rate}).one()
                expected += Decimal(total)
                payments += count
            paying = s.execute(text("SELECT COUNT(DISTINCT customer_id) FROM payments")).scalar_one()
            customers += paying
            expected += SETUP * paying  # the top level's setup amount, passed through: SETUP in all
    got, lines = Decimal(0), 0
    for tenant, _, _ in tree:
        with db.session() as s, tenant_context(tenant):
            total, count = s.execute(text("SELECT COALESCE(SUM(amount), 0), COUNT(*) FROM commission_lines")).one()
            got += Decimal(total)
            lines += count
    if got != expected:
        raise BenchError(f"the lines add up to {got}, PostgreSQL's own arithmetic says {expected}")
    return {"payments": payments, "customers": customers, "lines": lines, "total": str(got), "expected": str(expected)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK:,} payments instead of {FULL:,}")
    parser.add_argument("--payments", type=int, help="how many payments (overrides --quick)")
    parser.add_argument("--json", type=Path, help="also write the results here (e.g. bench/results/commissions.json)")
    add_connection_args(parser)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _sigterm_as_exit)
    count = args.payments or (QUICK if args.quick else FULL)
    results = {"payments_requested": count, "tenants": 5 + 5 * 3 + 5 * 3 * 2,
               "python": platform.python_version(), "postgres": server_version(args.database_url)}
    with migrated_database(args.database_url, "comm") as (url, db):
        started = time.perf_counter()
        tree = build_tree(db)
        seed(db, tree, count)
        settle(url)
        results["setup_seconds"] = round(time.perf_counter() - started, 1)
        log(f"tree and {count:,} payments ready in {results['setup_seconds']} s; computing")
        results["compute"] = compute(db, tree)
        results["check"] = check(db, tree)
        results["again"] = compute(db, tree)
        if results["again"]["lines_written"]:
            raise BenchError(f"the second computation wrote {results['again']['lines_written']} lines")
    c, again = results["compute"], results["again"]
    print_table([
        ("what", "payments", "lines written", "seconds", "payments/s"),
        ("compute (first)", f"{c['payments']:,}", f"{c['lines_written']:,}", f"{c['seconds']:.2f}",
         f"{c['payments_per_second']:,.0f}"),
        ("compute (again)", f"{again['payments']:,}", f"{again['lines_written']:,}", f"{again['seconds']:.2f}",
         f"{again['payments_per_second']:,.0f}"),
    ])
    print(f"check: {results['check']['lines']:,} lines add up to {results['check']['total']} KES = expected "
          f"{results['check']['expected']} ({results['check']['customers']:,} paying customers)")
    if args.json:
        write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
