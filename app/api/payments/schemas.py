"""Payments, refunds, stored payment methods, balances, gateway settings and events, charge attempts.

Amounts come in as decimal strings (integers pass too); a JSON float is refused with a 422, since it has
already lost the amount. They go out as decimal strings.
"""

from marshmallow import Schema, fields, validate

from app.api.catalogue.fields import Id, MoneyOut, Text
from app.models.billing import PAYMENT_METHODS, PAYMENT_STATUSES


def AmountIn(**kwargs) -> fields.Raw:  # noqa: N802 - a field factory reads as a field
    """Checked by the service (`money`): a decimal string, at most two decimals."""
    metadata = {"type": "string", "example": "1500.00",
                "description": "a decimal string (integers pass; floats are refused)", **kwargs.pop("metadata", {})}
    return fields.Raw(metadata=metadata, **kwargs)


class PaymentIn(Schema):
    customer_id = Id(required=True)
    amount = AmountIn(required=True)
    method = fields.String(required=True, validate=validate.OneOf(PAYMENT_METHODS))
    currency = Text(load_default=None, allow_none=True, validate=validate.Length(equal=3),
                    metadata={"description": "defaults to the currency the customer is billed in"})
    reference = Text(load_default=None, allow_none=True, validate=validate.Length(max=120),
                     metadata={"description": "what the payer quoted: bank reference, M-PESA code, cheque number"})
    received_at = fields.AwareDateTime(load_default=None, allow_none=True)
    notes = Text(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class AllocationOut(Schema):
    invoice_id = fields.Integer(required=True)
    amount = MoneyOut(required=True, metadata={"description": "negative: taken back (refund, reversal)"})
    at = fields.DateTime(required=True)


class RefundSummaryOut(Schema):
    id = fields.Integer(required=True)
    amount = MoneyOut(required=True)
    reason = fields.String(required=True)
    provider_ref = fields.String(allow_none=True)
    at = fields.DateTime(required=True)
    actor = fields.String(required=True)


class PaymentOut(Schema):
    id = fields.Integer(required=True)
    customer_id = fields.Integer(required=True)
    method = fields.String(required=True)
    amount = MoneyOut(required=True)
    currency = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": list(PAYMENT_STATUSES)})
    provider = fields.String(required=True)
    provider_ref = fields.String(allow_none=True)
    reference = fields.String(allow_none=True)
    received_at = fields.DateTime(required=True)
    refunded_amount = MoneyOut(required=True)
    unallocated = MoneyOut(required=True, metadata={"description": "what this payment holds as credit"})
    receipt_number = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
    created_by = fields.String(required=True)
    allocations = fields.List(fields.Nested(AllocationOut))
    refunds = fields.List(fields.Nested(RefundSummaryOut))


class PaymentListArgs(Schema):
    customer_id = Id(strict=False)
    status = fields.String(validate=validate.OneOf(PAYMENT_STATUSES))
    method = fields.String(validate=validate.OneOf(PAYMENT_METHODS))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class PaymentPage(Schema):
    items = fields.List(fields.Nested(PaymentOut), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class RefundIn(Schema):
    amount = AmountIn(load_default=None, allow_none=True,
                      metadata={"description": "omitted: all that is left to refund"})
    reason = Text(required=True, validate=validate.Length(min=1, max=1000))


class RefundOut(RefundSummaryOut):
    payment_id = fields.Integer(required=True)
    payment = fields.Nested(PaymentOut, required=True)


class ReverseIn(Schema):
    reason = Text(required=True, validate=validate.Length(min=1, max=1000))


class PaymentMethodIn(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(["card", "mpesa"]))
    token = Text(required=True, validate=validate.Length(min=1, max=500), metadata={
        "description": "card: the processor's payment-method token (pm_…), never a card number; "
                       "mpesa: the phone number"})
    brand = Text(load_default=None, allow_none=True, validate=validate.Length(max=20))
    last4 = Text(load_default=None, allow_none=True, validate=validate.Length(equal=4))
    expiry_month = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=12))
    expiry_year = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=2000, max=2100))
    is_default = fields.Boolean(load_default=False)


class PaymentMethodPatch(Schema):
    is_default = fields.Boolean(required=True, validate=validate.Equal(True),
                                metadata={"description": "true: make this the default (unset by choosing another)"})


class PaymentMethodOut(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    brand = fields.String(allow_none=True)
    last4 = fields.String(allow_none=True)
    expiry_month = fields.Integer(allow_none=True)
    expiry_year = fields.Integer(allow_none=True)
    is_default = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)


class OpenInvoiceOut(Schema):
    id = fields.Integer(required=True)
    number = fields.String(allow_none=True)
    status = fields.String(required=True)
    currency = fields.String(required=True)
    total = MoneyOut(required=True)
    amount_paid = MoneyOut(required=True)
    due_on = fields.Date(allow_none=True)


class BalanceOut(Schema):
    customer_id = fields.Integer(required=True)
    currency = fields.String(required=True)
    balance = MoneyOut(required=True, metadata={"description": "owed by the customer (negative: in credit)"})
    credit = MoneyOut(required=True, metadata={"description": "unallocated payments and credit notes"})
    open_invoices = fields.List(fields.Nested(OpenInvoiceOut), required=True)


class GatewayEventOut(Schema):
    id = fields.Integer(required=True)
    provider = fields.String(required=True)
    event_id = fields.String(required=True)
    kind = fields.String(required=True)
    object_ref = fields.String(allow_none=True)
    received_at = fields.DateTime(required=True)
    outcome = fields.String(required=True)
    payment_id = fields.Integer(allow_none=True)
    payload = fields.Dict(required=True)


class ResolveIn(Schema):
    customer_id = Id(required=True)


class ChargeAttemptArgs(Schema):
    invoice_id = Id(strict=False, required=True)


class ChargeAttemptOut(Schema):
    id = fields.Integer(required=True)
    invoice_id = fields.Integer(required=True)
    attempt = fields.Integer(required=True)
    due_on = fields.Date(required=True)
    status = fields.String(required=True)
    at = fields.DateTime(allow_none=True)
    error = fields.String(allow_none=True)
    payment_id = fields.Integer(allow_none=True)
    payment_method_id = fields.Integer(allow_none=True)


class DarajaOut(Schema):
    consumer_key_set = fields.Boolean(required=True)
    consumer_secret_set = fields.Boolean(required=True)
    passkey_set = fields.Boolean(required=True)
    shortcode = fields.String(allow_none=True)
    shortcode_type = fields.String(allow_none=True, metadata={"enum": ["paybill", "till"]})
    till_number = fields.String(allow_none=True)
    environment = fields.String(allow_none=True, metadata={"enum": ["sandbox", "production"]})
    updated_at = fields.String(allow_none=True)


class MpesaGatewayOut(Schema):
    configured = fields.Boolean(required=True)
    rotated_at = fields.String(allow_none=True)
    daraja = fields.Nested(DarajaOut, required=True, metadata={
        "description": "the Daraja API credentials STK pushes are sent with (secrets shown as set or not)"})


class StripeGatewayOut(Schema):
    webhook_secret_set = fields.Boolean(required=True)
    api_key_set = fields.Boolean(required=True)
    updated_at = fields.String(allow_none=True)
    webhook_url = fields.String(required=True)


class GatewaysOut(Schema):
    mpesa = fields.Nested(MpesaGatewayOut, required=True)
    stripe = fields.Nested(StripeGatewayOut, required=True)


class MpesaTokenOut(Schema):
    token = fields.String(required=True, metadata={"description": "shown once; only its digest is stored"})
    stk_url = fields.String(required=True, metadata={"description": "the CallBackURL of STK pushes"})
    c2b_url = fields.String(required=True, metadata={"description": "the C2B ConfirmationURL to register"})


class MpesaGatewayIn(Schema):
    shortcode = Text(required=True, validate=validate.Regexp(r"^[0-9]{5,7}$"), metadata={
        "description": "the paybill number, or for a till the store number the passkey was issued for"})
    shortcode_type = fields.String(required=True, validate=validate.OneOf(["paybill", "till"]))
    till_number = Text(load_default=None, allow_none=True, validate=validate.Regexp(r"^[0-9]{5,7}$"), metadata={
        "description": "a till only: the Buy Goods number customers pay (PartyB), which may differ from shortcode"})
    environment = fields.String(required=True, validate=validate.OneOf(["sandbox", "production"]))
    consumer_key = Text(load_default=None, allow_none=True, validate=validate.Length(min=8, max=500),
                        metadata={"description": "omitted: keep the one stored (required the first time)"})
    consumer_secret = Text(load_default=None, allow_none=True, validate=validate.Length(min=8, max=500),
                           metadata={"description": "omitted: keep the one stored (required the first time)"})
    passkey = Text(load_default=None, allow_none=True, validate=validate.Length(min=8, max=500),
                   metadata={"description": "the Lipa na M-PESA Online passkey; omitted: keep the one stored"})


class StripeGatewayIn(Schema):
    webhook_secret = Text(load_default=None, allow_none=True, validate=validate.Length(min=8, max=500))
    api_key = Text(load_default=None, allow_none=True, validate=validate.Length(min=8, max=500))

