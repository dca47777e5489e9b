"""A run whose worker died half-way is shown as stalled, not `running` for ever, and resumes when started
again (issue 13).

The worker is a real process that bills one batch and then kills itself with SIGKILL (no goodbye: its
open transaction and its advisory lock die with its connection). While a worker holds a run it reads
`running`; once none does it reads `stalled`, in the API and in `backhaul billing run --wait`; starting
the period again queues it, and the next worker finishes it: everyone billed once, numbers without gaps.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text

from app.cli import main
from app.models.billing import BillingRun, Invoice
from app.services.billing import runs
from tenants import registry, tenant_context
from tests.billing.test_payments import finance_headers
from tests.conftest import ROOT

TODAY = datetime(2026, 11, 6, 9, tzinfo=UTC)
pytestmark = pytest.mark.clock(TODAY)
WAIT = 60

DIES_AFTER_ONE_BATCH = """
import os, signal, sys
from app.db import Database
from app.services.billing import runs
from tenants import registry, tenant_context

db = Database.from_url(os.environ["DATABASE_URL"], pool_size=1)
tenant = registry.bind(db.engine, listen=False).by_code(sys.argv[1])
with tenant_context(tenant):
    runs.run(db, int(sys.argv[2]), batch_size=2, on_batch=lambda result: os.kill(os.getpid(), signal.SIGKILL))
"""

SEED = ["""
INSERT INTO customers (portal_id, first_name, last_name, status, billing_day, created_at)
SELECT 'STL' || lpad(n::text, 6, '0'), 'Stalled', 'Run ' || n, 'Active', 1, :now FROM generate_series(1, 6) AS n
""", """
INSERT INTO services (customer_id, plan_id, kind, status, price, currency, billing_period, activated_at)
SELECT id, :plan, 'internet', 'Active', 1000.00, 'KES', 'monthly', '2026-10-01 08:00+00' FROM customers
"""]


@pytest.fixture
def tenant_to_bill(db, make_tenant, make_plan):
    from app.services import catalogue

    tenant = make_tenant("STL")
    plan = make_plan(wholesale_price="800.00", currency="KES")
    with db.session() as s:
        catalogue.authorise(s, plan.id, tenant.id)
    with db.session() as s, tenant_context(tenant):
        for statement in SEED:
            s.execute(text(statement), {"plan": plan.id, "now": TODAY})
    return tenant


def _get(client, headers, run_id: int) -> dict:
    reply = client.get(f"/reseller/api/billing-runs/{run_id}", headers=headers)
    assert reply.status_code == 200
    return reply.get_json()


def test_a_run_whose_worker_was_killed_shows_stalled_and_resumes_when_started_again(app, db, tenant_to_bill,
                                                                                   test_env):
    tenant = tenant_to_bill
    headers = finance_headers(app, db, tenant)
    client = app.test_client()
    with db.session() as s, tenant_context(tenant):
        run_id = runs.start(s, "2026-11", requested_by="test", enqueue=False).id

    killed = subprocess.run([sys.executable, "-c", DIES_AFTER_ONE_BATCH, tenant.code, str(run_id)], cwd=ROOT,
                            env={**os.environ, **test_env}, timeout=WAIT, capture_output=True)
    assert killed.returncode == -9, killed.stderr.decode()[-2000:]
    with db.session() as s, tenant_context(tenant):
        row = s.get(BillingRun, run_id)
        assert (row.status, row.customers_done, row.invoices_created) == ("running", 2, 2)  # what the row says
    shown = _get(client, headers, run_id)
    assert (shown["status"], shown["customers_done"]) == ("stalled", 2)
    listed = client.get("/reseller/api/billing-runs", headers=headers).get_json()
    assert [(r["id"], r["status"]) for r in listed] == [(run_id, "stalled")]

    try:
        followed = CliRunner().invoke(main, ["billing", "run", "--period", "2026-11", "--tenant", tenant.code,
                                             "--no-wait"])
    finally:
        registry.bind(db.engine)
    assert followed.exit_code == 0, followed.output
    assert _get(client, headers, run_id)["status"] == "queued"  # started again: waiting for a worker

    with tenant_context(tenant):
        done = runs.run(db, run_id)
    assert (done.status, done.customers_done, done.invoices_created, done.errors) == ("done", 6, 6, [])
    with db.session() as s, tenant_context(tenant):
        per_customer = s.execute(select(func.count()).select_from(Invoice).group_by(Invoice.customer_id)).scalars()
        assert list(per_customer) == [1] * 6
        numbers = sorted(s.execute(select(Invoice.number)).scalars())
    assert numbers == [f"INV-2026-{n:06d}" for n in range(1, 7)]


def test_a_run_a_worker_holds_reads_running_and_a_second_start_leaves_it_so(app, db, tenant_to_bill):
    tenant = tenant_to_bill
    headers = finance_headers(app, db, tenant)
    client = app.test_client()
    with db.session() as s, tenant_context(tenant):
        run_id = runs.start(s, "2026-11", requested_by="test", enqueue=False).id
    first_batch, release = threading.Event(), threading.Event()

    def on_batch(result) -> None:
        first_batch.set()
        release.wait(WAIT)

    def bill() -> None:
        with tenant_context(tenant):
            runs.run(db, run_id, batch_size=2, on_batch=on_batch)

    worker = threading.Thread(target=bill, daemon=True)
    worker.start()
    try:
        assert first_batch.wait(WAIT)
        assert _get(client, headers, run_id)["status"] == "running"
        again = client.post("/reseller/api/billing-runs", headers=headers, json={"period": "2026-11"})
        assert again.status_code == 202 and again.get_json()["status"] == "running"
    finally:
        release.set()
    worker.join(WAIT)
    assert not worker.is_alive()
    assert _get(client, headers, run_id)["status"] == "done"


def test_the_cli_following_a_run_says_when_its_worker_died(db, tenant_to_bill, test_env):
    tenant = tenant_to_bill
    with db.session() as s, tenant_context(tenant):
        run_id = runs.start(s, "2026-11", requested_by="test", enqueue=False).id
    subprocess.run([sys.executable, "-c", DIES_AFTER_ONE_BATCH, tenant.code, str(run_id)], cwd=ROOT,
                   env={**os.environ, **test_env}, timeout=WAIT, capture_output=True)
    from app.cli import billing

    class Runtime:
        pass

    runtime = Runtime()
    runtime.db = db
    followed: list = []
    follower = threading.Thread(target=lambda: followed.append(billing._follow(runtime, {tenant: run_id}, 0.05)),
                                daemon=True)
    follower.start()
    follower.join(WAIT)
    assert not follower.is_alive(), "the CLI kept waiting for a run nobody is doing"
    [rows] = followed
    assert rows[tenant].status == "stalled" and rows[tenant].customers_done == 2
