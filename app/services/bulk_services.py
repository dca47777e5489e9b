"""The services of many customers at once (a filtered list, or chosen ids): suspended, restored, or moved
to another plan. (A bulk change of the customers' own status is `customers.change_statuses`.)

Each service is done in a SAVEPOINT of its own: one that cannot be done (its status does not allow it,
the plan is not sold in its region, a database error) is rolled back alone and reported, and the others
go on. The single-service rules do the work (`app.services.services` for the status,
`app.services.service_requests` for a plan change), so a bulk change can do nothing a single one may not,
and leaves the same history, activity and events.

Terminated services are never touched (nothing leaves Terminated). When the filter names a
`service_type`, only services of that kind are acted on: "suspend the voice customers" means their voice
services, not their internet.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.models import Customer
from app.models.catalogue import Plan
from app.models.provisioning import Service
from app.services import catalogue, service_requests
from app.services import services as service_ops
from app.services.auth.principal import Principal
from app.services.customers.listing import BULK_MAX, SERVICE_TYPES
from app.services.customers.records import valid_id
from app.services.errors import Invalid, NotFound, ServiceError
from tenants import require_tenant

log = logging.getLogger(__name__)
SERVICE_ACTIONS = ("suspend", "restore", "change_plan")


@dataclass
class ServiceResult:
    """One service: changed, unchanged (already so, or deliberately left: `detail` says why), refused (a
    rule said no: `detail` says which) or failed (an unexpected error, logged; the service is as it was)."""

    id: int
    kind: str
    outcome: str
    from_status: str
    to_status: str
    from_plan_id: int | None = None
    to_plan_id: int | None = None
    detail: str | None = None


@dataclass
class CustomerServicesResult:
    """One customer: changed (something changed, nothing refused or failed), unchanged (nothing to do),
    failed (a service was refused or failed; the others were still done) or not_found (unknown, or not
    visible to the caller)."""

    id: int
    outcome: str
    portal_id: str | None = None
    services: list[ServiceResult] = field(default_factory=list)


def _reason(reason: str | None) -> str:
    """Required: a change to many customers' service at once must say why, in every service's history."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("a reason is needed for a bulk service change", errors={"reason": ["required"]})
    if len(reason) > 1000:
        raise Invalid("the reason is too long", errors={"reason": ["at most 1000 characters"]})
    return reason


def _plan(session: Session, plan_code: str | None, service_type: str | None) -> Plan:
    """The plan to move to, which this reseller must be able to sell (somewhere: the region of each
    service is checked with that service)."""
    code = (plan_code or "").strip()
    if not code:
        raise Invalid("plan_code is needed to change plans", errors={"plan_code": ["required"]})
    plan_id = session.execute(select(Plan.id).where(Plan.code == code)).scalar_one_or_none()
    try:
        plan = catalogue.sellable_plan(session, plan_id or 0, require_tenant().id, check_region=False)
    except NotFound:
        raise Invalid(f"there is no plan {code!r} in your catalogue",
                      errors={"plan_code": ["not in your catalogue"]}) from None
    if service_type is not None and service_type != plan.kind:
        raise Invalid(f"plan {plan.code} is for {plan.kind} services; the filter chose {service_type} services",
                      errors={"plan_code": [f"for {plan.kind} services, not {service_type}"]})
    return plan


def _suspend(session: Session, service: Service, reason: str, actor: Principal | None) -> str | None:
    if service.status == "Suspended":
        return "already Suspended"
    service_ops.suspend(session, service.id, reason=reason, principal=actor)
    return None


def _restore(session: Session, service: Service, reason: str, actor: Principal | None) -> str | None:
    """Restores suspensions only. A Limited service is limited by its fair-use policy, not suspended, and
    a service on a vacation hold is the customer's own choice with its own end date: a mass "resume"
    (after a payment run, an outage) must not lift either; the single restore still can."""
    if service.status == "Active":
        return "already Active"
    if service.status == "Limited":
        return "Limited by its fair-use policy, not suspended: left as it is"
    if service.status == "Suspended" and service.status_reason == service_requests.VACATION:
        until = service.vacation_until.isoformat() if service.vacation_until else "its end"
        return f"on a vacation hold until {until}: left as it is"
    service_ops.restore(session, service.id, reason=reason, principal=actor)
    return None


def _change_plan(session: Session, service: Service, plan: Plan, reason: str, actor: Principal | None) -> str | None:
    """Through a change request, effective now, so that the plan change is the one rule of
    `service_requests` (same kind, sold in the service's region, the new price for an active service)
    and is tracked like any other. Where the reseller requires approval for such requests, the caller's
    decision is the approval: changing plans in bulk needs the permission that approves requests."""
    if service.plan_id == plan.id:
        return f"already on plan {plan.code}"
    current = session.get(Plan, service.plan_id)
    kind = "downgrade" if current is not None and plan.wholesale_price < current.wholesale_price else "upgrade"
    request = service_requests.create(session, service.id, kind, {"plan_id": plan.id}, effective="immediate",
                                      principal=actor)
    if request.status == "Pending":
        service_requests.approve(session, request.id, principal=actor, note=reason)
    request.note = reason
    return None


def change_services(session: Session, customer_ids, action: str, reason: str, *, plan_code: str | None = None,
                    service_type: str | None = None, actor: Principal | None = None,
                    visible: frozenset[int] | None = None) -> list[CustomerServicesResult]:
    """Apply `action` (suspend, restore, change_plan to `plan_code`) to the live services of the customers,
    optionally only those of `service_type`; one result per customer, in the order asked, with one per
    service. The services are locked up front, in id order, so two bulk changes cannot deadlock."""
    if action not in SERVICE_ACTIONS:
        raise Invalid(f"action must be one of {', '.join(SERVICE_ACTIONS)}", errors={"action": ["unknown action"]})
    if service_type is not None and service_type not in SERVICE_TYPES:
        raise Invalid(f"service_type must be one of {', '.join(SERVICE_TYPES)}",
                      errors={"service_type": ["unknown service type"]})
    reason = _reason(reason)
    plan = _plan(session, plan_code, service_type) if action == "change_plan" else None
    kind = plan.kind if plan is not None else service_type
    wanted = list(dict.fromkeys(int(i) for i in customer_ids))
    if len(wanted) > BULK_MAX:
        raise Invalid(f"at most {BULK_MAX} customers at once", errors={"ids": [f"at most {BULK_MAX}"]})
    lookup = [i for i in wanted if valid_id(i) and (visible is None or i in visible)]
    portal_ids = dict(session.execute(select(Customer.id, Customer.portal_id).where(Customer.id.in_(lookup))
                                      ).all()) if lookup else {}
    by_customer: dict[int, list[Service]] = {}
    if portal_ids:
        query = select(Service).where(Service.customer_id.in_(list(portal_ids)), Service.status != "Terminated")
        if kind is not None:
            query = query.where(Service.kind == kind)
        locked = query.order_by(Service.id).with_for_update().execution_options(populate_existing=True)
        for service in session.execute(locked).scalars():  # the statuses as locked, not as loaded before
            by_customer.setdefault(service.customer_id, []).append(service)

    results = []
    for customer_id in wanted:
        if customer_id not in portal_ids:
            results.append(CustomerServicesResult(customer_id, "not_found"))
            continue
        done = [_one(session, service, action, plan, reason, actor) for service in by_customer.get(customer_id, [])]
        outcomes = {r.outcome for r in done}
        outcome = "failed" if outcomes & {"refused", "failed"} else "changed" if "changed" in outcomes else "unchanged"
        results.append(CustomerServicesResult(customer_id, outcome, portal_ids[customer_id], done))
    return results


def _one(session: Session, service: Service, action: str, plan: Plan | None, reason: str,
         actor: Principal | None) -> ServiceResult:
    service_id, kind, old_status, old_plan = service.id, service.kind, service.status, service.plan_id
    outcome, detail = "changed", None
    try:
        with session.begin_nested():
            if action == "suspend":
                detail = _suspend(session, service, reason, actor)
            elif action == "restore":
                detail = _restore(session, service, reason, actor)
            else:
                detail = _change_plan(session, service, plan, reason, actor)
        if detail is not None:
            outcome = "unchanged"
    except ServiceError as exc:
        outcome, detail = "refused", exc.detail
    except SQLAlchemyError:
        log.exception("bulk %s of service %s failed", action, service_id)
        outcome, detail = "failed", "an unexpected error; the service is as it was (the error is logged)"
    result = ServiceResult(service_id, kind, outcome, old_status, service.status, detail=detail)
    if action == "change_plan":
        result.from_plan_id, result.to_plan_id = old_plan, service.plan_id
    return result
