"""The customer's Usage pages, `/portal/usage`: per service, upload and download over a chosen period by day,
week or month (a chart drawn on the server and the same figures as a table), the billing cycle (used, allowance,
percent, reset date, the buckets it draws on), the sessions and the calls and messages (each a paged table of
its own page), and the customer's own usage alerts.

The period is a GET form (looking changes nothing, and the address says what is shown); without one the page
opens on this cycle by day (app/services/selfcare/my_usage.py `default_period`). The chart's SVG has an address
of its own that takes the same period, guarded like the page. Every figure is the customer's own services'
(`my_usage`): another customer's service is not found, on every address.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from flask import Blueprint, flash, g, redirect, request, url_for

from app.portals import charts, tables
from app.portals.customer.gate import CUSTOMER, guard
from app.portals.customer.shell import page
from app.portals.customer.usage_forms import AlertsForm, PeriodForm
from app.portals.forms import FORM_EXPIRED, expired
from app.services.branding import i18n
from app.services.branding.rendering import brand_context
from app.services.errors import Invalid
from app.services.selfcare import my_services, my_usage
from app.services.usage import views
from app.web import db_session
from app.web.auth import requires
from app.web.branding import current_brand, current_locale

bp = Blueprint("customer_usage", __name__, url_prefix="/portal/usage")
guard(bp)

GB_FROM_MB = 10 * 1024  # a chart whose largest bar is this many MB or more is drawn in GB
TOO_LONG = "Choose at most 800 days at a time."

SESSIONS = tables.TableSpec("sessions", "Sessions", (
    tables.Column("started_at", "Started"), tables.Column("stopped_at", "Ended"),
    tables.Column("session_time", "Duration", numeric=True), tables.Column("download", "Downloaded", numeric=True),
    tables.Column("upload", "Uploaded", numeric=True), tables.Column("nas", "Router"),
    tables.Column("framed_ip", "IP address")), per_page=25, exportable=False)
CALLS = tables.TableSpec("calls", "Calls and messages", (
    tables.Column("occurred_at", "When"), tables.Column("kind", "Kind"), tables.Column("destination", "Destination"),
    tables.Column("category", "Category"), tables.Column("quantity", "Amount", numeric=True),
    tables.Column("uncovered", "Not covered", numeric=True)), per_page=25, exportable=False)


def me() -> int:
    return g.principal.id


# -- the period and its chart ------------------------------------------------------------------------------

def _period() -> tuple[PeriodForm | None, tuple[date | None, date | None, str] | None]:
    """The form as the request fills it and the period if the form is good; with no period asked for, no form
    yet and the default period (no days: my_usage picks them, and `_default_form` shows them)."""
    if not any(k in request.args for k in ("start", "end", "group")):
        return None, (None, None, "day")
    form = PeriodForm(formdata=request.args)
    if not form.validate():
        return form, None
    return form, (form.start.data, form.end.data, form.group.data)


def _default_form(found: dict) -> PeriodForm:
    return PeriodForm(formdata=None, start=found["from"], end=found["to"], group="day")


def _service_row(service_id: int):
    return my_services.own_service(db_session(), me(), service_id)


def _in_mb_or_gb(days: list[dict]) -> tuple[str, int]:
    largest = max((max(d["download"], d["upload"]) for d in days), default=0)
    return ("GB", 1024) if views.mb(largest) >= GB_FROM_MB else ("MB", 1)


def _amount(octets: int, divisor: int) -> Decimal:
    """Megabytes to one decimal, or gigabytes to two: what a person reads (the exact octets are the API's)."""
    return (views.mb(octets) / divisor).quantize(Decimal("0.1") if divisor == 1 else Decimal("0.01"),
                                                 rounding=ROUND_HALF_UP)


def _labels(days: list[dict], group: str, language: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The table's labels (a whole date) and the axis's (short)."""
    if group == "month":
        return (tuple(charts.day_label(d["day"], language, "LLLL y") for d in days),
                tuple(charts.day_label(d["day"], language, "LLL y") for d in days))
    return (tuple(charts.day_label(d["day"], language, "d MMMM y") for d in days),
            tuple(charts.day_label(d["day"], language) for d in days))


def usage_chart(found: dict, src: str) -> charts.Chart:
    words = i18n.translations(current_locale().language)
    days, group = found["days"], found["group"]
    unit, divisor = _in_mb_or_gb(days)
    labels, axis = _labels(days, group, current_locale().language)
    titles = {"day": words.gettext("Data used per day"), "week": words.gettext("Data used per week"),
              "month": words.gettext("Data used per month")}
    heads = {"day": words.gettext("Day"), "week": words.gettext("Week from"), "month": words.gettext("Month")}
    return charts.Chart(
        title=titles[group], labels=labels, axis_labels=axis, label_title=heads[group], unit=unit, src=src,
        summary=words.gettext("A bar chart of the data downloaded and uploaded in each period; the figures are in "
                              "the table below it."),
        series=(charts.Series(words.gettext("Download"), tuple(_amount(d["download"], divisor) for d in days)),
                charts.Series(words.gettext("Upload"), tuple(_amount(d["upload"], divisor) for d in days))))


def _usage(service_id: int, period: tuple[date, date, str]) -> dict:
    start, end, group = period
    return my_usage.usage(db_session(), me(), service_id, start, end, group)


# -- the pages ---------------------------------------------------------------------------------------------

@requires("self.view", kinds=CUSTOMER)
def index():
    return page("usage/index", services=my_services.list_services(db_session(), me()))


def _service_page(service_id: int, alerts_form: AlertsForm | None = None, *, status: int = 200):
    session = db_session()
    service = my_services.service_detail(session, me(), service_id)
    form, period = _period()
    found = chart = None
    if period is not None:
        try:
            found = _usage(service_id, period)
        except Invalid:
            form.start.errors = [TOO_LONG]
            status = 422
        else:
            form = form or _default_form(found)
            chart = usage_chart(found, url_for(".chart", service_id=service_id, start=found["from"].isoformat(),
                                               end=found["to"].isoformat(), group=found["group"]))
    else:
        status = 422
    cycle = found["cycle"] if found else views.cycle(session, _service_row(service_id))
    alerts = my_usage.alerts(session, me(), service_id)
    if alerts_form is None:
        alerts_form = AlertsForm(formdata=None)
        alerts_form.fill(alerts["percents"])
    return page("usage/service", service=service, form=form, usage=found, chart=chart, cycle=cycle,
                alerts=alerts, alerts_form=alerts_form, has_calls=my_usage.has_calls(session, me(), service_id),
                status=status)


@requires("self.view", kinds=CUSTOMER)
def service(service_id: int):
    return _service_page(service_id)


@requires("self.view", kinds=CUSTOMER)
def chart(service_id: int):
    my_services.own_service(db_session(), me(), service_id)
    _form, period = _period()
    if period is None:
        raise Invalid("start, end and group: a period of days, grouped by day, week or month", field="start")
    return charts.drawn(usage_chart(_usage(service_id, period), request.path),
                        brand_context(current_brand()))


@requires("self.edit", kinds=CUSTOMER)
def set_alerts(service_id: int):
    my_services.own_service(db_session(), me(), service_id)
    form = AlertsForm()
    if not form.validate_on_submit():
        if expired(form):
            form.form_errors.append(FORM_EXPIRED)
        return _service_page(service_id, form, status=422)
    my_usage.set_alerts(db_session(), me(), service_id, form.percents, principal=g.principal)
    flash("Your usage alerts are saved.", "success")
    return redirect(url_for(".service", service_id=service_id, _anchor="alerts"))


@requires("self.view", kinds=CUSTOMER)
def sessions(service_id: int):
    service = my_services.service_detail(db_session(), me(), service_id)
    state = tables.state(SESSIONS)
    found = my_usage.sessions(db_session(), me(), service_id, page=state.page, per_page=state.per_page)
    return page("usage/sessions", service=service, table=tables.view(SESSIONS, state, found["items"],
                                                                      found["total"]))


@requires("self.view", kinds=CUSTOMER)
def calls(service_id: int):
    service = my_services.service_detail(db_session(), me(), service_id)
    state = tables.state(CALLS)
    found = my_usage.calls(db_session(), me(), service_id, page=state.page, per_page=state.per_page)
    return page("usage/calls", service=service, table=tables.view(CALLS, state, found["items"], found["total"]))


bp.add_url_rule("", "index", index)
bp.add_url_rule("/<int:service_id>", "service", service)
bp.add_url_rule("/<int:service_id>/chart.svg", "chart", chart)
bp.add_url_rule("/<int:service_id>/alerts", "set_alerts", set_alerts, methods=["POST"])
bp.add_url_rule("/<int:service_id>/sessions", "sessions", sessions)
bp.add_url_rule("/<int:service_id>/calls", "calls", calls)
