"""Usage, sessions, CoA history, usage alerts and the RADIUS policy: what comes in and goes out.

Octets are integers (64-bit counters); megabytes and percents are decimal strings, never floats.
"""

from __future__ import annotations

from datetime import date

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.api.catalogue.fields import INTEGER, Id, Text
from app.api.payments.schemas import AmountIn
from app.models.usage import COA_KINDS, COA_STATUSES, SESSION_STATUSES
from app.services.billing.buckets import KINDS as BUCKET_KINDS
from app.services.billing.buckets import SOURCES as BUCKET_SOURCES
from app.services.usage import records as usage_records
from app.services.usage.views import GROUPS

MAX_THRESHOLDS = 5
PER_PAGE_MAX = 200


def Decimal3(**kwargs) -> fields.Decimal:  # noqa: N802 - a field factory reads as a field
    return fields.Decimal(as_string=True, metadata={"type": "string", "example": "1536.000",
                                                    **kwargs.pop("metadata", {})}, **kwargs)


DAYS_KNOWN = validate.Range(min=date(2000, 1, 1), max=date(2999, 12, 31))


class UsageArgs(Schema):
    from_ = fields.Date(data_key="from", load_default=None, validate=DAYS_KNOWN,
                        metadata={"description": "first day (the reseller's calendar); default 29 days before `to`; "
                                                 "at most 800 days at a time"})
    to = fields.Date(load_default=None, validate=DAYS_KNOWN,
                     metadata={"description": "last day, included; default today"})
    group = fields.String(load_default="day", validate=validate.OneOf(GROUPS),
                          metadata={"description": "a row per day, or summed per week (from Monday) or month"})

    @validates_schema
    def _order(self, data, **_):
        if data.get("from_") and data.get("to") and data["to"] < data["from_"]:
            raise ValidationError("on or after `from`", field_name="to")


class DayOut(Schema):
    day = fields.Date(required=True)
    upload = fields.Integer(required=True, metadata={"description": "octets from the customer"})
    download = fields.Integer(required=True, metadata={"description": "octets to the customer"})


class TotalsOut(Schema):
    upload = fields.Integer(required=True)
    download = fields.Integer(required=True)
    total = fields.Integer(required=True)
    total_mb = Decimal3(required=True)


class CycleBucketOut(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"enum": list(BUCKET_KINDS)})
    source = fields.String(required=True, metadata={"enum": list(BUCKET_SOURCES),
                                                    "description": "plan: the plan's allowance for this cycle"})
    weight = fields.Integer(required=True, metadata={"description": "lower is drawn first: 10 promotions, 20 "
                                                                    "top-ups and add-ons, 30 the plan, 40 emergency"})
    unit = fields.String(allow_none=True, required=True, metadata={"description": "MB, minutes, messages; "
                                                                                  "null: money"})
    size = Decimal3(required=True)
    used = Decimal3(required=True)
    remaining = Decimal3(required=True)
    starts_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(allow_none=True, required=True, metadata={"description": "null: no expiry"})
    usable = fields.Boolean(required=True, metadata={"description": "false: used up or expired"})


class CycleOut(Schema):
    start = fields.Date(required=True)
    end = fields.Date(required=True)
    resets_on = fields.Date(required=True, metadata={"description": "the next cycle's first day"})
    used_octets = fields.Integer(required=True)
    used_mb = Decimal3(required=True)
    allowance_mb = fields.Integer(allow_none=True, required=True, metadata={"description": "null: unlimited"})
    remaining_mb = Decimal3(allow_none=True, required=True,
                            metadata={"description": "what every usable data bucket holds (null: unlimited)"})
    percent = Decimal3(allow_none=True, required=True, metadata={
        "example": "42.5", "description": "of the plan's allowance, 1 decimal: the usage that reached it (drawn "
                                          "from the plan's bucket, or from none), since promotions and top-ups "
                                          "are drawn first"})
    topup_drawn_mb = Decimal3(required=True, metadata={"description": "drawn this cycle from buckets other than "
                                                                      "the plan's: promotions, top-ups, add-ons, "
                                                                      "emergency credit"})
    uncovered_mb = Decimal3(required=True, metadata={"description": "used this cycle when every data bucket was "
                                                                    "empty (at the reduced speed)"})
    thresholds_crossed = fields.List(fields.Integer(), required=True)
    state = fields.String(required=True, metadata={"enum": ["unlimited", "ok", "warning", "exceeded", "limited"]})
    buckets = fields.List(fields.Nested(CycleBucketOut), required=True, metadata={
        "description": "the buckets of this cycle, every kind, in draw order: usable now, or begun or expired "
                       "during the cycle"})


class UsageOut(Schema):
    service_id = fields.Integer(required=True)
    from_ = fields.Date(data_key="from", required=True)
    to = fields.Date(required=True)
    group = fields.String(required=True, metadata={"enum": list(GROUPS)})
    days = fields.List(fields.Nested(DayOut), required=True,
                       metadata={"description": "per `group`; `day` is the first day a row covers"})
    totals = fields.Nested(TotalsOut, required=True)
    cycle = fields.Nested(CycleOut, allow_none=True, required=True,
                          metadata={"description": "null for a service never activated"})


class PortalServiceUsageOut(UsageOut):
    plan_name = fields.String(allow_none=True)
    status = fields.String(required=True)


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=INTEGER))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=PER_PAGE_MAX))


class RadiusSessionArgs(PageArgs):
    status = fields.String(load_default=None, validate=validate.OneOf(SESSION_STATUSES))


class RadiusSessionOut(Schema):
    id = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"enum": list(SESSION_STATUSES)})
    username = fields.String(required=True)
    acct_session_id = fields.String(required=True)
    nas_id = fields.Integer(required=True)
    nas_name = fields.String(allow_none=True)
    nas_ip = fields.String(allow_none=True)
    framed_ip = fields.String(allow_none=True)
    calling_station_id = fields.String(allow_none=True)
    started_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    stopped_at = fields.DateTime(allow_none=True)
    session_time = fields.Integer(required=True, metadata={"description": "seconds"})
    upload = fields.Integer(required=True, metadata={"description": "octets from the customer"})
    download = fields.Integer(required=True, metadata={"description": "octets to the customer"})
    terminate_cause = fields.String(allow_none=True)


class RadiusSessionPage(Schema):
    items = fields.List(fields.Nested(RadiusSessionOut), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class CoaOut(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"enum": list(COA_KINDS)})
    trigger = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": list(COA_STATUSES)})
    attempts = fields.Integer(required=True)
    result = fields.String(allow_none=True, metadata={"enum": ["ACK", "NAK", None]})
    error_cause = fields.Integer(allow_none=True, metadata={"description": "RFC 5176 Error-Cause of a NAK"})
    error_cause_name = fields.String(allow_none=True)
    last_error = fields.String(allow_none=True)
    session_id = fields.Integer(allow_none=True)
    nas_id = fields.Integer(required=True)
    nas_ip = fields.String(allow_none=True)
    attributes = fields.Dict(required=True, metadata={"description": "what was sent, by attribute name"})
    created_at = fields.DateTime(required=True)
    completed_at = fields.DateTime(allow_none=True)


class CoaPage(RadiusSessionPage):
    items = fields.List(fields.Nested(CoaOut), required=True)


class DisconnectIn(Schema):
    reason = Text(load_default=None, allow_none=True, validate=validate.Length(max=150))


def _no_duplicates(values: list[int]) -> None:
    if len(set(values)) != len(values):
        raise ValidationError("each percent once")


class ThresholdsIn(Schema):
    percents = fields.List(fields.Integer(strict=True, validate=validate.Range(min=1, max=100)), required=True,
                           validate=[validate.Length(max=MAX_THRESHOLDS), _no_duplicates],
                           metadata={"description": f"your own alerts, whole percents 1–100, at most "
                                                    f"{MAX_THRESHOLDS}, each once; [] removes them"})


class ThresholdsOut(Schema):
    service_id = fields.Integer(required=True)
    percents = fields.List(fields.Integer(), required=True, metadata={"description": "the customer's own"})
    platform = fields.List(fields.Integer(), required=True, metadata={"description": "always sent: 75, 90, 100"})
    effective = fields.List(fields.Integer(), required=True, metadata={"description": "both, ascending"})


class RateIn(Schema):
    download = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=INTEGER))
    upload = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=INTEGER))


def _name(**kwargs) -> Text:
    return Text(allow_none=True, validate=[validate.Length(min=1, max=200),
                                           validate.Regexp(r"^[^\x00-\x1f\x7f\s][^\x00-\x1f\x7f]*$",
                                                           error="printable, not starting with a space")],
                **kwargs)


class PolicyIn(Schema):
    """Every key optional; one left out takes its default (PUT replaces the whole policy)."""

    session_timeout = fields.Integer(strict=True, validate=validate.Range(min=0, max=INTEGER),
                                     metadata={"description": "seconds; 0: no Session-Timeout"})
    interim_interval = fields.Integer(strict=True, validate=validate.Range(min=60, max=86400),
                                      metadata={"description": "seconds between Interim-Updates (60 to 86400)"})
    stale_after_intervals = fields.Integer(strict=True, validate=validate.Range(min=1, max=100),
                                           metadata={"description": "missed interims before a session is "
                                                                    "closed as stale"})
    session_retention_days = fields.Integer(strict=True, validate=validate.Range(min=1, max=3650),
                                            metadata={"description": "closed sessions kept this long"})
    suspended_action = fields.String(validate=validate.OneOf(("reject", "payment_page")))
    payment_page_address_list = _name(metadata={"description": "MikroTik address list; null: none"})
    payment_page_pool = _name(metadata={"description": "Framed-Pool for other vendors; null: none"})
    payment_page_rate_kbps = fields.Nested(RateIn)


class RateOut(Schema):
    download = fields.Integer(required=True)
    upload = fields.Integer(required=True)


class PolicyOut(Schema):
    session_timeout = fields.Integer(required=True)
    interim_interval = fields.Integer(required=True)
    stale_after_intervals = fields.Integer(required=True)
    session_retention_days = fields.Integer(required=True)
    suspended_action = fields.String(required=True, metadata={"enum": ["reject", "payment_page"]})
    payment_page_address_list = fields.String(allow_none=True, required=True)
    payment_page_pool = fields.String(allow_none=True, required=True)
    payment_page_rate_kbps = fields.Nested(RateOut, required=True)


class UsageRecordIn(Schema):
    id = Text(required=True, validate=validate.Length(min=1, max=200),
              metadata={"description": "the gateway's own id of the call or message: the same id again is the "
                                       "same record, never a second draw"})
    service_id = Id(load_default=None)
    username = Text(load_default=None, validate=validate.Length(min=1, max=64),
                    metadata={"description": "the live service's network username, instead of `service_id`"})
    kind = fields.String(required=True, validate=validate.OneOf(usage_records.KINDS))
    quantity = AmountIn(required=True, metadata={"description": "voice: minutes, up to 3 decimals (seconds / 60); "
                                                                "sms: whole messages", "example": "2.5"})
    occurred_at = fields.AwareDateTime(load_default=None, metadata={
        "description": "when the call started or the message was sent (default now; the last 30 days): a message "
                       "is paid by the buckets usable then, a call by those usable when it ended"})
    destination = Text(load_default=None, validate=validate.Length(min=1, max=64))
    category = fields.String(load_default=None, validate=validate.OneOf(usage_records.CATEGORIES))

    @validates_schema
    def _one_service(self, data, **_):
        if (data.get("service_id") is None) == (data.get("username") is None):
            raise ValidationError("either `service_id` or `username`", field_name="service_id")


class UsageRecordsIn(Schema):
    source = fields.String(load_default="gateway", validate=validate.Regexp(
        usage_records.GATEWAY, error="1 to 40 letters, digits, '_', '.' or '-'"),
        metadata={"description": "the gateway's name: record ids are its own, kept apart from other gateways'"})
    records = fields.List(fields.Nested(UsageRecordIn), required=True,
                          validate=validate.Length(min=1, max=usage_records.MAX_BATCH))


class UsageRecordOut(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"enum": list(usage_records.KINDS)})
    unit = fields.String(required=True)
    source = fields.String(required=True, metadata={"description": "radius (a call's accounting session) or "
                                                                   "api:<gateway>"})
    external_id = fields.String(required=True)
    quantity = Decimal3(required=True)
    drawn = Decimal3(required=True, metadata={"description": "taken from the service's buckets"})
    uncovered = Decimal3(required=True, metadata={"description": "found no bucket"})
    occurred_at = fields.DateTime(required=True)
    destination = fields.String(allow_none=True)
    category = fields.String(allow_none=True)


class UsageRecordResult(UsageRecordOut):
    service_id = fields.Integer(required=True)
    created = fields.Boolean(required=True, metadata={"description": "false: the record was known before, "
                                                                     "nothing drawn again"})


class UsageRecordsOut(Schema):
    records = fields.List(fields.Nested(UsageRecordResult), required=True)


class UsageRecordArgs(PageArgs):
    kind = fields.String(load_default=None, validate=validate.OneOf(usage_records.KINDS))


class UsageRecordPage(RadiusSessionPage):
    items = fields.List(fields.Nested(UsageRecordOut), required=True)
