"""Scheduled reports, their runs, and the files e-mails carry (tenant).

A schedule says which report (with which filters), in which format, how often and to whom. Each run is a
row unique per (schedule, run date): the daily job inserts it before it queues anything, so a job run
twice for the same day, or retried after a crash, sends nothing twice. The report file travels with the
e-mail as an outbox attachment, written in the same transaction as the outbox row it belongs to.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Identity,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import TenantBase, Timestamps, utcnow

REPORT_NAMES = ("revenue", "commissions", "churn", "collections", "service_distribution", "customers_by_status")
REPORT_FORMATS = ("csv", "xlsx")
FREQUENCIES = ("daily", "weekly", "monthly")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class ReportSchedule(Timestamps, TenantBase):
    """A report e-mailed on `next_run_on` and then every day, week or month after."""

    __tablename__ = "report_schedules"
    __table_args__ = (
        CheckConstraint(_in("report", REPORT_NAMES), name="report"),
        CheckConstraint(_in("format", REPORT_FORMATS), name="format"),
        CheckConstraint(_in("frequency", FREQUENCIES), name="frequency"),
        Index("ix_report_schedules_due", "next_run_on", postgresql_where=text("active")),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    report: Mapped[str] = mapped_column(String(40))
    filters: Mapped[dict] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))
    format: Mapped[str] = mapped_column(String(10))
    frequency: Mapped[str] = mapped_column(String(10))
    recipients: Mapped[list] = mapped_column(JSONB)
    active: Mapped[bool] = mapped_column(default=True, server_default="true")
    next_run_on: Mapped[date] = mapped_column(Date)
    last_sent_on: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(300))


class ReportRun(TenantBase):
    """One run of a schedule: the unique (schedule, run date) is the job's idempotency key."""

    __tablename__ = "report_runs"
    __table_args__ = (UniqueConstraint("schedule_id", "run_on", name="uq_report_runs_schedule_run_on"),)

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("report_schedules.id", ondelete="CASCADE"))
    run_on: Mapped[date] = mapped_column(Date)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    rows: Mapped[int]
    outbox_ids: Mapped[list] = mapped_column(JSONB, default=list, server_default=text("'[]'::jsonb"))
    at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


class ReportMonth(TenantBase):
    """The dashboard's changes of one closed month (on one time zone's clock), kept so that the twelve
    months of history are not re-read from the ledger on every view (app/services/reports/dashboard.py)."""

    __tablename__ = "report_months"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    zone: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[dict] = mapped_column(JSONB)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


class OutboxAttachment(TenantBase):
    """A file sent with a tenant's outbox e-mail (a scheduled report); goes when its e-mail row goes."""

    __tablename__ = "outbox_attachments"

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(LargeBinary)
