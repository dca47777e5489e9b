"""Tables that exist once per tenant schema."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Identity, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import TenantBase, Timestamps

CUSTOMER_STATUSES = ("New", "Active", "Suspended", "Inactive", "Pending")


class Setting(TenantBase):
    """A tenant's own settings (portal texts, Portal ID format, policies), one JSON value per key."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[object] = mapped_column(JSONB)


class Counter(TenantBase):
    """Gap-free counters (Portal IDs, invoice numbers): a row updated in the caller's transaction."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[int] = mapped_column(default=0, server_default="0")


class Customer(Timestamps, TenantBase):
    __tablename__ = "customers"
    __table_args__ = (
        CheckConstraint("status IN ('New', 'Active', 'Suspended', 'Inactive', 'Pending')", name="status"),
        CheckConstraint("kind IN ('person', 'company')", name="kind"),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    portal_id: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="person", server_default="person")
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    company_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="New", server_default="New")
    extra: Mapped[dict] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))

    @property
    def display_name(self) -> str:
        if self.kind == "company" and self.company_name:
            return self.company_name
        return " ".join(p for p in (self.first_name, self.last_name) if p) or self.portal_id
