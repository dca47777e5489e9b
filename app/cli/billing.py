"""`backhaul billing`: billing runs from the command line.

`billing run --period 2026-11` queues the month's run of every active tenant (or of `--tenant CODE`) for
the workers; with `--wait` it then shows each run's progress, read from its `billing_runs` row (what the
workers commit batch by batch), until every run is done. Queuing a run again resumes it (one whose worker
died shows as stalled), and a run that is done bills only whoever it has not billed yet, so the command is
safe to repeat.

The period is checked for every tenant before any run is queued (app/services/billing/run_periods.py):
from the month of the tenant's first customer or service to the next month. Outside it the command
queues nothing and exits 2, naming the range; except that, billing every tenant, a tenant whose first
month is after the period is skipped with a note (it has nothing to bill then), so a tenant opened this
month does not block last month's run of all the others.
"""

from __future__ import annotations

import time

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from app.cli import err, fail, out, pass_runtime
from app.services.errors import ServiceError

FINISHED = ("done", "failed", "stalled")
USAGE = 2  # click's exit status for a bad option value
NO_WORKER_HINT = 15.0  # seconds a run may wait for a worker before we say it might have none


@click.group("billing")
def command() -> None:
    """Billing runs: invoice every billable customer of a month."""


def _tenants(runtime, code: str | None) -> list:
    from app.services import tenants as registry

    with runtime.db.session() as session:
        if code:
            try:
                return [registry.ref(registry.get(session, code))]
            except ServiceError as exc:
                fail(exc.detail)
        return [registry.ref(row) for row in registry.list_all(session) if row.status == "Active"]


def _billable(runtime, tenants: list, period: str, chosen: bool) -> list:
    """The tenants to bill in `period`, once every one of them has been checked; fails naming the range of
    each tenant that refuses it, before anything is queued."""
    from app.services import periods
    from app.services.billing import run_periods
    from tenants import tenant_context

    month = periods.parse(period)
    billable, problems = [], []
    for tenant in tenants:
        with tenant_context(tenant), runtime.db.session() as session:
            window = run_periods.window(session)
        try:
            window.check(month)
        except ServiceError as exc:
            if month < window.earliest and not chosen:
                err.print(f"{tenant.code}: skipped, nothing to bill before its first month {window.earliest}")
                continue
            problems.append(f"{tenant.code}: {exc.detail}")
            continue
        billable.append(tenant)
    if problems:
        fail("; ".join(problems) + "; nothing was queued", USAGE)
    return billable


def _start(runtime, tenants: list, period: str) -> dict:
    from app.services.billing import runs
    from tenants import tenant_context

    started = {}
    for tenant in tenants:
        try:
            with tenant_context(tenant), runtime.db.session() as session:
                started[tenant] = runs.start(session, period, requested_by="cli").id
        except ServiceError as exc:
            fail(f"{tenant.code}: {exc.detail}")
    return started


def _read(runtime, tenant, run_id: int):
    """The run's row, its `status` as people should see it (`stalled` when its worker died)."""
    from app.services.billing import runs
    from tenants import tenant_context

    with tenant_context(tenant), runtime.db.session() as session:
        row = runs.get_run(session, run_id)
        status = runs.statuses(session, [row])[row.id]
        session.expunge(row)
    row.status = status
    return row


@command.command("run")
@click.option("--period", required=True, metavar="YYYY-MM", help="The month to bill, e.g. 2026-11.")
@click.option("--tenant", "tenant_code", metavar="CODE", help="Only this tenant (default: every active tenant).")
@click.option("--wait/--no-wait", default=False, show_default=True, help="Show the progress until every run is done.")
@click.option("--poll", type=click.FloatRange(0.05, 60), default=0.5, show_default=True, hidden=True)
@pass_runtime
def run(runtime, period: str, tenant_code: str | None, wait: bool, poll: float) -> None:
    """Queue the billing run of PERIOD for the workers (and, with --wait, follow it)."""
    from app.services import periods

    try:
        period = str(periods.parse(period))
    except ServiceError as exc:
        fail(f"--{exc.detail}", USAGE)
    tenants = _tenants(runtime, tenant_code)
    if not tenants:
        fail("no active tenant to bill")
    tenants = _billable(runtime, tenants, period, chosen=tenant_code is not None)
    if not tenants:
        fail(f"no tenant has anything to bill in {period}")
    started = _start(runtime, tenants, period)
    for tenant, run_id in started.items():
        out.print(f"{tenant.code}: billing run {period} queued (#{run_id})")
    if not wait:
        out.print("follow it with `backhaul billing run --period ... --wait` or GET /reseller/api/billing-runs/<id>")
        return
    rows = _follow(runtime, started, poll)
    errors = sum(len(row.errors or []) for row in rows.values())
    for tenant, row in rows.items():
        out.print(f"{tenant.code}: {row.status}, {row.customers_done}/{row.customers_total} customers, "
                  f"{row.invoices_created} invoices, {len(row.errors or [])} errors")
        for problem in (row.errors or [])[:10]:
            err.print(f"  customer {problem.get('customer_id')}: {problem.get('error')}")
        if row.status == "stalled":
            err.print(f"  its worker stopped half-way: run `backhaul billing run --period {row.period} "
                      f"--tenant {tenant.code}` again to resume it")
    if errors or any(row.status != "done" for row in rows.values()):
        raise SystemExit(1)


def _follow(runtime, started: dict, poll: float) -> dict:
    rows = {}
    waited = time.monotonic()
    hinted = False
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[note]}"),
               TimeElapsedColumn())
    with Progress(*columns, console=out, transient=False) as progress:
        tasks = {tenant: progress.add_task(tenant.code, total=None, note="queued") for tenant in started}
        while True:
            for tenant, run_id in started.items():
                row = rows[tenant] = _read(runtime, tenant, run_id)
                progress.update(tasks[tenant], completed=row.customers_done, total=row.customers_total or None,
                                note=f"{row.status}, {row.invoices_created} invoices"
                                     + (f", {len(row.errors)} errors" if row.errors else ""))
            if all(row.status in FINISHED for row in rows.values()):
                return rows
            if not hinted and time.monotonic() - waited > NO_WORKER_HINT and \
                    all(row.status == "queued" for row in rows.values()):
                err.print("[yellow]no worker has taken the run yet: is one running (`backhaul run`, or "
                          "`dramatiq worker.main`)?[/yellow]")
                hinted = True
            time.sleep(poll)
