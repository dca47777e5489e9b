"""What the reseller portal's Reports (app/portals/reseller/reports.py) and the console's (app/portals/console/
figures.py) share, so that a report reads, checks and draws the same at both doors and its file is the API's.

The two differ only in whose figures they add up (a reseller's own scope, or the platform's with a `tenant`) and
in which clock the dates are read on; everything else is here, in the order a view uses it: `checked` (the form
and the filters the report takes), `period` (the dates), `run` (the service, its refusals put next to their
field), then `download` (the exporter of app/services/reports/export.py, which the API writes its files with) or
`drawn` (the kit's tables of the rows and the totals, drawn by the macros of kit/report.html).

Messages are msgids (translated where they are drawn).
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from flask import Response
from flask_wtf import FlaskForm
from wtforms import DateField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from app.models.base import utcnow
from app.models.billing import PAYMENT_METHODS
from app.models.commissions import LINE_KINDS, LINE_STATUSES
from app.models.provisioning import SERVICE_STATUSES
from app.portals import tables
from app.portals.tables import Column, TableSpec
from app.services.errors import Invalid
from app.services.reports import export, reports
from app.services.reports.periods import DateRange
from app.services.reports.scope import Scope
from app.services.resellers import SERVICE_KINDS
from app.web import downloads, state

FILTERS = ("currency", "method", "kind", "status", "category", "county")  # the API's (ReportQuery)
EVERY_ROW = 100_000
NOT_A_DATE = "Enter the date as a day, a month and a year."
# What a filter may be, for the filters that are a choice (the others are typed)
CHOICES = {
    ("collections", "method"): PAYMENT_METHODS,
    ("commissions", "kind"): LINE_KINDS, ("commissions", "status"): LINE_STATUSES,
    ("service_distribution", "kind"): SERVICE_KINDS, ("service_distribution", "status"): SERVICE_STATUSES,
}
FILTER_LABELS = {"currency": "Currency", "method": "Payment method", "kind": "Kind", "status": "Status",
                 "category": "Customer category", "county": "County"}
FILTER_WRONG = {
    "currency": "Enter a three-letter currency code, like KES.",
    "category": "Enter 1 to 100 characters.", "county": "Enter 1 to 100 characters.",
}
CHOOSE_ONE = "Choose one of the list."
RANGE_BACKWARDS = "The first day must be on or before the last day."
RANGE_TOO_LONG = "A report covers at most three years."
NOT_TAKEN = "The chosen report does not take this filter: leave it empty."


def filter_choices(name: str, key: str) -> list[SelectChoice] | None:
    values = CHOICES.get((name, key))
    return None if values is None else [SelectChoice("", "Any"), *(SelectChoice(v, v) for v in values)]


class ReportForm(FlaskForm):
    """A report's dates and filters, sent by GET: the address says what is shown. Each door adds whose figures."""

    class Meta:
        csrf = False

    start = DateField(name="from", validators=[Optional()], invalid_value_message=NOT_A_DATE)  # `from`: a keyword
    to = DateField(validators=[Optional()], invalid_value_message=NOT_A_DATE)
    currency = StringField(validators=[Optional(), Length(min=3, max=3, message=FILTER_WRONG["currency"])])
    method = StringField(validators=[Optional(), Length(max=20, message=CHOOSE_ONE)])
    kind = StringField(validators=[Optional(), Length(max=20, message=CHOOSE_ONE)])
    status = StringField(validators=[Optional(), Length(max=20, message=CHOOSE_ONE)])
    category = StringField(validators=[Optional(), Length(max=100, message=FILTER_WRONG["category"])])
    county = StringField(validators=[Optional(), Length(max=100, message=FILTER_WRONG["county"])])

    def filters(self) -> dict:
        """The filters given, as the API's query has them (an empty one is no filter)."""
        return {k: self[k].data.strip() for k in FILTERS if self[k].data and self[k].data.strip()}


def context(found: reports.Report, form: ReportForm, description: str | None) -> dict:
    """What a report's page draws before it has run (and when it is refused)."""
    return {"report": found, "form": form, "table": None, "totals": None, "description": description,
            "choices": {k: filter_choices(found.name, k) for k in found.filters}, "labels": FILTER_LABELS}


def checked(form: ReportForm, found: reports.Report) -> dict | None:
    """The filters, or None when the form is refused (its errors next to the fields). A filter the report does
    not take comes from an edited address: the API refuses it too, rather than widen the report silently."""
    if not form.validate():
        return None
    filters = form.filters()
    for key in filters:
        if key not in found.filters:
            form[key].errors = [NOT_TAKEN]
            return None
    return filters


def period(form: ReportForm, today: date, zone: ZoneInfo) -> DateRange | None:
    """The dates on the door's clock (by default this month to date), or None with the service's refusal shown."""
    try:
        return DateRange.of(form.start.data, form.to.data, today, zone)
    except Invalid as exc:
        field = exc.extra.get("field")
        if field == "from":
            form.start.errors = [RANGE_BACKWARDS]
        elif field == "to":
            form.to.errors = [RANGE_TOO_LONG]
        else:
            raise
        return None


def run(form: ReportForm, where: Scope, name: str, range_: DateRange, filters: dict) -> reports.Table | None:
    """The report over `where`, or None with the service's refusal of a filter next to it."""
    try:
        return reports.run(state().db, where, name, range_, filters, now=utcnow())
    except Invalid as exc:
        field = exc.extra.get("field")
        if field not in FILTERS:
            raise
        form[field].errors = [FILTER_WRONG.get(field, CHOOSE_ONE)]
        return None


def download(table: reports.Table, fmt: str) -> Response:
    """The table as the API's file: the same exporter, the same name."""
    return attachment(*export.render(table, fmt))


def attachment(content: bytes, content_type: str, filename: str) -> Response:
    """A report's file, written for this request (nothing to revalidate against)."""
    return downloads.attachment(content, content_type, filename, cache="private, no-store")


def _display(columns, key: str = "") -> TableSpec:
    """The kit's table of a report's columns. A title is a msgid, read as a format: its "%" is doubled."""
    return TableSpec(f"report{key}", "", tuple(Column(c.key, c.title.replace("%", "%%"), type=c.type)
                                               for c in columns), per_page=EVERY_ROW)


def drawn(table: reports.Table, *, by_reseller: bool) -> dict:
    """The kit's views of the rows (with the Reseller column when the figures are of more than one tenant) and
    of the totals, and the range they cover."""
    spec = _display(table.columns if by_reseller else table.report.columns)
    totals_spec = TableSpec("totals", "", (Column("label", "Total"), *_display(table.report.columns[1:]).columns),
                            per_page=EVERY_ROW, exportable=False)
    totals = [{"label": "Total", **t} for t in table.totals]
    return {"table": tables.view(spec, tables.state(spec), table.rows, len(table.rows)), "range": table.range,
            "totals": tables.view(totals_spec, tables.state(totals_spec), totals, len(totals))}
