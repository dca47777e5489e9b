"""The customer lifecycle: which status may follow which, and the record of every change.

Status changes follow `TRANSITIONS`; every one, and the status a customer starts in, is a row of
`customer_status_history` (who, when, why) and an activity-log entry. One code path (`change_statuses`)
serves a single change, an approval, a bulk change and the activation that a first live service brings,
so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, insert, select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from app import clock
from app.models import Customer
from app.models.customers import CustomerStatusChange
from app.services import activity
from app.services.auth.principal import Principal
from app.services.customers.listing import BULK_MAX
from app.services.customers.records import STATUSES, actor_fields, get, valid_id
from app.services.errors import Conflict, Invalid, NotFound

# The lifecycle of 001 §3.3. New: added, awaiting activation. Pending: awaiting approval or activation.
# Active: services operational. Suspended: a temporary interruption (payment, policy). Inactive:
# permanently closed, so nothing leaves it (a returning customer is a new customer, with a new Portal ID).
# Leaving Pending for New or Active is the approval of 004 (approved_at/approved_by are set).
TRANSITIONS: dict[str, frozenset[str]] = {
    "New": frozenset({"Active", "Pending", "Inactive"}),
    "Pending": frozenset({"New", "Active", "Inactive"}),
    "Active": frozenset({"Suspended", "Inactive"}),
    "Suspended": frozenset({"Active", "Inactive"}),
    "Inactive": frozenset(),
}
APPROVAL_TARGETS = ("New", "Active")


class TransitionRefused(Conflict):
    slug = "status-transition-refused"
    title = "Status change not allowed"


@dataclass
class StatusResult:
    """The outcome for one customer of a (bulk) status change: changed, unchanged (already there),
    refused (the transition table says no) or not_found (unknown, or not visible to the caller)."""

    id: int
    outcome: str
    from_status: str | None = None
    to_status: str | None = None
    portal_id: str | None = None
    error: str | None = None


def refusal(current: str, target: str) -> str | None:
    """Why `current → target` is not allowed, or None when it is."""
    if target == current or target in TRANSITIONS[current]:
        return None
    allowed = ", ".join(sorted(TRANSITIONS[current])) or f"nothing: {current} is final"
    return f"{current} → {target} is not allowed (from {current}: {allowed})"


def _reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("a reason is needed for a status change", errors={"reason": ["required"]})
    if len(reason) > 1000:
        raise Invalid("the reason is too long", errors={"reason": ["at most 1000 characters"]})
    return reason


def change_statuses(session: Session, ids, target: str, reason: str, *, actor: Principal | None = None,
                    visible: frozenset[int] | None = None, action: str = "customer.status_changed",
                    only_from: frozenset[str] | None = None) -> list[StatusResult]:
    """Move customers to `target`, each as far as the transition table allows; returns one result per id.

    The rows are locked (in id order, so two bulk changes cannot deadlock), the allowed ones updated in one
    statement, and their history and activity written in the same transaction. The lock is FOR NO KEY
    UPDATE, the one the UPDATE takes anyway: FOR UPDATE would also wait for every transaction that merely
    inserted a row referring to the customer (a foreign key's KEY SHARE lock), such as a concurrent
    activation of another of their services, and deadlock with it. Leaving Pending for New
    or Active records the approval. `only_from` narrows the starting statuses (an approval starts in
    Pending only).
    """
    if target not in STATUSES:
        raise Invalid(f"status must be one of {', '.join(STATUSES)}", errors={"status": ["unknown status"]})
    reason = _reason(reason)
    wanted = list(dict.fromkeys(int(i) for i in ids))
    if len(wanted) > BULK_MAX:
        raise Invalid(f"at most {BULK_MAX} customers at once", errors={"ids": [f"at most {BULK_MAX}"]})
    lookup = [i for i in wanted if valid_id(i) and (visible is None or i in visible)]
    rows = {row.id: row for row in session.execute(
        select(Customer.id, Customer.status, Customer.portal_id).where(Customer.id.in_(lookup))
        .order_by(Customer.id).with_for_update(key_share=True)
    )} if lookup else {}
    results, moving = [], {}
    for customer_id in wanted:
        row = rows.get(customer_id)
        if row is None:
            results.append(StatusResult(customer_id, "not_found", error="no such customer"))
            continue
        current, portal_id = row.status, row.portal_id
        if only_from is not None and current not in only_from:
            results.append(StatusResult(customer_id, "refused", current, portal_id=portal_id,
                                        error=f"the customer is {current}, not {' or '.join(sorted(only_from))}"))
        elif current == target:
            results.append(StatusResult(customer_id, "unchanged", current, target, portal_id))
        elif (why := refusal(current, target)) is not None:
            results.append(StatusResult(customer_id, "refused", current, portal_id=portal_id, error=why))
        else:
            moving[customer_id] = current
            results.append(StatusResult(customer_id, "changed", current, target, portal_id))
    if moving:
        _apply(session, moving, target, reason, actor, action)
    return results


def _apply(session: Session, moving: dict[int, str], target: str, reason: str, actor: Principal | None,
           action: str) -> None:
    who = actor_fields(actor)
    approving = target in APPROVAL_TARGETS
    now = clock.now()
    session.execute(
        sql_update(Customer).where(Customer.id.in_(list(moving))).values(
            status=target, updated_at=now,
            approved_at=case((Customer.status == "Pending", now), else_=Customer.approved_at) if approving
            else Customer.approved_at,
            approved_by=case((Customer.status == "Pending", who["actor"]), else_=Customer.approved_by)
            if approving else Customer.approved_by,
        ).execution_options(synchronize_session=False)
    )
    for obj in list(session.identity_map.values()):  # loaded copies are stale now
        if isinstance(obj, Customer) and obj.id in moving:
            session.expire(obj)
    session.execute(insert(CustomerStatusChange), [
        {"customer_id": cid, "from_status": old, "to_status": target, "reason": reason, **who}
        for cid, old in moving.items()
    ])
    for cid, old in moving.items():
        activity.record(session, actor, cid, "customer.approved" if approving and old == "Pending" else action,
                        from_status=old, to_status=target, reason=reason)


def change_status(session: Session, customer_id: int, target: str, reason: str, *, actor: Principal | None = None,
                  visible: frozenset[int] | None = None) -> StatusResult:
    """One customer's status change; a refused one raises (409), an unchanged one is not an error."""
    result = change_statuses(session, [customer_id], target, reason, actor=actor, visible=visible)[0]
    if result.outcome == "not_found":
        raise NotFound("no such customer")
    if result.outcome == "refused":
        raise TransitionRefused(result.error, from_status=result.from_status, to_status=target,
                                allowed=sorted(TRANSITIONS[result.from_status]))
    return result


def approve(session: Session, customer_id: int, *, actor: Principal | None = None, reason: str | None = None,
            activate: bool = False, visible: frozenset[int] | None = None) -> StatusResult:
    """Let a Pending customer through (004 "Approval Workflow"): to New, awaiting activation, or straight
    to Active with `activate`."""
    target = "Active" if activate else "New"
    result = change_statuses(session, [customer_id], target, reason or "approved", actor=actor, visible=visible,
                             only_from=frozenset({"Pending"}))[0]
    if result.outcome == "not_found":
        raise NotFound("no such customer")
    if result.outcome == "refused":
        raise TransitionRefused(f"only a Pending customer can be approved; this one is {result.from_status}",
                                from_status=result.from_status, to_status=target)
    return result


def history(session: Session, customer_id: int, visible: frozenset[int] | None = None) -> list[CustomerStatusChange]:
    get(session, customer_id, visible)
    return list(session.execute(
        select(CustomerStatusChange).where(CustomerStatusChange.customer_id == customer_id)
        .order_by(CustomerStatusChange.at, CustomerStatusChange.id)
    ).scalars())


def service_activated(session: Session, customer_id: int, reason: str, *,
                      actor: Principal | None = None) -> StatusResult:
    """A New customer becomes Active when a service of theirs goes live: Active means "services
    operational" (001 §3.3), so leaving the customer New would misstate them in every list and report.

    Only New moves. A Pending customer still awaits approval, which a service's activation does not give;
    a Suspended one was suspended for a reason the activation does not settle; Active has nothing to do.
    """
    return change_statuses(session, [customer_id], "Active", reason, actor=actor, only_from=frozenset({"New"}))[0]
