"""Shapes of the reseller's top-up bundles, a customer's purchase of one, the buckets and emergency
credit. Quantities and money travel as decimal strings: data in MB, voice in minutes, SMS in messages,
money in the service's currency."""

from marshmallow import Schema, fields, validate

from app.api.catalogue.fields import MoneyOut, Text
from app.api.payments.schemas import AmountIn
from app.api.topups.schemas import EmergencyCreditOut, QuantityOut, UsageBalanceOut
from app.services.billing.buckets import KINDS
from app.services.selfcare.bundles import PAY_WITH
from app.services.selfcare.portal_rules import BUNDLE_SOURCES


class BundleOut(Schema):
    code = Text(required=True, metadata={"example": "DATA-5GB"})
    name = Text(required=True, metadata={"example": "5 GB for 30 days"})
    kind = Text(required=True, metadata={"enum": list(KINDS)})
    amount = QuantityOut(required=True)
    price = MoneyOut(required=True)
    validity_days = fields.Integer(allow_none=True, metadata={"description": "null: it does not expire"})
    source = Text(required=True, metadata={"enum": list(BUNDLE_SOURCES)})
    description = Text(allow_none=True)


class BundleIn(Schema):
    """One bundle as the reseller offers it (checked by the service: 422 naming the bundle and field)."""

    code = Text(required=True, validate=validate.Length(min=1, max=40))
    name = Text(required=True, validate=validate.Length(min=1, max=200))
    kind = Text(required=True, validate=validate.OneOf(KINDS))
    amount = AmountIn(required=True, metadata={"example": "5120"})
    price = AmountIn(required=True, metadata={"example": "500.00"})
    validity_days = fields.Integer(strict=True, load_default=None, allow_none=True,
                                   validate=validate.Range(min=1, max=3650))
    source = Text(load_default="topup", validate=validate.OneOf(BUNDLE_SOURCES))
    description = Text(load_default=None, allow_none=True, validate=validate.Length(max=500))


class BundlesIn(Schema):
    bundles = fields.List(fields.Nested(BundleIn), required=True, validate=validate.Length(max=100))


class PurchaseIn(Schema):
    bundle = Text(required=True, validate=validate.Length(min=1, max=40), metadata={"example": "DATA-5GB"})
    pay_with = Text(load_default="balance", validate=validate.OneOf(PAY_WITH), metadata={
        "description": "balance: the credit on your account (it must cover the price); wallet: the service's "
                       "prepaid money"})
    reference = Text(load_default=None, allow_none=True, validate=validate.Length(min=1, max=100), metadata={
        "description": "your own id for this purchase: the same reference again returns the first purchase"})


class BucketOut(Schema):
    id = fields.Integer(required=True)
    service_id = fields.Integer(required=True)
    kind = Text(required=True)
    source = Text(required=True)
    total = QuantityOut(required=True)
    remaining = QuantityOut(required=True)
    weight = fields.Integer(required=True, metadata={"description": "lower is drawn first"})
    starts_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(allow_none=True)
    invoice_id = fields.Integer(allow_none=True)


class PurchaseOut(Schema):
    created = fields.Boolean(required=True, metadata={"description": "false: this reference was bought before"})
    bundle = Text(required=True)
    bucket = fields.Nested(BucketOut, required=True)
    invoice_id = fields.Integer(allow_none=True)
    invoice_number = Text(allow_none=True)
    from_wallet = MoneyOut(allow_none=True)
    repaid_emergency = QuantityOut(required=True)
    restored = fields.Boolean(required=True, metadata={"description": "a fair-usage limit was lifted"})


class BalancesOut(Schema):
    service_id = fields.Integer(required=True)
    balances = fields.List(fields.Nested(UsageBalanceOut), required=True)
    buckets = fields.List(fields.Nested(BucketOut), required=True)
    emergency = fields.List(fields.Nested(EmergencyCreditOut), required=True)


class EmergencyOfferOut(Schema):
    available = fields.Boolean(required=True)
    hours = fields.Integer(required=True)
    max = fields.Dict(keys=Text(), values=QuantityOut(), required=True, metadata={
        "description": "the most of each kind that may be asked for"})


class EmergencyIn(Schema):
    kind = Text(required=True, validate=validate.OneOf(KINDS))
    amount = AmountIn(load_default=None, allow_none=True, metadata={"description": "default: the most allowed"})
    reference = Text(load_default=None, allow_none=True, validate=validate.Length(min=1, max=100))
