"""RADIUS sessions and usage (tenant schema): accounting sessions, daily usage per service, fair-use
state per billing cycle, voice and SMS usage records, customer-set usage thresholds, and the
CoA/Disconnect requests sent to routers.

No foreign keys on the accounting tables (`radius_sessions`, `usage_daily`, `usage_records`): they are
written by the RADIUS hot path in bulk, a session may name a service that has since gone, and a failed
key check would fail a whole batch (and make every router of it retry). `service_id`, `customer_id` and
`nas_id` (a `public.nas_clients` id) are plain ids, checked by the code that reads them.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    ARRAY,
    BigInteger,
    CheckConstraint,
    Date,
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
from sqlalchemy.dialects.postgresql import INET, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import TenantBase, utcnow

SESSION_STATUSES = ("Open", "Closed")
COA_KINDS = ("CoA", "Disconnect")
COA_STATUSES = ("Pending", "Done", "Failed")


class RadiusSession(TenantBase):
    """One accounting session, keyed by `session_key`: our Acct-Unique-Session-Id, a digest of the RFC 2866
    key (NAS, Acct-Session-Id, User-Name) — the attribute is not on the wire, so, like FreeRADIUS, we derive it.

    Counters are 64-bit (octets + Gigawords × 2³²) and only ever grow: a retransmitted or late packet
    takes the maximum, never adds. `input_delta`/`output_delta` hold what the last write added, so the
    same statement can roll the growth into `usage_daily` (see `radius.accounting`). Input is what the
    router received from the customer (their upload), output what it sent them (their download).
    """

    __tablename__ = "radius_sessions"
    __table_args__ = (
        CheckConstraint("status IN ('Open', 'Closed')", name="status"),
        CheckConstraint("input_octets >= 0 AND output_octets >= 0", name="octets"),
        Index("ix_radius_sessions_open_nas", "nas_id", postgresql_where=text("status = 'Open'")),
        Index("ix_radius_sessions_open_service", "service_id", postgresql_where=text("status = 'Open'")),
        Index("ix_radius_sessions_open_updated", "updated_at", postgresql_where=text("status = 'Open'")),
        Index("ix_radius_sessions_closed", "stopped_at", postgresql_where=text("status = 'Closed'")),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    session_key: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), unique=True)
    nas_id: Mapped[int]
    nas_ip: Mapped[str | None] = mapped_column(INET)
    acct_session_id: Mapped[str] = mapped_column(String(253))
    username: Mapped[str] = mapped_column(String(253))
    customer_id: Mapped[int | None]
    service_id: Mapped[int | None]
    framed_ip: Mapped[str | None] = mapped_column(INET)
    calling_station_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(10), default="Open", server_default="Open")
    started_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    stopped_at: Mapped[datetime | None]
    session_time: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    input_octets: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    output_octets: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    input_delta: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    output_delta: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    terminate_cause: Mapped[str | None] = mapped_column(String(40))


class UsageDaily(TenantBase):
    """Octets a service moved on one day of the reseller's calendar (kept 24 months)."""

    __tablename__ = "usage_daily"
    __table_args__ = (CheckConstraint("upload >= 0 AND download >= 0", name="octets"),
                      Index("ix_usage_daily_day", "day"))

    service_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    upload: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    download: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class FupState(TenantBase):
    """A service's fair use in one billing cycle: how much of the cycle's usage has been drawn from its
    data buckets already (`applied_octets`, so each octet is drawn once however often accounting repeats
    itself), how much of that came from buckets other than the plan's (`drawn_mb`: promotions, top-ups,
    add-ons, emergency credit) and how much found no bucket at all (`uncovered_mb`), which thresholds
    (percent of the plan's allowance) have been announced, and whether this cycle's FUP limited the
    service. One row per service and cycle: a new cycle starts clean."""

    __tablename__ = "fup_state"
    __table_args__ = (UniqueConstraint("service_id", "cycle_start"),)

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    service_id: Mapped[int]
    cycle_start: Mapped[date] = mapped_column(Date)
    cycle_end: Mapped[date] = mapped_column(Date)
    allowance_mb: Mapped[int | None]
    used_octets: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    crossed: Mapped[list[int]] = mapped_column(ARRAY(SmallInteger), default=list, server_default="{}")
    applied_octets: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    drawn_mb: Mapped[Decimal] = mapped_column(Numeric(18, 3), default=Decimal("0"), server_default="0")
    uncovered_mb: Mapped[Decimal] = mapped_column(Numeric(18, 3), default=Decimal("0"), server_default="0")
    limited_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


class UsageRecord(TenantBase):
    """A call (voice, minutes) or messages (SMS) a service used, once per (`source`, `external_id`): a
    RADIUS accounting session of a voice service (`radius`, its session key; `quantity` grows with its
    Acct-Session-Time) or a record a gateway sent (`api:<gateway>`, the gateway's own id). `drawn` is what
    its buckets gave, `uncovered` what none could: together they are how much of `quantity` has been
    drawn for, so a record repeated or grown draws only what is new."""

    __tablename__ = "usage_records"
    __table_args__ = (
        CheckConstraint("kind IN ('voice', 'sms')", name="kind"),
        CheckConstraint("drawn >= 0 AND uncovered >= 0 AND drawn + uncovered <= quantity", name="drawn"),
        UniqueConstraint("source", "external_id"),
        Index("ix_usage_records_service", "service_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    service_id: Mapped[int]
    customer_id: Mapped[int]
    kind: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(60))
    external_id: Mapped[str] = mapped_column(String(253))
    quantity: Mapped[Decimal] = mapped_column(Numeric(18, 3))
    drawn: Mapped[Decimal] = mapped_column(Numeric(18, 3), default=Decimal("0"), server_default="0")
    uncovered: Mapped[Decimal] = mapped_column(Numeric(18, 3), default=Decimal("0"), server_default="0")
    occurred_at: Mapped[datetime]
    detail: Mapped[dict] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


class UsageThreshold(TenantBase):
    """A usage alert the customer asked for, in percent of the plan's allowance (the platform's own are
    75, 90 and 100)."""

    __tablename__ = "usage_thresholds"
    __table_args__ = (CheckConstraint("percent BETWEEN 1 AND 100", name="percent"),
                      UniqueConstraint("service_id", "percent"))

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    service_id: Mapped[int]
    percent: Mapped[int] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


class CoaRequest(TenantBase):
    """A Change-of-Authorization or Disconnect-Request (RFC 5176) for one session, sent by the worker:
    Pending until the router answers (Done, with ACK or NAK and its Error-Cause) or the attempts run out
    (Failed). `attributes` is what was (or is to be) sent, by attribute name."""

    __tablename__ = "coa_requests"
    __table_args__ = (
        CheckConstraint("kind IN ('CoA', 'Disconnect')", name="kind"),
        CheckConstraint("status IN ('Pending', 'Done', 'Failed')", name="status"),
        CheckConstraint("result IS NULL OR result IN ('ACK', 'NAK')", name="result"),
        Index("ix_coa_requests_service", "service_id", "id"),
        Index("ix_coa_requests_pending", "created_at", postgresql_where=text("status = 'Pending'")),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    service_id: Mapped[int]
    session_id: Mapped[int | None]
    nas_id: Mapped[int]
    nas_ip: Mapped[str | None] = mapped_column(INET)
    kind: Mapped[str] = mapped_column(String(12))
    trigger: Mapped[str] = mapped_column(String(200))
    attributes: Mapped[dict] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))
    status: Mapped[str] = mapped_column(String(10), default="Pending", server_default="Pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    result: Mapped[str | None] = mapped_column(String(3))
    error_cause: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    completed_at: Mapped[datetime | None]
