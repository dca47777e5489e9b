"""Removing a customer: deleted only when nothing financial refers to them (`FINANCIAL_TABLES`); otherwise
made Inactive and kept, because invoices, payments and the ledger must keep pointing at someone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import Customer
from app.services import activity
from app.services.auth.principal import Principal
from app.services.customers.records import get
from app.services.customers.status import change_statuses

# Tables whose rows are financial records about a customer (their column `customer_id`). They belong to
# other parts of the platform and may not exist yet in a schema: each is looked up with `to_regclass`,
# and one without a `customer_id` column is not consulted. Any other table that refers to a customer
# with a RESTRICT foreign key also stops a deletion (the customer is then made Inactive instead).
FINANCIAL_TABLES = ("services", "invoices", "payments", "ledger_entries")


def financial_references(session: Session, customer_id: int) -> list[str]:
    """The tables of `FINANCIAL_TABLES` that exist in this tenant's schema and hold a row of this customer."""
    present = session.execute(text(
        "SELECT t FROM unnest(CAST(:tables AS text[])) AS t WHERE EXISTS ("
        " SELECT 1 FROM pg_attribute a WHERE a.attrelid = to_regclass(format('%I.%I', current_schema(), t))"
        " AND a.attname = 'customer_id' AND NOT a.attisdropped)"
    ), {"tables": list(FINANCIAL_TABLES)}).scalars().all()
    found = []
    for table in present:  # names from FINANCIAL_TABLES only, never from input
        query = text(f'SELECT EXISTS (SELECT 1 FROM "{table}" WHERE customer_id = :c)')
        if session.execute(query, {"c": customer_id}).scalar_one():
            found.append(table)
    return found


@dataclass
class Removal:
    outcome: str                      # deleted | inactivated
    references: list[str] = field(default_factory=list)
    customer: Customer | None = None  # what remains, when inactivated
    changed: bool = True


def delete(session: Session, customer_id: int, *, actor: Principal | None = None, reason: str | None = None,
           visible: frozenset[int] | None = None) -> Removal:
    """Delete a customer with nothing financial about them; otherwise make them Inactive and keep them.

    Contacts, history, portal access and API keys go with a deleted customer; the activity log keeps the
    deletion; the Portal ID stays registered (never given to anyone else). A deletion that another table's
    RESTRICT foreign key stops (a service, equipment...) falls back to Inactive as well.
    """
    customer = get(session, customer_id, visible, for_update=True)
    references = financial_references(session, customer_id)
    if not references:
        portal_id = customer.portal_id
        try:
            with session.begin_nested():
                session.delete(customer)
                session.flush()
        except IntegrityError as exc:
            constraint = getattr(getattr(exc.orig, "diag", None), "table_name", None) or "another record"
            references = [constraint]
            session.expire_all()
        else:
            activity.record(session, actor, customer_id, "customer.deleted", portal_id=portal_id,
                            reason=(reason or "").strip() or None)
            return Removal("deleted")
    why = f"deletion requested; kept because of {', '.join(references)}"
    if reason and reason.strip():
        why = f"{why}: {reason.strip()}"
    result = change_statuses(session, [customer_id], "Inactive", why, actor=actor)[0]
    return Removal("inactivated", references, get(session, customer_id), changed=result.outcome == "changed")
