"""Change requests on a service, each tracked with its status, and the daily work that applies them.

    Pending ──approve──▶ Approved ──(effective date reached)──▶ Completed
       │ reject ▶ Rejected        └─ cancel ▶ Cancelled (also when the service is terminated)
       └ cancel ▶ Cancelled

A request needs approval when its kind is listed in the reseller's setting
`services.approval_required` (e.g. `["downgrade", "relocation"]`); otherwise it is approved as it is made.
An approved request is done at once (`immediate`) or on the first day of the service's next billing
cycle (`next_cycle`, kept in `effective_on`); `apply_due`, run daily per tenant, completes those that
are due and starts and ends vacation holds.

Kinds and their payloads:
- upgrade / downgrade `{"plan_id": …}`: another plan of the same kind that the reseller may sell where
  the service is; an active service takes the new plan's retail price of the effective day (its setup
  fee stays: that was paid once).
- suspension `{"from": "YYYY-MM-DD", "until": "YYYY-MM-DD"}`: a vacation hold. From `from` the service
  is Suspended (reason "vacation hold"); after `until` it is restored, unless it was suspended for
  another reason meanwhile. The dates say when, so `effective` is always immediate.
- relocation `{"installation_address": …, "region": …}`: the plan must be sold in the new region.
- cancellation `{"reason": …}`: termination, now or at the next cycle.
"""

from __future__ import annotations

import calendar
import logging
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import Customer
from app.models.base import utcnow
from app.models.provisioning import REQUEST_KINDS, Service, ServiceRequest
from app.services import activity, catalogue, events, pricing, services
from app.services.auth.principal import Principal
from app.services.errors import Conflict, Invalid, NotFound, ServiceError
from app.services.ids import valid_id
from app.services.settings import get_setting, local_today
from tenants import require_tenant

log = logging.getLogger(__name__)
VACATION = services.VACATION_HOLD  # the reason a hold suspends with
MONTHS = {"monthly": 1, "quarterly": 3, "yearly": 12}
OPEN = ("Pending", "Approved")


# -- dates ------------------------------------------------------------------------------------------

def _add_months(day: date, months: int, anchor_day: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(anchor_day, calendar.monthrange(year, month)[1]))


def next_cycle_start(session: Session, service: Service, today: date) -> date:
    """The first day of the service's next billing cycle after `today`.

    Cycles start on the customer's `billing_day` when it has one, else on the anniversary of the
    activation, every billing period; a day past a month's end falls on its last day. A service not
    yet active has no cycle: the next cycle is today.
    """
    customer = session.get(Customer, service.customer_id)
    billing_day = getattr(customer, "billing_day", None)
    if billing_day:
        candidate = _add_months(today.replace(day=1), 0, billing_day)
        return candidate if candidate > today else _add_months(today.replace(day=1), 1, billing_day)
    if service.activated_at is None:
        return today
    anchor = _local_date(session, service.activated_at)
    step, k = MONTHS[service.billing_period], 1
    while (start := _add_months(anchor.replace(day=1), step * k, anchor.day)) <= today:
        k += 1
    return start


def _local_date(session: Session, moment: datetime) -> date:
    return local_today(session, moment)


def _date(value, field: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise Invalid(f"{field}: a date as YYYY-MM-DD", field=field) from None


# -- making and deciding ----------------------------------------------------------------------------

def needs_approval(session: Session, kind: str) -> bool:
    config = get_setting(session, "services") or {}
    return kind in (config.get("approval_required") or ())


def _validate(session: Session, service: Service, kind: str, payload: dict, effective: str, today: date) -> dict:
    if service.status == "Terminated":
        raise Conflict("this service is terminated")
    if kind in ("upgrade", "downgrade"):
        plan_id = payload.get("plan_id")
        if not valid_id(plan_id):
            raise Invalid("payload.plan_id: the plan to change to", field="payload")
        plan = catalogue.sellable_plan(session, plan_id, require_tenant().id, service.region)
        if plan.kind != service.kind:
            raise Invalid(f"a {service.kind} service changes to another {service.kind} plan", field="payload")
        if plan.id == service.plan_id:
            raise Invalid("the service has this plan already", field="payload")
        return {"plan_id": plan.id, "from_plan_id": service.plan_id}
    if kind == "suspension":
        if effective != "immediate":
            raise Invalid("a vacation hold's dates say when it starts: effective is immediate", field="effective")
        start, until = _date(payload.get("from"), "payload.from"), _date(payload.get("until"), "payload.until")
        if start < today or until < start:
            raise Invalid("a vacation hold runs from today or later, and ends on or after its start", field="payload")
        if service.status not in ("Active", "Limited"):
            raise Conflict(f"a service that is {service.status} cannot be put on hold")
        return {"from": start.isoformat(), "until": until.isoformat()}
    if kind == "relocation":
        address = _text(payload.get("installation_address"), "payload.installation_address", 1000)
        if not address:
            raise Invalid("payload.installation_address is needed", field="payload")
        region = _text(payload.get("region"), "payload.region", 100)
        catalogue.sellable_plan(session, service.plan_id, require_tenant().id, region)
        return {"installation_address": address, "region": region}
    return {"reason": _text(payload.get("reason"), "payload.reason", 1000)}  # cancellation


def _text(value, field: str, limit: int) -> str | None:
    """A payload string: the payload is free JSON, so its type and length are checked here."""
    if value is None:
        return None
    if not isinstance(value, str) or "\x00" in value or len(value) > limit:
        raise Invalid(f"{field}: text of at most {limit} characters", field="payload")
    return value.strip() or None


def create(session: Session, service_id: int, kind: str, payload: dict | None = None, *,
           effective: str = "immediate", principal: Principal | None = None) -> ServiceRequest:
    """Make a request; without a required approval it is approved (and, if immediate, done) at once."""
    if kind not in REQUEST_KINDS:
        raise Invalid(f"kind must be one of {', '.join(REQUEST_KINDS)}", field="kind")
    if effective not in ("immediate", "next_cycle"):
        raise Invalid("effective is immediate or next_cycle", field="effective")
    service = services.get(session, service_id, lock=True)
    today = pricing.today(session)
    clean = _validate(session, service, kind, payload or {}, effective, today)
    request = ServiceRequest(service_id=service.id, kind=kind, status="Pending", payload=clean, effective=effective,
                             requested_by=services.actor_of(principal))
    if session.execute(select(ServiceRequest.id).where(ServiceRequest.service_id == service.id,
                                                       ServiceRequest.kind == kind,
                                                       ServiceRequest.status.in_(OPEN))).first():
        raise Conflict(f"this service has an open {kind} request already")
    try:
        with session.begin_nested():
            session.add(request)
            session.flush()
    except IntegrityError:
        raise Conflict(f"this service has an open {kind} request already") from None
    activity.record(session, principal, service.customer_id, "service.request", service_id=service.id,
                    request_id=request.id, kind=kind, effective=effective)
    if not needs_approval(session, kind):
        _approve(session, request, service, principal, "approval not required", today)
    return request


def get(session: Session, request_id: int, *, lock: bool = False) -> ServiceRequest:
    if not valid_id(request_id):
        raise NotFound("no such service request")
    query = select(ServiceRequest).where(ServiceRequest.id == request_id)
    request = session.execute(query.with_for_update() if lock else query).scalar_one_or_none()
    if request is None:
        raise NotFound("no such service request")
    return request


def list_for_service(session: Session, service_id: int) -> list[ServiceRequest]:
    return list(session.execute(select(ServiceRequest).where(ServiceRequest.service_id == service_id)
                                .order_by(ServiceRequest.id)).scalars())


def approve(session: Session, request_id: int, *, principal: Principal | None = None,
            note: str | None = None) -> ServiceRequest:
    request = get(session, request_id, lock=True)
    if request.status != "Pending":
        raise Conflict(f"this request is {request.status}", current_status=request.status)
    service = services.get(session, request.service_id, lock=True)
    _approve(session, request, service, principal, note, pricing.today(session))
    return request


def _approve(session: Session, request: ServiceRequest, service: Service, principal: Principal | None,
             note: str | None, today: date) -> None:
    request.status, request.decided_by, request.decided_at, request.note = (
        "Approved", services.actor_of(principal), utcnow(), note)
    if request.effective == "next_cycle":
        request.effective_on = next_cycle_start(session, service, today)
    else:
        request.effective_on = today
    session.flush()
    if request.effective_on <= today:
        _complete(session, request, service, principal, today)


def reject(session: Session, request_id: int, *, principal: Principal | None = None,
           note: str | None = None) -> ServiceRequest:
    request = get(session, request_id, lock=True)
    if request.status != "Pending":
        raise Conflict(f"this request is {request.status}", current_status=request.status)
    request.status, request.decided_by, request.decided_at, request.note = (
        "Rejected", services.actor_of(principal), utcnow(), note)
    session.flush()
    return request


def cancel(session: Session, request_id: int, *, principal: Principal | None = None,
           note: str | None = None) -> ServiceRequest:
    request = get(session, request_id, lock=True)
    if request.status not in OPEN:
        raise Conflict(f"this request is {request.status}", current_status=request.status)
    request.status, request.decided_at, request.note = "Cancelled", utcnow(), note or services.actor_of(principal)
    session.flush()
    return request


# -- doing ------------------------------------------------------------------------------------------

def _complete(session: Session, request: ServiceRequest, service: Service, principal: Principal | None,
              today: date) -> None:
    payload, reason = request.payload, f"request {request.id} ({request.kind})"
    if request.kind in ("upgrade", "downgrade"):
        plan = catalogue.sellable_plan(session, payload["plan_id"], require_tenant().id, service.region)
        old = service.plan_id
        service.plan_id = plan.id
        if service.status != "Pending":
            services.snapshot_price(session, service, plan, session.get(Customer, service.customer_id),
                                    setup_fee=False)
        events.publish_after_commit(session, "service.plan_changed", service_id=service.id,
                                    customer_id=service.customer_id, from_plan_id=old, to_plan_id=plan.id,
                                    network_username=service.network_username)
    elif request.kind == "suspension":
        service.vacation_from, service.vacation_until = date.fromisoformat(payload["from"]), date.fromisoformat(
            payload["until"])
        session.flush()
        _start_hold(session, service, today, principal)
    elif request.kind == "relocation":
        catalogue.sellable_plan(session, service.plan_id, require_tenant().id, payload.get("region"))
        service.installation_address, service.region = payload["installation_address"], payload.get("region")
        events.publish_after_commit(session, "service.relocated", service_id=service.id,
                                    customer_id=service.customer_id)
    elif request.kind == "cancellation":
        services.terminate(session, service.id, reason=payload.get("reason") or reason, principal=principal)
    request.status, request.completed_at = "Completed", utcnow()
    session.flush()
    activity.record(session, principal, service.customer_id, "service.request_completed", service_id=service.id,
                    request_id=request.id, kind=request.kind)


def _start_hold(session: Session, service: Service, today: date, principal: Principal | None) -> bool:
    if service.vacation_until is not None and service.vacation_until < today and service.status != "Suspended":
        service.vacation_from = service.vacation_until = None  # a hold that passed while nothing ran
        return False
    if (service.vacation_from and service.vacation_from <= today and service.status in ("Active", "Limited")
            and (service.vacation_until is None or today <= service.vacation_until)):
        hold = (service.vacation_from, service.vacation_until)
        services.suspend(session, service.id, reason=VACATION, principal=principal)
        service.vacation_from, service.vacation_until = hold
        return True
    return False


def apply_due(session: Session, on: date | None = None) -> dict:
    """The daily work of one tenant: complete approved requests that are due, start vacation holds that
    begin, restore services whose hold has ended. Each item in a savepoint: one that cannot be done
    (its plan withdrawn meanwhile…) stays Approved with the reason in `note`, and the rest go on."""
    on = on or pricing.today(session)
    done = {"completed": 0, "failed": 0, "holds_started": 0, "holds_ended": 0}
    due = session.execute(select(ServiceRequest).where(ServiceRequest.status == "Approved",
                                                       ServiceRequest.effective_on <= on)
                          .order_by(ServiceRequest.effective_on, ServiceRequest.id).with_for_update()).scalars().all()
    for request in due:
        try:
            with session.begin_nested():
                _complete(session, request, services.get(session, request.service_id, lock=True), None, on)
            done["completed"] += 1
        except ServiceError as exc:
            request.note = f"could not be applied on {on.isoformat()}: {exc.detail}"
            done["failed"] += 1
            log.warning("service request %s not applied: %s", request.id, exc.detail)
    starting = session.execute(select(Service).where(Service.vacation_from <= on, Service.status.in_(
        ("Active", "Limited"))).with_for_update()).scalars().all()
    for service in starting:
        done["holds_started"] += _start_hold(session, service, on, None)
    ending = session.execute(select(Service).where(Service.vacation_until < on, Service.status == "Suspended",
                                                   Service.status_reason == VACATION).with_for_update()).scalars().all()
    for service in ending:
        services.restore(session, service.id, reason="vacation hold ended")
        done["holds_ended"] += 1
    session.flush()
    return done
