"""Finding a customer by Portal ID across every tenant, for the master ISP (the console's API and pages).

The platform registry (`public.portal_ids`) names the tenant of a Portal ID; the customer itself is read in
that tenant's own schema, in a transaction of its own (never on the request's session, which has no tenant
on the console host). What the console shows of a customer is read here too, so that the page and any other
door show the same: the profile, the services, the balance and the latest invoices, read-only.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import Database
from app.models import Domain, PortalId
from app.services import customer_summary, resellers
from app.services.errors import NotFound
from tenants import Tenant
from tenants.registry import directory

SEARCH_LIMIT = 20


@dataclass(frozen=True)
class Hit:
    portal_id: str
    tenant: Tenant
    customer: resellers.CustomerRow | None  # None: the registry names a customer its tenant no longer has


def normalised(portal_id: str | None) -> str:
    return (portal_id or "").strip().upper()


def search(session: Session, db: Database, portal_id: str, *, match: str = "exact") -> list[Hit]:
    """`match="prefix"`: every Portal ID starting so, at most SEARCH_LIMIT, in order; otherwise the one."""
    wanted = normalised(portal_id)
    if match == "prefix":
        escaped = wanted.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        entries = session.execute(select(PortalId).where(PortalId.portal_id.like(escaped + "%", escape="\\"))
                                  .order_by(PortalId.portal_id).limit(SEARCH_LIMIT)).scalars().all()
    else:
        entry = session.get(PortalId, wanted) if wanted else None
        entries = [entry] if entry is not None else []
    hits = []
    for entry in entries:
        tenant = directory().by_id(entry.tenant_id)
        hits.append(Hit(entry.portal_id, tenant, resellers.customer(db, tenant, entry.customer_id)))
    return hits


def primary_host(session: Session, tenant_id: int) -> str | None:
    """Where a tenant's portals are opened: its primary host."""
    return session.execute(select(Domain.host).where(Domain.tenant_id == tenant_id, Domain.is_primary)).scalar()


def customer_view(session: Session, db: Database, portal_id: str) -> dict:
    """One customer as the console shows it, read-only (app/services/customer_summary.py): its tenant, the
    customer, its services, its balance and its latest invoices. NotFound for an unknown Portal ID."""
    entry = session.get(PortalId, normalised(portal_id)) if normalised(portal_id) else None
    if entry is None:
        raise NotFound(f"no customer with Portal ID {portal_id!r}")
    return customer_summary.read_only(db, directory().by_id(entry.tenant_id), entry.customer_id)
