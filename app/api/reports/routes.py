"""Dashboards and reports, for a reseller (`/reseller/api/…`, permission `finance.reports`) and for the
master ISP (`/console/api/…`, staff).

Report schedules are read with `finance.reports` and managed with `finance.report_schedules`; who may
send reports outside the team is the service's rule (app/services/reports/schedules.py).

A reseller sees its own figures, or with `consolidated=true` its own plus every sub-reseller's below it
(never its parent's or a sibling's: the scope is built from the request's tenant downwards). The console
sees every tenant, or `tenant=CODE` with its descendants. Each tenant is read in its own schema
(app/services/reports/scope.py). A user limited to some customers is refused: reports add up every
customer of the tenant.

Reports answer JSON, or with `format=csv|xlsx` the file (app/services/reports/export.py).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Response, g
from flask_smorest import Blueprint

from app import clock
from app.api.reports import schemas as s
from app.models.base import utcnow
from app.models.reports import ReportSchedule
from app.services.billing.invoices import local_today, zone_of
from app.services.reports import dashboard, export, reports, schedules, scope
from app.services.reports.periods import DateRange
from app.web import db_session, state
from app.web.auth import Forbidden, requires

blp = Blueprint("reports", __name__, url_prefix="/reseller/api", description="Dashboard, reports and schedules")
console_blp = Blueprint("console_reports", __name__, url_prefix="/console/api",
                        description="Master ISP dashboard and reports across tenants")
BLUEPRINTS = [blp, console_blp]
USER = ("user",)
STAFF = ("staff",)
FILTERS = ("currency", "method", "kind", "status", "category", "county")
FILES = {"200": {"description": "the report as JSON, or as a file with format=csv|xlsx", "content": {
    "application/json": {"schema": s.ReportOut},
    export.CONTENT_TYPES["csv"].split(";")[0]: {"schema": {"type": "string"}},
    export.CONTENT_TYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}}}}}


def _unrestricted() -> None:
    if g.principal.allowed_customer_ids is not None:
        raise Forbidden("reports add up every customer; a user limited to some customers cannot run them")


def _reseller_clock() -> tuple[ZoneInfo, datetime]:
    session = db_session()
    return zone_of(session), local_today(session)


def _report(where: scope.Scope, name: str, args: dict, zone: ZoneInfo, today):
    range_ = DateRange.of(args.get("from_"), args.get("to"), today, zone)
    filters = {k: args[k] for k in FILTERS if args.get(k) is not None}
    table = reports.run(state().db, where, name, range_, filters, now=utcnow())
    if args["format"] == "json":
        return reports.as_json(table)
    content, content_type, filename = export.render(table, args["format"])
    return Response(content, content_type=content_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# -- reseller ------------------------------------------------------------------------------------------
@blp.route("/dashboard")
@requires("finance.reports", kinds=USER)
@blp.arguments(s.DashboardQuery, location="query")
@blp.response(200, s.DashboardOut)
def reseller_dashboard(args):
    """The dashboard: customers (total, active, new, churned), MRR, ARPU, commission earned, outstanding
    receivables, invoiced and collected, collection rate, open tickets (not built yet: 0), credit
    utilisation; each with its last 12 months for charts. Months are the reseller's time zone's."""
    _unrestricted()
    zone, today = _reseller_clock()
    where = scope.of_tenant(db_session(), g.tenant, consolidated=args["consolidated"])
    return dashboard.build(state().db, where, today, zone)


@blp.route("/reports/<string:name>")
@requires("finance.reports", kinds=USER)
@blp.arguments(s.ReportQuery, location="query")
@blp.response(200, s.ReportOut)
@blp.doc(responses=FILES)
def reseller_report(args, name):
    """A report (revenue, commissions, churn, collections, service_distribution, customers_by_status) over
    `from`–`to` (default: this month to date), with the filters it takes; rows and totals, as JSON, CSV or
    XLSX. A filter the report does not take is refused (422)."""
    _unrestricted()
    zone, today = _reseller_clock()
    where = scope.of_tenant(db_session(), g.tenant, consolidated=args["consolidated"])
    return _report(where, name, args, zone, today)


def _schedule_out(row: ReportSchedule) -> dict:
    return {c: getattr(row, c) for c in ("id", "name", "report", "filters", "format", "frequency", "recipients",
                                         "active", "next_run_on", "last_sent_on", "created_by", "created_at")}


@blp.route("/reports/schedules")
@requires("finance.reports", kinds=USER)
@blp.response(200, s.ReportScheduleOut(many=True))
def list_schedules():
    """Every report schedule of this reseller."""
    _unrestricted()
    return [_schedule_out(r) for r in schedules.list_all(db_session())]


@blp.route("/reports/schedules", methods=["POST"])
@requires(schedules.MANAGE, kinds=USER)
@blp.arguments(s.ReportScheduleIn)
@blp.response(201, s.ReportScheduleOut)
def create_schedule(body):
    """Schedule a report: e-mailed as CSV or XLSX to the recipients daily (yesterday), weekly (the last
    seven days) or monthly (the previous month), from `next_run_on` on. A recipient who is not an active
    team member needs a user with `users.admin` (403 `outside-recipients` otherwise, naming them)."""
    _unrestricted()
    return _schedule_out(schedules.create(db_session(), body, by=g.principal))


@blp.route("/reports/schedules/<int:schedule_id>")
@requires("finance.reports", kinds=USER)
@blp.response(200, s.ReportScheduleOut)
def get_schedule(schedule_id):
    _unrestricted()
    return _schedule_out(schedules.get(db_session(), schedule_id))


@blp.route("/reports/schedules/<int:schedule_id>", methods=["PATCH"])
@requires(schedules.MANAGE, kinds=USER)
@blp.arguments(s.ReportSchedulePatch)
@blp.response(200, s.ReportScheduleOut)
def update_schedule(body, schedule_id):
    """Change a schedule (`active: false` pauses it). One that sends outside the team is changed or resumed
    only by a user with `users.admin`; anyone who manages schedules may pause it."""
    _unrestricted()
    return _schedule_out(schedules.update(db_session(), schedule_id, body, by=g.principal))


@blp.route("/reports/schedules/<int:schedule_id>", methods=["DELETE"])
@requires(schedules.MANAGE, kinds=USER)
@blp.response(204)
def delete_schedule(schedule_id):
    _unrestricted()
    schedules.delete(db_session(), schedule_id, by=g.principal)


# -- console -------------------------------------------------------------------------------------------
def _platform_clock() -> tuple[ZoneInfo, datetime]:
    return ZoneInfo("UTC"), clock.today()


@console_blp.route("/dashboard")
@requires(kinds=STAFF)
@console_blp.arguments(s.ConsoleDashboardQuery, location="query")
@console_blp.response(200, s.DashboardOut)
def console_dashboard(args):
    """The dashboard over every tenant (or `tenant` with its descendants), months in UTC. Credit
    utilisation is a single reseller's: it is given for `tenant`, not for the whole platform."""
    zone, today = _platform_clock()
    return dashboard.build(state().db, scope.of_platform(db_session(), args["tenant"]), today, zone)


@console_blp.route("/reports/<string:name>")
@requires(kinds=STAFF)
@console_blp.arguments(s.ConsoleReportQuery, location="query")
@console_blp.response(200, s.ReportOut)
@console_blp.doc(responses=FILES)
def console_report(args, name):
    """A report over every tenant (or `tenant` with its descendants), each row tagged with its reseller;
    dates in UTC."""
    zone, today = _platform_clock()
    return _report(scope.of_platform(db_session(), args["tenant"]), name, args, zone, today)
