"""One page of disputes or payment plans for a list (the customer's own, or those a reseller's team sees):
newest first, filtered by status, customer and the customers the caller may see, with the total that
matches. Both kinds are listed the same way, so a page of either reads and counts alike."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.services.errors import Invalid


def newest_first(session: Session, model, *, statuses: Sequence[str], status: str | None, customer_id: int | None,
                 visible: frozenset[int] | None, where: Sequence = (), page: int, per_page: int) -> tuple[list, int]:
    """`model` needs `id`, `status` and `customer_id`; `where` adds the kind's own conditions."""
    conditions = list(where)
    if status is not None:
        if status not in statuses:
            raise Invalid(f"status: one of {', '.join(statuses)}", field="status")
        conditions.append(model.status == status)
    if customer_id is not None:
        conditions.append(model.customer_id == customer_id)
    if visible is not None:
        conditions.append(model.customer_id.in_(sorted(visible)))
    total = session.execute(select(func.count()).select_from(model).where(*conditions)).scalar_one()
    rows = session.execute(select(model).where(*conditions).order_by(model.id.desc())
                           .limit(per_page).offset((page - 1) * per_page)).scalars()
    return list(rows), total
