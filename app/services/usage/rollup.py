"""Daily usage per service: what the charts and billing read, and its 24-month retention.

Rows are written by the accounting store (radius/accounting.py) in the same statement as the session
counters, so a day's total is exactly the growth of its sessions' counters that arrived that day (in the
reseller's calendar); nothing here recomputes them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.models.usage import FupState, UsageDaily
from app.services.billing.cycles import add_months
from app.services.errors import Invalid
from app.services.usage.config import USAGE_RETENTION_MONTHS

MAX_SPAN = timedelta(days=800)


def daily(session: Session, service_id: int, start: date, end: date) -> list[dict]:
    """One entry per day from `start` to `end` (both included), zero on days without traffic, in octets:
    `upload` (from the customer) and `download` (to them)."""
    return daily_of(session, [service_id], start, end)[service_id]


def daily_of(session: Session, service_ids: Iterable[int], start: date, end: date) -> dict[int, list[dict]]:
    """`daily` for several services in one query (a dashboard charts every service), by service id."""
    if end < start:
        raise Invalid("end: on or after start", field="end")
    if end - start > MAX_SPAN:
        raise Invalid("at most 800 days at a time", field="start")
    ids = sorted(set(service_ids))
    found = {(service_id, day): (upload, download) for service_id, day, upload, download in session.execute(
        select(UsageDaily.service_id, UsageDaily.day, UsageDaily.upload, UsageDaily.download)
        .where(UsageDaily.service_id.in_(ids), UsageDaily.day.between(start, end)))}
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    return {service_id: [{"day": day, "upload": found.get((service_id, day), (0, 0))[0],
                          "download": found.get((service_id, day), (0, 0))[1]} for day in days]
            for service_id in ids}


def cycle_usage(session: Session, service_ids: list[int], start: date, end: date) -> dict[int, int]:
    """Octets (both directions) per service between two days, both included; services without any are
    absent."""
    if not service_ids:
        return {}
    rows = session.execute(
        select(UsageDaily.service_id, func.sum(UsageDaily.upload + UsageDaily.download))
        .where(UsageDaily.service_id.in_(service_ids), UsageDaily.day.between(start, end))
        .group_by(UsageDaily.service_id))
    return {service_id: int(total) for service_id, total in rows}


def purge(session: Session, today: date) -> int:
    """Drop daily usage (and fair-use state) older than 24 months; returns the usage rows removed."""
    cutoff = add_months(today.replace(day=1), -USAGE_RETENTION_MONTHS)
    removed = session.execute(delete(UsageDaily).where(UsageDaily.day < cutoff)).rowcount
    session.execute(delete(FupState).where(FupState.cycle_end < cutoff))
    return removed
