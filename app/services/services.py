"""Customers' services: creation, activation (price snapshot, static IP, network credentials) and the
status machine, with its history and events.

Statuses are the source documents' own: Pending, Active, Suspended, Limited, Terminated. The only
moves are those of `TRANSITIONS` (action → from which statuses → to which):

    activate   Pending                           → Active
    suspend    Active, Limited                   → Suspended
    limit      Active                            → Limited     (FUP: reduced speeds, still online)
    restore    Suspended, Limited                → Active
    terminate  Pending, Active, Suspended, Limited → Terminated  (final: nothing leaves it)

Activation snapshots the reseller's retail price of that day (`app.services.pricing`), so later price
changes never alter what an active service costs; a customer still New becomes Active with it (their
first live service is what "Active" means; see `customers.service_activated`). Termination releases the
static IP, marks the service's equipment recovered and cancels its open requests. Every move writes
`service_status_history`, the customer's activity log, and publishes `service.status_changed` after commit
(`app.services.events`).
Change requests (upgrade, vacation hold, …) are in `app.services.service_requests`.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Customer
from app.models.base import utcnow
from app.models.catalogue import Plan
from app.models.provisioning import Service, ServiceRequest, ServiceStatusChange
from app.services import activity, catalogue, customers, equipment, events, ip_pools, network_credentials, pricing
from app.services.auth.principal import Principal
from app.services.errors import Conflict, Invalid, NotFound
from app.services.ids import valid_id
from app.services.reseller_accounts import credit
from tenants import require_tenant

TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "activate": (frozenset({"Pending"}), "Active"),
    "suspend": (frozenset({"Active", "Limited"}), "Suspended"),
    "limit": (frozenset({"Active"}), "Limited"),
    "restore": (frozenset({"Suspended", "Limited"}), "Active"),
    "terminate": (frozenset({"Pending", "Active", "Suspended", "Limited"}), "Terminated"),
}
ALLOWED: frozenset[tuple[str, str]] = frozenset((old, new) for olds, new in TRANSITIONS.values() for old in olds)
WITH_CREDENTIALS = frozenset({"internet", "bundle"})  # kinds that sign in to the network
CLOSED_CUSTOMER = frozenset({"Inactive"})


def actor_of(principal: Principal | None) -> str:
    return principal.actor if principal else "system"


def _jsonable(detail: dict) -> dict:
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in detail.items()}


def get(session: Session, service_id: int, *, lock: bool = False) -> Service:
    if not valid_id(service_id):
        raise NotFound("no such service")
    query = select(Service).where(Service.id == service_id)
    service = session.execute(query.with_for_update() if lock else query).scalar_one_or_none()
    if service is None:
        raise NotFound("no such service")
    return service


def list_for_customer(session: Session, customer_id: int) -> list[Service]:
    return list(session.execute(select(Service).where(Service.customer_id == customer_id).order_by(Service.id))
                .scalars())


def history(session: Session, service_id: int) -> list[ServiceStatusChange]:
    return list(session.execute(
        select(ServiceStatusChange).where(ServiceStatusChange.service_id == service_id)
        .order_by(ServiceStatusChange.at, ServiceStatusChange.id)
    ).scalars())


def _customer(session: Session, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id) if valid_id(customer_id) else None
    if customer is None:
        raise NotFound("no such customer")
    return customer


def create(session: Session, customer_id: int, plan_id: int, *, installation_address: str | None = None,
           region: str | None = None, principal: Principal | None = None) -> Service:
    """A Pending service of a plan this reseller may sell (in `region`), for one of its customers."""
    customer = _customer(session, customer_id)
    if customer.status in CLOSED_CUSTOMER:
        raise Conflict(f"the customer is {customer.status}: no new services")
    plan = catalogue.sellable_plan(session, plan_id, require_tenant().id, region)
    service = Service(customer_id=customer.id, plan_id=plan.id, kind=plan.kind, status="Pending",
                      currency=plan.currency, billing_period=plan.billing_period,
                      installation_address=installation_address, region=region)
    session.add(service)
    session.flush()
    _record(session, service, None, "Pending", "created", principal)
    return service


def _record(session: Session, service: Service, old: str | None, new: str, reason: str | None,
            principal: Principal | None, **detail) -> None:
    session.add(ServiceStatusChange(service_id=service.id, from_status=old, to_status=new, reason=reason,
                                    actor=actor_of(principal)))
    action = "service.created" if old is None else f"service.{new.lower()}"
    activity.record(session, principal, service.customer_id, action, service_id=service.id, plan_id=service.plan_id,
                    from_status=old, to_status=new, reason=reason, **_jsonable(detail))
    if old is not None:
        events.publish_after_commit(session, "service.status_changed", service_id=service.id,
                                    customer_id=service.customer_id, from_status=old, to_status=new, reason=reason,
                                    network_username=service.network_username)


def _move(session: Session, service: Service, action: str, reason: str | None, principal: Principal | None,
          **detail) -> str:
    allowed, target = TRANSITIONS[action]
    if service.status not in allowed:
        raise Conflict(f"a service that is {service.status} cannot be {_past(action)}",
                       current_status=service.status, action=action)
    old = service.status
    service.status, service.status_reason = target, reason
    now = utcnow()
    if target == "Active":
        service.suspended_at = None
        service.activated_at = service.activated_at or now
    elif target == "Suspended":
        service.suspended_at = now
    elif target == "Terminated":
        service.terminated_at = now
    session.flush()
    _record(session, service, old, target, reason, principal, **detail)
    return old


def _past(action: str) -> str:
    return {"activate": "activated", "suspend": "suspended", "limit": "limited", "restore": "restored",
            "terminate": "terminated"}[action]


def snapshot_price(session: Session, service: Service, plan: Plan, customer: Customer, *,
                   setup_fee: bool = True) -> pricing.Quote:
    """Freeze today's retail price (and what it was made of) on the service."""
    quote = pricing.retail_price(session, plan, pricing.today(session), customer)
    service.price, service.wholesale_price = quote.price, quote.wholesale_price
    service.currency, service.billing_period = quote.currency, quote.billing_period
    service.price_rule_id = quote.rule_id
    if setup_fee:
        service.setup_fee = quote.setup_fee
    return quote


def activate(session: Session, service_id: int, *, principal: Principal | None = None, reason: str | None = None,
             static_ip: bool = False, ip_pool_id: int | None = None, network_username: str | None = None,
             network_password: str | None = None) -> tuple[Service, str | None]:
    """Pending → Active: the price snapshot, a static IP when asked for, network credentials (given, or
    generated for kinds that sign in to the network). Returns the service and the plaintext password
    when one was set now (to be shown once)."""
    service = get(session, service_id, lock=True)
    if service.status != "Pending":
        raise Conflict(f"a service that is {service.status} cannot be activated", current_status=service.status,
                       action="activate")
    customer = _customer(session, service.customer_id)
    if customer.status in CLOSED_CUSTOMER:
        raise Conflict(f"the customer is {customer.status}")
    credit.check_service_activation(session, require_tenant().id)  # 'restrict' at the credit limit
    plan = catalogue.sellable_plan(session, service.plan_id, require_tenant().id, service.region)
    quote = snapshot_price(session, service, plan, customer)
    password = None
    if network_username is not None or network_password is not None or (
            service.kind in WITH_CREDENTIALS and service.network_password_encrypted is None):
        password = network_credentials.set_credentials(session, service, username=network_username,
                                                       password=network_password)
    if static_ip or ip_pool_id is not None:
        ip_pools.allocate(session, service, ip_pool_id)
    _move(session, service, "activate", reason, principal, price=quote.price, currency=quote.currency,
          static_ip=service.static_ip and str(service.static_ip))
    if customer.status == "New":
        earlier = session.execute(select(Service.id).where(
            Service.customer_id == customer.id, Service.id != service.id, Service.activated_at.is_not(None)
        ).limit(1)).first()
        customers.service_activated(session, customer.id, "first service activated" if earlier is None
                                    else f"service {service.id} activated", actor=principal)
    return service, password


def suspend(session: Session, service_id: int, *, reason: str | None = None,
            principal: Principal | None = None) -> Service:
    service = get(session, service_id, lock=True)
    _move(session, service, "suspend", reason, principal)
    return service


def limit(session: Session, service_id: int, *, reason: str | None = None,
          principal: Principal | None = None) -> Service:
    service = get(session, service_id, lock=True)
    _move(session, service, "limit", reason, principal)
    return service


VACATION_HOLD = "vacation hold"  # the reason service_requests suspends with


def restore(session: Session, service_id: int, *, reason: str | None = None,
            principal: Principal | None = None) -> Service:
    service = get(session, service_id, lock=True)
    leaving_hold = service.status == "Suspended" and service.status_reason == VACATION_HOLD
    _move(session, service, "restore", reason, principal)
    if leaving_hold:  # a hold still to come (a Limited service restored by a payment) is kept
        service.vacation_from = service.vacation_until = None
    return service


def terminate(session: Session, service_id: int, *, reason: str | None = None,
              principal: Principal | None = None) -> Service:
    """→ Terminated: the static IP goes back to its pool, the equipment is to be recovered, open requests
    are cancelled. The network username is free again (its uniqueness covers live services only)."""
    service = get(session, service_id, lock=True)
    allowed, _ = TRANSITIONS["terminate"]
    if service.status not in allowed:
        raise Conflict(f"a service that is {service.status} cannot be terminated", current_status=service.status,
                       action="terminate")
    released = ip_pools.release(session, service)
    recovered = equipment.recover_for_service(session, service)
    for request in session.execute(select(ServiceRequest).where(
            ServiceRequest.service_id == service.id, ServiceRequest.status.in_(("Pending", "Approved")))).scalars():
        request.status, request.note, request.decided_at = "Cancelled", "the service was terminated", utcnow()
    service.vacation_from = service.vacation_until = None
    _move(session, service, "terminate", reason, principal, released_ip=released,
          recovered_equipment=[item.id for item in recovered])
    return service


ACTIONS = {"suspend": suspend, "limit": limit, "restore": restore, "terminate": terminate}


def apply(session: Session, service_id: int, action: str, **kwargs) -> Service:
    """One of suspend, limit, restore, terminate by name (the API's door)."""
    if action not in ACTIONS:
        raise Invalid(f"unknown action {action!r}")
    return ACTIONS[action](session, service_id, **kwargs)


def set_network_credentials(session: Session, service_id: int, *, username: str | None = None,
                            password: str | None = None, principal: Principal | None = None) -> tuple[Service, str]:
    """Set or regenerate a service's network credentials; returns the plaintext password (shown once)."""
    service = get(session, service_id, lock=True)
    plaintext = network_credentials.set_credentials(session, service, username=username, password=password)
    activity.record(session, principal, service.customer_id, "service.network_credentials", service_id=service.id,
                    username=service.network_username, generated=password is None)
    events.publish_after_commit(session, "service.credentials_changed", service_id=service.id,
                                customer_id=service.customer_id, network_username=service.network_username)
    return service, plaintext
