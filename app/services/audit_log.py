"""Reading the platform audit log (`public.audit_events`, written by audit.py), for the master ISP's console:
newest first, a page at a time, filtered by reseller, action, actor and days. The log outlives deleted
tenants (no foreign key), so a row may name a tenant id that no longer exists."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import AuditEvent


def search(session: Session, *, tenant_id: int | None = None, action: str | None = None, actor: str | None = None,
           start: date | None = None, end: date | None = None, page: int = 1,
           per_page: int = 50) -> tuple[list[AuditEvent], int]:
    """`action`: the actions starting so (`tenant.` finds every tenant action); `actor`: containing it, any
    case; `start`/`end`: days in UTC, both inclusive."""
    query = select(AuditEvent)
    if tenant_id is not None:
        query = query.where(AuditEvent.tenant_id == tenant_id)
    if action:
        query = query.where(AuditEvent.action.startswith(action.strip(), autoescape=True))
    if actor:
        query = query.where(AuditEvent.actor.icontains(actor.strip(), autoescape=True))
    if start is not None:
        query = query.where(AuditEvent.at >= datetime.combine(start, time.min, UTC))
    if end is not None:
        query = query.where(AuditEvent.at < datetime.combine(end + timedelta(days=1), time.min, UTC))
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
                           .limit(per_page).offset((page - 1) * per_page)).scalars().all()
    return list(rows), total
