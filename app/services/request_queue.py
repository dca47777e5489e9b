"""The change requests waiting for someone's decision, across every service of the reseller: the approval
queue of the reseller portal and the "waiting for approval" notices of its notification centre.

A request waits when it is Pending (app/services/service_requests.py: its kind is one the reseller's settings
want approved). The queue shows whom and what it is about, so that whoever decides needs no second page;
a team member restricted to some customers sees only their requests, as the API's service routes do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Customer
from app.models.catalogue import Plan
from app.models.provisioning import Service, ServiceRequest
from app.services import service_requests
from app.services.errors import NotFound


@dataclass(frozen=True)
class Waiting:
    id: int
    kind: str
    effective: str
    payload: dict
    requested_by: str
    requested_at: datetime
    service_id: int
    service_status: str
    plan_code: str | None
    to_plan_code: str | None  # upgrades and downgrades
    customer_id: int
    customer: str
    portal_id: str | None


def pending(session: Session, visible: frozenset[int] | None = None, *, limit: int = 500,
            request_id: int | None = None) -> list[Waiting]:
    """Pending requests, oldest first (first asked, first decided); `visible`: the customers one may see
    (None: all)."""
    query = (select(ServiceRequest, Service, Customer)
             .join(Service, Service.id == ServiceRequest.service_id)
             .join(Customer, Customer.id == Service.customer_id)
             .where(ServiceRequest.status == "Pending")
             .order_by(ServiceRequest.requested_at, ServiceRequest.id).limit(limit))
    if request_id is not None:
        query = query.where(ServiceRequest.id == request_id)
    if visible is not None:
        query = query.where(Service.customer_id.in_(visible or [0]))
    rows = session.execute(query).all()
    plan_ids = {s.plan_id for _, s, _ in rows} | {r.payload.get("plan_id") for r, _, _ in rows
                                                    if isinstance(r.payload.get("plan_id"), int)}
    codes = dict(session.execute(select(Plan.id, Plan.code).where(Plan.id.in_(plan_ids or [0]))).all())
    return [Waiting(id=r.id, kind=r.kind, effective=r.effective, payload=r.payload, requested_by=r.requested_by,
                    requested_at=r.requested_at, service_id=s.id, service_status=s.status,
                    plan_code=codes.get(s.plan_id), to_plan_code=codes.get(r.payload.get("plan_id")),
                    customer_id=c.id, customer=c.display_name, portal_id=c.portal_id)
            for r, s, c in rows]


def waiting(session: Session, request_id: int, visible: frozenset[int] | None = None) -> Waiting | None:
    """One request as the queue shows it; None when it is no longer Pending (decided meanwhile). NotFound
    when there is no such request, or it is about a customer one may not see (as the API's routes answer)."""
    found = service_requests.get(session, request_id)
    customer_id = session.execute(select(Service.customer_id).where(Service.id == found.service_id)).scalar_one()
    if visible is not None and customer_id not in visible:
        raise NotFound("no such service request")
    match = pending(session, visible, request_id=found.id)
    return match[0] if match else None
