"""A reseller's prices, its customers' services (with their history and change requests), IP pools and
equipment. Tenant schema: one copy per reseller.

Plans live in `public.plans`; `plan_id` here is a plain id (no foreign key across schemas), checked by
`app.services.catalogue` whenever it is written.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    ARRAY,
    CheckConstraint,
    Date,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import CIDR, INET, JSONB, MACADDR, ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import TenantBase, Timestamps, utcnow

SERVICE_STATUSES = ("Pending", "Active", "Suspended", "Limited", "Terminated")
REQUEST_KINDS = ("upgrade", "downgrade", "suspension", "relocation", "cancellation")
REQUEST_STATUSES = ("Pending", "Approved", "Rejected", "Completed", "Cancelled")
EQUIPMENT_STATUSES = ("in_stock", "assigned", "faulty", "recovered")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class PriceRule(TenantBase):
    """One version of how this reseller prices a plan ("Pricing Configuration" in the reseller journey).

    `plan_id` is the journey's `tariff_id`; NULL makes the rule the default for every plan of
    `service_type`. `markup_type` percent|fixed adds to the wholesale price, `price` sets the retail price
    outright. `customer_category` and `min_volume` make tiers. A rule is never rewritten once in effect:
    a newer `effective_from` ends it (see `app.services.pricing`, which also documents the arithmetic).
    """

    __tablename__ = "price_rules"
    __table_args__ = (
        CheckConstraint("service_type IN ('internet', 'voice', 'recurring', 'bundle')", name="service_type"),
        CheckConstraint("markup_type IN ('percent', 'fixed', 'price')", name="markup_type"),
        CheckConstraint("markup_value >= 0", name="markup_value"),
        CheckConstraint("min_price IS NULL OR max_price IS NULL OR min_price <= max_price", name="clamps"),
        CheckConstraint("promo_discount_percent IS NULL OR promo_discount_percent BETWEEN 0 AND 100",
                        name="promo_discount"),
        CheckConstraint("min_volume IS NULL OR min_volume >= 0", name="min_volume"),
        Index("ix_price_rules_lookup", "service_type", "plan_id", "effective_from"),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    service_type: Mapped[str] = mapped_column(String(20))
    plan_id: Mapped[int | None]  # public.plans.id (the journey's tariff_id); NULL: every plan of service_type
    markup_type: Mapped[str] = mapped_column(String(20))
    markup_value: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    min_price: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    max_price: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    setup_fee: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))  # NULL: the plan's own setup fee
    customer_category: Mapped[str | None] = mapped_column(String(40))
    min_volume: Mapped[int | None] = mapped_column(Integer)
    effective_from: Mapped[date] = mapped_column(Date)
    promo_enabled: Mapped[bool] = mapped_column(default=False, server_default="false")
    promo_discount_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    promo_valid_from: Mapped[date | None] = mapped_column(Date)  # NULL: from effective_from
    promo_valid_until: Mapped[date | None] = mapped_column(Date)  # inclusive; NULL: open-ended
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    created_by: Mapped[str | None] = mapped_column(String(300))


class Service(Timestamps, TenantBase):
    """A customer's service. Price, setup fee, currency and billing period are snapshotted at activation:
    what the customer pays does not move when the reseller's prices do."""

    __tablename__ = "services"
    __table_args__ = (
        CheckConstraint("kind IN ('internet', 'voice', 'recurring', 'bundle')", name="kind"),
        CheckConstraint(_in("status", SERVICE_STATUSES), name="status"),
        CheckConstraint("billing_period IN ('monthly', 'quarterly', 'yearly')", name="billing_period"),
        CheckConstraint("vacation_until IS NULL OR vacation_from <= vacation_until", name="vacation"),
        # a network username belongs to one live service; a terminated one frees it
        Index("uq_services_network_username", "network_username", unique=True,
              postgresql_where=text("status <> 'Terminated'")),
        # the customer list's service-type filter: live services of a kind, customer ids from the index alone
        Index("ix_services_live_kind", "kind", "customer_id", postgresql_where=text("status <> 'Terminated'")),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"), index=True)
    plan_id: Mapped[int] = mapped_column(index=True)  # public.plans.id, no FK across schemas
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="Pending", server_default="Pending")
    status_reason: Mapped[str | None] = mapped_column(Text)
    # the snapshot (price per billing period); NULL price until activation
    price: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    wholesale_price: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    setup_fee: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3))
    billing_period: Mapped[str] = mapped_column(String(20))
    price_rule_id: Mapped[int | None] = mapped_column(ForeignKey("price_rules.id", ondelete="SET NULL"))
    activated_at: Mapped[datetime | None]
    suspended_at: Mapped[datetime | None]
    terminated_at: Mapped[datetime | None]
    vacation_from: Mapped[date | None] = mapped_column(Date)
    vacation_until: Mapped[date | None] = mapped_column(Date)
    installation_address: Mapped[str | None] = mapped_column(Text)
    region: Mapped[str | None] = mapped_column(String(100))
    # the ISP-managed network (PPPoE / Wi-Fi) credentials: encrypted, not hashed (RADIUS CHAP needs them)
    network_username: Mapped[str | None] = mapped_column(String(64))
    network_password_encrypted: Mapped[str | None] = mapped_column(Text)
    credentials_set_at: Mapped[datetime | None]
    static_ip: Mapped[str | None] = mapped_column(INET)


class ServiceStatusChange(TenantBase):
    """Every status a service went through, who moved it and why."""

    __tablename__ = "service_status_history"
    __table_args__ = (Index("ix_service_status_history_service", "service_id", "at"),)

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(300))


class ServiceRequest(TenantBase):
    """A change asked for on a service: upgrade, downgrade, suspension (vacation hold), relocation,
    cancellation. Pending → Approved → Completed, or Rejected / Cancelled."""

    __tablename__ = "service_requests"
    __table_args__ = (
        CheckConstraint(_in("kind", REQUEST_KINDS), name="kind"),
        CheckConstraint(_in("status", REQUEST_STATUSES), name="status"),
        CheckConstraint("effective IN ('immediate', 'next_cycle')", name="effective"),
        # one open request of a kind per service: two upgrades in flight would race each other
        Index("uq_service_requests_open", "service_id", "kind", unique=True,
              postgresql_where=text("status IN ('Pending', 'Approved')")),
        Index("ix_service_requests_due", "effective_on", postgresql_where=text("status = 'Approved'")),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="Pending", server_default="Pending")
    payload: Mapped[dict] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))
    effective: Mapped[str] = mapped_column(String(20), default="immediate", server_default="immediate")
    effective_on: Mapped[date | None] = mapped_column(Date)  # set on approval
    requested_by: Mapped[str] = mapped_column(String(300))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    decided_by: Mapped[str | None] = mapped_column(String(300))
    decided_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)
    completed_at: Mapped[datetime | None]


class IpPool(TenantBase):
    """A CIDR range of the reseller's, from which static addresses are handed out. Pools never overlap
    (an exclusion constraint), so an address belongs to exactly one pool."""

    __tablename__ = "ip_pools"
    __table_args__ = (ExcludeConstraint(("cidr", "&&"), using="gist", ops={"cidr": "inet_ops"},
                                        name="ex_ip_pools_cidr"),)

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    cidr: Mapped[str] = mapped_column(CIDR)
    gateway: Mapped[str | None] = mapped_column(INET)
    excluded: Mapped[list[str]] = mapped_column(ARRAY(INET), default=list, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


class IpPoolAlert(TenantBase):
    """When a pool's exhaustion was last reported: at most one alert an hour. A row of its own, without a
    foreign key, because it is written in a separate transaction while the failed allocation still holds
    its lock on the pool row (which may not even be committed yet): neither an update of that row nor a
    foreign-key check against it could proceed (see `app.services.ip_pools`)."""

    __tablename__ = "ip_pool_alerts"

    pool_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    alerted_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


class IpAssignment(TenantBase):
    """A static address held by a service: one address per service, one service per address."""

    __tablename__ = "ip_assignments"

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("ip_pools.id", ondelete="RESTRICT"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"), unique=True)
    address: Mapped[str] = mapped_column(INET, unique=True)
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


class EquipmentModel(TenantBase):
    """A kind of customer premises equipment the reseller stocks (vendor and model)."""

    __tablename__ = "equipment_models"
    __table_args__ = (UniqueConstraint("vendor", "name"),)

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    vendor: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(100))
    device_type: Mapped[str | None] = mapped_column(String(40))  # router, ONT, ATA, antenna…
    description: Mapped[str | None] = mapped_column(Text)


class EquipmentItem(Timestamps, TenantBase):
    """One device: in_stock → assigned (to a customer's service) → recovered (back from the customer) →
    in_stock again; faulty from anywhere. `customer_id` stays after recovery, to say whose it was."""

    __tablename__ = "equipment"
    __table_args__ = (
        CheckConstraint(_in("status", EQUIPMENT_STATUSES), name="status"),
        CheckConstraint("(status = 'assigned') = (service_id IS NOT NULL)", name="assigned_service"),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("equipment_models.id", ondelete="RESTRICT"), index=True)
    serial: Mapped[str] = mapped_column(String(100), unique=True)
    mac: Mapped[str | None] = mapped_column(MACADDR, unique=True)
    status: Mapped[str] = mapped_column(String(20), default="in_stock", server_default="in_stock")
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"), index=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id", ondelete="SET NULL"), index=True)
    assigned_at: Mapped[datetime | None]
    recovered_at: Mapped[datetime | None]
    faulty_at: Mapped[datetime | None]
    notes: Mapped[str | None] = mapped_column(Text)
