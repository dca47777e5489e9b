"""The activity log of a tenant: what was done to which customer, and by whom.

Customers read the rows about themselves, so an impersonated session's every request lands here as
"staff N (e-mail) as customer M (Portal ID)".
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import ActivityEvent
from app.services.auth.principal import Principal


def actor_kind(principal: Principal | None) -> str:
    """Who acted: an impersonation session's impersonator ("staff 3 (...)", "user 5 (...)"), else its owner."""
    if principal is None:
        return "system"
    return principal.impersonator.partition(" ")[0] if principal.impersonator else principal.kind


def record(session: Session, principal: Principal | None, customer_id: int | None, action: str, **detail) -> None:
    session.add(ActivityEvent(
        actor=principal.actor if principal else "system",
        actor_kind=actor_kind(principal),
        actor_id=principal.id if principal else None,
        impersonated=bool(principal and principal.impersonator),
        customer_id=customer_id, action=action, detail=detail,
    ))


def for_customer(session: Session, customer_id: int, limit: int = 100) -> list[ActivityEvent]:
    return list(session.execute(
        select(ActivityEvent).where(ActivityEvent.customer_id == customer_id)
        .order_by(ActivityEvent.at.desc(), ActivityEvent.id.desc()).limit(limit)
    ).scalars())
