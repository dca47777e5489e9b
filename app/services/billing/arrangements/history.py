"""The history of disputes and plans: one `arrangement_events` row per change (who, when, from which status to
which, the note, the detail), and the same change on the customer's activity log, where the reseller's team
reads everything that happened to a customer in one place."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.arrangements import ArrangementEvent, InvoiceDispute, PaymentPlan
from app.services import activity
from app.services.auth.principal import Principal

SYSTEM = "system"


def actor_of(actor: Principal | str | None) -> str:
    if isinstance(actor, Principal):
        return actor.actor
    return actor or SYSTEM


def record(session: Session, actor: Principal | str | None, action: str, *, dispute: InvoiceDispute | None = None,
           plan: PaymentPlan | None = None, from_status: str | None = None, to_status: str | None = None,
           note: str | None = None, **detail) -> ArrangementEvent:
    """Write one change. `detail` holds JSON values only (money and dates as strings)."""
    event = ArrangementEvent(dispute_id=dispute.id if dispute else None, plan_id=plan.id if plan else None,
                             action=action, from_status=from_status, to_status=to_status, note=note,
                             detail=detail, actor=actor_of(actor))
    session.add(event)
    subject = dispute or plan
    ids = {"dispute_id": dispute.id} if dispute else {}
    if plan:
        ids["plan_id"] = plan.id
    activity.record(session, actor if isinstance(actor, Principal) else None, subject.customer_id, action,
                    **ids, from_status=from_status, to_status=to_status, **detail)
    return event


def of_dispute(session: Session, dispute_id: int) -> list[ArrangementEvent]:
    return list(session.execute(select(ArrangementEvent).where(ArrangementEvent.dispute_id == dispute_id)
                                .order_by(ArrangementEvent.at, ArrangementEvent.id)).scalars())


def of_plan(session: Session, plan_id: int) -> list[ArrangementEvent]:
    return list(session.execute(select(ArrangementEvent).where(ArrangementEvent.plan_id == plan_id)
                                .order_by(ArrangementEvent.at, ArrangementEvent.id)).scalars())
