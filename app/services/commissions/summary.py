"""Reading the current tenant's commission lines: the net earned in a period, a filtered page of lines,
and totals by kind and status. Reports and dashboards use `earned`; the API uses the other two.

Periods are calendar months: a payment's lines carry the month of the payment's local day, a bonus the
month it was closed for, and a reversal the month the money went back, so a refund in March lowers
March's figure rather than rewriting January's. A line is counted in [start, end] when its
`period_start` (the first of its month) falls in it: ask for whole months.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.commissions import CommissionLine
from tenants import require_tenant

ZERO = Decimal("0.00")


def _within(query, start: date | None, end: date | None):
    if start is not None:
        query = query.where(CommissionLine.period_start >= start)
    if end is not None:
        query = query.where(CommissionLine.period_start <= end)
    return query


def earned(session: Session, start: date, end: date) -> Decimal:
    """The current tenant's net commission for lines of [start, end] (both inclusive), reversals
    included, rejected lines excluded (a rejected line was never owed)."""
    query = _within(select(func.coalesce(func.sum(CommissionLine.amount), ZERO)), start, end)
    return Decimal(session.execute(query.where(CommissionLine.status != "Rejected")).scalar_one())


def _filtered(query, *, start=None, end=None, kind=None, status=None, customer_id=None, source_tenant_id=None,
              payout_id=None, visible: frozenset[int] | None = None):
    """`visible`: the caller may see only these customers (of the current tenant), so only their lines."""
    query = _within(query, start, end)
    if visible is not None:
        query = query.where(CommissionLine.source_tenant_id == require_tenant().id,
                            CommissionLine.customer_id.in_(visible))
    if kind is not None:
        query = query.where(CommissionLine.kind == kind)
    if status is not None:
        query = query.where(CommissionLine.status == status)
    if customer_id is not None:
        query = query.where(CommissionLine.customer_id == customer_id)
    if source_tenant_id is not None:
        query = query.where(CommissionLine.source_tenant_id == source_tenant_id)
    if payout_id is not None:
        query = query.where(CommissionLine.payout_id == payout_id)
    return query


def lines(session: Session, *, page: int = 1, per_page: int = 50, **filters) -> tuple[list[CommissionLine], int]:
    """A page of lines, newest first, and how many match. Filters: start, end (on `period_start`), kind,
    status, customer_id, source_tenant_id, payout_id, visible."""
    query = _filtered(select(CommissionLine), **filters)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(query.order_by(CommissionLine.period_start.desc(), CommissionLine.id.desc())
                           .limit(per_page).offset((page - 1) * per_page)).scalars()
    return list(rows), total


def totals(session: Session, *, start: date | None = None, end: date | None = None,
           **filters) -> list[dict]:
    """Sums and counts by (kind, status, currency) for the period."""
    query = _filtered(select(CommissionLine.kind, CommissionLine.status, CommissionLine.currency,
                             func.count(), func.sum(CommissionLine.amount)), start=start, end=end, **filters)
    rows = session.execute(query.group_by(CommissionLine.kind, CommissionLine.status, CommissionLine.currency)
                           .order_by(CommissionLine.kind, CommissionLine.status, CommissionLine.currency))
    return [{"kind": k, "status": s, "currency": c, "count": n, "amount": Decimal(a)} for k, s, c, n, a in rows]
