"""The reseller's Reports pages, `/reseller/reports`: every report of app/services/reports/reports.py (revenue,
collections, commissions, churn, service distribution, customers by status) and the schedules that e-mail them.

A report's page is a GET form (from, to, the filters that report takes, and with sub-resellers when it has any),
the report's table and totals, and the same table as CSV or XLSX, written by the exporter the API uses
(app/services/reports/export.py), so a file from the page and one from `/reseller/api/reports/<name>` are the same.
With many sub-resellers the worker writes the file and `/reseller/reports/exports/<id>` follows it
(app/portals/report_exports.py).
The form, its checks and the drawing are the console's too (app/portals/report_views.py, kit/report.html).
Schedules are listed with `finance.reports` and made, changed and deleted with `finance.report_schedules`; who may
send outside the team is the service's rule (app/services/reports/schedules.py), which every door meets.

As in the API (app/api/reports/routes.py), a user limited to some customers is refused: reports add up every
customer of the reseller.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, request, url_for
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from app.api.reports.access import unrestricted
from app.models.reports import FREQUENCIES, REPORT_FORMATS
from app.portals import report_exports as exports
from app.portals import report_views as views
from app.portals import tables
from app.portals.forms import FORM_EXPIRED, expired
from app.portals.nav import may_open
from app.portals.report_views import (  # noqa: F401 (the words of both doors, read by the Swahili test)
    CHOOSE_ONE,
    FILTER_LABELS,
    FILTER_WRONG,
    FILTERS,
    NOT_A_DATE,
    NOT_TAKEN,
    RANGE_BACKWARDS,
    RANGE_TOO_LONG,
)
from app.portals.reseller.shell import TEAM_KINDS, guard, page
from app.services.billing.invoices import local_today, zone_of
from app.services.errors import Invalid, NotFound
from app.services.reports import export_jobs, reports, schedules, scope
from app.web import db_session
from app.web.auth import requires

bp = Blueprint("reseller_reports", __name__, url_prefix="/reseller/reports")
guard(bp)

DESCRIPTIONS = {
    "revenue": "What your invoices, credit notes and voids came to, by month and currency.",
    "collections": "What your customers paid, less refunds and reversals, by month, method and currency.",
    "commissions": "Commission earned from the master ISP, by month, kind and status.",
    "churn": "Customers at the start of each month, new, gone and back, with the churn rate.",
    "service_distribution": "Services live in the period by kind, plan and status, with their MRR.",
    "customers_by_status": "Your customers by their status at the end of the period.",
}
NAME_MISSING = "Give the schedule a name."
RECIPIENTS_MISSING = "Enter at least one e-mail address."
RECIPIENTS_WRONG = "Enter e-mail addresses, one a line, at most 20."
OUTSIDE_TEAM = ("Only an Admin may send reports to an address that is not a team member's: "
                "ask an Admin, or send to your team.")
NEXT_RUN_WRONG = "Choose today or a later day; a monthly report runs on day 1 to 28."


def may(endpoint: str) -> bool:
    """Whether the member may use the write page at `endpoint` (its `requires`; never in a read-only session)."""
    return may_open(endpoint) and not g.principal.read_only


def has_children() -> bool:
    return bool(scope.of_tenant(db_session(), g.tenant, consolidated=True).codes()[1:])


def report_or_404(name: str) -> reports.Report:
    try:
        return reports.get(name)
    except NotFound:
        abort(404)


# -- a report --------------------------------------------------------------------------------------------

class ReportForm(views.ReportForm):
    """The shared form, and whether to add up the sub-resellers too (what a schedule keeps as `consolidated`)."""

    consolidated = BooleanField()


@requires("finance.reports", kinds=TEAM_KINDS)
def index():
    unrestricted()
    return page("reports/index", found=[(r, DESCRIPTIONS.get(r.name, "")) for r in reports.REPORTS.values()],
                sees_schedules=may_open("reseller_reports.schedules"))


@requires("finance.reports", kinds=TEAM_KINDS)
def report(name: str):
    unrestricted()
    found = report_or_404(name)
    form = ReportForm(formdata=request.args)
    children = has_children()
    context = {**views.context(found, form, DESCRIPTIONS.get(name)), "has_children": children,
               "may_schedule": may("reseller_reports.new_schedule")}
    filters = views.checked(form, found)
    if filters is None:
        return page("reports/report", **context, status=422)
    session = db_session()
    range_ = views.period(form, local_today(session), zone_of(session))
    if range_ is None:
        return page("reports/report", **context, status=422)
    where = scope.of_tenant(session, g.tenant, consolidated=bool(form.consolidated.data and children))
    fmt = tables.wanted_format()
    if fmt:  # over many sub-resellers, the worker writes the file and its page follows it
        queued = exports.queued(_owner(), g.tenant, where, name, range_, filters, fmt, ".export")
        if queued is not None:
            return queued
    table = views.run(form, where, name, range_, filters)
    if table is None:
        return page("reports/report", **context, status=422)
    if fmt:
        return views.download(table, fmt)
    return page("reports/report", **{**context, **views.drawn(table, by_reseller=where.consolidated),
                                     "consolidated": where.consolidated,
                                     "schedule_args": {"report": name, **filters,
                                                       **({"consolidated": "y"} if where.consolidated else {})}})


def _owner() -> export_jobs.Owner:
    return export_jobs.Owner.team(g.tenant, g.principal.id)


@requires("finance.reports", kinds=TEAM_KINDS)
def export(job_id: str):
    unrestricted()
    found = exports.followed(_owner(), job_id)
    if found is None:
        flash(exports.EXPORT_GONE, "error")
        return redirect(url_for(".index"))
    return page("reports/export", job_id=job_id, **found)


@requires("finance.reports", kinds=TEAM_KINDS)
def export_file(job_id: str):
    unrestricted()
    return exports.served(_owner(), job_id)


# -- schedules -------------------------------------------------------------------------------------------

class ScheduleForm(FlaskForm):
    name = StringField(validators=[InputRequired(NAME_MISSING), Length(max=200, message=NAME_MISSING)])
    report = SelectField(choices=[SelectChoice(r.name, r.title) for r in reports.REPORTS.values()],
                         validators=[InputRequired(CHOOSE_ONE)])
    frequency = SelectField(choices=[SelectChoice(f, f.capitalize()) for f in FREQUENCIES],
                            validators=[InputRequired(CHOOSE_ONE)])
    format = SelectField(choices=[SelectChoice(f, f.upper()) for f in REPORT_FORMATS],
                         validators=[InputRequired(CHOOSE_ONE)])
    recipients = TextAreaField(validators=[InputRequired(RECIPIENTS_MISSING),
                                           Length(max=6000, message=RECIPIENTS_WRONG)])
    next_run_on = DateField(validators=[Optional()], invalid_value_message=NOT_A_DATE)
    active = BooleanField(default=True)
    consolidated = BooleanField()
    currency = StringField(validators=[Optional(), Length(min=3, max=3, message=FILTER_WRONG["currency"])])
    method = StringField(validators=[Optional(), Length(max=20, message=CHOOSE_ONE)])
    kind = StringField(validators=[Optional(), Length(max=20, message=CHOOSE_ONE)])
    status = StringField(validators=[Optional(), Length(max=20, message=CHOOSE_ONE)])
    category = StringField(validators=[Optional(), Length(max=100, message=FILTER_WRONG["category"])])
    county = StringField(validators=[Optional(), Length(max=100, message=FILTER_WRONG["county"])])

    def addresses(self) -> list[str]:
        return [a.strip() for a in (self.recipients.data or "").replace(",", "\n").splitlines() if a.strip()]

    def values(self) -> dict:
        """What the service takes (the API's ReportScheduleIn)."""
        filters = {k: self[k].data.strip() for k in FILTERS if self[k].data and self[k].data.strip()}
        if self.consolidated.data:
            filters["consolidated"] = True
        values = {"name": self.name.data, "report": self.report.data, "frequency": self.frequency.data,
                  "format": self.format.data, "recipients": self.addresses(), "filters": filters,
                  "active": bool(self.active.data)}
        if self.next_run_on.data:
            values["next_run_on"] = self.next_run_on.data
        return values

    def fill(self, row) -> ScheduleForm:
        """The form of a schedule as it is (to change it)."""
        kept = dict(row.filters or {})
        self.name.data, self.report.data, self.frequency.data = row.name, row.report, row.frequency
        self.format.data, self.recipients.data = row.format, "\n".join(row.recipients)
        self.next_run_on.data, self.active.data = row.next_run_on, row.active
        self.consolidated.data = bool(kept.pop("consolidated", False))
        for key in FILTERS:
            self[key].data = kept.get(key) or ""
        return self


def _schedule_page(form: ScheduleForm, row=None, *, status: int = 200):
    return page("reports/schedule_form", form=form, schedule=row, has_children=has_children(),
                filters=[(k, FILTER_LABELS[k]) for k in FILTERS],
                takes=[(r.title, [FILTER_LABELS[k] for k in r.filters]) for r in reports.REPORTS.values()],
                status=status)


def _refused(form: ScheduleForm, exc: Exception) -> None:
    """The service's refusal, next to the field it is about."""
    if isinstance(exc, schedules.OutsideRecipients):
        form.recipients.errors = [OUTSIDE_TEAM]
        return
    field = getattr(exc, "extra", {}).get("field")
    if field == "name":
        form.name.errors = [NAME_MISSING]
    elif field == "recipients":
        form.recipients.errors = [RECIPIENTS_WRONG]
    elif field == "next_run_on":
        form.next_run_on.errors = [NEXT_RUN_WRONG]
    elif field in FILTERS:
        form[field].errors = [NOT_TAKEN if field not in reports.get(form.report.data).filters
                              else FILTER_WRONG.get(field, CHOOSE_ONE)]
    elif field == "filters":
        form.consolidated.errors = [CHOOSE_ONE]
    else:
        form.form_errors.append(CHOOSE_ONE)


def _save(form: ScheduleForm, row=None):
    session = db_session()
    try:
        if row is None:
            saved = schedules.create(session, form.values(), by=g.principal)
        else:
            saved = schedules.update(session, row.id, form.values(), by=g.principal)
    except (Invalid, schedules.OutsideRecipients) as exc:
        session.rollback()
        _refused(form, exc)
        return None, exc.status
    return saved, 200


@requires("finance.reports", kinds=TEAM_KINDS)
def schedule_list():
    unrestricted()
    rows = schedules.list_all(db_session())
    return page("reports/schedules", schedules=rows, titles={r.name: r.title for r in reports.REPORTS.values()},
                may_manage=may("reseller_reports.new_schedule"))


@requires(schedules.MANAGE, kinds=TEAM_KINDS)
def new_schedule():
    unrestricted()
    if request.method == "GET":
        form = ScheduleForm(formdata=None)
        wanted = request.args.get("report")
        if wanted in reports.REPORTS:
            form.report.data = wanted
            form.name.data = reports.REPORTS[wanted].title
        for key in FILTERS:
            form[key].data = request.args.get(key, "")[:100]
        form.consolidated.data = request.args.get("consolidated") == "y"
        return _schedule_page(form)
    form = ScheduleForm()
    if not form.validate_on_submit():
        if expired(form):
            form.form_errors.append(FORM_EXPIRED)
        return _schedule_page(form, status=422)
    saved, status = _save(form)
    if saved is None:
        return _schedule_page(form, status=status)
    flash("The report is scheduled.", "success")
    return redirect(url_for(".schedules"))


@requires(schedules.MANAGE, kinds=TEAM_KINDS)
def edit_schedule(schedule_id: int):
    unrestricted()
    row = schedules.get(db_session(), schedule_id)
    if request.method == "GET":
        return _schedule_page(ScheduleForm(formdata=None).fill(row), row)
    form = ScheduleForm()
    if not form.validate_on_submit():
        if expired(form):
            form.form_errors.append(FORM_EXPIRED)
        return _schedule_page(form, row, status=422)
    saved, status = _save(form, row)
    if saved is None:
        return _schedule_page(form, row, status=status)
    flash("The schedule is changed.", "success")
    return redirect(url_for(".schedules"))


class DeleteForm(FlaskForm):
    """No fields: its CSRF token is what makes deleting a deliberate act."""


@requires(schedules.MANAGE, kinds=TEAM_KINDS)
def delete_schedule(schedule_id: int):
    unrestricted()
    session = db_session()
    row = schedules.get(session, schedule_id)
    form = DeleteForm()
    if request.method == "GET":
        return page("reports/delete_schedule", schedule=row, form=form)
    if not form.validate_on_submit():
        form.form_errors.append(FORM_EXPIRED)
        return page("reports/delete_schedule", schedule=row, form=form, status=422)
    schedules.delete(session, schedule_id, by=g.principal)
    flash("The schedule is deleted: nothing more is sent.", "success")
    return redirect(url_for(".schedules"))


bp.add_url_rule("", "index", index)
bp.add_url_rule("/schedules", "schedules", schedule_list)
bp.add_url_rule("/schedules/new", "new_schedule", new_schedule, methods=["GET", "POST"])
bp.add_url_rule("/schedules/<int:schedule_id>/edit", "edit_schedule", edit_schedule, methods=["GET", "POST"])
bp.add_url_rule("/schedules/<int:schedule_id>/delete", "delete_schedule", delete_schedule, methods=["GET", "POST"])
bp.add_url_rule("/exports/<job_id>", "export", export)
bp.add_url_rule("/exports/<job_id>/file", "export_file", export_file)
bp.add_url_rule("/<string:name>", "report", report)
