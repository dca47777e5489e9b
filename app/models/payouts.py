"""Commission payouts and disputes (tenant): the reseller's payout schedule, its payouts (one per period
and currency), disputes on its commission lines with their attachments, and the audit trail of every
change made to a line or a payout after the engine wrote it.

All of it lives in the earning reseller's schema, beside its `commission_lines`. The master ISP reaches
it through the reseller's tenant context; nothing here refers to `public` by foreign key.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
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
from app.models.commissions import CommissionLine

MONEY = Numeric(14, 2)
FREQUENCIES = ("monthly", "quarterly", "bi-annual", "annual")
METHODS = ("bank_transfer", "wire", "check", "digital_wallet")
PAYOUT_STATUSES = ("Scheduled", "Approved", "Paid", "Carried over")
DISPUTE_STATUSES = ("Open", "Adjusted", "Rejected")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class PayoutSchedule(TenantBase):
    """How and when the master ISP pays this reseller its commissions: one row per tenant (`id` is 1).
    Without a row the defaults of app/services/commissions/payouts.py apply. Payment details (bank
    account, wallet number) are encrypted at rest."""

    __tablename__ = "payout_schedules"
    __table_args__ = (
        CheckConstraint("id = 1", name="singleton"),
        CheckConstraint(_in("frequency", FREQUENCIES), name="frequency"),
        CheckConstraint(_in("method", METHODS), name="method"),
        CheckConstraint("processing_day BETWEEN 1 AND 28", name="processing_day"),
        CheckConstraint("minimum_threshold BETWEEN 50 AND 1000", name="minimum_threshold"),
        CheckConstraint("dispute_window_days BETWEEN 1 AND 30", name="dispute_window_days"),
    )

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, default=1, autoincrement=False)
    frequency: Mapped[str] = mapped_column(String(20), default="monthly", server_default="monthly")
    processing_day: Mapped[int] = mapped_column(SmallInteger, default=15, server_default="15")
    minimum_threshold: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("50.00"), server_default="50")
    method: Mapped[str] = mapped_column(String(20), default="bank_transfer", server_default="bank_transfer")
    currency: Mapped[str] = mapped_column(String(3))
    dispute_window_days: Mapped[int] = mapped_column(SmallInteger, default=5, server_default="5")
    details_encrypted: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"), onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(300), default="system", server_default="system")


class Payout(Timestamps, TenantBase):
    """What the reseller is paid for one period in one currency of its lines. Unique per (period,
    currency): the daily job may run any number of times and builds it once. Numbered gap-free when
    built (`PO-<year>-<n>`). `amount` = `gross` (the period's earnings and reversals) + `adjustments`
    (lines made by settled disputes) + `carried_in` (payouts below the minimum, rolled in). The rate and
    the converted amount are recorded when it is paid, never before."""

    __tablename__ = "payouts"
    __table_args__ = (
        CheckConstraint(_in("status", PAYOUT_STATUSES), name="status"),
        CheckConstraint("period_end >= period_start", name="period"),
        CheckConstraint("fx_rate IS NULL OR fx_rate > 0", name="fx_rate"),
        UniqueConstraint("period_start", "period_end", "currency", name="uq_payouts_period_currency"),
        Index("ix_payouts_carried", "carried_into_id"),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="Scheduled", server_default="Scheduled")
    currency: Mapped[str] = mapped_column(String(3))  # of the lines
    gross: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"), server_default="0")
    adjustments: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"), server_default="0")
    carried_in: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"), server_default="0")
    amount: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"), server_default="0")
    minimum_threshold: Mapped[Decimal] = mapped_column(MONEY)
    carried_into_id: Mapped[int | None] = mapped_column(ForeignKey("payouts.id", ondelete="RESTRICT"))
    statement_issued_at: Mapped[datetime]
    dispute_window_ends_at: Mapped[datetime]
    approved_at: Mapped[datetime | None]
    approved_by: Mapped[str | None] = mapped_column(String(300))
    payout_currency: Mapped[str | None] = mapped_column(String(3))
    fx_rate: Mapped[Decimal | None] = mapped_column(Numeric(18, 8))  # payout currency per unit of `currency`
    converted_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    method: Mapped[str | None] = mapped_column(String(20))
    reference: Mapped[str | None] = mapped_column(String(120))
    paid_at: Mapped[datetime | None]
    paid_by: Mapped[str | None] = mapped_column(String(300))


class CommissionDispute(Timestamps, TenantBase):
    """A reseller's objection to some of its lines, made within the dispute window of their payout's
    statement, and how the master ISP settled it."""

    __tablename__ = "commission_disputes"
    __table_args__ = (
        CheckConstraint(_in("status", DISPUTE_STATUSES), name="status"),
        Index("ix_commission_disputes_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    payout_id: Mapped[int | None] = mapped_column(ForeignKey("payouts.id", ondelete="RESTRICT"), index=True)
    message: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="Open", server_default="Open")
    disputed_amount: Mapped[Decimal] = mapped_column(MONEY)  # the lines' total when opened
    adjusted_amount: Mapped[Decimal | None] = mapped_column(MONEY)  # what they should have been (Adjusted)
    adjustment_line_id: Mapped[int | None] = mapped_column(ForeignKey("commission_lines.id", ondelete="RESTRICT"))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    opened_by: Mapped[str] = mapped_column(String(300))
    resolved_by: Mapped[str | None] = mapped_column(String(300))
    resolved_at: Mapped[datetime | None]


class DisputeLine(TenantBase):
    """A line under a dispute, with the status and payout it had before (a rejected dispute puts them back)."""

    __tablename__ = "commission_dispute_lines"

    dispute_id: Mapped[int] = mapped_column(ForeignKey("commission_disputes.id", ondelete="CASCADE"),
                                            primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("commission_lines.id", ondelete="RESTRICT"), primary_key=True,
                                         index=True)
    previous_status: Mapped[str] = mapped_column(String(20))
    previous_payout_id: Mapped[int | None]
    amount: Mapped[Decimal] = mapped_column(MONEY)


class DisputeAttachment(TenantBase):
    """A supporting document of a dispute, stored under the tenant's own folder by content hash."""

    __tablename__ = "dispute_attachments"

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("commission_disputes.id", ondelete="CASCADE"), index=True)
    file_name: Mapped[str] = mapped_column(String(200))  # as uploaded, cleaned
    stored_name: Mapped[str] = mapped_column(String(100))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


class CommissionAdjustment(TenantBase):
    """The audit trail of commissions after the engine: every status change, adjustment line, approval and
    payment, with who, when, what it was before and after, and why. Append-only by use."""

    __tablename__ = "commission_adjustments"
    __table_args__ = (Index("ix_commission_adjustments_line", "line_id", "id"),)

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    action: Mapped[str] = mapped_column(String(40))
    line_id: Mapped[int | None] = mapped_column(ForeignKey("commission_lines.id", ondelete="RESTRICT"))
    payout_id: Mapped[int | None] = mapped_column(ForeignKey("payouts.id", ondelete="RESTRICT"), index=True)
    dispute_id: Mapped[int | None] = mapped_column(ForeignKey("commission_disputes.id", ondelete="RESTRICT"),
                                                   index=True)
    before: Mapped[dict] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))
    after: Mapped[dict] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))
    reason: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(300))


# A line's payout, checked by the database (the engine's model leaves it a plain id for this module to own),
# and found by index: statements and payouts read their lines by it.
CommissionLine.__table__.append_constraint(
    ForeignKeyConstraint(["payout_id"], ["payouts.id"], ondelete="RESTRICT"))
Index("ix_commission_lines_payout_id", CommissionLine.__table__.c.payout_id)
