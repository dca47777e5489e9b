"""Shapes of invoice disputes and payment plans, for the reseller (`/reseller/api/billing-disputes`,
`/reseller/api/payment-plans`) and, without the team's own bookkeeping (who did what), for the customer
(app/api/portal_disputes). Money travels as decimal strings, dates as ISO dates."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.api.catalogue.fields import Id, MoneyIn, MoneyOut, Text
from app.models.arrangements import DISPUTE_REASONS, DISPUTE_STATUSES, INSTALMENT_STATUSES, OUTCOMES, PLAN_STATUSES
from app.services.billing.arrangements.disputes import MAX_LINES, MAX_MESSAGE
from app.services.billing.arrangements.policy import MAX_GRACE, MAX_INSTALMENTS


class ArrangementPageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class _Page(Schema):
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


# -- disputes -----------------------------------------------------------------------------------------------

class InvoiceDisputeListArgs(ArrangementPageArgs):
    status = Text(validate=validate.OneOf(DISPUTE_STATUSES))


class TeamInvoiceDisputeListArgs(InvoiceDisputeListArgs):
    customer_id = Id(strict=False)
    invoice_id = Id(strict=False)


class InvoiceDisputeIn(Schema):
    invoice_id = Id(required=True)
    line_ids = fields.List(Id(), required=True, validate=validate.Length(min=1, max=MAX_LINES),
                           metadata={"description": "the invoice's lines you dispute"})
    reason = Text(required=True, validate=validate.OneOf(DISPUTE_REASONS),
                  metadata={"description": "usage (more than you used), price, duplicate (charged twice), outage "
                                           "(the service did not work), not_received, other"})
    message = Text(required=True, validate=validate.Length(min=1, max=MAX_MESSAGE))


class InvoiceDisputeAppealIn(Schema):
    message = Text(required=True, validate=validate.Length(min=1, max=MAX_MESSAGE),
                   metadata={"description": "why the answer should be looked at again"})


class InvoiceDisputeFileIn(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class InvoiceDisputeLineOut(Schema):
    line_id = fields.Integer(required=True)
    service_id = fields.Integer(allow_none=True)
    description = fields.String(required=True)
    amount = MoneyOut(required=True, metadata={"description": "what the line charged, tax included"})


class InvoiceDisputeAttachmentOut(Schema):
    id = fields.Integer(required=True)
    file_name = fields.String(required=True)
    content_type = fields.String(required=True)
    size = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    url = fields.String(required=True)


class DisputeUsageDayOut(Schema):
    day = fields.Date(required=True)
    upload = fields.Integer(required=True, metadata={"description": "octets from the customer"})
    download = fields.Integer(required=True, metadata={"description": "octets to the customer"})
    total_mb = MoneyOut(required=True, metadata={"example": "1536.000", "description": "megabytes (2^20 octets)"})


class DisputeUsageTotalsOut(Schema):
    upload = fields.Integer(required=True)
    download = fields.Integer(required=True)
    total = fields.Integer(required=True)
    total_mb = MoneyOut(required=True, metadata={"example": "1536.000"})


class DisputeEvidenceOut(Schema):
    service_id = fields.Integer(required=True)
    start = fields.Date(required=True, data_key="from")
    end = fields.Date(required=True, data_key="to")
    days = fields.List(fields.Nested(DisputeUsageDayOut), required=True)
    totals = fields.Nested(DisputeUsageTotalsOut, required=True)


class ArrangementEventOut(Schema):
    at = fields.DateTime(required=True)
    action = fields.String(required=True)
    from_status = fields.String(allow_none=True)
    to_status = fields.String(allow_none=True)
    note = fields.String(allow_none=True)


class TeamArrangementEventOut(ArrangementEventOut):
    actor = fields.String(required=True)
    detail = fields.Dict(required=True)


class InvoiceDisputeOut(Schema):
    id = fields.Integer(required=True)
    invoice_id = fields.Integer(required=True)
    invoice_number = fields.String(allow_none=True)
    status = fields.String(required=True, metadata={"enum": list(DISPUTE_STATUSES)})
    reason = fields.String(required=True, metadata={"enum": list(DISPUTE_REASONS)})
    message = fields.String(required=True)
    currency = fields.String(required=True)
    disputed_amount = MoneyOut(required=True, metadata={"description": "what the disputed lines charge; not "
                                                                       "dunned while the dispute is open"})
    opened_on = fields.Date(required=True)
    expected_by = fields.Date(required=True, metadata={"description": "the answer is due by this day (10 business "
                                                                      "days, the reseller's calendar)"})
    outcome = fields.String(allow_none=True, metadata={"enum": list(OUTCOMES)})
    credited_amount = MoneyOut(allow_none=True)
    credit_note_id = fields.Integer(allow_none=True)
    credit_note_number = fields.String(allow_none=True)
    payment_plan_id = fields.Integer(allow_none=True)
    answer = fields.String(allow_none=True)
    answered_at = fields.DateTime(allow_none=True)
    appealed_at = fields.DateTime(allow_none=True)
    appealable = fields.Boolean(required=True, metadata={"description": "a rejection not yet appealed, within 30 "
                                                                        "days"})
    created_at = fields.DateTime(required=True)
    lines = fields.List(fields.Nested(InvoiceDisputeLineOut), required=True)
    attachments = fields.List(fields.Nested(InvoiceDisputeAttachmentOut), required=True)


class InvoiceDisputeDetailOut(InvoiceDisputeOut):
    evidence = fields.List(fields.Nested(DisputeEvidenceOut), required=True,
                           metadata={"description": "each disputed service's daily usage over the 30 days before "
                                                    "the invoice, as it was when the dispute was opened"})
    history = fields.List(fields.Nested(ArrangementEventOut), required=True)


class TeamInvoiceDisputeOut(InvoiceDisputeOut):
    customer_id = fields.Integer(required=True)
    opened_by = fields.String(required=True)
    answered_by = fields.String(allow_none=True)


class TeamInvoiceDisputeDetailOut(TeamInvoiceDisputeOut):
    evidence = fields.List(fields.Nested(DisputeEvidenceOut), required=True)
    history = fields.List(fields.Nested(TeamArrangementEventOut), required=True)


class InvoiceDisputePage(_Page):
    items = fields.List(fields.Nested(InvoiceDisputeOut), required=True)


class TeamInvoiceDisputePage(_Page):
    items = fields.List(fields.Nested(TeamInvoiceDisputeOut), required=True)


class ArrangementNoteIn(Schema):
    note = Text(load_default=None, allow_none=True, validate=validate.Length(max=MAX_MESSAGE))


class ArrangementRequiredNoteIn(Schema):
    note = Text(required=True, validate=validate.Length(min=1, max=MAX_MESSAGE))


class InvoiceDisputeAnswerIn(Schema):
    answer = Text(required=True, validate=validate.Length(min=1, max=MAX_MESSAGE),
                  metadata={"description": "what the customer reads"})


class DisputeCreditLineIn(Schema):
    line_id = Id(required=True)
    amount = MoneyIn(load_default=None, allow_none=True,
                     metadata={"description": "part of the line, before tax on a tax-exclusive invoice; absent: "
                                              "the whole line"})


class PaymentPlanInstalmentIn(Schema):
    due_on = fields.Date(required=True)
    amount = MoneyIn(required=True)


class PaymentPlanScheduleFields(Schema):
    instalments = fields.Integer(strict=True, load_default=None, allow_none=True,
                                 validate=validate.Range(min=1, max=MAX_INSTALMENTS),
                                 metadata={"description": "monthly instalments, equal but for the last"})
    first_due_on = fields.Date(load_default=None, allow_none=True,
                               metadata={"description": "default: a month from today"})
    schedule = fields.List(fields.Nested(PaymentPlanInstalmentIn), load_default=None, allow_none=True,
                           validate=validate.Length(min=1, max=MAX_INSTALMENTS),
                           metadata={"description": "or every instalment, adding up to what is owed"})


class InvoiceDisputeResolveIn(PaymentPlanScheduleFields):
    outcome = Text(required=True, validate=validate.OneOf(OUTCOMES))
    answer = Text(required=True, validate=validate.Length(min=1, max=MAX_MESSAGE))
    lines = fields.List(fields.Nested(DisputeCreditLineIn), load_default=None, allow_none=True,
                        metadata={"description": "for a credit: what of the disputed lines is credited (default "
                                                 "all of them, whole)"})


# -- payment plans ------------------------------------------------------------------------------------------

class PaymentPlanListArgs(ArrangementPageArgs):
    status = Text(validate=validate.OneOf(PLAN_STATUSES))


class TeamPaymentPlanListArgs(PaymentPlanListArgs):
    customer_id = Id(strict=False)


class PaymentPlanIn(Schema):
    instalments = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_INSTALMENTS),
                                 metadata={"description": "how many monthly instalments (within your provider's "
                                                          "bounds: see /portal/api/payment-plans/offer)"})
    message = Text(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class PaymentPlanApproveIn(PaymentPlanScheduleFields):
    note = Text(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class PaymentPlanInvoiceOut(Schema):
    invoice_id = fields.Integer(required=True)
    number = fields.String(allow_none=True)
    owed = MoneyOut(required=True, metadata={"description": "what it owed when the plan was agreed"})
    status = fields.String(required=True)


class PaymentPlanInstalmentOut(Schema):
    number = fields.Integer(required=True)
    due_on = fields.Date(required=True)
    amount = MoneyOut(required=True)
    status = fields.String(required=True, metadata={"enum": list(INSTALMENT_STATUSES)})
    paid_on = fields.Date(allow_none=True)


class PaymentPlanOut(Schema):
    id = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"enum": list(PLAN_STATUSES)})
    currency = fields.String(required=True)
    amount = MoneyOut(required=True)
    proposed_instalments = fields.Integer(required=True)
    message = fields.String(allow_none=True)
    decision_note = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    ended_on = fields.Date(allow_none=True)
    created_at = fields.DateTime(required=True)
    paid = MoneyOut(allow_none=True, metadata={"description": "paid toward an Active plan so far"})
    remaining = MoneyOut(allow_none=True)
    next_due_on = fields.Date(allow_none=True)
    dispute_id = fields.Integer(allow_none=True)
    invoices = fields.List(fields.Nested(PaymentPlanInvoiceOut), required=True)
    instalments = fields.List(fields.Nested(PaymentPlanInstalmentOut), required=True)
    history = fields.List(fields.Nested(ArrangementEventOut), required=True)


class TeamPaymentPlanOut(PaymentPlanOut):
    customer_id = fields.Integer(required=True)
    requested_by = fields.String(required=True)
    decided_by = fields.String(allow_none=True)
    history = fields.List(fields.Nested(TeamArrangementEventOut), required=True)


class PaymentPlanPage(_Page):
    items = fields.List(fields.Nested(PaymentPlanOut), required=True)


class TeamPaymentPlanPage(_Page):
    items = fields.List(fields.Nested(TeamPaymentPlanOut), required=True)


class PaymentPlanOfferOut(Schema):
    eligible = fields.Boolean(required=True)
    refusal = fields.String(allow_none=True, metadata={
        "enum": ["not_offered", "open_plan", "several_currencies", "below_threshold"]})
    owed = MoneyOut(required=True)
    currency = fields.String(allow_none=True)
    min_balance = MoneyOut(required=True)
    min_instalments = fields.Integer(required=True)
    max_instalments = fields.Integer(required=True)
    open_plan_id = fields.Integer(allow_none=True)


class PaymentPlanPolicyIn(Schema):
    enabled = fields.Boolean(load_default=True)
    min_balance = MoneyIn(load_default=None)
    min_instalments = fields.Integer(strict=True, load_default=None, validate=validate.Range(min=1,
                                                                                            max=MAX_INSTALMENTS))
    max_instalments = fields.Integer(strict=True, load_default=None, validate=validate.Range(min=1,
                                                                                            max=MAX_INSTALMENTS))
    grace_days = fields.Integer(strict=True, load_default=None, validate=validate.Range(min=0, max=MAX_GRACE))


class PaymentPlanPolicyOut(Schema):
    enabled = fields.Boolean(required=True)
    min_balance = MoneyOut(required=True)
    min_instalments = fields.Integer(required=True)
    max_instalments = fields.Integer(required=True)
    grace_days = fields.Integer(required=True)
