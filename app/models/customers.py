"""A customer's status history, and their contacts with the reseller-configured contact types.

Status history is the "who, when, why" of every lifecycle change (New, Active, Suspended, Inactive,
Pending); it goes with the customer when a customer is deleted (the activity log keeps the deletion).
Contacts follow "Flexible Contact Management" (001): any number per customer, a type the reseller
defines (or none: no type is mandatory), and per contact its own channels and what it is told about.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Identity, Index, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import TenantBase, Timestamps, utcnow


class CustomerStatusChange(TenantBase):
    """One status change of a customer; `from_status` is NULL for the status a customer was created in."""

    __tablename__ = "customer_status_history"
    __table_args__ = (Index("ix_customer_status_history_customer", "customer_id", "at", "id"),)

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    actor: Mapped[str] = mapped_column(String(300))  # as in the activity log: "user 3 (ops@isp.example)"
    actor_kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None]
    reason: Mapped[str] = mapped_column(Text)


class ContactType(TenantBase):
    """A kind of contact the reseller uses ("Billing", "Technical", "Site owner"...): its own list."""

    __tablename__ = "contact_types"
    __table_args__ = (Index("uq_contact_types_lower_name", text("lower(name)"), unique=True),)

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


class Contact(Timestamps, TenantBase):
    """A person to reach about a customer. `channels` is a list of {"kind", "address"}; `notifications`
    maps a topic (billing, outages...) to the channel kinds it goes to. At most one primary per customer."""

    __tablename__ = "contacts"
    __table_args__ = (
        Index("ix_contacts_customer", "customer_id", "id"),
        Index("uq_contacts_primary", "customer_id", unique=True, postgresql_where=text("is_primary")),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    type_id: Mapped[int | None] = mapped_column(ForeignKey("contact_types.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    channels: Mapped[list] = mapped_column(JSONB, default=list, server_default=text("'[]'::jsonb"))
    notifications: Mapped[dict] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))
    is_primary: Mapped[bool] = mapped_column(default=False, server_default="false")
