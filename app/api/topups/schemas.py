"""Top-ups, add-ons, emergency credit, and a service's buckets and balances.

Amounts are decimal strings (integers pass; a JSON float is refused by the service, since it has
already lost the amount): data in MB, voice in minutes, SMS in messages, money in the service's
currency. The service checks amounts and prices (422 naming the field)."""

from marshmallow import Schema, fields, validate

from app.api.catalogue.fields import MoneyOut, Text
from app.api.payments.schemas import AmountIn
from app.services.billing.buckets import KINDS
from app.services.billing.topups import PAY_WITH, SOURCES


def QuantityOut(**kwargs) -> fields.Decimal:  # noqa: N802 - a field factory reads as a field
    metadata = {"type": "string", "example": "5120.000", **kwargs.pop("metadata", {})}
    return fields.Decimal(as_string=True, metadata=metadata, **kwargs)


class TopUpIn(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    amount = AmountIn(required=True, metadata={"description": "MB, minutes, messages or money",
                                               "example": "5120"})
    price = AmountIn(load_default=None, allow_none=True,
                     metadata={"description": "what the customer pays (money top-ups: the amount unless told); "
                                              "0 for a free bonus", "example": "500.00"})
    pay_with = fields.String(load_default="account", validate=validate.OneOf(PAY_WITH), metadata={
        "description": "account: an invoice owed like any other; cash, mpesa, card, bank_transfer: the invoice "
                       "and the payment received; wallet: from the service's prepaid balance"})
    source = fields.String(load_default="topup", validate=validate.OneOf(SOURCES), metadata={
        "description": "promotion: a bonus, drawn first (weight 10); topup and addon: drawn next (20)"})
    validity_days = fields.Integer(strict=True, load_default=None, allow_none=True,
                                   validate=validate.Range(min=1, max=3650))
    weight = fields.Integer(strict=True, load_default=None, allow_none=True, validate=validate.Range(min=0, max=1000),
                            metadata={"description": "lower is drawn first; default 10 for promotions, 20 for "
                                                     "top-ups and add-ons (the plan's allowance is 30)"})
    name = Text(load_default=None, allow_none=True, validate=validate.Length(max=200))
    reference = Text(load_default=None, allow_none=True, validate=validate.Length(min=1, max=100),
                     metadata={"description": "your order id: the same reference again returns the first purchase"})


class EmergencyCreditIn(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    amount = AmountIn(required=True)
    hours = fields.Integer(strict=True, load_default=None, allow_none=True, validate=validate.Range(min=1, max=720))
    reference = Text(load_default=None, allow_none=True, validate=validate.Length(min=1, max=100))


class UsageBucketOut(Schema):
    id = fields.Integer(required=True)
    service_id = fields.Integer(required=True)
    kind = fields.String(required=True)
    source = fields.String(required=True)
    total = QuantityOut(required=True)
    remaining = QuantityOut(required=True)
    weight = fields.Integer(required=True)
    starts_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(allow_none=True)
    invoice_id = fields.Integer(allow_none=True)
    reference = fields.String(allow_none=True)


class TopUpPurchaseOut(Schema):
    created = fields.Boolean(required=True, metadata={"description": "false: this reference was bought before"})
    bucket = fields.Nested(UsageBucketOut, required=True)
    invoice_id = fields.Integer(allow_none=True)
    invoice_number = fields.String(allow_none=True)
    payment_id = fields.Integer(allow_none=True)
    from_wallet = MoneyOut(allow_none=True)
    repaid_emergency = QuantityOut(required=True)
    restored = fields.Boolean(required=True, metadata={"description": "a fair-usage limit was lifted"})


class UsageBalanceOut(Schema):
    kind = fields.String(required=True)
    unit = fields.String(allow_none=True)
    remaining = QuantityOut(required=True)
    total = QuantityOut(required=True)
    buckets = fields.Integer(required=True)
    next_expiry = fields.DateTime(allow_none=True)


class EmergencyCreditOut(Schema):
    bucket_id = fields.Integer(required=True)
    kind = fields.String(required=True)
    remaining = QuantityOut(required=True)
    owed = QuantityOut(required=True, metadata={"description": "used and not yet repaid"})
    expires_at = fields.DateTime(allow_none=True)


class ServiceBalancesOut(Schema):
    service_id = fields.Integer(required=True)
    balances = fields.List(fields.Nested(UsageBalanceOut), required=True)
    buckets = fields.List(fields.Nested(UsageBucketOut), required=True)
    emergency = fields.List(fields.Nested(EmergencyCreditOut), required=True)


class UsageBucketArgs(Schema):
    kind = fields.String(load_default=None, validate=validate.OneOf(KINDS))
    include_spent = fields.Boolean(load_default=False)
