"""The customer a team member names by Portal ID on a billing form (a payment received, a pro-forma to send):
the ID people read off an M-PESA message or a bank slip, rather than the database id the API takes.

A customer the member may not see (a user limited to some customers) is not found, as the API's
`visible_customer` answers: typing IDs cannot tell who exists.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Customer
from app.services.errors import NotFound


def by_portal_id(session: Session, portal_id: str, visible: frozenset[int] | None = None) -> Customer:
    wanted = (portal_id or "").strip().upper()
    found = session.execute(select(Customer).where(Customer.portal_id == wanted)).scalar_one_or_none() \
        if wanted else None
    if found is None or (visible is not None and found.id not in visible):
        raise NotFound("no such customer", field="customer")
    return found


def names(session: Session, customer_ids: list[int]) -> dict[int, tuple[str, str]]:
    """(Portal ID, name) of each customer, for a table of documents or payments."""
    if not customer_ids:
        return {}
    rows = session.execute(select(Customer.id, Customer.portal_id, Customer.kind, Customer.first_name,
                                  Customer.last_name, Customer.company_name)
                           .where(Customer.id.in_(sorted(set(customer_ids))))).all()
    return {r.id: (r.portal_id, Customer.name_of(r.kind, r.first_name, r.last_name, r.company_name, r.portal_id))
            for r in rows}
