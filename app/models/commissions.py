"""Commission rules (public) and commission lines (tenant).

A rule is what the master ISP agreed with one reseller, so it lives in `public` beside the tenant it
belongs to: the engine reads the rules of a whole branch of the tree (the payer's reseller and its
ancestors) in one query. A line is money one reseller earns, so it lives in the earner's own schema,
where its payouts and disputes are; `source_key` makes each line unique, which is what lets the
engine, the period close and their retries run any number of times.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Identity, Index, Numeric, SmallInteger, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import PublicBase, TenantBase, Timestamps, utcnow

RULE_KINDS = ("setup", "recurring", "usage", "retention", "performance")
# `adjustment`: a line made when a dispute is settled (payouts/disputes build on the lines)
LINE_KINDS = (*RULE_KINDS, "adjustment")
LINE_STATUSES = ("Pending", "Approved", "Paid", "Disputed", "Adjusted", "Rejected")
LINE_MONEY = Numeric(14, 2)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class CommissionRule(PublicBase):
    """What one reseller earns of one kind, from `effective_from` to `effective_until` (inclusive, open
    when NULL). `rate` is a percent, `amount` a fixed sum in `currency`, `months` the retention
    period, `tiers` the performance scale ([{"from": "0", "rate": "1.00"}, …], on the period's volume)."""

    __tablename__ = "commission_rules"
    __table_args__ = (
        CheckConstraint(_in("kind", RULE_KINDS), name="kind"),
        CheckConstraint("rate IS NULL OR (rate >= 0 AND rate <= 100)", name="rate"),
        CheckConstraint("amount IS NULL OR amount >= 0", name="amount"),
        CheckConstraint("months IS NULL OR months > 0", name="months"),
        CheckConstraint("rate IS NOT NULL OR amount IS NOT NULL OR tiers IS NOT NULL", name="terms"),
        CheckConstraint("effective_until IS NULL OR effective_until >= effective_from", name="dates"),
        Index("ix_commission_rules_lookup", "tenant_id", "kind", "effective_from"),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("public.tenants.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    rate: Mapped[Decimal | None] = mapped_column(Numeric(7, 4))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    months: Mapped[int | None] = mapped_column(SmallInteger)
    tiers: Mapped[list | None] = mapped_column(JSONB)
    currency: Mapped[str | None] = mapped_column(String(3))
    effective_from: Mapped[date] = mapped_column(Date)
    effective_until: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    created_by: Mapped[str] = mapped_column(String(300), default="system", server_default="system")


class CommissionLine(Timestamps, TenantBase):
    """One amount earned (or, negative with `reverses_id`, taken back) by the reseller whose schema holds
    it. The customer and the payment are in `source_tenant_id`'s schema (the earner's own, or a
    descendant's): referred to by id, never by a foreign key across schemas."""

    __tablename__ = "commission_lines"
    __table_args__ = (
        CheckConstraint(_in("kind", LINE_KINDS), name="kind"),
        CheckConstraint(_in("status", LINE_STATUSES), name="status"),
        CheckConstraint("period_end >= period_start", name="period"),
        Index("ix_commission_lines_period", "period_start", "period_end"),
        Index("ix_commission_lines_source", "source_tenant_id", "source_payment_id"),
        Index("ix_commission_lines_customer", "source_tenant_id", "customer_id"),
        Index("ix_commission_lines_status", "status"),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    reseller_id: Mapped[int]
    customer_id: Mapped[int | None]
    source_tenant_id: Mapped[int]
    source_payment_id: Mapped[int | None]
    rule_id: Mapped[int | None]  # public.commission_rules.id; NULL: the tenant's commission_percent
    kind: Mapped[str] = mapped_column(String(20))
    base_amount: Mapped[Decimal] = mapped_column(LINE_MONEY)
    rate: Mapped[Decimal | None] = mapped_column(Numeric(7, 4))
    amount: Mapped[Decimal] = mapped_column(LINE_MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="Pending", server_default="Pending")
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("commission_lines.id", ondelete="RESTRICT"),
                                                    index=True)
    payout_id: Mapped[int | None]
    source_key: Mapped[str] = mapped_column(String(200), unique=True)
    note: Mapped[str | None] = mapped_column(Text)
