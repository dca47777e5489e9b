"""Benchmark of billing: a billing run's invoices per second against a plain bulk insert of the same rows,
and invoice PDFs per second on one core.

Goals (issue 6): the billing run at least half the bulk-insert rate; PDFs ≥ 50/s for a 10-line invoice,
and a 200-line invoice no more than 20× the 10-line time.

1. Seeds T tenants of a scratch database with N customers in all (N/T each), in set-based SQL: billing
   days 1–28; one monthly service each, a second one for every fifth customer; most services activated
   on their November billing date (one line each), every tenth in mid-October (a prorated line for
   20–31 Oct, a whole November, and a setup fee); a 16 % VAT rate; prepaid billing.
2. **Billing run** (`app.services.billing.runs.run`, as the worker does it: batches of 200 customers, one
   transaction each with the tenant's invoice counter locked, numbers, lines, taxes, ledger charges,
   progress) of "2026-11" for every tenant, one tenant after the other, in this one process. Run once to
   warm up and to produce the rows, which are kept in memory.
3. The invoices, lines, taxes and ledger entries are deleted (VACUUM), then the **bulk insert** writes
   the very same rows into the same tables (same ids, numbers, keys), with the statements the run writes
   with (one `INSERT … SELECT FROM unnest(…)` per table and batch, `runs.insert_rows`), batches of the
   same size, one transaction each, nothing computed or read: the floor a run cannot beat.
4. Deleted again (VACUUM), and the **billing run** is timed on the same clean tables: the figure.
   Steps 3 and 4 are repeated (`--repeat`, 3) alternately, and the median of each is kept: the box this
   runs on is shared, and one busy second must not decide the comparison.
5. **PDFs**: this process pinned to one CPU, an issued invoice of 10 lines and one of 200 lines drawn
   again and again through `pdfs.invoice_pdf` with its cached file removed each time (the full miss path:
   the document read from the database, then drawn: the tenant has the base theme, so by ReportLab
   directly (documents/fast_pdf.py); a theme's own document templates would go through xhtml2pdf).

Everything runs in a scratch database `backhaul_bench_<random>_bill` dropped at the end, even on error.

Run from the repository root:

    .venv/bin/python bench/billing.py             # full: 100,000 customers across 100 tenants
    .venv/bin/python bench/billing.py --quick     # 4,000 customers across 4 tenants, fewer PDFs
    .venv/bin/python bench/billing.py --pdf-only --pdfs 30   # only the PDF figure (step 5)
    .venv/bin/python bench/billing.py --customers 20000 --tenants 10 --json bench/results/billing.json
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from common import (
    BenchError,
    add_connection_args,
    log,
    migrated_database,
    print_table,
    server_version,
    settle,
    within_budget,
    write_json,
)
from sqlalchemy import text

from app.models.billing import Invoice, InvoiceLine, InvoiceTax, LedgerEntry
from app.services import catalogue
from app.services import tenants as tenant_service
from app.services.billing import invoices, pdfs, runs, tax
from app.services.branding import storage
from tenants import Tenant, tenant_context

PERIOD = "2026-11"
NOW = datetime(2026, 11, 1, 5, tzinfo=UTC)  # the run's moment: fixed, so every figure bills the same days
FULL = {"customers": 100_000, "tenants": 100, "pdfs": 100}
QUICK = {"customers": 4_000, "tenants": 4, "pdfs": 30}
BATCH = runs.BATCH
TABLES = (Invoice, InvoiceLine, InvoiceTax, LedgerEntry)  # in the order they are written
RESULTS = Path(__file__).resolve().parent / "results"

SEED_CUSTOMERS = """
INSERT INTO customers (id, portal_id, first_name, last_name, email, status, billing_day, address, city)
SELECT n, 'BIL' || lpad(n::text, 7, '0'), 'Customer', 'Number ' || n, 'c' || n || '@example.com', 'Active',
       1 + (n * 7) % 28, n || ' Ngong Road', 'Nairobi'
FROM generate_series(1, :count) AS n
"""
SEED_SERVICES = """
INSERT INTO services (customer_id, plan_id, kind, status, price, setup_fee, currency, billing_period, activated_at)
SELECT c.id, :plan, 'internet', 'Active', 1500.00 + (c.id % 5) * 500, CASE WHEN c.id % 10 = 0 THEN 2500.00 END,
       'KES', 'monthly',
       CASE WHEN c.id % 10 = 0 THEN timestamptz '2026-10-20 08:00+00'
            ELSE make_timestamptz(2026, 11, c.billing_day, 0, 30, 0, 'UTC') END
FROM customers c, generate_series(1, 2) AS k WHERE k = 1 OR c.id % 5 = 0
"""


# -- setting up ------------------------------------------------------------------------------------------

def provision(db, count: int, tenants: int) -> tuple[list[Tenant], float]:
    started = time.perf_counter()
    with db.session() as s:
        plan = catalogue.create_plan(s, code="BENCH-FIBRE", kind="internet", name="Home Fibre 20 Mbps",
                                     currency="KES", billing_period="monthly", wholesale_price=1000,
                                     download_kbps=20000, upload_kbps=5000)
        plan_id = plan.id
    made = []
    per_tenant = count // tenants
    for n in range(tenants):
        with db.session() as s:
            tenant = tenant_service.provision(s, code=f"BENCH_BILL_{n:03d}", name=f"Bench billing {n}",
                                              base_domain="bench.test")
            catalogue.authorise(s, plan_id, tenant.id)
        with db.session() as s, tenant_context(tenant):
            s.execute(text(SEED_CUSTOMERS), {"count": per_tenant})
            s.execute(text("SELECT setval(pg_get_serial_sequence('customers', 'id'), :c)"), {"c": per_tenant})
            s.execute(text(SEED_SERVICES), {"plan": plan_id})
            tax.create_rate(s, name="VAT", rate="16")
        made.append(tenant)
        if (n + 1) % 10 == 0:
            log(f"provisioned and seeded {n + 1}/{tenants} tenants")
    return made, time.perf_counter() - started


def clear(db, tenants: list[Tenant]) -> None:
    """Remove what a run wrote (the ledger's append-only trigger is paused for it: a scratch database)."""
    for tenant in tenants:
        with db.session() as s, tenant_context(tenant):
            s.execute(text("ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_append_only"))
            for table in ("payment_allocations", "ledger_entries", "invoice_taxes", "invoice_lines", "invoices",
                          "billing_runs"):
                s.execute(text(f"DELETE FROM {table}"))
            s.execute(text("DELETE FROM counters WHERE name LIKE 'number:%'"))
            s.execute(text("ALTER TABLE ledger_entries ENABLE TRIGGER ledger_entries_append_only"))


# -- the measurements ------------------------------------------------------------------------------------

def billing_run(db, tenants: list[Tenant]) -> dict:
    started = time.perf_counter()
    made = 0
    for tenant in tenants:
        with db.session() as s, tenant_context(tenant):
            run_id = runs.start(s, PERIOD, requested_by="bench", enqueue=False).id
        with tenant_context(tenant):
            done = runs.run(db, run_id, batch_size=BATCH, now=NOW)
        if done is None or done.status != "done" or done.errors:
            raise BenchError(f"the run of {tenant.code} ended {done and done.status}: {done and done.errors[:3]}")
        made += done.invoices_created
    seconds = time.perf_counter() - started
    return {"invoices": made, "seconds": seconds, "per_second": made / seconds}


def snapshot(db, tenants: list[Tenant]) -> dict:
    """Every row the run wrote, per tenant and table, as plain dicts (what the bulk insert writes again)."""
    rows = {}
    for tenant in tenants:
        with db.session() as s, tenant_context(tenant):
            rows[tenant.code] = {model.__tablename__: [dict(r._mapping) for r in s.execute(
                text(f"SELECT * FROM {model.__tablename__} ORDER BY id"))] for model in TABLES}
    return rows


def bulk_insert(db, tenants: list[Tenant], rows: dict) -> dict:
    """The same rows, batch by batch (BATCH invoices with their lines, taxes and ledger entries), one
    transaction each: a plain multi-row INSERT per table, nothing computed."""
    started = time.perf_counter()
    written = 0
    for tenant in tenants:
        mine = rows[tenant.code]
        children = {model.__tablename__: {} for model in TABLES[1:]}
        for model in TABLES[1:]:
            for row in mine[model.__tablename__]:
                children[model.__tablename__].setdefault(row["invoice_id"], []).append(row)
        invoices_ = mine["invoices"]
        for at in range(0, len(invoices_), BATCH):
            batch = invoices_[at:at + BATCH]
            with db.session() as s, tenant_context(tenant):
                runs.insert_rows(s, Invoice.__table__, batch)
                for model in TABLES[1:]:
                    runs.insert_rows(s, model.__table__, [
                        r for invoice in batch for r in children[model.__tablename__].get(invoice["id"], ())])
            written += len(batch)
    seconds = time.perf_counter() - started
    return {"invoices": written, "seconds": seconds, "per_second": written / seconds}


def pdf_rates(db, tenant: Tenant, rounds: int) -> dict:
    """Invoice PDFs a second on one CPU, 10 and 200 lines, cache missed every time."""
    cpu = sorted(os.sched_getaffinity(0))[0]
    saved = os.sched_getaffinity(0)
    out = {"cpu": cpu}
    with db.session() as s, tenant_context(tenant):
        customer_id = s.execute(text("SELECT min(id) FROM customers")).scalar_one()
        ids = {}
        for size in (10, 200):
            lines = [{"description": f"Item {n}: Home Fibre add-on, {n} GB", "unit_price": f"{100 + n}.50",
                      "quantity": str(1 + n % 3)} for n in range(size)]
            draft = invoices.create_draft(s, customer_id, lines)
            ids[size] = invoices.issue(s, draft.id, today=date(2026, 11, 1)).id
    folder = pdfs.cache_folder(tenant.schema)
    os.sched_setaffinity(0, {cpu})
    try:
        for size, invoice_id in ids.items():
            samples = []
            for n in range(rounds + 2):
                for old in folder.glob(f"invoice-{invoice_id}-*.pdf"):
                    old.unlink()
                started = time.perf_counter()
                with db.session() as s, tenant_context(tenant):
                    rendered = pdfs.invoice_pdf(s, invoice_id)
                if rendered.cached:
                    raise BenchError("the PDF came from the cache; it was meant to be drawn")
                if n >= 2:  # two warm-ups: templates compiled, fonts loaded
                    samples.append(time.perf_counter() - started)
            mean = sum(samples) / len(samples)
            # which drawing path was measured: the base theme's documents are drawn by ReportLab directly
            # (documents/fast_pdf.py), a theme's own document templates by xhtml2pdf
            drawn_by = "xhtml2pdf" if b"xhtml2pdf" in rendered.data else "reportlab"
            out[f"lines_{size}"] = {"mean_ms": mean * 1000, "per_second": 1 / mean, "bytes": len(rendered.data),
                                    "rounds": rounds, "drawn_by": drawn_by}
            log(f"PDF of {size} lines: {mean * 1000:.1f} ms ({1 / mean:.1f}/s), drawn by {drawn_by}")
    finally:
        os.sched_setaffinity(0, saved)
    out["ratio_200_to_10"] = out["lines_200"]["mean_ms"] / out["lines_10"]["mean_ms"]
    return out


def run(opts: argparse.Namespace) -> dict:
    started = time.perf_counter()
    results: dict = {"environment": {
        "mode": "quick" if opts.quick else "full", "postgres": server_version(opts.database_url),
        "python": platform.python_version(), "cpus": os.cpu_count(),
        "loadavg_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "customers": opts.customers, "tenants": opts.tenants, "batch": BATCH, "repeat": opts.repeat,
        "pdf_rounds": opts.pdfs}}
    with tempfile.TemporaryDirectory(prefix="backhaul-bench-") as tmp, \
            migrated_database(opts.database_url, "bill") as (url, db):
        storage.configure(tmp)  # the PDFs' cache folder
        if opts.pdf_only:  # one small tenant: the PDFs need only a customer to bill
            tenants, results["seed_s"] = provision(db, 10, 1)
            results["pdf"] = pdf_rates(db, tenants[0], opts.pdfs)
            results["environment"]["loadavg_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
            results["total_s"] = time.perf_counter() - started
            return results
        log(f"provisioning {opts.tenants} tenants with {opts.customers:,} customers…")
        tenants, results["seed_s"] = provision(db, opts.customers, opts.tenants)
        settle(url)
        log("billing run (warm-up, and the rows for the bulk insert)…")
        warm = billing_run(db, tenants)
        rows = snapshot(db, tenants)
        results["rows"] = {model.__tablename__: sum(len(r[model.__tablename__]) for r in rows.values())
                           for model in TABLES}
        log(f"warm-up: {warm['invoices']:,} invoices at {warm['per_second']:,.0f}/s; rows {results['rows']}")
        samples: dict[str, list[dict]] = {"bulk_insert": [], "billing_run": []}
        for round_ in range(opts.repeat):  # alternated, each on clean tables: a busy neighbour hits both alike
            for name, measure in (("bulk_insert", lambda: bulk_insert(db, tenants, rows)),
                                  ("billing_run", lambda: billing_run(db, tenants))):
                clear(db, tenants)
                settle(url)
                samples[name].append(measure())
                log(f"round {round_ + 1}: {name.replace('_', ' ')} {samples[name][-1]['per_second']:,.0f} invoices/s")
        for name, measured in samples.items():
            median = sorted(measured, key=lambda m: m["per_second"])[len(measured) // 2]
            results[name] = {**median, "samples_per_second": [m["per_second"] for m in measured]}
        results["run_vs_bulk"] = results["billing_run"]["per_second"] / results["bulk_insert"]["per_second"]
        results["pdf"] = pdf_rates(db, tenants[0], opts.pdfs)
    results["environment"]["loadavg_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    results["total_s"] = time.perf_counter() - started
    return results


def print_summary(results: dict) -> None:
    env = results["environment"]
    if "billing_run" not in results:  # --pdf-only
        print_pdf_summary(results)
        print(f"\nload average {env['loadavg_start']} → {env['loadavg_end']}; total {results['total_s']:.0f} s")
        return
    print(f"\nBilling, {env['customers']:,} customers across {env['tenants']} tenants, batches of {env['batch']} "
          f"(PostgreSQL {env['postgres']}, Python {env['python']}, {env['cpus']} CPUs; seeded in "
          f"{results['seed_s']:.1f} s)\n")
    run_, bulk = results["billing_run"], results["bulk_insert"]
    rows = [["what", "invoices", "seconds", "invoices/s", "goal"],
            ["billing run", f"{run_['invoices']:,}", f"{run_['seconds']:.2f}", f"{run_['per_second']:,.0f}",
             "ok" if results["run_vs_bulk"] >= 0.5 else "MISSED"],
            ["bulk insert, same rows", f"{bulk['invoices']:,}", f"{bulk['seconds']:.2f}",
             f"{bulk['per_second']:,.0f}", ""]]
    print_table(rows)
    rounds = ", ".join(f"{name.replace('_', ' ')} " + " / ".join(f"{x:,.0f}" for x in results[name][
        "samples_per_second"]) for name in ("billing_run", "bulk_insert"))
    print(f"\nevery round (invoices/s; the table shows the medians): {rounds}")
    print(f"run / bulk = {results['run_vs_bulk']:.2f} (goal ≥ 0.50); rows per run: "
          + ", ".join(f"{k} {v:,}" for k, v in results["rows"].items()))
    print_pdf_summary(results)
    print(f"\nload average {env['loadavg_start']} → {env['loadavg_end']}; total {results['total_s']:.0f} s")


def print_pdf_summary(results: dict) -> None:
    pdf = results["pdf"]
    print(f"\nInvoice PDFs on one CPU (#{pdf['cpu']}), cache missed each time\n")
    print_table([["lines", "mean", "PDFs/s", "goal"],
                 ["10", f"{pdf['lines_10']['mean_ms']:.1f} ms", f"{pdf['lines_10']['per_second']:.1f}",
                  "ok" if pdf["lines_10"]["per_second"] >= 50 else "MISSED (≥ 50/s)"],
                 ["200", f"{pdf['lines_200']['mean_ms']:.1f} ms", f"{pdf['lines_200']['per_second']:.1f}",
                  f"{pdf['ratio_200_to_10']:.1f}× the 10-line time "
                  + ("ok" if pdf["ratio_200_to_10"] <= 20 else "MISSED (≤ 20×)")]])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_connection_args(parser)
    parser.add_argument("--quick", action="store_true", help="4,000 customers across 4 tenants, fewer PDFs")
    parser.add_argument("--customers", type=int, help=f"customers in all (default {FULL['customers']:,})")
    parser.add_argument("--tenants", type=int, help=f"tenants to spread them over (default {FULL['tenants']})")
    parser.add_argument("--pdfs", type=int, help="timed PDFs per size (full 100, quick 30)")
    parser.add_argument("--pdf-only", action="store_true",
                        help="only the PDF figure (one tenant of 10 customers; no billing run)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of bulk insert and run, the median kept")
    parser.add_argument("--json", type=Path, metavar="PATH",
                        help="where to write the results (default bench/results/billing[-quick].json)")
    opts = parser.parse_args(argv)
    defaults = QUICK if opts.quick else FULL
    for key in ("customers", "tenants", "pdfs"):
        if getattr(opts, key) is None:
            setattr(opts, key, defaults[key])
    if not (1 <= opts.tenants <= 1000 and opts.tenants * 10 <= opts.customers <= 2_000_000 and opts.pdfs >= 1
            and 1 <= opts.repeat <= 20):
        parser.error("--tenants in [1, 1000], --customers at least 10 a tenant and at most 2,000,000")
    opts.json = opts.json or RESULTS / ("billing-pdf.json" if opts.pdf_only else
                                        "billing-quick.json" if opts.quick else "billing.json")
    return opts


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    seconds = 600 + opts.customers / 50 * opts.repeat + opts.tenants * 5 + opts.pdfs * 10
    results = within_budget(int(seconds), lambda: run(opts))
    print_summary(results)
    write_json(opts.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
