"""Portal IDs: prefix + zero-padded counter per reseller, unique across the platform, never reused.

The counter is a row of the tenant's `counters` table, incremented in the caller's transaction (so a
rolled-back customer does not burn a number); the public registry's primary key guarantees platform-wide
uniqueness, and a number already taken elsewhere (two resellers with the same prefix) is skipped.
"""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.models import Counter, PortalId
from app.services.settings import get_setting
from tenants import require_tenant

COUNTER = "portal_id"


def next_portal_id(session: Session, customer_id: int) -> str:
    tenant = require_tenant()
    fmt = get_setting(session, "portal_id_format")
    prefix, digits = fmt["prefix"], int(fmt["digits"])
    while True:
        value = session.execute(
            insert(Counter).values(name=COUNTER, value=1)
            .on_conflict_do_update(index_elements=[Counter.name], set_={"value": Counter.value + 1})
            .returning(Counter.value)
        ).scalar_one()
        candidate = f"{prefix}{value:0{digits}d}"
        inserted = session.execute(
            insert(PortalId).values(portal_id=candidate, tenant_id=tenant.id, customer_id=customer_id)
            .on_conflict_do_nothing(index_elements=[PortalId.portal_id])
            .returning(PortalId.portal_id)
        ).scalar_one_or_none()
        if inserted:
            return candidate


def lookup(session: Session, portal_id: str) -> PortalId | None:
    """Registry row of a Portal ID (case-insensitive on input, stored upper-case)."""
    return session.execute(
        select(PortalId).where(PortalId.portal_id == portal_id.strip().upper())
    ).scalar_one_or_none()


def release_tenant(session: Session, tenant_id: int) -> None:
    session.execute(text("DELETE FROM public.portal_ids WHERE tenant_id = :t"), {"t": tenant_id})
