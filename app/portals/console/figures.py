"""The console's Reports, `/console/reports` (blueprint `console_figures`: the API's holds `console_reports`): every
report of app/services/reports/reports.py over the whole platform or over one reseller with its sub-resellers, as
the console API's `/console/api/reports/<name>` gives it (`tenant`, app/services/reports/scope.py `of_platform`),
dates in UTC.

A report's page is the reseller portal's (app/portals/report_views.py, kit/report.html): a GET form with the
dates, the report's filters and whose figures, the rows tagged with their reseller and the totals, and the same
table as CSV or XLSX, written by the API's exporter (over many resellers by the worker, with a page that follows it,
`/console/reports/exports/<id>`: app/portals/report_exports.py). A reseller code no tenant has is the service's
answer, said next to the choice. Report schedules are a reseller's: the console API has none, nor has this page.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, g, redirect, request, url_for

from app import clock
from app.portals import report_exports as exports
from app.portals import report_views as views
from app.portals import tables
from app.portals.console.figures_forms import UNKNOWN_RESELLER, ConsoleReportForm
from app.portals.console.shell import STAFF_KINDS, guard, page
from app.services import resellers
from app.services.errors import NotFound
from app.services.reports import export_jobs, reports, scope
from app.web import db_session
from app.web.auth import requires

bp = Blueprint("console_figures", __name__, url_prefix="/console/reports")
guard(bp)

UTC = ZoneInfo("UTC")  # the console API's clock (app/api/reports/routes.py `_platform_clock`)
DESCRIPTIONS = {
    "revenue": "What the resellers' invoices, credit notes and voids came to, by reseller, month and currency.",
    "collections": "What the resellers' customers paid, less refunds and reversals, by reseller, month, method "
                   "and currency.",
    "commissions": "Commission the resellers earned from the master ISP, by reseller, month, kind and status.",
    "churn": "Each reseller's customers at the start of each month, new, gone and back, with the churn rate.",
    "service_distribution": "Services live in the period by reseller, kind, plan and status, with their MRR.",
    "customers_by_status": "Each reseller's customers by their status at the end of the period.",
}


@requires(kinds=STAFF_KINDS)
def index():
    return page("figures/index", found=[(r, DESCRIPTIONS.get(r.name, "")) for r in reports.REPORTS.values()])


@requires(kinds=STAFF_KINDS)
def report(name: str):
    try:
        found = reports.get(name)
    except NotFound:
        abort(404)
    session = db_session()
    form = ConsoleReportForm(formdata=request.args).offer(
        [(p.row.code, f"{p.row.name} ({p.row.code})") for p in resellers.tree(session)])
    context = views.context(found, form, DESCRIPTIONS.get(name))
    filters = views.checked(form, found)
    if filters is None:
        return page("figures/report", **context, status=422)
    range_ = views.period(form, clock.today(), UTC)
    try:
        where = scope.of_platform(session, form.tenant.data or None)
    except NotFound:
        form.tenant.errors = [UNKNOWN_RESELLER]
        where = None
    if range_ is None or where is None:
        return page("figures/report", **context, status=422)
    fmt = tables.wanted_format()
    if fmt:  # over many resellers, the worker writes the file and its page follows it
        queued = exports.queued(_owner(), None, where, name, range_, filters, fmt, ".export")
        if queued is not None:
            return queued
    table = views.run(form, where, name, range_, filters)
    if table is None:
        return page("figures/report", **context, status=422)
    if fmt:
        return views.download(table, fmt)
    return page("figures/report", **{**context, **views.drawn(table, by_reseller=True)}, root=where.root)


def _owner() -> export_jobs.Owner:
    return export_jobs.Owner.staff(g.principal.id)


@requires(kinds=STAFF_KINDS)
def export(job_id: str):
    found = exports.followed(_owner(), job_id)
    if found is None:
        flash(exports.EXPORT_GONE, "error")
        return redirect(url_for(".index"))
    return page("figures/export", job_id=job_id, **found)


@requires(kinds=STAFF_KINDS)
def export_file(job_id: str):
    return exports.served(_owner(), job_id)


bp.add_url_rule("", "index", index)
bp.add_url_rule("/exports/<job_id>", "export", export)
bp.add_url_rule("/exports/<job_id>/file", "export_file", export_file)
bp.add_url_rule("/<string:name>", "report", report)
