"""A reseller's money: the ledger, invoices (with proformas and credit notes), taxes, payments and their
allocations, gateway events, idempotency keys, stored payment methods, retries, dunning steps, billing
runs, usage buckets and top-ups. Tenant schema: one copy per reseller.

The ledger is the truth of what a customer owes: append-only (a trigger refuses UPDATE and DELETE),
corrections are reversals, the balance is its sum. Invoices and payments are the documents that post
to it. Uniqueness does the work of idempotency: one invoice per (service, period) through
`billing_key`, one payment per gateway reference, one gateway event per provider id, one dunning step
per (invoice, step), one retry per (invoice, attempt).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import TenantBase, Timestamps, utcnow

MONEY = Numeric(14, 2)
LEDGER_KINDS = ("charge", "payment", "credit", "refund", "adjustment", "late_fee", "deposit", "reversal")
INVOICE_KINDS = ("invoice", "proforma", "credit_note")
INVOICE_STATUSES = ("Draft", "Issued", "Partially Paid", "Paid", "Overdue", "Void")
PAYMENT_METHODS = ("cash", "bank_transfer", "mpesa", "card", "wallet")
PAYMENT_STATUSES = ("pending", "succeeded", "failed", "refunded", "partially_refunded", "reversed")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class TaxRate(TenantBase):
    """A tax the reseller charges (VAT 16%, excise…); compound taxes apply on top of the simple ones."""

    __tablename__ = "tax_rates"
    __table_args__ = (CheckConstraint("rate >= 0 AND rate <= 100", name="rate"),)

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    rate: Mapped[Decimal] = mapped_column(Numeric(7, 4))  # percent
    compound: Mapped[bool] = mapped_column(default=False, server_default="false")
    service_kinds: Mapped[list | None] = mapped_column(JSONB)  # NULL: every kind
    active: Mapped[bool] = mapped_column(default=True, server_default="true")
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


class LedgerEntry(TenantBase):
    """One movement of a customer's account. Positive amounts are owed by the customer (debits:
    charges, late fees, refunds paid out), negative ones are in their favour (credits: payments,
    credit notes, deposits held)."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint(_in("kind", LEDGER_KINDS), name="kind"),
        CheckConstraint("amount <> 0", name="amount"),
        Index("ix_ledger_entries_customer", "customer_id", "id"),
        Index("ix_ledger_entries_at", "at"),  # the dashboard's month so far (app/services/reports/dashboard.py)
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"))
    at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    kind: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", ondelete="RESTRICT"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id", ondelete="RESTRICT"), index=True)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id", ondelete="RESTRICT"),
                                                    unique=True)
    description: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(300), default="system", server_default="system")


class Invoice(Timestamps, TenantBase):
    """An invoice, proforma invoice or credit note. Numbered when issued (drafts have no number), from a
    gap-free counter per series; `billing_key` makes a billing run's invoice for a (service, period)
    unique, so a run repeated or resumed never bills twice."""

    __tablename__ = "invoices"
    __table_args__ = (
        CheckConstraint(_in("kind", INVOICE_KINDS), name="kind"),
        CheckConstraint(_in("status", INVOICE_STATUSES), name="status"),
        CheckConstraint("amount_paid >= 0", name="amount_paid"),
        Index("ix_invoices_customer", "customer_id", "id"),
        Index("ix_invoices_open", "customer_id", "due_on",
              postgresql_where=text("status IN ('Issued', 'Partially Paid', 'Overdue')")),
        # the customer list's payment-status filter, answered from the index alone
        Index("ix_invoices_open_due", "customer_id", postgresql_include=["status", "due_on"],
              postgresql_where=text("kind = 'invoice' AND status IN ('Issued', 'Partially Paid', 'Overdue')")),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="invoice", server_default="invoice")
    series: Mapped[str] = mapped_column(String(20))
    number: Mapped[str | None] = mapped_column(String(60), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="Draft", server_default="Draft")
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"))
    currency: Mapped[str] = mapped_column(String(3))
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)  # inclusive
    issued_at: Mapped[datetime | None]
    due_on: Mapped[date | None] = mapped_column(Date)
    tax_inclusive: Mapped[bool] = mapped_column(default=False, server_default="false")
    subtotal: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"), server_default="0")
    discount_total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"), server_default="0")
    tax_total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"), server_default="0")
    total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"), server_default="0")
    amount_paid: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"), server_default="0")
    billing_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    credited_invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", ondelete="RESTRICT"))
    notes: Mapped[str | None] = mapped_column(Text)
    void_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # bumps rebuild the PDF
    pdf_digest: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(300), default="system", server_default="system")


class InvoiceLine(TenantBase):
    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="recurring", server_default="recurring")
    description: Mapped[str] = mapped_column(Text)
    quantity: Mapped[Decimal] = mapped_column(Numeric(12, 4), default=Decimal("1"), server_default="1")
    unit_price: Mapped[Decimal] = mapped_column(Numeric(14, 4))
    discount: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"), server_default="0")
    amount: Mapped[Decimal] = mapped_column(MONEY)  # quantity × unit price − discount, before tax
    tax_amount: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"), server_default="0")
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)


class InvoiceTax(TenantBase):
    __tablename__ = "invoice_taxes"

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"), index=True)
    tax_rate_id: Mapped[int | None] = mapped_column(ForeignKey("tax_rates.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(60))
    rate: Mapped[Decimal] = mapped_column(Numeric(7, 4))
    compound: Mapped[bool] = mapped_column(default=False, server_default="false")
    base: Mapped[Decimal] = mapped_column(MONEY)
    amount: Mapped[Decimal] = mapped_column(MONEY)


class Payment(TenantBase):
    """Money received from a customer, by hand or from a gateway. `provider_ref` (the M-PESA receipt,
    the card processor's charge id) is unique per provider: a payment is recorded once however many
    times its gateway tells us about it."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint(_in("method", PAYMENT_METHODS), name="method"),
        CheckConstraint(_in("status", PAYMENT_STATUSES), name="status"),
        CheckConstraint("amount > 0", name="amount"),
        CheckConstraint("refunded_amount >= 0 AND refunded_amount <= amount", name="refunded_amount"),
        UniqueConstraint("provider", "provider_ref", name="uq_payments_provider_ref"),
        Index("ix_payments_customer", "customer_id", "id"),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"))
    method: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), default="succeeded", server_default="succeeded")
    provider: Mapped[str] = mapped_column(String(20), default="manual", server_default="manual")
    provider_ref: Mapped[str | None] = mapped_column(String(120))
    reference: Mapped[str | None] = mapped_column(String(120))  # what the payer wrote (bank ref, account no.)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    refunded_amount: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"), server_default="0")
    receipt_number: Mapped[str | None] = mapped_column(String(60), unique=True)
    notes: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(300), default="system", server_default="system")


class PaymentAllocation(TenantBase):
    """How much of a payment, or of a credit note, went to which invoice; negative rows undo one (a
    refund, a voided invoice)."""

    __tablename__ = "payment_allocations"
    __table_args__ = (CheckConstraint("(payment_id IS NULL) <> (credit_note_id IS NULL)", name="source"),
                      Index("ix_payment_allocations_at", "at"))  # the dashboard's month so far

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id", ondelete="RESTRICT"), index=True)
    credit_note_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", ondelete="RESTRICT"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="RESTRICT"), index=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


class Refund(TenantBase):
    __tablename__ = "refunds"
    __table_args__ = (CheckConstraint("amount > 0", name="amount"),)

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id", ondelete="RESTRICT"), index=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    reason: Mapped[str] = mapped_column(Text)
    provider_ref: Mapped[str | None] = mapped_column(String(120), unique=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    actor: Mapped[str] = mapped_column(String(300))


class GatewayEvent(TenantBase):
    """A payment gateway's notification, kept once per (provider, event id): the row's insert is the
    lock that makes the same event delivered fifty times at once apply exactly once."""

    __tablename__ = "gateway_events"
    __table_args__ = (UniqueConstraint("provider", "event_id", name="uq_gateway_events_provider_event"),)

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(80))
    object_ref: Mapped[str | None] = mapped_column(String(200), index=True)  # the charge / checkout it is about
    received_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    outcome: Mapped[str] = mapped_column(String(40))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id", ondelete="SET NULL"))
    payload: Mapped[dict] = mapped_column(JSONB)


class IdempotencyKey(TenantBase):
    """A POST that moves money, remembered by its `Idempotency-Key` for a day: the same key with the
    same body gets the same answer; with another body, a 422."""

    __tablename__ = "idempotency_keys"

    scope: Mapped[str] = mapped_column(String(120), primary_key=True)  # who asked (principal) and where
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(SmallInteger)
    response: Mapped[dict | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"), index=True)


class PaymentMethod(TenantBase):
    """A stored way to charge a customer: a card processor's token (never a card number), or an M-PESA
    number. The token is encrypted at rest."""

    __tablename__ = "payment_methods"
    __table_args__ = (
        Index("uq_payment_methods_default", "customer_id", unique=True, postgresql_where=text("is_default")),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # card | mpesa
    token_encrypted: Mapped[str] = mapped_column(Text)
    brand: Mapped[str | None] = mapped_column(String(20))
    last4: Mapped[str | None] = mapped_column(String(4))
    expiry_month: Mapped[int | None] = mapped_column(SmallInteger)
    expiry_year: Mapped[int | None] = mapped_column(SmallInteger)
    is_default: Mapped[bool] = mapped_column(default=False, server_default="false")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


class ChargeAttempt(TenantBase):
    """An automatic charge of an invoice to a stored method; attempt n is due on the n-th retry day."""

    __tablename__ = "charge_attempts"
    __table_args__ = (UniqueConstraint("invoice_id", "attempt", name="uq_charge_attempts_invoice_attempt"),)

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"))
    payment_method_id: Mapped[int | None] = mapped_column(ForeignKey("payment_methods.id", ondelete="SET NULL"))
    attempt: Mapped[int] = mapped_column(SmallInteger)
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="scheduled", server_default="scheduled")
    at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id", ondelete="SET NULL"))


class DunningStep(TenantBase):
    """A step of the reseller's dunning policy taken for an overdue invoice (reminder n, late fee,
    limit, suspend, restore), once: the unique key is what makes the daily run safe to repeat."""

    __tablename__ = "dunning_steps"
    __table_args__ = (UniqueConstraint("invoice_id", "step", name="uq_dunning_steps_invoice_step"),)

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    step: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    detail: Mapped[dict] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))


class BillingRun(TenantBase):
    """A billing run of one period: its progress, so that `billing run` can show it and a resumed run
    knows what is left (the invoices themselves are made idempotent by `billing_key`)."""

    __tablename__ = "billing_runs"
    __table_args__ = (UniqueConstraint("period", name="uq_billing_runs_period"),)

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    status: Mapped[str] = mapped_column(String(20), default="queued", server_default="queued")
    customers_total: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    customers_done: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    invoices_created: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    errors: Mapped[list] = mapped_column(JSONB, default=list, server_default=text("'[]'::jsonb"))
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    requested_by: Mapped[str] = mapped_column(String(300), default="system", server_default="system")


class UsageBucket(TenantBase):
    """An allowance a service can draw on (data MB, voice minutes, SMS, money), from its plan, a top-up,
    an add-on or emergency credit; drawn lowest weight first, then soonest expiry."""

    __tablename__ = "usage_buckets"
    __table_args__ = (
        CheckConstraint("kind IN ('data', 'voice', 'sms', 'money')", name="kind"),
        CheckConstraint("remaining >= 0 AND remaining <= total", name="remaining"),
        Index("ix_usage_buckets_draw", "service_id", "kind", "weight", "expires_at",
              postgresql_where=text("remaining > 0")),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(20))  # plan | topup | addon | emergency
    total: Mapped[Decimal] = mapped_column(Numeric(18, 3))
    remaining: Mapped[Decimal] = mapped_column(Numeric(18, 3))
    weight: Mapped[int] = mapped_column(Integer, default=100, server_default="100")
    starts_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    expires_at: Mapped[datetime | None]
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", ondelete="SET NULL"))
    reference: Mapped[str | None] = mapped_column(String(120), unique=True)  # idempotency of a top-up
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


PAYMENT_REQUEST_PROVIDERS = ("mpesa", "stripe")


class PaymentRequest(TenantBase, Timestamps):
    """A payment a customer started from the portal: an M-PESA STK push or a card checkout at the processor.

    It holds what the payment itself does not: the invoice the customer chose (the money goes there first),
    the key that makes a double-submitted form start one payment (unique per customer), what was asked of
    the gateway (never a secret: no Password, no callback URL), and the gateway's final word in its own
    terms (`result_code`, `result_desc`) so the customer can be told why it did not go through. The money
    is the `payment` (pending until the gateway says), the one truth of whether it was received."""

    __tablename__ = "payment_requests"
    __table_args__ = (
        CheckConstraint(_in("provider", PAYMENT_REQUEST_PROVIDERS), name="provider"),
        CheckConstraint("amount > 0", name="amount"),
        UniqueConstraint("customer_id", "idempotency_key", name="uq_payment_requests_customer_key"),
        UniqueConstraint("provider", "provider_ref", name="uq_payment_requests_provider_ref"),
        Index("ix_payment_requests_customer_invoice", "customer_id", "invoice_id"),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"))
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", ondelete="RESTRICT"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id", ondelete="RESTRICT"), unique=True)
    provider: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    phone: Mapped[str | None] = mapped_column(String(12))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    provider_ref: Mapped[str | None] = mapped_column(String(120))  # CheckoutRequestID, or the checkout session id
    checkout_url: Mapped[str | None] = mapped_column(Text)
    result_code: Mapped[str | None] = mapped_column(String(20))
    result_desc: Mapped[str | None] = mapped_column(String(300))
    queries: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")  # STK status queries made
    detail: Mapped[dict] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))
