"""Resellers' accounts with the master ISP (public): what each reseller owes for the wholesale services it
sells, its credit limit and thresholds, the alerts they raised, emergency credit, and its payments.

In `public` because the creditor, the master ISP, has no schema of its own and reads every reseller's
account at once (console, dashboards). Tenant rows (services, invoices) are referred to by id only.

`account_entries` is a ledger like the billing one: append-only (a trigger refuses UPDATE and DELETE),
corrections are reversals, the balance is the sum. A positive amount is owed by the reseller (a wholesale
charge), a negative one is in its favour (a payment, a credit adjustment). `source_key` is unique: the
wholesale accrual and the payments are idempotent through it. `account_allocations` says which payment
paid which charge (oldest charge first); it is append-only too, a negative row undoes one.
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
    Numeric,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import PublicBase, Timestamps, utcnow

MONEY = Numeric(14, 2)
NEW_CUSTOMER_ACTIONS = ("suspend", "approval", "continue")
SERVICE_ACTIONS = ("continue", "review", "restrict")
PAYMENT_ACTIONS = ("continue", "review", "escalate")
PAYMENT_TERMS = (15, 30)
ENTRY_KINDS = ("charge", "payment", "adjustment", "reversal")
ALERT_LEVELS = ("warning", "restriction", "limit")
EMERGENCY_STATUSES = ("requested", "approved", "rejected", "expired")


def _in(column: str, values: tuple) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class ResellerAccount(Timestamps, PublicBase):
    """A reseller's (any depth) account with the master ISP and its credit settings ("Credit Limit Impact
    & Controls" in 001). No credit limit (NULL): no utilisation, so no thresholds and no actions."""

    __tablename__ = "reseller_accounts"
    __table_args__ = (
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency"),
        CheckConstraint("credit_limit IS NULL OR credit_limit > 0", name="credit_limit"),
        CheckConstraint("warning_percent BETWEEN 50 AND 95", name="warning_percent"),
        CheckConstraint("restriction_percent BETWEEN 75 AND 99 AND restriction_percent > warning_percent",
                        name="restriction_percent"),
        CheckConstraint(_in("at_limit_new_customers", NEW_CUSTOMER_ACTIONS), name="at_limit_new_customers"),
        CheckConstraint(_in("at_limit_services", SERVICE_ACTIONS), name="at_limit_services"),
        CheckConstraint(_in("at_limit_payments", PAYMENT_ACTIONS), name="at_limit_payments"),
        CheckConstraint(_in("payment_terms_days", PAYMENT_TERMS), name="payment_terms_days"),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("public.tenants.id", ondelete="CASCADE"), unique=True)
    currency: Mapped[str] = mapped_column(String(3))
    credit_limit: Mapped[Decimal | None] = mapped_column(MONEY)
    warning_percent: Mapped[int] = mapped_column(SmallInteger, default=80, server_default="80")
    restriction_percent: Mapped[int] = mapped_column(SmallInteger, default=90, server_default="90")
    at_limit_new_customers: Mapped[str] = mapped_column(String(20), default="suspend", server_default="suspend")
    at_limit_services: Mapped[str] = mapped_column(String(20), default="continue", server_default="continue")
    at_limit_payments: Mapped[str] = mapped_column(String(20), default="continue", server_default="continue")
    payment_terms_days: Mapped[int] = mapped_column(SmallInteger, default=30, server_default="30")
    # the sum of the account's entries, kept by a trigger on `account_entries` (every insert adds its
    # amounts, in the inserting transaction), so the credit gate of every new customer reads one row
    # instead of summing years of charges; read it with a query, not from a loaded object
    balance: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"), server_default="0")
    updated_by: Mapped[str] = mapped_column(String(300), default="system", server_default="system")


class AccountEntry(PublicBase):
    """One movement of a reseller's account. Charges carry the service, customer invoice and period they
    accrued for, and when they are due (the payment terms from the customer invoice's date)."""

    __tablename__ = "account_entries"
    __table_args__ = (
        CheckConstraint(_in("kind", ENTRY_KINDS), name="kind"),
        CheckConstraint("amount <> 0", name="amount"),
        CheckConstraint("kind <> 'charge' OR (amount > 0 AND due_on IS NOT NULL)", name="charge"),
        CheckConstraint("kind <> 'payment' OR amount < 0", name="payment"),
        CheckConstraint("(kind = 'reversal') = (reverses_id IS NOT NULL)", name="reversal"),
        Index("ix_account_entries_account", "account_id", "id"),
        # the accrual finds the charges of voided customer invoices from the (few) void invoices
        Index("ix_account_entries_invoice", "account_id", "invoice_id",
              postgresql_where=text("invoice_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("public.reseller_accounts.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    due_on: Mapped[date | None] = mapped_column(Date)
    source_key: Mapped[str] = mapped_column(String(200), unique=True)
    # a charge's origin in the reseller's schema (ids only: no foreign key across schemas)
    service_id: Mapped[int | None]
    invoice_id: Mapped[int | None]
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    # a payment's particulars
    method: Mapped[str | None] = mapped_column(String(20))
    reference: Mapped[str | None] = mapped_column(String(120))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("public.account_entries.id", ondelete="RESTRICT"),
                                                    unique=True)
    description: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(300), default="system", server_default="system")


class AccountAllocation(PublicBase):
    """`amount` of payment `payment_id` applied to charge `charge_id`; negative: an allocation undone
    (the charge was reversed, the money is free again)."""

    __tablename__ = "account_allocations"
    __table_args__ = (CheckConstraint("amount <> 0", name="amount"),)

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("public.account_entries.id", ondelete="RESTRICT"), index=True)
    charge_id: Mapped[int] = mapped_column(ForeignKey("public.account_entries.id", ondelete="RESTRICT"), index=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


class CreditAlert(PublicBase):
    """A threshold crossed: open (no `cleared_at`) while the utilisation stays at or above it. At most one
    open alert per level (the partial unique index), so staying above never alerts twice; dropping below
    clears it, and crossing again opens a new one."""

    __tablename__ = "credit_alerts"
    __table_args__ = (
        CheckConstraint(_in("level", ALERT_LEVELS), name="level"),
        Index("uq_credit_alerts_open", "account_id", "level", unique=True, postgresql_where=text("cleared_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("public.reseller_accounts.id", ondelete="CASCADE"), index=True)
    level: Mapped[str] = mapped_column(String(20))
    threshold: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    utilisation: Mapped[Decimal] = mapped_column(Numeric(9, 2))
    crossed_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    cleared_at: Mapped[datetime | None]
    notified_at: Mapped[datetime | None]


class EmergencyCredit(PublicBase):
    """Emergency credit (up to 25 % of the limit, 48 hours from approval): requested by the reseller,
    approved or rejected by the master ISP. At most one open (requested or approved) per account."""

    __tablename__ = "emergency_credits"
    __table_args__ = (
        CheckConstraint(_in("status", EMERGENCY_STATUSES), name="status"),
        CheckConstraint("amount > 0", name="amount"),
        CheckConstraint("status <> 'approved' OR expires_at IS NOT NULL", name="expiry"),
        Index("uq_emergency_credits_open", "account_id", unique=True,
              postgresql_where=text("status IN ('requested', 'approved')")),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("public.reseller_accounts.id", ondelete="CASCADE"), index=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    status: Mapped[str] = mapped_column(String(20), default="requested", server_default="requested")
    reason: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(300))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    approved_by: Mapped[str | None] = mapped_column(String(300))  # who decided (approved or rejected)
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None]


class AccountIdempotencyKey(PublicBase):
    """`Idempotency-Key` of the master ISP's POSTs that move money on a reseller's account (the tenant
    ones live in each tenant's `idempotency_keys`; the console has no schema of its own)."""

    __tablename__ = "account_idempotency_keys"

    scope: Mapped[str] = mapped_column(String(120), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(SmallInteger)
    response: Mapped[dict | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"), index=True)
