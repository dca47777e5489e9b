"""Shapes of the billing settings API: tax rates and billing runs."""

from marshmallow import Schema, ValidationError, fields, validate

from app.api.catalogue.fields import Text
from app.api.invoices.schemas import DecimalIn, Plain
from app.services import periods
from app.services.billing.tax import SERVICE_KINDS
from app.services.errors import Invalid


def a_month(value: str) -> None:
    """The one reading of a period (app/services/periods.py), as a schema's validator."""
    try:
        periods.parse(value)
    except Invalid as exc:
        raise ValidationError(exc.detail) from None


class TaxRateIn(Schema):
    name = Text(required=True, validate=validate.Length(min=1, max=60), metadata={"example": "VAT"})
    rate = DecimalIn(required=True, metadata={"example": "16", "description": "percent, 0 to 100, four decimals"})
    compound = fields.Boolean(load_default=False, metadata={
        "description": "charged on the line plus its simple taxes (VAT on top of excise duty)"})
    service_kinds = fields.List(fields.String(validate=validate.OneOf(SERVICE_KINDS)), load_default=None,
                                allow_none=True, validate=validate.Length(min=1),
                                metadata={"description": "the service kinds it applies to; null: every line"})
    active = fields.Boolean(load_default=True)
    position = fields.Integer(load_default=0, validate=validate.Range(min=0, max=1000))


class TaxRatePatch(Schema):
    name = Text(validate=validate.Length(min=1, max=60))
    rate = DecimalIn()
    compound = fields.Boolean()
    service_kinds = fields.List(fields.String(validate=validate.OneOf(SERVICE_KINDS)), allow_none=True,
                                validate=validate.Length(min=1))
    active = fields.Boolean()
    position = fields.Integer(validate=validate.Range(min=0, max=1000))


class TaxRateOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    rate = Plain(required=True, metadata={"example": "16.0000"})
    compound = fields.Boolean(required=True)
    service_kinds = fields.List(fields.String(), allow_none=True)
    active = fields.Boolean(required=True)
    position = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)


class BillingRunIn(Schema):
    period = fields.String(required=True, validate=a_month, metadata={
        "example": "2026-11", "description": "the month to bill, YYYY-MM: from the month of the reseller's first "
        "customer or service up to the next month (422 outside, with the range in `allowed`)"})


class RunErrorOut(Schema):
    customer_id = fields.Integer(allow_none=True)
    error = fields.String()


class BillingRunOut(Schema):
    id = fields.Integer(required=True)
    period = fields.String(required=True)
    status = fields.String(required=True, metadata={
        "enum": ["queued", "running", "stalled", "done", "failed"],
        "description": "stalled: it was running, but no worker holds it any more (its worker died); start the "
                       "same period again to resume it"})
    customers_total = fields.Integer(required=True)
    customers_done = fields.Integer(required=True)
    invoices_created = fields.Integer(required=True)
    errors = fields.List(fields.Nested(RunErrorOut), required=True)
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    requested_by = fields.String(required=True)
