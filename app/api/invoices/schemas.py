"""Shapes of the invoice API. Amounts travel as decimal strings ("1500.00"), never as binary floats; the
rules (two decimals for money, four for quantities and unit prices, discounts within the line) are the
billing service's, checked once there (422)."""

from marshmallow import Schema, fields, validate

from app.api.catalogue.fields import Id, MoneyOut, Text
from app.services.billing.invoices import KINDS, LINE_KINDS, STATUSES


def DecimalIn(**kwargs) -> fields.Raw:  # noqa: N802 - a field factory reads as a field
    """A decimal string (integers pass); checked by the service."""
    metadata = {"type": "string", "example": "1500.00", "description": "a decimal string",
                **kwargs.pop("metadata", {})}
    return fields.Raw(metadata=metadata, **kwargs)


def Plain(**kwargs) -> fields.Decimal:  # noqa: N802
    metadata = {"type": "string", "example": "1", **kwargs.pop("metadata", {})}
    return fields.Decimal(as_string=True, metadata=metadata, **kwargs)


class LineIn(Schema):
    description = Text(required=True, validate=validate.Length(min=1, max=500))
    quantity = DecimalIn(load_default="1", metadata={"example": "1", "description": "more than 0, four decimals"})
    unit_price = DecimalIn(required=True, metadata={
        "description": "per unit, four decimals; negative for a promotion or discount of the whole invoice"})
    discount = DecimalIn(load_default="0", metadata={"example": "0.00", "description": "money off this line"})
    service_id = Id(load_default=None, allow_none=True, metadata={
        "description": "one of the customer's services: its kind decides which taxes apply"})
    kind = fields.String(load_default="manual", validate=validate.OneOf(LINE_KINDS))
    taxable = fields.Boolean(load_default=True)
    period_start = fields.Date(load_default=None, allow_none=True)
    period_end = fields.Date(load_default=None, allow_none=True)


class InvoiceIn(Schema):
    customer_id = Id(required=True)
    kind = fields.String(load_default="invoice", validate=validate.OneOf(["invoice", "proforma"]))
    currency = Text(load_default=None, allow_none=True, validate=validate.Length(equal=3),
                    metadata={"description": "defaults to the currency of the customer's services"})
    tax_inclusive = fields.Boolean(load_default=None, allow_none=True, metadata={
        "description": "whether unit prices include tax (default: the reseller's setting)"})
    notes = Text(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    period_start = fields.Date(load_default=None, allow_none=True)
    period_end = fields.Date(load_default=None, allow_none=True)
    lines = fields.List(fields.Nested(LineIn), required=True, validate=validate.Length(min=1, max=1000))
    issue = fields.Boolean(load_default=False, metadata={"description": "issue it at once (else it stays a draft)"})


class InvoicePatch(Schema):
    currency = Text(validate=validate.Length(equal=3))
    tax_inclusive = fields.Boolean()
    notes = Text(allow_none=True, validate=validate.Length(max=2000))
    period_start = fields.Date(allow_none=True)
    period_end = fields.Date(allow_none=True)
    lines = fields.List(fields.Nested(LineIn), validate=validate.Length(min=1, max=1000))


class VoidIn(Schema):
    reason = Text(required=True, validate=validate.Length(min=1, max=1000))


class CreditLineIn(Schema):
    line_id = Id(required=True)
    amount = DecimalIn(load_default=None, allow_none=True, metadata={
        "description": "omitted: the whole line; before tax on tax-exclusive invoices"})


class CreditNoteIn(Schema):
    reason = Text(required=True, validate=validate.Length(min=1, max=1000))
    lines = fields.List(fields.Nested(CreditLineIn), load_default=None, allow_none=True,
                        validate=validate.Length(min=1, max=1000),
                        metadata={"description": "omitted: the whole invoice"})


class InvoiceListArgs(Schema):
    status = fields.String(validate=validate.OneOf(STATUSES))
    kind = fields.String(validate=validate.OneOf(KINDS))
    customer_id = Id(strict=False)
    period = fields.String(validate=validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$"), metadata={
        "description": "YYYY-MM: a billing run's invoices of that month, and hand-made ones of that period",
        "example": "2026-11"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class LineOut(Schema):
    id = fields.Integer(required=True)
    position = fields.Integer(required=True)
    service_id = fields.Integer(allow_none=True)
    kind = fields.String(required=True)
    description = fields.String(required=True)
    quantity = Plain(required=True)
    unit_price = Plain(required=True, metadata={"example": "1500.0000"})
    discount = MoneyOut(required=True)
    amount = MoneyOut(required=True, metadata={"description": "quantity × unit price − discount (tax included "
                                                              "when the invoice's prices are)"})
    tax_amount = MoneyOut(required=True)
    period_start = fields.Date(allow_none=True)
    period_end = fields.Date(allow_none=True)


class TaxOut(Schema):
    tax_rate_id = fields.Integer(allow_none=True)
    name = fields.String(required=True)
    rate = Plain(required=True, metadata={"example": "16.0000", "description": "percent"})
    compound = fields.Boolean(required=True)
    base = MoneyOut(required=True)
    amount = MoneyOut(required=True)


class InvoiceOut(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"enum": list(KINDS)})
    series = fields.String(required=True)
    number = fields.String(allow_none=True, metadata={"description": "given when issued"})
    status = fields.String(required=True, metadata={"enum": list(STATUSES)})
    customer_id = fields.Integer(required=True)
    currency = fields.String(required=True)
    period_start = fields.Date(allow_none=True)
    period_end = fields.Date(allow_none=True)
    issued_at = fields.DateTime(allow_none=True)
    due_on = fields.Date(allow_none=True)
    tax_inclusive = fields.Boolean(required=True)
    subtotal = MoneyOut(required=True)
    discount_total = MoneyOut(required=True)
    tax_total = MoneyOut(required=True)
    total = MoneyOut(required=True)
    amount_paid = MoneyOut(required=True)
    balance_due = MoneyOut(required=True)
    billing_key = fields.String(allow_none=True)
    credited_invoice_id = fields.Integer(allow_none=True)
    notes = fields.String(allow_none=True)
    void_reason = fields.String(allow_none=True)
    version = fields.Integer(required=True)
    created_by = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    pdf_url = fields.String(required=True)


class InvoiceDetailOut(InvoiceOut):
    lines = fields.List(fields.Nested(LineOut), required=True)
    taxes = fields.List(fields.Nested(TaxOut), required=True)
    credit_notes = fields.List(fields.Nested(InvoiceOut), required=True)


class InvoicePage(Schema):
    items = fields.List(fields.Nested(InvoiceOut), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class StatementArgs(Schema):
    start = fields.Date(data_key="from", load_default=None, metadata={"description": "default: a year ago"})
    end = fields.Date(data_key="to", load_default=None, metadata={"description": "default: today"})
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "pdf"]))


class StatementEntryOut(Schema):
    date = fields.Date(required=True)
    description = fields.String(required=True)
    reference = fields.String(allow_none=True)
    kind = fields.String(required=True)
    debit = MoneyOut(allow_none=True)
    credit = MoneyOut(allow_none=True)
    balance = MoneyOut(required=True)


class StatementOut(Schema):
    customer_id = fields.Integer(required=True)
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    currency = fields.String(required=True)
    opening_balance = MoneyOut(required=True)
    closing_balance = MoneyOut(required=True)
    entries = fields.List(fields.Nested(StatementEntryOut), required=True)
