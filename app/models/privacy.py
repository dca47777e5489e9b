"""A customer's privacy: the consents they give and withdraw, the exports of their data they ask for, and their
requests to delete the account, each with its history. Tenant schema: one copy per reseller.

- `consent_events` is the record of consent, append-only (a trigger refuses UPDATE): a change is a new row
  saying who, when, through which door and to which wording; the current value of a purpose is its newest
  row (none: not given). The rows go with a customer who is deleted outright, and stay with one who is
  anonymised, as the proof of what they had agreed to.
- `data_exports`: one build of the customer's data, at most one waiting or being built at a time (a partial
  unique index), the file under the tenant's own folder for a week.
- `deletion_requests` and their `deletion_request_events`: the request, the reseller's decision, what was
  done and what was kept. No foreign key to the customer: the request is the record of a deletion, and
  outlives a customer removed outright.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Identity, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import TenantBase, utcnow

CONSENT_PURPOSES = ("marketing_email", "marketing_sms", "third_party_sharing")
CONSENT_DOORS = ("portal", "api")
EXPORT_STATUSES = ("Queued", "Building", "Ready", "Failed", "Expired")
DELETION_STATUSES = ("Requested", "Approved", "Declined", "Withdrawn")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class ConsentEvent(TenantBase):
    __tablename__ = "consent_events"
    __table_args__ = (
        CheckConstraint(_in("purpose", CONSENT_PURPOSES), name="purpose"),
        CheckConstraint(_in("door", CONSENT_DOORS), name="door"),
        Index("ix_consent_events_customer_purpose", "customer_id", "purpose", "id"),
        Index("ix_consent_events_purpose_customer", "purpose", "customer_id", "id"),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(40))
    granted: Mapped[bool]
    at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    actor: Mapped[str] = mapped_column(String(300))  # as in the activity log: "customer 7 (ABC000007)"
    door: Mapped[str] = mapped_column(String(20))  # portal (the pages) | api (the customer's API)
    via: Mapped[str] = mapped_column(String(20))  # session | api_key | oauth
    wording_version: Mapped[str] = mapped_column(String(20))


class DataExport(TenantBase):
    __tablename__ = "data_exports"
    __table_args__ = (
        CheckConstraint(_in("status", EXPORT_STATUSES), name="status"),
        Index("ix_data_exports_customer", "customer_id", "id"),
        Index("uq_data_exports_open", "customer_id", unique=True,
              postgresql_where=text("status IN ('Queued', 'Building')")),
        Index("ix_data_exports_status", "status", "requested_at"),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20), default="Queued", server_default="Queued")
    requested_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    requested_by: Mapped[str] = mapped_column(String(300))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    stored_name: Mapped[str | None] = mapped_column(String(120))  # the file in the tenant's privacy folder
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    downloaded_at: Mapped[datetime | None]


class DeletionRequest(TenantBase):
    __tablename__ = "deletion_requests"
    __table_args__ = (
        CheckConstraint(_in("status", DELETION_STATUSES), name="status"),
        Index("ix_deletion_requests_customer", "customer_id", "id"),
        Index("uq_deletion_requests_open", "customer_id", unique=True, postgresql_where=text("status = 'Requested'")),
        Index("ix_deletion_requests_status", "status", "requested_at", "id"),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    customer_id: Mapped[int]
    portal_id: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="Requested", server_default="Requested")
    reason: Mapped[str | None] = mapped_column(Text)  # the customer's words; erased when the request is carried out
    requested_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    requested_by: Mapped[str] = mapped_column(String(300))
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(300))
    decision_note: Mapped[str | None] = mapped_column(Text)  # why it was declined (told to the customer)
    outcome: Mapped[str | None] = mapped_column(String(20))  # anonymised | deleted, once approved
    kept: Mapped[list] = mapped_column(JSONB, default=list, server_default=text("'[]'::jsonb"))
    final_outbox_id: Mapped[int | None] = mapped_column(BigInteger)  # the last e-mail, scrubbed once sent


class DeletionRequestEvent(TenantBase):
    __tablename__ = "deletion_request_events"
    __table_args__ = (Index("ix_deletion_request_events_request", "request_id", "id"),)

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("deletion_requests.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(300))
    note: Mapped[str | None] = mapped_column(Text)
