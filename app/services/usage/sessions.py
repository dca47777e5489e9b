"""RADIUS accounting sessions of the current tenant: which are open, and closing and purging them.

A session closed by us rather than by its Stop carries why in `terminate_cause`: `NAS-Reboot` (the
router said Accounting-On/Off: whatever it had open is gone) or `Stale-Session` (no accounting for
several interim intervals: the router or the path to it died without a Stop). A Stop arriving later
still counts its octets; an Interim for a stale-closed session reopens it (the router was only
unreachable).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app.models.base import utcnow
from app.models.usage import RadiusSession
from app.services.usage.config import radius_settings

NAS_REBOOT = "NAS-Reboot"
STALE = "Stale-Session"


def open_for_service(session: Session, service_id: int) -> list[RadiusSession]:
    return list(session.execute(
        select(RadiusSession).where(RadiusSession.service_id == service_id, RadiusSession.status == "Open")
        .order_by(RadiusSession.id)).scalars())


def close_for_nas(session: Session, nas_id: int, at: datetime) -> int:
    """Accounting-On/Off from a router: close its sessions that started before `at`."""
    return session.execute(
        update(RadiusSession)
        .where(RadiusSession.nas_id == nas_id, RadiusSession.status == "Open", RadiusSession.started_at <= at)
        .values(status="Closed", stopped_at=at, terminate_cause=NAS_REBOOT)
        .execution_options(synchronize_session=False)).rowcount


def close_stale(session: Session, now: datetime | None = None) -> int:
    """Close open sessions without accounting for `stale_after_intervals` × `interim_interval`."""
    now = now or utcnow()
    config = radius_settings(session)
    cutoff = now - timedelta(seconds=config["interim_interval"] * config["stale_after_intervals"])
    return session.execute(
        update(RadiusSession).where(RadiusSession.status == "Open", RadiusSession.updated_at < cutoff)
        .values(status="Closed", stopped_at=RadiusSession.updated_at, terminate_cause=STALE)
        .execution_options(synchronize_session=False)).rowcount


def purge(session: Session, now: datetime | None = None) -> int:
    """Delete closed sessions older than the reseller's `session_retention_days` (their usage stays in
    `usage_daily`)."""
    now = now or utcnow()
    cutoff = now - timedelta(days=radius_settings(session)["session_retention_days"])
    return session.execute(delete(RadiusSession).where(RadiusSession.status == "Closed",
                                                       RadiusSession.stopped_at < cutoff)).rowcount
