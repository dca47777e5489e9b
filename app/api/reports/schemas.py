"""Schemas of the dashboard, report and report-schedule APIs.

Money and percentages are decimal strings ("1234.50"), never JSON numbers, as everywhere in the API;
money figures are objects keyed by currency, since a reseller may bill in more than one.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.models.reports import FREQUENCIES, REPORT_FORMATS, REPORT_NAMES

_VALUE = {"description": "a count (integer), a money object {currency: decimal string}, a percent object "
                         "{currency: decimal string or null}, or a decimal string, as `unit` says"}


class DashboardQuery(Schema):
    consolidated = fields.Boolean(load_default=False, metadata={
        "description": "include every sub-reseller below yours (their figures added to yours)"})


class ConsoleDashboardQuery(Schema):
    tenant = fields.String(load_default=None, validate=validate.Length(min=1, max=40), metadata={
        "description": "a tenant's code: that tenant with its descendants; omitted: every tenant"})


class DashboardPointOut(Schema):
    month = fields.String(required=True, metadata={"example": "2026-11"})
    value = fields.Raw(required=True, allow_none=True, metadata=_VALUE)


class DashboardFigureOut(Schema):
    unit = fields.String(required=True, validate=validate.OneOf(("count", "money", "percent")))
    value = fields.Raw(required=True, allow_none=True, metadata=_VALUE)
    source = fields.String(metadata={"description": "why a figure is a placeholder"})
    series = fields.List(fields.Nested(DashboardPointOut), required=True, metadata={
        "description": "the last 12 months, oldest first: month-end values for stocks, monthly sums for flows"})


class DashboardScopeOut(Schema):
    tenant = fields.String(required=True, allow_none=True)
    consolidated = fields.Boolean(required=True)
    tenants = fields.List(fields.String(), required=True)
    label = fields.String(required=True)


class DashboardPeriodOut(Schema):
    start = fields.Date(required=True)
    end = fields.Date(required=True)


class DashboardOut(Schema):
    scope = fields.Nested(DashboardScopeOut, required=True)
    as_of = fields.Date(required=True)
    time_zone = fields.String(required=True)
    period = fields.Nested(DashboardPeriodOut, required=True, metadata={"description": "this month, to date"})
    months = fields.List(fields.String(), required=True)
    figures = fields.Dict(keys=fields.String(), values=fields.Nested(DashboardFigureOut), required=True)


class ReportQuery(Schema):
    from_ = fields.Date(data_key="from", load_default=None,
                        metadata={"description": "default: the 1st of the month of `to`"})
    to = fields.Date(load_default=None, metadata={"description": "inclusive; default: today"})
    format = fields.String(load_default="json", validate=validate.OneOf(("json", *REPORT_FORMATS)))
    consolidated = fields.Boolean(load_default=False, metadata={"description": "include every sub-reseller"})
    currency = fields.String(load_default=None, validate=validate.Length(equal=3))
    method = fields.String(load_default=None, validate=validate.Length(min=1, max=20))
    kind = fields.String(load_default=None, validate=validate.Length(min=1, max=20))
    status = fields.String(load_default=None, validate=validate.Length(min=1, max=20))
    category = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    county = fields.String(load_default=None, validate=validate.Length(min=1, max=100))


class ConsoleReportQuery(ReportQuery):
    tenant = fields.String(load_default=None, validate=validate.Length(min=1, max=40), metadata={
        "description": "a tenant's code: that tenant with its descendants; omitted: every tenant"})

    class Meta:
        exclude = ("consolidated",)


class ReportExportIn(ReportQuery):
    """What the report's query takes, as the body of a job: a file, so CSV or XLSX."""

    format = fields.String(load_default="csv", validate=validate.OneOf(REPORT_FORMATS), metadata={
        "description": "the file's format (JSON is the report's own answer, not a file)"})


class ConsoleReportExportIn(ConsoleReportQuery):
    format = fields.String(load_default="csv", validate=validate.OneOf(REPORT_FORMATS), metadata={
        "description": "the file's format (JSON is the report's own answer, not a file)"})


class ReportExportOut(Schema):
    id = fields.String(required=True)
    report = fields.String(required=True, validate=validate.OneOf(REPORT_NAMES))
    state = fields.String(required=True, validate=validate.OneOf(("queued", "running", "done", "failed")), metadata={
        "description": "failed: the worker tries again by itself (a few times); ask again for a new job later"})
    done = fields.Integer(required=True, metadata={"description": "tenants read so far"})
    total = fields.Integer(required=True, metadata={"description": "tenants of the scope"})
    percent = fields.Integer(required=True, metadata={"description": "0 to 100; 100 once done"})
    format = fields.String(required=True, validate=validate.OneOf(REPORT_FORMATS))
    from_ = fields.Date(data_key="from", attribute="start", required=True)
    to = fields.Date(attribute="end", required=True)
    filters = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    consolidated = fields.Boolean(required=True)
    filename = fields.String(required=True, allow_none=True, metadata={"description": "null until done"})
    size = fields.Integer(required=True, allow_none=True, metadata={"description": "bytes; null until done"})
    created_at = fields.DateTime(required=True)
    status_url = fields.String(required=True, metadata={"description": "this job (the Location of its creation)"})
    file_url = fields.String(required=True, metadata={"description": "the file, once `state` is done"})


class ConsoleReportExportOut(ReportExportOut):
    tenant = fields.String(required=True, allow_none=True, attribute="root", metadata={
        "description": "the tenant with its descendants the file covers; null: every tenant"})

    class Meta:
        exclude = ("consolidated",)


class ReportColumnOut(Schema):
    key = fields.String(required=True)
    title = fields.String(required=True)
    type = fields.String(required=True, validate=validate.OneOf(("text", "int", "money", "percent", "month",
                                                                 "date")))


class ReportOut(Schema):
    report = fields.String(required=True, validate=validate.OneOf(REPORT_NAMES))
    title = fields.String(required=True)
    scope = fields.String(required=True)
    from_ = fields.Date(data_key="from", attribute="from", required=True)
    to = fields.Date(required=True)
    time_zone = fields.String(required=True)
    filters = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    columns = fields.List(fields.Nested(ReportColumnOut), required=True)
    rows = fields.List(fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True)), required=True,
                       metadata={"description": "one object per row, keyed by the columns' keys"})
    totals = fields.List(fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True)), required=True,
                         metadata={"description": "the sums, one per currency where the report has one"})


class ReportScheduleIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    report = fields.String(required=True, validate=validate.OneOf(REPORT_NAMES))
    filters = fields.Dict(keys=fields.String(), values=fields.Raw(), load_default=dict, metadata={
        "description": "the report's filters, and `consolidated: true` to include sub-resellers"})
    format = fields.String(required=True, validate=validate.OneOf(REPORT_FORMATS))
    frequency = fields.String(required=True, validate=validate.OneOf(FREQUENCIES))
    recipients = fields.List(fields.Email(), required=True, validate=validate.Length(min=1, max=20))
    next_run_on = fields.Date(load_default=None, metadata={
        "description": "the first run (default: tomorrow); monthly schedules run on its day, 1 to 28"})
    active = fields.Boolean(load_default=True)


class ReportSchedulePatch(Schema):
    """Only what changes; the rest stays."""

    name = fields.String(validate=validate.Length(min=1, max=200))
    report = fields.String(validate=validate.OneOf(REPORT_NAMES))
    filters = fields.Dict(keys=fields.String(), values=fields.Raw())
    format = fields.String(validate=validate.OneOf(REPORT_FORMATS))
    frequency = fields.String(validate=validate.OneOf(FREQUENCIES))
    recipients = fields.List(fields.Email(), validate=validate.Length(min=1, max=20))
    next_run_on = fields.Date()
    active = fields.Boolean()


class ReportScheduleOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    report = fields.String(required=True)
    filters = fields.Dict(required=True)
    format = fields.String(required=True)
    frequency = fields.String(required=True)
    recipients = fields.List(fields.String(), required=True)
    active = fields.Boolean(required=True)
    next_run_on = fields.Date(required=True)
    last_sent_on = fields.Date(allow_none=True, required=True)
    created_by = fields.String(required=True)
    created_at = fields.DateTime(required=True)
