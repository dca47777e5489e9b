"""Platform-wide tables in the `public` schema."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ARRAY, CheckConstraint, ForeignKey, Identity, Index, Numeric, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.auth import (
    BackupCodeColumns,
    Credentials,
    KnownDeviceColumns,
    LoginEventColumns,
    OutboxColumns,
    ResetTokenColumns,
    SessionColumns,
)
from app.models.base import PublicBase, Timestamps, utcnow

TENANT_STATUSES = ("Active", "Suspended", "Inactive")
DOMAIN_KINDS = ("platform", "custom")


class Tenant(Timestamps, PublicBase):
    """A reseller (or sub-reseller) and the schema that holds everything it owns."""

    __tablename__ = "tenants"
    __table_args__ = (
        CheckConstraint("status IN ('Active', 'Suspended', 'Inactive')", name="status"),
        CheckConstraint("schema_name ~ '^t_[a-z0-9_]{1,60}$'", name="schema_name"),
        CheckConstraint("code ~ '^[A-Z][A-Z0-9_]{1,39}$'", name="code"),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("public.tenants.id", ondelete="RESTRICT"),
                                                  index=True)
    schema_name: Mapped[str] = mapped_column(String(63), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="Active", server_default="Active")
    status_reason: Mapped[str | None] = mapped_column(Text)
    customer_limit: Mapped[int | None]
    # sub-reseller terms ("Sub-Reseller Creation" in the reseller journey); NULL allowed_services: every kind
    commission_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    allowed_services: Mapped[list[str] | None] = mapped_column(ARRAY(String(20)))
    inherited_branding: Mapped[bool] = mapped_column(default=True, server_default="true")
    settings: Mapped[dict] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))

    domains: Mapped[list[Domain]] = relationship(back_populates="tenant", cascade="all, delete-orphan",
                                                 order_by="Domain.id")
    parent: Mapped[Tenant | None] = relationship(remote_side="Tenant.id")


class Domain(PublicBase):
    """A host name that leads to a tenant: its platform sub-domain or a custom domain of its own."""

    __tablename__ = "domains"
    __table_args__ = (
        CheckConstraint("kind IN ('platform', 'custom')", name="kind"),
        CheckConstraint("host = lower(host)", name="host_lower"),
        Index("uq_domains_primary", "tenant_id", unique=True, postgresql_where=text("is_primary")),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    host: Mapped[str] = mapped_column(String(253), unique=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("public.tenants.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    is_primary: Mapped[bool] = mapped_column(default=False, server_default="false")
    verification_token: Mapped[str | None] = mapped_column(String(100))
    verified_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))

    tenant: Mapped[Tenant] = relationship(back_populates="domains")


class PortalId(PublicBase):
    """Portal ID → tenant and customer, unique across the platform; RADIUS and support start here."""

    __tablename__ = "portal_ids"

    portal_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("public.tenants.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


class AuditEvent(PublicBase):
    """The platform audit log: who did what to which tenant."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    tenant_id: Mapped[int | None] = mapped_column(index=True)  # no FK: the log outlives deleted tenants
    detail: Mapped[dict] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))


# -- master ISP staff -------------------------------------------------------------------------------
class StaffUser(Credentials, PublicBase):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    can_impersonate: Mapped[bool] = mapped_column(default=False, server_default="false")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


class StaffSession(SessionColumns, PublicBase):
    __tablename__ = "staff_sessions"
    __table_args__ = (Index("ix_staff_sessions_principal", "principal_kind", "principal_id",
                            postgresql_where=text("revoked_at IS NULL")),)


class StaffLoginEvent(LoginEventColumns, PublicBase):
    __tablename__ = "staff_login_events"
    __table_args__ = (Index("ix_staff_login_events_principal", "principal_kind", "principal_id", "at"),)
    id: Mapped[int] = mapped_column(Identity(), primary_key=True)


class StaffKnownDevice(KnownDeviceColumns, PublicBase):
    __tablename__ = "staff_known_devices"


class StaffBackupCode(BackupCodeColumns, PublicBase):
    __tablename__ = "staff_backup_codes"
    __table_args__ = (Index("ix_staff_backup_codes_principal", "principal_kind", "principal_id"),)
    id: Mapped[int] = mapped_column(Identity(), primary_key=True)


class StaffResetToken(ResetTokenColumns, PublicBase):
    __tablename__ = "staff_reset_tokens"


class PlatformOutbox(OutboxColumns, PublicBase):
    """E-mails to master ISP staff (their security notices)."""

    __tablename__ = "platform_outbox"
    __table_args__ = (Index("ix_platform_outbox_pending", "id", postgresql_where=text("status = 'pending'")),)
    id: Mapped[int] = mapped_column(Identity(), primary_key=True)


class Branding(PublicBase):
    """The brand fields a tenant (or, with no tenant, the platform) has set itself; unset fields are
    absent from `fields` and come from the parent or the platform (app/services/branding/resolve.py).

    Kept in `public` rather than in the tenant's schema because a brand is read through its ancestors:
    the whole chain is one query here, where per-schema rows would need one transaction per level.
    """

    __tablename__ = "brandings"
    __table_args__ = (
        Index("uq_brandings_platform", text("(tenant_id IS NULL)"), unique=True,
              postgresql_where=text("tenant_id IS NULL")),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("public.tenants.id", ondelete="CASCADE"), unique=True)
    fields: Mapped[dict] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))
    white_label_enabled: Mapped[bool] = mapped_column(default=True, server_default="true")
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"), onupdate=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(200))
