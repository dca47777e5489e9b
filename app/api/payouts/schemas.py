"""Commission payouts, statements, payout schedules and disputes.

Amounts go out as decimal strings; amounts and rates come in as decimal strings (integers pass; a JSON
float is refused with a 422, since it has already lost the exact value), checked by the services.
"""

from marshmallow import Schema, fields, validate

from app.api.catalogue.fields import Id, MoneyOut, Text
from app.models.commissions import LINE_KINDS, LINE_STATUSES
from app.models.payouts import DISPUTE_STATUSES, FREQUENCIES, METHODS, PAYOUT_STATUSES
from app.services.commissions.disputes import MAX_LINES, MAX_MESSAGE


def DecimalIn(example: str, description: str, **kwargs) -> fields.Raw:  # noqa: N802 - a field factory
    return fields.Raw(metadata={"type": "string", "example": example, "description": description}, **kwargs)


def Currency(**kwargs) -> fields.String:  # noqa: N802
    metadata = {"example": "KES", **kwargs.pop("metadata", {})}
    return fields.String(validate=validate.Regexp(r"^[A-Za-z]{3}$"), metadata=metadata, **kwargs)


class PayoutPageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class PayoutListArgs(PayoutPageArgs):
    status = fields.String(validate=validate.OneOf(PAYOUT_STATUSES))


class DisputeListArgs(PayoutPageArgs):
    status = fields.String(validate=validate.OneOf(DISPUTE_STATUSES))


class PayoutLineOut(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"enum": list(LINE_KINDS)})
    customer_id = fields.Integer(allow_none=True)
    source_tenant_id = fields.Integer(required=True, metadata={"description": "whose customer (pass-through)"})
    base_amount = MoneyOut(required=True)
    rate = fields.Decimal(as_string=True, allow_none=True, metadata={"type": "string", "example": "10.0000"})
    amount = MoneyOut(required=True, metadata={"description": "negative: taken back (a reversal)"})
    currency = fields.String(required=True)
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    status = fields.String(required=True, metadata={"enum": list(LINE_STATUSES)})
    reverses_id = fields.Integer(allow_none=True)
    note = fields.String(allow_none=True)


class PayoutOut(Schema):
    id = fields.Integer(required=True)
    number = fields.String(required=True)
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    status = fields.String(required=True, metadata={"enum": list(PAYOUT_STATUSES)})
    currency = fields.String(required=True, metadata={"description": "of the lines"})
    gross = MoneyOut(required=True, metadata={"description": "lines earned in the period, reversals netted"})
    adjustments = MoneyOut(required=True, metadata={"description": "lines made by settled disputes"})
    carried_in = MoneyOut(required=True, metadata={"description": "lines of earlier periods (carried over)"})
    amount = MoneyOut(required=True)
    minimum_threshold = MoneyOut(required=True)
    carried_into_id = fields.Integer(allow_none=True)
    statement_issued_at = fields.DateTime(required=True)
    dispute_window_ends_at = fields.DateTime(required=True)
    approved_at = fields.DateTime(allow_none=True)
    approved_by = fields.String(allow_none=True)
    payout_currency = fields.String(allow_none=True)
    fx_rate = fields.Decimal(as_string=True, allow_none=True,
                             metadata={"type": "string", "description": "payout currency per unit, at payment"})
    converted_amount = MoneyOut(allow_none=True)
    method = fields.String(allow_none=True)
    reference = fields.String(allow_none=True)
    paid_at = fields.DateTime(allow_none=True)
    paid_by = fields.String(allow_none=True)


class PayoutDetailOut(PayoutOut):
    lines = fields.List(fields.Nested(PayoutLineOut), required=True)


class PayoutPage(Schema):
    items = fields.List(fields.Nested(PayoutOut), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class PayoutDetailsIn(Schema):
    """The keys of app/services/commissions/payouts.py DETAIL_KEYS."""

    account_name = Text(validate=validate.Length(max=200), allow_none=True)
    account_number = Text(validate=validate.Length(max=200), allow_none=True)
    bank_name = Text(validate=validate.Length(max=200), allow_none=True)
    branch = Text(validate=validate.Length(max=200), allow_none=True)
    swift = Text(validate=validate.Length(max=200), allow_none=True)
    iban = Text(validate=validate.Length(max=200), allow_none=True)
    wallet_provider = Text(validate=validate.Length(max=200), allow_none=True)
    wallet_number = Text(validate=validate.Length(max=200), allow_none=True)
    mailing_address = Text(validate=validate.Length(max=200), allow_none=True)



class PayoutScheduleIn(Schema):
    frequency = fields.String(required=True, validate=validate.OneOf(FREQUENCIES))
    processing_day = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=28))
    minimum_threshold = DecimalIn("50.00", "50 to 1000, in the payout currency", required=True)
    method = fields.String(required=True, validate=validate.OneOf(METHODS))
    currency = Currency(required=True, metadata={"description": "the payout currency"})
    dispute_window_days = fields.Integer(load_default=5, strict=True, validate=validate.Range(min=1, max=30),
                                         metadata={"description": "business days after the statement"})
    details = fields.Nested(PayoutDetailsIn, load_default=None, allow_none=True,
                            metadata={"description": "where to pay; encrypted at rest"})


class PayoutScheduleOut(Schema):
    frequency = fields.String(required=True, metadata={"enum": list(FREQUENCIES)})
    processing_day = fields.Integer(required=True)
    minimum_threshold = MoneyOut(required=True)
    method = fields.String(required=True, metadata={"enum": list(METHODS)})
    currency = fields.String(required=True)
    dispute_window_days = fields.Integer(required=True)
    details = fields.Dict(keys=fields.String(), values=fields.String(), allow_none=True,
                          metadata={"description": "the reseller sees the last four characters of each"})
    configured = fields.Boolean(required=True, metadata={"description": "false: the defaults apply"})
    updated_at = fields.DateTime(allow_none=True)
    updated_by = fields.String(allow_none=True)


class PayoutApproveIn(Schema):
    note = Text(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class PayoutPayIn(Schema):
    method = fields.String(required=True, validate=validate.OneOf(METHODS))
    reference = Text(required=True, validate=validate.Length(min=1, max=120))
    payout_currency = Currency(load_default=None, allow_none=True,
                               metadata={"description": "defaults to the schedule's currency"})
    fx_rate = DecimalIn("0.00775", "payout currency per unit of the lines' currency, at payment time; "
                        "needed when the currencies differ", load_default=None, allow_none=True)
    paid_at = fields.AwareDateTime(load_default=None, allow_none=True)


class CommissionDisputeIn(Schema):
    line_ids = fields.List(Id(), required=True, validate=validate.Length(min=1, max=MAX_LINES),
                           metadata={"description": "lines of one statement"})
    message = Text(required=True, validate=validate.Length(min=1, max=MAX_MESSAGE))


class DisputeResolveIn(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(("Adjusted", "Rejected")))
    note = Text(required=True, validate=validate.Length(min=1, max=MAX_MESSAGE))
    adjusted_amount = DecimalIn("120.00", "Adjusted: what the disputed lines should come to", load_default=None,
                                allow_none=True)


class DisputeFileIn(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class DisputedLineOut(Schema):
    line_id = fields.Integer(required=True)
    amount = MoneyOut(required=True)
    previous_status = fields.String(required=True)


class DisputeAttachmentOut(Schema):
    id = fields.Integer(required=True)
    file_name = fields.String(required=True)
    content_type = fields.String(required=True)
    size = fields.Integer(required=True)
    uploaded_by = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class CommissionDisputeOut(Schema):
    id = fields.Integer(required=True)
    payout_id = fields.Integer(allow_none=True)
    status = fields.String(required=True, metadata={"enum": list(DISPUTE_STATUSES)})
    message = fields.String(required=True)
    disputed_amount = MoneyOut(required=True)
    adjusted_amount = MoneyOut(allow_none=True)
    adjustment_line_id = fields.Integer(allow_none=True)
    resolution_note = fields.String(allow_none=True)
    opened_by = fields.String(required=True)
    resolved_by = fields.String(allow_none=True)
    resolved_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime(required=True)
    lines = fields.List(fields.Nested(DisputedLineOut), required=True)
    attachments = fields.List(fields.Nested(DisputeAttachmentOut), required=True)


class CommissionDisputePage(Schema):
    items = fields.List(fields.Nested(CommissionDisputeOut), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class CommissionAdjustmentOut(Schema):
    id = fields.Integer(required=True)
    at = fields.DateTime(required=True)
    action = fields.String(required=True, metadata={"example": "line.adjusted"})
    line_id = fields.Integer(allow_none=True)
    payout_id = fields.Integer(allow_none=True)
    dispute_id = fields.Integer(allow_none=True)
    before = fields.Dict(required=True)
    after = fields.Dict(required=True)
    reason = fields.String(allow_none=True)
    actor = fields.String(required=True)
