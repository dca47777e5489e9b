"""Changing a service: the plans it can move to, what a move would cost before the customer confirms it,
and the change requests (upgrade, downgrade, vacation hold, relocation, cancellation) with their status.

The requests themselves are `app.services.service_requests`' (approval where the reseller requires it,
now or at the next cycle); what is added here is for a customer asking on their own:

- Upgrade or downgrade is decided by the plans, not by the word the customer sends: the new plan is an
  upgrade when it costs more (at the same price, when it is faster), otherwise a downgrade. A reseller
  that has downgrades approved (`services.approval_required`) cannot have that skipped by a downgrade
  sent as an "upgrade".
- The preview shows the price per period before and after, the difference, and for a change made now,
  the rest of the current cycle: what those days were charged at the old plan comes back as a credit and
  they are charged at the new one, by the proration rule of `billing.proration` (the next invoice makes
  those lines). A change at the next cycle has nothing to prorate: the new price starts with the cycle.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Customer
from app.models.catalogue import Plan
from app.models.provisioning import Service, ServiceRequest
from app.services import catalogue, pricing, service_requests
from app.services.auth.principal import Principal
from app.services.billing import cycles, proration
from app.services.billing.invoices import local_date
from app.services.errors import Conflict, Invalid, NotFound
from app.services.ids import valid_id
from app.services.selfcare.my_services import own_service, plan_out
from app.services.settings import zone
from tenants import require_tenant

PLAN_KINDS = ("upgrade", "downgrade")
EFFECTIVE = ("immediate", "next_cycle")


def _direction(old_price: Decimal, old_plan: Plan | None, new_price: Decimal, new_plan: Plan) -> str:
    old_speed = (old_plan.download_kbps or 0) if old_plan is not None else 0
    return "upgrade" if (new_price, new_plan.download_kbps or 0) > (old_price, old_speed) else "downgrade"


def _current_price(session: Session, service: Service, customer: Customer, today: date) -> Decimal:
    """What the service costs per period now: its price fixed at activation, or, not yet active, what its
    plan would cost today."""
    if service.price is not None:
        return Decimal(service.price)
    plan = session.get(Plan, service.plan_id)
    return pricing.retail_price(session, plan, today, customer).price if plan is not None else Decimal("0.00")


def _open(service: Service) -> None:
    if service.status == "Terminated":
        raise Conflict("this service is terminated")


def options(session: Session, customer_id: int, service_id: int) -> list[dict]:
    """The plans this service may move to (same kind, sold where it is installed), cheapest first, each
    priced for this customer today and marked upgrade or downgrade."""
    service = own_service(session, customer_id, service_id)
    if service.status == "Terminated":
        return []
    customer = session.get(Customer, customer_id)
    today = pricing.today(session)
    current = _current_price(session, service, customer, today)
    old_plan = session.get(Plan, service.plan_id)
    tenant_id = require_tenant().id
    out = []
    for plan in catalogue.authorised_plans(session, tenant_id):
        if plan.kind != service.kind or plan.id == service.plan_id:
            continue
        try:
            catalogue.sellable_plan(session, plan.id, tenant_id, service.region)
        except (NotFound, Invalid):
            continue  # not sold in this service's region
        quote = pricing.retail_price(session, plan, today, customer)
        out.append({"plan": plan_out(plan), "price": quote.price, "currency": quote.currency,
                    "billing_period": quote.billing_period, "kind": _direction(current, old_plan, quote.price, plan),
                    "difference": quote.price - current if quote.currency == service.currency else None})
    return sorted(out, key=lambda o: (o["price"], o["plan"]["code"]))


def preview(session: Session, customer_id: int, service_id: int, plan_id: int,
            effective: str = "immediate") -> dict:
    """What moving the service to `plan_id` would cost, before anything is asked for."""
    if effective not in EFFECTIVE:
        raise Invalid("effective is immediate or next_cycle", field="effective")
    if not valid_id(plan_id):
        raise Invalid("plan_id: the plan to change to", field="plan_id")
    service = own_service(session, customer_id, service_id)
    _open(service)
    customer = session.get(Customer, customer_id)
    today = pricing.today(session)
    plan = catalogue.sellable_plan(session, plan_id, require_tenant().id, service.region)
    if plan.kind != service.kind:
        raise Invalid(f"a {service.kind} service changes to another {service.kind} plan", field="plan_id")
    if plan.id == service.plan_id:
        raise Invalid("the service has this plan already", field="plan_id")
    effective_on = today if effective == "immediate" else service_requests.next_cycle_start(session, service, today)
    quote = pricing.retail_price(session, plan, effective_on, customer)
    old_plan = session.get(Plan, service.plan_id)
    current = _current_price(session, service, customer, today)
    kind = _direction(current, old_plan, quote.price, plan)
    same_money = quote.currency == service.currency
    return {"service_id": service.id, "kind": kind, "effective": effective, "effective_on": effective_on,
            "needs_approval": service_requests.needs_approval(session, kind),
            "from_plan": plan_out(old_plan), "to_plan": plan_out(plan), "currency": quote.currency,
            "billing_period": quote.billing_period, "current_price": current, "new_price": quote.price,
            "difference": quote.price - current if same_money else None,
            "proration": _proration(session, service, customer, current, quote, today)
            if effective == "immediate" and same_money else None}


def _proration(session: Session, service: Service, customer: Customer, current: Decimal, quote, today: date):
    """The rest of the current cycle, credited at the old price and charged at the new (None when the
    service has no cycle yet, or the new plan is billed over another period)."""
    if service.activated_at is None or service.price is None or quote.billing_period != service.billing_period:
        return None
    months = cycles.cycle_months(service.billing_period)
    anchor = cycles.anchor(local_date(service.activated_at, zone(session)), customer.billing_day)
    cycle = cycles.cycle_containing(today, anchor, months)
    rest = cycles.Period(today, cycle.end)
    credit = proration.prorate(current, rest, cycle)
    charge = proration.prorate(quote.price, rest, cycle)
    return {"period_start": rest.start, "period_end": rest.end, "days": rest.days, "cycle_days": cycle.days,
            "credit": credit, "charge": charge, "net": charge - credit}


def request_change(session: Session, customer_id: int, service_id: int, kind: str, payload: dict | None = None, *,
                   effective: str = "immediate", principal: Principal | None) -> ServiceRequest:
    """Ask for a change of one of the customer's services; approved at once unless the reseller has that
    kind approved first (see `service_requests`)."""
    own_service(session, customer_id, service_id)
    payload = payload or {}
    if kind in PLAN_KINDS:
        plan_id = payload.get("plan_id")
        if not valid_id(plan_id):
            raise Invalid("payload.plan_id: the plan to change to", field="payload")
        found = preview(session, customer_id, service_id, plan_id, effective)
        if found["kind"] != kind:
            raise Invalid(f"moving to {found['to_plan']['name']} is a {found['kind']}: ask for a {found['kind']}",
                          field="kind")
    return service_requests.create(session, service_id, kind, payload, effective=effective, principal=principal)


def own_request(session: Session, customer_id: int, request_id: int) -> ServiceRequest:
    request = session.get(ServiceRequest, request_id) if valid_id(request_id) else None
    if request is None or session.get(Service, request.service_id).customer_id != customer_id:
        raise NotFound("no such service request")
    return request


def list_requests(session: Session, customer_id: int, service_id: int | None = None) -> list[ServiceRequest]:
    """The customer's change requests (of one service, or all), newest first."""
    if service_id is not None:
        own_service(session, customer_id, service_id)
    query = (select(ServiceRequest).join(Service, Service.id == ServiceRequest.service_id)
             .where(Service.customer_id == customer_id))
    if service_id is not None:
        query = query.where(ServiceRequest.service_id == service_id)
    return list(session.execute(query.order_by(ServiceRequest.id.desc())).scalars())


def cancel_request(session: Session, customer_id: int, request_id: int, *,
                   principal: Principal | None) -> ServiceRequest:
    """Withdraw a request not yet done (Pending, or Approved for the next cycle)."""
    own_request(session, customer_id, request_id)
    return service_requests.cancel(session, request_id, principal=principal, note="withdrawn by the customer")
