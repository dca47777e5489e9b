"""Reseller accounts with the master ISP. Amounts in as decimal strings (a JSON float is refused, 422),
out as decimal strings; percentages of credit utilisation as decimal strings too."""

from marshmallow import Schema, fields, validate

from app.api.catalogue.fields import MoneyOut, Text
from app.api.payments.schemas import AmountIn
from app.models.reseller_accounts import (
    ALERT_LEVELS,
    EMERGENCY_STATUSES,
    ENTRY_KINDS,
    NEW_CUSTOMER_ACTIONS,
    PAYMENT_ACTIONS,
    PAYMENT_TERMS,
    SERVICE_ACTIONS,
)
from app.services.reseller_accounts.payments import METHODS


def Percent(**kwargs) -> fields.Decimal:  # noqa: N802 - a field factory reads as a field
    metadata = {"type": "string", "example": "82.50", **kwargs.pop("metadata", {})}
    return fields.Decimal(as_string=True, metadata=metadata, **kwargs)


class AccountSettingsIn(Schema):
    """Any of the settings; what is left out keeps its value (defaults for a new account)."""

    currency = fields.String(validate=validate.Regexp(r"^[A-Z]{3}$"),
                             metadata={"description": "ISO 4217; only while the account has no entries"})
    credit_limit = AmountIn(allow_none=True, metadata={"description": "null: no limit (no thresholds, no actions)"})
    warning_percent = fields.Integer(strict=True, validate=validate.Range(min=50, max=95))
    restriction_percent = fields.Integer(strict=True, validate=validate.Range(min=75, max=99),
                                         metadata={"description": "above warning_percent"})
    at_limit_new_customers = fields.String(validate=validate.OneOf(NEW_CUSTOMER_ACTIONS))
    at_limit_services = fields.String(validate=validate.OneOf(SERVICE_ACTIONS))
    at_limit_payments = fields.String(validate=validate.OneOf(PAYMENT_ACTIONS))
    payment_terms_days = fields.Integer(strict=True, validate=validate.OneOf(PAYMENT_TERMS))


class CreditThresholdOut(Schema):
    level = fields.String(required=True, metadata={"enum": list(ALERT_LEVELS)})
    percent = Percent(required=True)
    reached = fields.Boolean(required=True)


class CreditAlertOut(Schema):
    id = fields.Integer(required=True)
    level = fields.String(required=True, metadata={"enum": list(ALERT_LEVELS)})
    threshold = Percent(required=True)
    utilisation = Percent(required=True, metadata={"description": "when it was crossed"})
    crossed_at = fields.DateTime(required=True)
    cleared_at = fields.DateTime(allow_none=True)
    notified_at = fields.DateTime(allow_none=True)


class CreditActionsOut(Schema):
    new_customers = fields.String(required=True, metadata={"enum": ["allow", "approval", "refuse"]})
    services = fields.String(required=True, metadata={"enum": list(SERVICE_ACTIONS)})
    payments = fields.String(required=True, metadata={"enum": list(PAYMENT_ACTIONS)})


class AccountEmergencyCreditOut(Schema):
    id = fields.Integer(required=True)
    amount = MoneyOut(required=True)
    status = fields.String(required=True, metadata={"enum": list(EMERGENCY_STATUSES)})
    reason = fields.String(required=True)
    requested_by = fields.String(required=True)
    requested_at = fields.DateTime(required=True)
    approved_by = fields.String(allow_none=True, metadata={"description": "who decided (approved or rejected)"})
    decided_at = fields.DateTime(allow_none=True)
    decision_note = fields.String(allow_none=True)
    expires_at = fields.DateTime(allow_none=True)
    active = fields.Boolean(required=True, metadata={"description": "approved and not yet expired"})


class AccountOut(Schema):
    tenant_code = fields.String(required=True)
    currency = fields.String(required=True)
    credit_limit = MoneyOut(allow_none=True)
    warning_percent = fields.Integer(required=True)
    restriction_percent = fields.Integer(required=True)
    at_limit_new_customers = fields.String(required=True)
    at_limit_services = fields.String(required=True)
    at_limit_payments = fields.String(required=True)
    payment_terms_days = fields.Integer(required=True)
    updated_at = fields.DateTime(required=True)
    updated_by = fields.String(required=True)
    balance = MoneyOut(required=True, metadata={"description": "owed to the master ISP; negative: in credit"})
    overdue = MoneyOut(required=True, metadata={"description": "owed on charges past their due date"})
    emergency_credit = MoneyOut(required=True, metadata={"description": "approved and not expired"})
    emergency_credit_max = MoneyOut(allow_none=True, metadata={"description": "25 % of the credit limit"})
    available = MoneyOut(allow_none=True, metadata={"description": "credit left before 100 %"})
    utilisation = Percent(allow_none=True, metadata={"description": "balance ÷ (limit + emergency credit), %"})
    thresholds = fields.List(fields.Nested(CreditThresholdOut), required=True)
    actions = fields.Nested(CreditActionsOut, required=True, metadata={"description": "what applies now"})
    open_alerts = fields.List(fields.Nested(CreditAlertOut), required=True)
    alerts = fields.List(fields.Nested(CreditAlertOut), required=True, metadata={"description": "the latest 50"})
    emergency_credits = fields.List(fields.Nested(AccountEmergencyCreditOut), required=True)


class AccountLineOut(Schema):
    tenant_code = fields.String(required=True)
    currency = fields.String(required=True)
    credit_limit = MoneyOut(allow_none=True)
    balance = MoneyOut(required=True)
    overdue = MoneyOut(required=True)
    emergency_credit = MoneyOut(required=True)
    utilisation = Percent(allow_none=True)
    open_alerts = fields.List(fields.String(metadata={"enum": list(ALERT_LEVELS)}), required=True)
    actions = fields.Nested(CreditActionsOut, required=True)


class AccountEntryListArgs(Schema):
    kind = fields.String(validate=validate.OneOf(ENTRY_KINDS))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class AccountAllocationOut(Schema):
    payment_id = fields.Integer(required=True)
    charge_id = fields.Integer(required=True)
    amount = MoneyOut(required=True)


class AccountEntryOut(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"enum": list(ENTRY_KINDS)})
    amount = MoneyOut(required=True, metadata={"description": "positive: owed by the reseller"})
    currency = fields.String(required=True)
    at = fields.DateTime(required=True)
    due_on = fields.Date(allow_none=True)
    service_id = fields.Integer(allow_none=True)
    invoice_id = fields.Integer(allow_none=True)
    period_start = fields.Date(allow_none=True)
    period_end = fields.Date(allow_none=True)
    method = fields.String(allow_none=True)
    reference = fields.String(allow_none=True)
    reverses_id = fields.Integer(allow_none=True)
    description = fields.String(required=True)
    actor = fields.String(required=True)
    allocations = fields.List(fields.Nested(AccountAllocationOut), required=True,
                              metadata={"description": "a charge: the payments that paid it; a payment: the charges"})


class AccountEntryPage(Schema):
    items = fields.List(fields.Nested(AccountEntryOut), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class AccountPaymentIn(Schema):
    amount = AmountIn(required=True)
    method = fields.String(required=True, validate=validate.OneOf(METHODS))
    reference = Text(load_default=None, allow_none=True, validate=validate.Length(max=120),
                     metadata={"description": "the bank's or M-PESA's reference; unique per reseller"})
    received_on = fields.Date(load_default=None, allow_none=True)
    notes = Text(load_default=None, allow_none=True, validate=validate.Length(max=500))


class AccountPaymentOut(Schema):
    payment = fields.Nested(AccountEntryOut, required=True)
    account = fields.Nested(AccountOut, required=True)


class AccountAdjustmentIn(Schema):
    amount = AmountIn(required=True, metadata={"description": "positive: owed by the reseller (due after the "
                                                              "payment terms); negative: in its favour"})
    reason = Text(required=True, validate=validate.Length(min=1, max=2000))


class EmergencyCreditRequestIn(Schema):
    amount = AmountIn(required=True, metadata={"description": "at most 25 % of the credit limit"})
    reason = Text(required=True, validate=validate.Length(min=1, max=2000))


class EmergencyCreditDecisionIn(Schema):
    note = Text(load_default=None, allow_none=True, validate=validate.Length(max=2000))
