"""Commission rules in and out, commission lines and their totals.

Rates and amounts come in as decimal strings or JSON numbers (checked by the service: a rate has at most
four decimals, an amount two) and go out as decimal strings.
"""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.api.catalogue.fields import Id, MoneyIn, MoneyOut, Text
from app.models.commissions import LINE_KINDS, LINE_STATUSES, RULE_KINDS

PERIOD = r"^\d{4}-(0[1-9]|1[0-2])$"
RATE_META = {"type": "string", "example": "15.00", "description": "percent, up to four decimals"}


class CommissionTierIn(Schema):
    start = MoneyIn(required=True, data_key="from", allow_nan=False,
                    metadata={"description": "the period's volume from which this tier's rate applies"})
    rate = MoneyIn(required=True, allow_nan=False, metadata={"description": "percent"})


class CommissionTierOut(Schema):
    start = fields.String(required=True, data_key="from")
    rate = fields.String(required=True)


class CommissionRuleTerms(Schema):
    rate = MoneyIn(allow_none=True, allow_nan=False, metadata={
        "description": "percent: of the payment (recurring), of the usage paid (usage), of the setup fee (setup)"})
    amount = MoneyIn(allow_none=True, allow_nan=False, metadata={"description": "fixed: setup or retention bonus"})
    currency = Text(allow_none=True, validate=validate.Regexp(r"^[A-Za-z]{3}$"))
    months = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=120),
                            metadata={"description": "retention: the customer is kept at least this long"})
    tiers = fields.List(fields.Nested(CommissionTierIn), allow_none=True, validate=validate.Length(min=1, max=50),
                        metadata={"description": "performance: the highest tier reached sets the rate"})
    effective_until = fields.Date(allow_none=True, metadata={"description": "inclusive; none: open-ended"})


class CommissionRuleIn(CommissionRuleTerms):
    kind = fields.String(required=True, validate=validate.OneOf(RULE_KINDS))
    effective_from = fields.Date(required=True)


class CommissionRulePatch(CommissionRuleTerms):
    effective_from = fields.Date()


class CommissionRuleOut(Schema):
    id = fields.Integer(required=True)
    tenant_id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"enum": list(RULE_KINDS)})
    rate = fields.Decimal(as_string=True, allow_none=True, metadata=RATE_META)
    amount = MoneyOut(allow_none=True)
    currency = fields.String(allow_none=True)
    months = fields.Integer(allow_none=True)
    tiers = fields.List(fields.Nested(CommissionTierOut), allow_none=True)
    effective_from = fields.Date(required=True)
    effective_until = fields.Date(allow_none=True)
    created_at = fields.DateTime(required=True)
    created_by = fields.String(required=True)


class CommissionRuleListArgs(Schema):
    kind = fields.String(validate=validate.OneOf(RULE_KINDS))
    on = fields.Date(metadata={"description": "only the rules in force on this day"})


class CommissionRuleEnded(Schema):
    deleted = fields.Boolean(required=True, metadata={"description": "true: it had not started and is gone"})
    rule = fields.Nested(CommissionRuleOut, allow_none=True,
                         metadata={"description": "the rule as ended, unless deleted"})


class CommissionPeriodArgs(Schema):
    period = fields.String(validate=validate.Regexp(PERIOD), metadata={"example": "2026-03",
                                                                     "description": "a calendar month"})
    start = fields.Date(metadata={"description": "lines of periods starting on or after this day"})
    end = fields.Date(metadata={"description": "lines of periods starting on or before this day"})

    @validates_schema
    def _one_way(self, data, **kwargs):
        if data.get("period") and (data.get("start") or data.get("end")):
            raise ValidationError("give a period or start/end, not both", "period")
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise ValidationError("end is before start", "end")


class CommissionLineListArgs(CommissionPeriodArgs):
    kind = fields.String(validate=validate.OneOf(LINE_KINDS))
    status = fields.String(validate=validate.OneOf(LINE_STATUSES))
    customer_id = Id(strict=False, metadata={"description": "with source_tenant_id for a sub-reseller's customer"})
    source_tenant_id = Id(strict=False, metadata={"description": "whose customer paid: this reseller or a "
                                                                 "sub-reseller below it"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class CommissionLineOut(Schema):
    """"Commission Calculation" (001): `commission_id` is `id`, `commission_type` is `kind`,
    `commission_rate` is `rate`, `commission_amount` is `amount`."""

    id = fields.Integer(required=True)
    reseller_id = fields.Integer(required=True)
    customer_id = fields.Integer(allow_none=True)
    source_tenant_id = fields.Integer(required=True)
    source_payment_id = fields.Integer(allow_none=True)
    rule_id = fields.Integer(allow_none=True)
    kind = fields.String(required=True, metadata={"enum": list(LINE_KINDS)})
    base_amount = MoneyOut(required=True)
    rate = fields.Decimal(as_string=True, allow_none=True, metadata=RATE_META)
    amount = MoneyOut(required=True, metadata={"description": "negative: taken back (refund, reversal)"})
    currency = fields.String(required=True)
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    status = fields.String(required=True, metadata={"enum": list(LINE_STATUSES)})
    reverses_id = fields.Integer(allow_none=True)
    payout_id = fields.Integer(allow_none=True)
    note = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)


class CommissionLinePage(Schema):
    items = fields.List(fields.Nested(CommissionLineOut), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class CommissionTotalOut(Schema):
    kind = fields.String(required=True)
    status = fields.String(required=True)
    currency = fields.String(required=True)
    count = fields.Integer(required=True)
    amount = MoneyOut(required=True)


class CommissionNetOut(Schema):
    currency = fields.String(required=True)
    amount = MoneyOut(required=True, metadata={"description": "everything but Rejected lines"})


class CommissionSummaryOut(Schema):
    start = fields.Date(allow_none=True)
    end = fields.Date(allow_none=True)
    totals = fields.List(fields.Nested(CommissionTotalOut), required=True)
    net = fields.List(fields.Nested(CommissionNetOut), required=True)
