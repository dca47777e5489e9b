"""A customer's disputes of invoice lines and their payment plans (tenant schema): what the customer objected
to and the usage evidence frozen with it, the documents they sent, the plans with their instalments, and the
history of every change made to either.

Both live beside the invoices they are about. The money itself stays in the ledger: a dispute settled in the
customer's favour is a credit note (`credit_note_id`), and a plan only says when the covered invoices are to
be paid, never what is owed. Uniqueness does the work of the rules the database can keep: an invoice line is
disputed once (`uq_invoice_dispute_lines_line_id`; an answer is appealed, not disputed again), a customer has
at most one plan waiting or running (`uq_payment_plans_customer_open`), an instalment number once per plan.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
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
DISPUTE_STATUSES = ("Open", "Under Review", "Resolved", "Rejected", "Escalated")
DISPUTE_ACTIVE = ("Open", "Under Review", "Escalated")  # still being looked at: dunning holds its amount
DISPUTE_REASONS = ("usage", "price", "duplicate", "outage", "not_received", "other")
OUTCOMES = ("usage_adjustment", "service_credit", "payment_plan")
PLAN_STATUSES = ("Pending", "Active", "Declined", "Completed", "Defaulted")
PLAN_OPEN = ("Pending", "Active")
INSTALMENT_STATUSES = ("Due", "Paid", "Missed")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class PaymentPlan(Timestamps, TenantBase):
    """A customer's request to pay what they owe in instalments, and, once the reseller approved it, the
    schedule dunning respects. `amount` is what the covered invoices still owed when it was approved (what the
    customer asked about until then); `paid_before` what had been paid on them at that moment, so that what
    counts toward the instalments is only what came after."""

    __tablename__ = "payment_plans"
    __table_args__ = (
        CheckConstraint(_in("status", PLAN_STATUSES), name="status"),
        CheckConstraint("amount >= 0", name="amount"),
        CheckConstraint("proposed_instalments > 0", name="proposed_instalments"),
        Index("uq_payment_plans_customer_open", "customer_id", unique=True,
              postgresql_where=text("status IN ('Pending', 'Active')")),
        Index("ix_payment_plans_customer", "customer_id", "id"),
        Index("ix_payment_plans_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(20), default="Pending", server_default="Pending")
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    paid_before: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"), server_default="0")
    proposed_instalments: Mapped[int] = mapped_column(SmallInteger)
    message: Mapped[str | None] = mapped_column(Text)  # the customer's reason
    requested_by: Mapped[str] = mapped_column(String(300))
    decided_by: Mapped[str | None] = mapped_column(String(300))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)
    ended_on: Mapped[date | None] = mapped_column(Date)  # the local day it was Completed or Defaulted


class PaymentPlanInvoice(TenantBase):
    """An invoice a plan covers, with what it still owed when the plan was approved (or asked for)."""

    __tablename__ = "payment_plan_invoices"

    plan_id: Mapped[int] = mapped_column(ForeignKey("payment_plans.id", ondelete="CASCADE"), primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="RESTRICT"), primary_key=True,
                                            index=True)
    owed: Mapped[Decimal] = mapped_column(MONEY)


class PaymentPlanInstalment(TenantBase):
    """One instalment of an approved plan: due on a local day, for an amount (the last absorbs the rounding).
    `paid_on` is the day the money paid toward the plan first reached it."""

    __tablename__ = "payment_plan_instalments"
    __table_args__ = (
        CheckConstraint(_in("status", INSTALMENT_STATUSES), name="status"),
        CheckConstraint("amount > 0", name="amount"),
        UniqueConstraint("plan_id", "number", name="uq_payment_plan_instalments_plan_number"),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("payment_plans.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(SmallInteger)
    due_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    status: Mapped[str] = mapped_column(String(10), default="Due", server_default="Due")
    paid_on: Mapped[date | None] = mapped_column(Date)


class InvoiceDispute(Timestamps, TenantBase):
    """A customer's objection to lines of one of their issued invoices, and how the reseller answered it.

    `disputed_amount` is what the lines cost (with their tax) when the dispute was opened: the part of the
    invoice dunning leaves alone while the dispute is active. `expected_by` is the day the answer is due, 10
    business days after the opening day in the reseller's calendar. Resolved, it has an `outcome`: a credit
    note for a usage adjustment or a service credit, or the payment plan it set up."""

    __tablename__ = "invoice_disputes"
    __table_args__ = (
        CheckConstraint(_in("status", DISPUTE_STATUSES), name="status"),
        CheckConstraint(_in("reason", DISPUTE_REASONS), name="reason"),
        CheckConstraint(f"outcome IS NULL OR {_in('outcome', OUTCOMES)}", name="outcome"),
        CheckConstraint("status <> 'Resolved' OR outcome IS NOT NULL", name="resolved_outcome"),
        CheckConstraint("disputed_amount > 0", name="disputed_amount"),
        Index("ix_invoice_disputes_customer", "customer_id", "id"),
        Index("ix_invoice_disputes_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"))
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="RESTRICT"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="Open", server_default="Open")
    reason: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(String(3))
    disputed_amount: Mapped[Decimal] = mapped_column(MONEY)
    opened_on: Mapped[date] = mapped_column(Date)  # the reseller's local day
    expected_by: Mapped[date] = mapped_column(Date)
    opened_by: Mapped[str] = mapped_column(String(300))
    outcome: Mapped[str | None] = mapped_column(String(20))
    credited_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    credit_note_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", ondelete="RESTRICT"))
    payment_plan_id: Mapped[int | None] = mapped_column(ForeignKey("payment_plans.id", ondelete="RESTRICT"))
    answer: Mapped[str | None] = mapped_column(Text)  # the reseller's last word to the customer
    answered_by: Mapped[str | None] = mapped_column(String(300))
    answered_at: Mapped[datetime | None]
    appealed_at: Mapped[datetime | None]  # a rejection is appealed once


class InvoiceDisputeLine(TenantBase):
    """A line under dispute, with what it cost when disputed (amount and tax, as the invoice charged it)."""

    __tablename__ = "invoice_dispute_lines"

    dispute_id: Mapped[int] = mapped_column(ForeignKey("invoice_disputes.id", ondelete="CASCADE"), primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("invoice_lines.id", ondelete="RESTRICT"), primary_key=True,
                                         unique=True)
    service_id: Mapped[int | None] = mapped_column(BigInteger)
    description: Mapped[str] = mapped_column(Text)
    amount: Mapped[Decimal] = mapped_column(MONEY)  # what the customer is charged for it, tax included


class InvoiceDisputeUsage(TenantBase):
    """The evidence: a disputed service's daily usage over the 30 days before the invoice, copied when the
    dispute was opened, so that what the reseller and the customer look at is what was there then (usage
    rows are purged after 24 months; these stay with the dispute)."""

    __tablename__ = "invoice_dispute_usage"

    dispute_id: Mapped[int] = mapped_column(ForeignKey("invoice_disputes.id", ondelete="CASCADE"), primary_key=True)
    service_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    upload: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    download: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class InvoiceDisputeAttachment(TenantBase):
    """A document the customer sent with a dispute, stored under the tenant's own folder by content hash."""

    __tablename__ = "invoice_dispute_attachments"

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("invoice_disputes.id", ondelete="CASCADE"), index=True)
    file_name: Mapped[str] = mapped_column(String(200))  # as uploaded, cleaned
    stored_name: Mapped[str] = mapped_column(String(100))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


class ArrangementEvent(TenantBase):
    """The history of disputes and plans: every change of status, answer, instalment and document, with who,
    when, from what to what, and the detail. Append-only by use."""

    __tablename__ = "arrangement_events"
    __table_args__ = (
        CheckConstraint("dispute_id IS NOT NULL OR plan_id IS NOT NULL", name="subject"),
        Index("ix_arrangement_events_dispute", "dispute_id", "id"),
        Index("ix_arrangement_events_plan", "plan_id", "id"),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    dispute_id: Mapped[int | None] = mapped_column(ForeignKey("invoice_disputes.id", ondelete="CASCADE"))
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("payment_plans.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))
    actor: Mapped[str] = mapped_column(String(300))
