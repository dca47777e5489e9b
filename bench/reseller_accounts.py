"""Benchmark of a reseller's account with the master ISP: the wholesale accrual over a month of invoices,
the same accrual run again (the idempotent no-op the daily job is on most days), a payment applied
across every charge, and the credit gate a customer creation asks.

1. A scratch database with one reseller of N customers (set-based SQL as bench/billing.py seeds them: one
   monthly service each, a second for every fifth, every tenth activated mid-October so its bill has a
   prorated line), a wholesale price on every service, and the billing run of "2026-11" (not timed).
2. **Accrual** (`charges.accrue`): one charge per recurring line; then **again** (nothing to do).
3. **Payment** of the whole balance (`payments.record`): allocated oldest first over every charge.
4. **Gate**: `credit.new_customer_gate`, the mean of 200 calls.

Run from the repository root:

    .venv/bin/python bench/reseller_accounts.py                 # 20,000 customers
    .venv/bin/python bench/reseller_accounts.py --customers 100000
"""

from __future__ import annotations

import argparse
import sys
import time

from billing import NOW, PERIOD, SEED_CUSTOMERS, SEED_SERVICES
from common import add_connection_args, log, migrated_database, print_table, settle
from sqlalchemy import func, select, text

from app.models.reseller_accounts import AccountAllocation
from app.services import catalogue
from app.services import tenants as tenant_service
from app.services.billing import runs
from app.services.reseller_accounts import accounts, charges, credit, payments
from tenants import tenant_context


def run(opts: argparse.Namespace) -> dict:
    with migrated_database(opts.database_url, "acct") as (url, db):
        with db.session() as s:
            plan_id = catalogue.create_plan(s, code="BENCH-FIBRE", kind="internet", name="Fibre", currency="KES",
                                            billing_period="monthly", wholesale_price=1000, download_kbps=20000,
                                            upload_kbps=5000).id
            tenant = tenant_service.provision(s, code="BENCH_ACCT", name="Bench accounts", base_domain="bench.test")
            catalogue.authorise(s, plan_id, tenant.id)
        with db.session() as s, tenant_context(tenant):
            s.execute(text(SEED_CUSTOMERS), {"count": opts.customers})
            s.execute(text("SELECT setval(pg_get_serial_sequence('customers', 'id'), :c)"), {"c": opts.customers})
            s.execute(text(SEED_SERVICES), {"plan": plan_id})
            s.execute(text("UPDATE services SET wholesale_price = round(price * 0.6, 2)"))
            run_id = runs.start(s, PERIOD, requested_by="bench", enqueue=False).id
        log(f"seeded {opts.customers} customers; billing {PERIOD}")
        with tenant_context(tenant):
            runs.run(db, run_id, now=NOW)
        settle(url)
        with db.session() as s:
            accounts.configure(s, tenant.id, {"currency": "KES", "credit_limit": "1000000000.00"}, actor="bench")
        started = time.perf_counter()
        with db.session() as s, tenant_context(tenant):
            first = charges.accrue(s)
        accrual = time.perf_counter() - started
        started = time.perf_counter()
        with db.session() as s, tenant_context(tenant):
            again = charges.accrue(s)
        repeat = time.perf_counter() - started
        with db.session() as s:
            owed = credit.balance(s, tenant.id)
        started = time.perf_counter()
        with db.session() as s:
            payments.record(s, tenant.id, amount=owed, method="bank_transfer", reference="BENCH", actor="bench")
        paying = time.perf_counter() - started
        with db.session() as s:
            allocations = s.execute(select(func.count()).select_from(AccountAllocation)).scalar_one()
            started = time.perf_counter()
            for _ in range(200):
                credit.new_customer_gate(s, tenant.id)
            gate = (time.perf_counter() - started) / 200
    return {"customers": opts.customers, "charges": first.charged, "accrual_s": accrual,
            "charges_per_s": first.charged / accrual, "again_charged": again.charged, "again_s": repeat,
            "payment_s": paying, "allocations": allocations, "gate_ms": gate * 1000}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_connection_args(parser)
    parser.add_argument("--customers", type=int, default=20_000)
    r = run(parser.parse_args(argv))
    print_table([("measure", "value"),
                 ("customers", f"{r['customers']:,}"),
                 ("wholesale charges accrued", f"{r['charges']:,}"),
                 ("accrual", f"{r['accrual_s']:.2f} s ({r['charges_per_s']:,.0f} charges/s)"),
                 ("accrual again (no-op)", f"{r['again_s']:.2f} s, {r['again_charged']} charged"),
                 ("payment allocated over every charge", f"{r['payment_s']:.2f} s ({r['allocations']:,} allocations)"),
                 ("new-customer credit gate", f"{r['gate_ms']:.2f} ms")])
    return 0


if __name__ == "__main__":
    sys.exit(main())
