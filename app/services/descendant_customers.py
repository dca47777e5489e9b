"""A parent reseller's read-only look at its sub-resellers' customers (reseller journey: "a parent sees its
sub-resellers' data read-only"), for the sub-resellers API and the reseller portal's Sub-resellers pages alike.

Only descendants, at any depth, are reachable: `resellers.descendant_by_code` answers NotFound for the parent, a
sibling or any code outside the caller's subtree, as for a code that does not exist. Each customer is read in
the descendant's own schema, in a transaction of its own (app/services/customer_summary.py), and nothing here
writes. A team member limited to some customers (`allowed_customer_ids`, ids of the parent's own customers,
which cannot be mapped onto a descendant's) is refused.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.db import Database
from app.models import Tenant as TenantRow
from app.services import customer_summary, resellers
from app.services.auth.principal import Principal
from app.services.errors import NotPermitted
from app.services.tenants import ref

RESTRICTED = "a user restricted to some customers cannot see sub-resellers' customers"


def may_read(principal: Principal) -> bool:
    """Whether the member may read descendants' customers at all (their permission is the door's to check)."""
    return principal.allowed_customer_ids is None


def _descendant(session: Session, principal: Principal, ancestor_id: int, code: str) -> TenantRow:
    if not may_read(principal):
        raise NotPermitted(RESTRICTED)
    return resellers.descendant_by_code(session, ancestor_id, code)


def page(db: Database, session: Session, principal: Principal, ancestor_id: int, code: str, *, offset: int = 0,
         limit: int = 50, status: str | None = None) -> tuple[TenantRow, int, list[resellers.CustomerRow]]:
    """A page of the descendant's customers: (its tenant row, the total, the rows)."""
    row = _descendant(session, principal, ancestor_id, code)
    total, rows = resellers.customers(db, ref(row), offset=offset, limit=limit, status=status)
    return row, total, rows


def customer(db: Database, session: Session, principal: Principal, ancestor_id: int, code: str,
             customer_id: int) -> tuple[TenantRow, dict]:
    """One of the descendant's customers, read-only: (its tenant row, customer_summary.read_only)."""
    row = _descendant(session, principal, ancestor_id, code)
    return row, customer_summary.read_only(db, ref(row), customer_id)
