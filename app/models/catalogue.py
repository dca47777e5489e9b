"""The master ISP's wholesale catalogue (platform-wide, `public`): plans, and which resellers may sell them.

A plan is what the master ISP sells wholesale; each reseller prices it for its own customers in its own
schema (`price_rules`), and a service in a reseller's schema refers to a plan by id only (never a foreign
key across schemas), so every reference is checked in code (`app.services.catalogue`).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    ARRAY,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Identity,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import PublicBase, Timestamps, utcnow

PLAN_KINDS = ("internet", "voice", "recurring", "bundle")
BILLING_PERIODS = ("monthly", "quarterly", "yearly")


class Plan(Timestamps, PublicBase):
    """A wholesale plan. Speeds are in kbit/s; NULL allowances mean unlimited.

    `limited_*_kbps` are the reduced speeds RADIUS applies while a service is Limited (the FUP policy named
    by `fup_policy` says when); `burst_*` are the router's burst rate, threshold and time.
    """

    __tablename__ = "plans"
    __table_args__ = (
        CheckConstraint("kind IN ('internet', 'voice', 'recurring', 'bundle')", name="kind"),
        CheckConstraint("billing_period IN ('monthly', 'quarterly', 'yearly')", name="billing_period"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency"),
        CheckConstraint("wholesale_price >= 0 AND setup_fee >= 0", name="money"),
        CheckConstraint("code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$'", name="code"),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    description: Mapped[str | None] = mapped_column(Text)
    # internet
    download_kbps: Mapped[int | None] = mapped_column(Integer)
    upload_kbps: Mapped[int | None] = mapped_column(Integer)
    burst_download_kbps: Mapped[int | None] = mapped_column(Integer)
    burst_upload_kbps: Mapped[int | None] = mapped_column(Integer)
    burst_threshold_download_kbps: Mapped[int | None] = mapped_column(Integer)
    burst_threshold_upload_kbps: Mapped[int | None] = mapped_column(Integer)
    burst_time_seconds: Mapped[int | None] = mapped_column(Integer)
    data_allowance_mb: Mapped[int | None]  # NULL: unlimited
    fup_policy: Mapped[str | None] = mapped_column(String(100))
    limited_download_kbps: Mapped[int | None] = mapped_column(Integer)
    limited_upload_kbps: Mapped[int | None] = mapped_column(Integer)
    # voice
    voice_minutes: Mapped[int | None] = mapped_column(Integer)  # NULL: unlimited
    # bundle: ids of the plans it is made of (public → public, checked in code: an array holds no FK)
    components: Mapped[list[int]] = mapped_column(ARRAY(BigInteger), default=list, server_default="{}")
    # money
    wholesale_price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3))
    billing_period: Mapped[str] = mapped_column(String(20), default="monthly", server_default="monthly")
    setup_fee: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0.00"), server_default="0")
    is_active: Mapped[bool] = mapped_column(default=True, server_default="true")


class PlanAuthorisation(PublicBase):
    """Reseller `tenant_id` may sell `plan_id`, in `regions` (NULL: everywhere).

    Sellable also needs the plan active and its kind within the tenant's `allowed_services`.
    """

    __tablename__ = "plan_authorisations"
    __table_args__ = (UniqueConstraint("plan_id", "tenant_id"),)  # authorising again updates the regions

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("public.plans.id", ondelete="CASCADE"), index=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("public.tenants.id", ondelete="CASCADE"), index=True)
    regions: Mapped[list[str] | None] = mapped_column(ARRAY(String(100)))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    created_by: Mapped[str | None] = mapped_column(String(300))
