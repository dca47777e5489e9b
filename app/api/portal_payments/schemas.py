"""What a customer sends to pay, and the payment's status they poll.

Amounts come in as decimal strings (integers pass; a JSON float is refused with a 422, having already lost
the amount) and go out as decimal strings.
"""

from marshmallow import Schema, fields, validate

from app.api.catalogue.fields import Id, MoneyOut, Text
from app.api.payments.schemas import AmountIn


class MpesaPayIn(Schema):
    invoice_id = Id(load_default=None, allow_none=True, metadata={"description": "omitted: a top-up of the balance"})
    amount = AmountIn(load_default=None, allow_none=True, metadata={
        "description": "whole shillings; omitted: what the invoice owes (rounded up to the shilling)"})
    phone = Text(load_default=None, allow_none=True, validate=validate.Length(max=20), metadata={
        "description": "the M-PESA number to prompt (07… or 2547…); omitted: the one on the account"})


class CardCheckoutIn(Schema):
    invoice_id = Id(load_default=None, allow_none=True, metadata={"description": "omitted: a top-up of the balance"})
    amount = AmountIn(load_default=None, allow_none=True, metadata={"description": "omitted: what the invoice owes"})
    success_url = Text(load_default=None, allow_none=True, validate=validate.Length(max=2000), metadata={
        "description": "where the processor sends the customer after paying (this portal's hosts only); "
                       "omitted: the portal"})
    cancel_url = Text(load_default=None, allow_none=True, validate=validate.Length(max=2000), metadata={
        "description": "where the processor sends the customer who gives up (this portal's hosts only); "
                       "omitted: the portal"})


class InvoiceStateOut(Schema):
    id = fields.Integer(required=True)
    number = fields.String(allow_none=True)
    status = fields.String(required=True)
    total = MoneyOut(required=True)
    amount_paid = MoneyOut(required=True)
    amount_due = MoneyOut(required=True)


class FailureOut(Schema):
    code = fields.String(allow_none=True, metadata={
        "description": "the gateway's result code (M-PESA's ResultCode: 1032 cancelled, 1037 timed out, 2001 wrong "
                       "PIN…) or ours: no_answer, expired, declined, duplicate"})
    message = fields.String(required=True, metadata={"description": "what happened, in words for the customer"})


class PaymentStatusOut(Schema):
    payment_id = fields.Integer(required=True)
    status = fields.String(required=True, metadata={
        "description": "pending (check your phone, or finish the checkout), succeeded, failed, or refunded…"})
    provider = fields.String(required=True)
    method = fields.String(required=True)
    amount = MoneyOut(required=True)
    currency = fields.String(required=True)
    received_at = fields.DateTime(required=True)
    receipt_number = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    checkout_url = fields.String(allow_none=True, metadata={"description": "a card checkout still to pay: go here"})
    invoice = fields.Nested(InvoiceStateOut, allow_none=True)
    failure = fields.Nested(FailureOut, allow_none=True)
    status_url = fields.String(required=True, metadata={"description": "poll this for the result"})
