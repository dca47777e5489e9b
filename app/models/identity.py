"""Who may sign in to a tenant: its reseller users and roles, its customers' portal accounts, their
sessions, second factors, reset tokens, API keys, the activity log and the e-mail outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ARRAY, BigInteger, CheckConstraint, ForeignKey, Identity, Index, String, Text, text
from sqlalchemy.dialects.postgresql import CIDR, JSONB
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
from app.models.base import TenantBase, Timestamps, utcnow


class Role(TenantBase):
    """A named set of permissions: the four built-in ones (Admin, Manager, User, Readonly) and custom ones."""

    __tablename__ = "roles"

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    permissions: Mapped[list[str]] = mapped_column(ARRAY(String(60)), default=list, server_default="{}")
    builtin: Mapped[bool] = mapped_column(default=False, server_default="false")
    description: Mapped[str | None] = mapped_column(Text)


class User(Credentials, Timestamps, TenantBase):
    """A reseller's team member."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    username: Mapped[str] = mapped_column(String(254), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id", ondelete="RESTRICT"), index=True)
    extra_permissions: Mapped[list[str]] = mapped_column(ARRAY(String(60)), default=list, server_default="{}")
    allowed_customer_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger), default=list, server_default="{}")
    ip_allowlist: Mapped[list[str]] = mapped_column(ARRAY(CIDR), default=list, server_default="{}")
    department: Mapped[str | None] = mapped_column(String(100))
    max_sessions: Mapped[int | None]

    role: Mapped[Role] = relationship(lazy="joined")


class PortalAccount(Credentials, TenantBase):
    """A customer's portal credentials (never their network password, which belongs to a service)."""

    __tablename__ = "portal_accounts"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)

    @property
    def id(self) -> int:  # the principal id of a customer is the customer's id
        return self.customer_id


class AuthSession(SessionColumns, TenantBase):
    __tablename__ = "sessions"
    __table_args__ = (
        CheckConstraint("principal_kind IN ('user', 'customer')", name="principal_kind"),
        Index("ix_sessions_principal", "principal_kind", "principal_id", postgresql_where=text("revoked_at IS NULL")),
    )


class LoginEvent(LoginEventColumns, TenantBase):
    __tablename__ = "login_events"
    __table_args__ = (Index("ix_login_events_principal", "principal_kind", "principal_id", "at"),)
    id: Mapped[int] = mapped_column(Identity(), primary_key=True)


class KnownDevice(KnownDeviceColumns, TenantBase):
    __tablename__ = "known_devices"


class BackupCode(BackupCodeColumns, TenantBase):
    __tablename__ = "backup_codes"
    __table_args__ = (Index("ix_backup_codes_principal", "principal_kind", "principal_id"),)
    id: Mapped[int] = mapped_column(Identity(), primary_key=True)


class ResetToken(ResetTokenColumns, TenantBase):
    __tablename__ = "reset_tokens"


class Outbox(OutboxColumns, TenantBase):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "id", postgresql_where=text("status = 'pending'")),)
    id: Mapped[int] = mapped_column(Identity(), primary_key=True)


class ActivityEvent(TenantBase):
    """What was done, by whom, to which customer; the customer sees the rows about them."""

    __tablename__ = "activity_log"
    __table_args__ = (Index("ix_activity_log_customer", "customer_id", "at"),)

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    actor: Mapped[str] = mapped_column(String(300))  # "staff 3 (ops@isp.example) as customer ABC000001"
    actor_kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None]
    impersonated: Mapped[bool] = mapped_column(default=False, server_default="false")
    customer_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(String(100))
    detail: Mapped[dict] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))


class ApiKey(TenantBase):
    """A customer's personal API key: shown once, stored as a hash, read-only or read-write, expiring."""

    __tablename__ = "api_keys"
    __table_args__ = (CheckConstraint("access IN ('read', 'read_write')", name="access"),)

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(20))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    access: Mapped[str] = mapped_column(String(20))
    expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
