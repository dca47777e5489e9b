"""Shapes of the customer's invoices, payments, balance, statement, ledger and payment methods. Money
travels as decimal strings. Nothing of the reseller's own bookkeeping (who issued what, billing keys) is
shown."""

from marshmallow import Schema, fields, validate

from app.api.catalogue.fields import MoneyOut, Text
from app.api.invoices.schemas import LineOut, StatementArgs, StatementOut, TaxOut
from app.api.payments.schemas import PaymentMethodOut
from app.models.billing import PAYMENT_STATUSES
from app.services.billing.invoices import KINDS
from app.services.selfcare.finance import SHOWN_STATUSES

__all__ = ["LineOut", "PaymentMethodOut", "StatementArgs", "StatementOut", "TaxOut"]


class MyPageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class MyInvoiceListArgs(MyPageArgs):
    status = Text(validate=validate.OneOf(SHOWN_STATUSES))
    kind = Text(validate=validate.OneOf(KINDS))


class MyInvoiceOut(Schema):
    id = fields.Integer(required=True)
    kind = Text(required=True, metadata={"enum": list(KINDS)})
    number = Text(allow_none=True)
    status = Text(required=True, metadata={"enum": list(SHOWN_STATUSES)})
    currency = Text(required=True)
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
    credited_invoice_id = fields.Integer(allow_none=True, metadata={"description": "a credit note's invoice"})
    notes = Text(allow_none=True)
    void_reason = Text(allow_none=True)
    pdf_url = Text(required=True)


class MyInvoiceDetailOut(MyInvoiceOut):
    lines = fields.List(fields.Nested(LineOut), required=True)
    taxes = fields.List(fields.Nested(TaxOut), required=True)
    credit_notes = fields.List(fields.Nested(MyInvoiceOut), required=True)


class MyInvoicePage(Schema):
    items = fields.List(fields.Nested(MyInvoiceOut), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class MyPaymentListArgs(MyPageArgs):
    status = Text(validate=validate.OneOf(PAYMENT_STATUSES))


class MyAllocationOut(Schema):
    invoice_id = fields.Integer(required=True)
    invoice_number = Text(allow_none=True)
    amount = MoneyOut(required=True, metadata={"description": "negative: taken back (refund, reversal)"})
    at = fields.DateTime(required=True)


class MyPaymentOut(Schema):
    id = fields.Integer(required=True)
    method = Text(required=True)
    amount = MoneyOut(required=True)
    currency = Text(required=True)
    status = Text(required=True, metadata={"enum": list(PAYMENT_STATUSES)})
    reference = Text(allow_none=True)
    provider_ref = Text(allow_none=True, metadata={"description": "the M-PESA receipt or card payment id"})
    received_at = fields.DateTime(required=True)
    refunded_amount = MoneyOut(required=True)
    receipt_number = Text(allow_none=True)
    receipt_url = Text(allow_none=True, metadata={"description": "the receipt PDF, once the money is received"})
    allocations = fields.List(fields.Nested(MyAllocationOut), required=True)


class MyPaymentPage(Schema):
    items = fields.List(fields.Nested(MyPaymentOut), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class MyOpenInvoiceOut(Schema):
    id = fields.Integer(required=True)
    number = Text(allow_none=True)
    status = Text(required=True)
    currency = Text(required=True)
    total = MoneyOut(required=True)
    amount_paid = MoneyOut(required=True)
    balance_due = MoneyOut(required=True)
    due_on = fields.Date(allow_none=True)


class MyBalanceOut(Schema):
    currency = Text(required=True)
    balance = MoneyOut(required=True, metadata={"description": "what you owe (negative: in credit)"})
    credit = MoneyOut(required=True, metadata={"description": "payments and credit notes not yet spent"})
    total_due = MoneyOut(required=True, metadata={"description": "what your open invoices still ask"})
    overdue = MoneyOut(required=True, metadata={"description": "of it, past its due date"})
    next_due_on = fields.Date(allow_none=True)
    open_invoices = fields.List(fields.Nested(MyOpenInvoiceOut), required=True)


class TransactionOut(Schema):
    id = fields.Integer(required=True)
    at = fields.DateTime(required=True)
    kind = Text(required=True)
    description = Text(required=True)
    amount = MoneyOut(required=True, metadata={"description": "positive: charged to you; negative: in your favour"})
    currency = Text(required=True)
    invoice_id = fields.Integer(allow_none=True)
    payment_id = fields.Integer(allow_none=True)


class TransactionPage(Schema):
    items = fields.List(fields.Nested(TransactionOut), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
