"""Dashboards and reports, for a reseller (`/reseller/api/…`, permission `finance.reports`) and for the
master ISP (`/console/api/…`, staff).

Report schedules are read with `finance.reports` and managed with `finance.report_schedules`; who may
send reports outside the team is the service's rule (app/services/reports/schedules.py).

A reseller sees its own figures, or with `consolidated=true` its own plus every sub-reseller's below it
(never its parent's or a sibling's: the scope is built from the request's tenant downwards). The console
sees every tenant, or `tenant=CODE` with its descendants. Each tenant is read in its own schema
(app/services/reports/scope.py). A user limited to some customers is refused: reports add up every
customer of the tenant.

Reports answer JSON, or with `format=csv|xlsx` the file (app/services/reports/export.py), written in the request.
A file over a large scope outlasts a request: `POST …/reports/<name>/exports` asks for it as a job of the worker
(app/services/reports/export_jobs.py, the same jobs the pages follow), `GET …/reports/exports/<id>` follows it and
`…/file` downloads it. A job is its asker's: another member, another reseller or staff get a 404, as for a job
that expired (a day) or never was.

Routes: `/reports/exports/<id>` has three segments and `/reports/<name>` two, so a job is never taken for a report;
against `/reports/<name>/exports` (three too) werkzeug's matcher tries a fixed segment before a variable one, and
`/reports/schedules/<id>` takes an int only.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Response, g, url_for
from flask_smorest import Blueprint

from app import clock
from app.api.reports import schemas as s
from app.api.reports.access import unrestricted
from app.models.base import utcnow
from app.models.reports import ReportSchedule
from app.services.billing.invoices import local_today, zone_of
from app.services.errors import Conflict, NotFound
from app.services.reports import dashboard, export, export_jobs, reports, schedules, scope
from app.services.reports.periods import DateRange
from app.web import db_session, downloads, state
from app.web.auth import requires

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


def _reseller_clock() -> tuple[ZoneInfo, datetime]:
    session = db_session()
    return zone_of(session), local_today(session)


EXPORTED = {"200": {"description": "the file, as `GET …/reports/<name>?format=` writes it", "content": {
    export.CONTENT_TYPES["csv"].split(";")[0]: {"schema": {"type": "string"}},
    export.CONTENT_TYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}}}}}
JOB_CREATED = "a new job, queued for the worker; Location is the job"
JOB_KEPT = ("the job already kept for the same request, asked within the last five minutes (whatever its state); "
            "Location is the job")


def _range(args: dict, zone: ZoneInfo, today) -> tuple[DateRange, dict]:
    """The period and the filters of a report's query (or of an export job's body)."""
    range_ = DateRange.of(args.get("from_"), args.get("to"), today, zone)
    return range_, {k: args[k] for k in FILTERS if args.get(k) is not None}


def _report(where: scope.Scope, name: str, args: dict, zone: ZoneInfo, today):
    range_, filters = _range(args, zone, today)
    table = reports.run(state().db, where, name, range_, filters, now=utcnow())
    if args["format"] == "json":
        return reports.as_json(table)
    return downloads.attachment(*export.render(table, args["format"]), cache="private, no-store")


def _job_out(job_id: str, job: dict, endpoint: str) -> dict:
    return {**job, "id": job_id, "percent": export_jobs.percent(job), "start": date.fromisoformat(job["start"]),
            "end": date.fromisoformat(job["end"]), "created_at": datetime.fromisoformat(job["created_at"]),
            "status_url": url_for(f"{endpoint}_job", job_id=job_id),
            "file_url": url_for(f"{endpoint}_file", job_id=job_id)}


def _asked(owner: export_jobs.Owner, tenant, where: scope.Scope, name: str, args: dict, zone: ZoneInfo, today,
           endpoint: str):
    """The job of the request: 202 when this request made it, 200 when it is the one kept for the same request."""
    range_, filters = _range(args, zone, today)
    redis = state().redis
    job_id, new = export_jobs.ask(redis, owner, tenant, where, name=name, range_=range_, filters=filters,
                                  fmt=args["format"])
    out = _job_out(job_id, export_jobs.read(redis, owner, job_id), endpoint)
    return out, 202 if new else 200, {"Location": out["status_url"]}


def _kept(owner: export_jobs.Owner, job_id: str, endpoint: str) -> dict:
    job = export_jobs.read(state().redis, owner, job_id)
    if job is None:
        raise NotFound("no such export job: it expired (jobs are kept a day), or it is not yours")
    return _job_out(job_id, job, endpoint)


def _file(owner: export_jobs.Owner, job_id: str) -> Response:
    """404 for a job unknown, expired or another's, and for a file gone; 409 while it is still being written (or
    failed), so that a client polling `…/file` tells "not yet" from "never"."""
    redis = state().redis
    job = export_jobs.read(redis, owner, job_id)
    if job is None:
        raise NotFound("no such export job: it expired (jobs are kept a day), or it is not yours")
    if job["state"] != "done":
        raise Conflict(f"the file is not written yet (the job is {job['state']}): follow the job until it is done",
                       state=job["state"])
    found = export_jobs.file(redis, owner, job_id)
    if found is None:
        raise NotFound("the file is no longer kept: ask for it again")
    return downloads.attachment(*found, cache="private, no-store")


def _team() -> export_jobs.Owner:
    return export_jobs.Owner.team(g.tenant, g.principal.id)


def _staff() -> export_jobs.Owner:
    return export_jobs.Owner.staff(g.principal.id)


# -- reseller ------------------------------------------------------------------------------------------
@blp.route("/dashboard")
@requires("finance.reports", kinds=USER)
@blp.arguments(s.DashboardQuery, location="query")
@blp.response(200, s.DashboardOut)
def reseller_dashboard(args):
    """The dashboard: customers (total, active, new, churned), MRR, ARPU, commission earned, outstanding
    receivables, invoiced and collected, collection rate, open tickets (not built yet: 0), credit
    utilisation; each with its last 12 months for charts. Months are the reseller's time zone's."""
    unrestricted()
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
    unrestricted()
    zone, today = _reseller_clock()
    where = scope.of_tenant(db_session(), g.tenant, consolidated=args["consolidated"])
    return _report(where, name, args, zone, today)


@blp.route("/reports/<string:name>/exports", methods=["POST"])
@requires("finance.reports", kinds=USER)
@blp.arguments(s.ReportExportIn)
@blp.response(202, s.ReportExportOut, description=JOB_CREATED)
@blp.alt_response(200, schema=s.ReportExportOut, description=JOB_KEPT)
def reseller_export(body, name):
    """Ask for a report's file (CSV or XLSX) as a job of the worker, whatever the scope: the body is the report's
    query (`from`, `to`, the filters, `consolidated`, `format`). 202 when this request made the job; the same
    request again within five minutes answers 200 with the same job, so a retried POST never starts a second
    pass. A filter the report does not take is refused (422), as the report refuses it. Follow the job at
    `status_url` until `state` is done, then download `file_url`; it is kept a day."""
    unrestricted()
    zone, today = _reseller_clock()
    where = scope.of_tenant(db_session(), g.tenant, consolidated=body["consolidated"])
    return _asked(_team(), g.tenant, where, name, body, zone, today, "reports.reseller_export")


@blp.route("/reports/exports/<string:job_id>")
@requires("finance.reports", kinds=USER)
@blp.response(200, s.ReportExportOut)
def reseller_export_job(job_id):
    """An export job of yours: its state, the tenants done and, once done, the file's name and size. 404 when it
    is unknown, expired or another member's."""
    unrestricted()
    return _kept(_team(), job_id, "reports.reseller_export")


@blp.route("/reports/exports/<string:job_id>/file")
@requires("finance.reports", kinds=USER)
@blp.doc(responses=EXPORTED)
@blp.alt_response(409, description="the file is not written yet: `state` says the job's")
def reseller_export_file(job_id):
    """The job's file, with its name in Content-Disposition. 409 before the job is done; 404 when the job is
    unknown, expired or another member's, or the file is gone."""
    unrestricted()
    return _file(_team(), job_id)


def _schedule_out(row: ReportSchedule) -> dict:
    return {c: getattr(row, c) for c in ("id", "name", "report", "filters", "format", "frequency", "recipients",
                                         "active", "next_run_on", "last_sent_on", "created_by", "created_at")}


@blp.route("/reports/schedules")
@requires("finance.reports", kinds=USER)
@blp.response(200, s.ReportScheduleOut(many=True))
def list_schedules():
    """Every report schedule of this reseller."""
    unrestricted()
    return [_schedule_out(r) for r in schedules.list_all(db_session())]


@blp.route("/reports/schedules", methods=["POST"])
@requires(schedules.MANAGE, kinds=USER)
@blp.arguments(s.ReportScheduleIn)
@blp.response(201, s.ReportScheduleOut)
def create_schedule(body):
    """Schedule a report: e-mailed as CSV or XLSX to the recipients daily (yesterday), weekly (the last
    seven days) or monthly (the previous month), from `next_run_on` on. A recipient who is not an active
    team member needs a user with `users.admin` (403 `outside-recipients` otherwise, naming them)."""
    unrestricted()
    return _schedule_out(schedules.create(db_session(), body, by=g.principal))


@blp.route("/reports/schedules/<int:schedule_id>")
@requires("finance.reports", kinds=USER)
@blp.response(200, s.ReportScheduleOut)
def get_schedule(schedule_id):
    unrestricted()
    return _schedule_out(schedules.get(db_session(), schedule_id))


@blp.route("/reports/schedules/<int:schedule_id>", methods=["PATCH"])
@requires(schedules.MANAGE, kinds=USER)
@blp.arguments(s.ReportSchedulePatch)
@blp.response(200, s.ReportScheduleOut)
def update_schedule(body, schedule_id):
    """Change a schedule (`active: false` pauses it). One that sends outside the team is changed or resumed
    only by a user with `users.admin`; anyone who manages schedules may pause it."""
    unrestricted()
    return _schedule_out(schedules.update(db_session(), schedule_id, body, by=g.principal))


@blp.route("/reports/schedules/<int:schedule_id>", methods=["DELETE"])
@requires(schedules.MANAGE, kinds=USER)
@blp.response(204)
def delete_schedule(schedule_id):
    unrestricted()
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


@console_blp.route("/reports/<string:name>/exports", methods=["POST"])
@requires(kinds=STAFF)
@console_blp.arguments(s.ConsoleReportExportIn)
@console_blp.response(202, s.ConsoleReportExportOut, description=JOB_CREATED)
@console_blp.alt_response(200, schema=s.ConsoleReportExportOut, description=JOB_KEPT)
def console_export(body, name):
    """A report's file over every tenant (or `tenant` with its descendants) as a job of the worker, dates in UTC;
    202 when made, 200 when the same request within five minutes finds it kept, as for a reseller. The job is
    the staff member's own."""
    zone, today = _platform_clock()
    where = scope.of_platform(db_session(), body["tenant"])
    return _asked(_staff(), None, where, name, body, zone, today, "console_reports.console_export")


@console_blp.route("/reports/exports/<string:job_id>")
@requires(kinds=STAFF)
@console_blp.response(200, s.ConsoleReportExportOut)
def console_export_job(job_id):
    """A console export job of yours; 404 when unknown, expired or another staff member's."""
    return _kept(_staff(), job_id, "console_reports.console_export")


@console_blp.route("/reports/exports/<string:job_id>/file")
@requires(kinds=STAFF)
@console_blp.doc(responses=EXPORTED)
@console_blp.alt_response(409, description="the file is not written yet: `state` says the job's")
def console_export_file(job_id):
    """The job's file; 409 before it is done, 404 when the job or its file is gone or another's."""
    return _file(_staff(), job_id)
