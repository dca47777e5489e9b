"""Billing runs in the reseller portal, `/reseller/billing/runs`: the recent runs, starting (or resuming) the run
of a month, and a run's own page that shows its progress while a worker does it.

Starting calls what `POST /reseller/api/billing-runs` calls (`runs.start`, `finance.billing`): the run is
queued for a worker once the request commits, and the page goes to the run's address, which can be left and
come back to. The run page shows the progress the worker commits batch by batch (customers billed of those
to bill, invoices made, errors by customer) as a <progress> bar with its counts. With JavaScript, htmx asks
for the same page every second and swaps the progress region (`#run-progress`) until the run ends; without
it, "Refresh" reloads the page. A run whose worker died is shown `stalled` (runs.statuses), with Resume.
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, url_for

from app.portals.forms import FORM_EXPIRED, expired
from app.portals.nav import may_open
from app.portals.reseller.billing_forms import PERIOD_OUTSIDE, RunForm
from app.portals.reseller.shell import TEAM_KINDS, guard, page
from app.services import periods
from app.services.billing import run_periods, runs
from app.services.errors import Invalid
from app.services.settings import local_today
from app.web import db_session
from app.web.auth import requires

bp = Blueprint("reseller_billing_runs", __name__, url_prefix="/reseller/billing/runs")
guard(bp)
bp.context_processor(lambda: {"may_open": may_open})  # the section's links: those the member may open

STARTED = "The billing run is queued: this page follows it."
POLL_SECONDS = 1
UNDER_WAY = ("queued", "running")


def _shown(rows) -> list[dict]:
    status = runs.statuses(db_session(), rows)
    return [{"run": row, "status": status[row.id],
             "percent": round(100 * row.customers_done / row.customers_total) if row.customers_total else None}
            for row in rows]


def _runs_page(form: RunForm, status: int = 200):
    session = db_session()
    window = run_periods.window(session)
    return page("billing/runs", runs=_shown(runs.list_runs(session, limit=24)), form=form, window=window,
                may_start=may_open("reseller_billing_runs.start"), status=status)


@requires("finance.view", kinds=TEAM_KINDS)
def index():
    return _runs_page(RunForm(formdata=None, period=str(periods.Month.of(local_today(db_session())))))


@requires("finance.billing", kinds=TEAM_KINDS)
def start():
    form = RunForm()
    if not form.validate_on_submit():
        if expired(form):
            form.form_errors.append(FORM_EXPIRED)
        return _runs_page(form, 422)
    try:
        row = runs.start(db_session(), form.period.data, requested_by=g.principal.actor)
    except Invalid:
        form.period.errors = [PERIOD_OUTSIDE]
        return _runs_page(form, 422)
    flash(STARTED, "success")
    return redirect(url_for(".run", run_id=row.id), 303)


@requires("finance.view", kinds=TEAM_KINDS)
def run(run_id: int):
    shown = _shown([runs.get_run(db_session(), run_id)])[0]
    headers = {"Vary": "HX-Request", "Cache-Control": "no-store"}
    html, status, own = page("billing/run", shown=shown, following=shown["status"] in UNDER_WAY, poll=POLL_SECONDS,
                             may_start=may_open("reseller_billing_runs.start"), form=RunForm(
                                 formdata=None, period=shown["run"].period))
    return html, status, {**own, **headers}


bp.add_url_rule("", "index", index)
bp.add_url_rule("", "start", start, methods=["POST"])
bp.add_url_rule("/<int:run_id>", "run", run)
