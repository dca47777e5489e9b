"""A customer's request to delete their account, and the reseller's review of it (000 §8.2 "Account deletion
requests", §12.2 "Data deletion requests").

The customer asks (a reason if they want to give one), typing their portal password again: a session left
open on a shared computer must not be able to end an account. Wrong passwords are limited as the network
password's are (5 in 30 minutes, and the sign-ins' own limit per address) and each is in the activity log.
Only the customer asks or withdraws, in their own session: never support staff signed in as them, never an
API key.

The reseller reviews: it declines with a reason the customer is told, or approves. An approval needs every
service terminated first, so that nobody is still connected, or billed, under an account that no longer
says whose it is; otherwise it is refused naming the live services, and the request waits. Approving erases
what identifies the customer and keeps what must be kept (erasure.py says which, and why), then deletes or
inactivates the customer as the reseller's own customer deletion does.

Statuses: Requested, then Approved, Declined or Withdrawn (each final; a declined or withdrawn customer may
ask again). At most one request waits per customer (a unique index). Every change is a row of the request's
history and an e-mail to the customer: when they ask, when they withdraw, when it is declined and when it is
done. That last e-mail goes to the address just erased, so its outbox row is scrubbed once delivered (the
daily sweep, housekeeping.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import clock
from app.models import PortalAccount
from app.models.catalogue import Plan
from app.models.privacy import DeletionRequest, DeletionRequestEvent
from app.models.provisioning import Service
from app.services import activity, customers
from app.services.auth import lockout, passwords
from app.services.auth.principal import Principal
from app.services.errors import Conflict, Invalid, NotFound
from app.services.ids import valid_id
from app.services.notifications import queue_email
from app.services.privacy import erasure, mail, not_for_support
from tenants import require_tenant
from tenants.storage import redis_key

MAX_FAILURES = 5
WINDOW_SECONDS = int(lockout.LOCK_FOR.total_seconds())
REASON_MAX = 2000
PAGE_MAX = 200


class ServicesStillLive(Conflict):
    slug = "services-not-terminated"
    title = "The customer's services must be terminated first"


class AlreadyRequested(Conflict):
    slug = "deletion-already-requested"
    title = "A deletion request is waiting already"


class NotWaiting(Conflict):
    slug = "deletion-request-decided"
    title = "The request is no longer waiting"


@dataclass(frozen=True)
class Page:
    items: list[DeletionRequest]
    total: int
    page: int
    per_page: int


def _clean(text: str | None, field: str, *, required: bool = False) -> str | None:
    value = (text or "").strip()
    if required and not value:
        raise Invalid(f"{field}: give one", field=field, errors={field: ["required"]})
    if len(value) > REASON_MAX:
        raise Invalid(f"{field}: at most {REASON_MAX} characters", field=field,
                      errors={field: [f"at most {REASON_MAX} characters"]})
    return value or None


def _event(session: Session, request: DeletionRequest, to_status: str, actor: Principal | None,
           note: str | None = None) -> None:
    session.add(DeletionRequestEvent(request_id=request.id, from_status=None if to_status == "Requested"
                                     else request.status, to_status=to_status,
                                     actor=actor.actor if actor else "system", note=note))
    request.status = to_status


def _failures_key(customer_id: int) -> str:
    return redis_key(require_tenant().schema, "deletion-password-failures", customer_id)


def _check_password(session: Session, redis, customer_id: int, password: str, actor: Principal,
                    ip: str | None) -> None:
    scope = require_tenant().schema
    lockout.check_ip(redis, scope, ip)
    key = _failures_key(customer_id)
    if int(redis.get(key) or 0) >= MAX_FAILURES:
        raise lockout.TooManyAttempts("too many wrong passwords: try again in 30 minutes")
    account = session.get(PortalAccount, customer_id)
    if account is None or not passwords.verify_password(account.password_hash, password or ""):
        pipe = redis.pipeline()
        pipe.set(key, 0, ex=WINDOW_SECONDS, nx=True)
        pipe.incr(key)
        pipe.execute()
        lockout.count_ip(redis, scope, ip)
        activity.record(session, actor, customer_id, "privacy.deletion_refused", reason="wrong portal password")
        session.commit()  # the refusal below rolls the request back: the attempt must stay on record
        raise Invalid("the password is not correct", field="password", errors={"password": ["not correct"]})
    redis.delete(key)


# -- the customer's side -----------------------------------------------------------------------------------

def latest(session: Session, customer_id: int) -> DeletionRequest | None:
    return session.execute(select(DeletionRequest).where(DeletionRequest.customer_id == customer_id)
                           .order_by(DeletionRequest.id.desc()).limit(1)).scalar_one_or_none()


def waiting(session: Session, customer_id: int) -> DeletionRequest | None:
    return session.execute(select(DeletionRequest).where(DeletionRequest.customer_id == customer_id,
                                                         DeletionRequest.status == "Requested")
                           ).scalar_one_or_none()


def request_deletion(session: Session, redis, customer_id: int, password: str, reason: str | None = None, *,
                     actor: Principal, ip: str | None = None) -> DeletionRequest:
    """Ask for the account to be deleted; the reseller reviews it."""
    not_for_support(actor, "Deleting the account")
    reason = _clean(reason, "reason")
    customer = customers.get(session, customer_id, for_update=True)
    _check_password(session, redis, customer_id, password, actor, ip)
    if waiting(session, customer_id) is not None:
        raise AlreadyRequested("your request to delete the account is waiting for your provider already")
    made = DeletionRequest(customer_id=customer_id, portal_id=customer.portal_id, status="Requested", reason=reason,
                           requested_by=actor.actor)
    try:
        with session.begin_nested():
            session.add(made)
            session.flush()
    except IntegrityError:
        raise AlreadyRequested("your request to delete the account is waiting for your provider already") from None
    _event(session, made, "Requested", actor)
    activity.record(session, actor, customer_id, "privacy.deletion_requested", request_id=made.id)
    mail.notify(session, customer, "deletion_requested", status_url=mail.page_url(session, mail.DELETION_PAGE),
                live_services=len(live_services(session, customer_id)))
    return made


def withdraw(session: Session, customer_id: int, *, actor: Principal) -> DeletionRequest:
    """Take back a request the reseller has not decided yet."""
    not_for_support(actor, "Withdrawing the request to delete the account")
    request = waiting(session, customer_id)
    if request is None:
        raise NotFound("no request to delete the account is waiting")
    _event(session, request, "Withdrawn", actor)
    activity.record(session, actor, customer_id, "privacy.deletion_withdrawn", request_id=request.id)
    mail.notify(session, customers.get(session, customer_id), "deletion_withdrawn")
    return request


def history(session: Session, request_id: int) -> list[DeletionRequestEvent]:
    return list(session.execute(select(DeletionRequestEvent).where(DeletionRequestEvent.request_id == request_id)
                                .order_by(DeletionRequestEvent.id)).scalars())


def live_services(session: Session, customer_id: int) -> list[dict]:
    """The customer's services that are not terminated yet: what stops an approval."""
    rows = session.execute(select(Service, Plan.name).outerjoin(Plan, Plan.id == Service.plan_id)
                           .where(Service.customer_id == customer_id, Service.status != "Terminated")
                           .order_by(Service.id)).all()
    return [{"id": s.id, "status": s.status, "plan": name} for s, name in rows]


# -- the reseller's side -----------------------------------------------------------------------------------

def list_requests(session: Session, *, status: str | None = None, visible: frozenset[int] | None = None,
                  page: int = 1, per_page: int = 50) -> Page:
    """Requests, the oldest waiting first (the order they should be handled in), then the decided ones."""
    per_page = max(1, min(per_page, PAGE_MAX))
    page = max(1, page)
    query = select(DeletionRequest)
    if status:
        query = query.where(DeletionRequest.status == status)
    if visible is not None:
        query = query.where(DeletionRequest.customer_id.in_(visible))
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    items = session.execute(query.order_by((DeletionRequest.status != "Requested"), DeletionRequest.requested_at,
                                           DeletionRequest.id)
                            .limit(per_page).offset((page - 1) * per_page)).scalars().all()
    return Page(list(items), total, page, per_page)


def get(session: Session, request_id: int, visible: frozenset[int] | None = None, *,
        for_update: bool = False) -> DeletionRequest:
    """One request; one about a customer the caller may not see is not found, as if it did not exist."""
    query = select(DeletionRequest).where(DeletionRequest.id == request_id)
    found = session.execute(query.with_for_update() if for_update else query).scalar_one_or_none() \
        if valid_id(request_id) else None
    if found is None or (visible is not None and found.customer_id not in visible):
        raise NotFound("no such deletion request")
    return found


def _waiting_one(session: Session, request_id: int, visible: frozenset[int] | None) -> DeletionRequest:
    request = get(session, request_id, visible, for_update=True)
    if request.status != "Requested":
        raise NotWaiting(f"this request is {request.status} already", status_now=request.status)
    return request


def decline(session: Session, request_id: int, note: str, *, actor: Principal,
            visible: frozenset[int] | None = None) -> DeletionRequest:
    """Decline with the reason the customer is told."""
    note = _clean(note, "reason", required=True)
    request = _waiting_one(session, request_id, visible)
    request.decided_at, request.decided_by, request.decision_note = clock.now(), actor.actor, note
    _event(session, request, "Declined", actor, note)
    activity.record(session, actor, request.customer_id, "privacy.deletion_declined", request_id=request.id)
    mail.notify(session, customers.get(session, request.customer_id), "deletion_declined", note=note,
                status_url=mail.page_url(session, mail.DELETION_PAGE))
    return request


def approve(session: Session, request_id: int, *, actor: Principal, visible: frozenset[int] | None = None,
            note: str | None = None) -> DeletionRequest:
    """Carry the request out: erase, keep what must be kept, then delete or inactivate the customer."""
    note = _clean(note, "note")
    request = _waiting_one(session, request_id, visible)
    customer = customers.get(session, request.customer_id, for_update=True)
    live = live_services(session, customer.id)
    if live:
        named = ", ".join(f"#{s['id']} {s['status']}" for s in live)
        raise ServicesStillLive(f"terminate the customer's services first ({named}): nobody may stay connected "
                                f"or billed under an erased account", services=live)
    email, name, portal_id = customer.email, customer.display_name, customer.portal_id
    kept = erasure.kept(session)
    erased = erasure.erase(session, customer.id)
    removal = customers.delete(session, customer.id, actor=actor, visible=visible,
                               reason=f"deletion request #{request.id} of the customer, approved")
    request.decided_at, request.decided_by, request.decision_note = clock.now(), actor.actor, note
    request.outcome = "deleted" if removal.outcome == "deleted" else "anonymised"
    request.kept = [k.key for k in kept]
    _event(session, request, "Approved", actor, note)
    activity.record(session, actor, request.customer_id, "privacy.deletion_approved", request_id=request.id,
                    outcome=request.outcome, erased=erased)
    if email:
        row = queue_email(session, to=email, template="privacy/deletion_approved", context={
            "name": name, "portal_id": portal_id, "outcome": request.outcome,
            "kept": [{"what": k.what, "why": k.why, "args": k.args} for k in kept]})
        request.final_outbox_id = row.id
    return request
