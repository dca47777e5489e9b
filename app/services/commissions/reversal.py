"""Taking commission back when the money goes back: a refund (in part or whole) or a reversed payment.

Lines are never edited or deleted: each line a payment made (recurring and setup, in every earner's
schema) gets negative lines pointing at it (`reverses_id`), dated in the month the money went back, so a
refund in March lowers March and leaves January's statement as it was. A line already paid out is
reversed the same way; the next payout nets the negative line.

Proportion without drift: after refunds totalling F of a payment of P, a line of amount A must have been
reversed by round_half_up(A × F / P) in all (all of A for a reversed payment). Each run reverses the
difference between that target and what is already reversed, so two partial refunds never take back a
cent more or less than one refund of their sum. The target is computed from the payment as it is when
the job runs (refunds only grow), under a lock on the original line, so two jobs running at once (two
refunds close together) cannot both take back the same difference; the key `rev:<line>:<target>` makes
a job run twice a no-op.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.db import Database
from app.models.commissions import CommissionLine
from app.services.billing.runs import insert_rows
from app.services.commissions.engine import ZERO, Branch, branch, month_of, round_half_up
from app.services.settings import local_today
from tenants import require_tenant, tenant_context

ONE = Decimal(1)


def _fractions(session: Session, payment_ids: list[int]) -> dict[int, Decimal]:
    """Payment → share of it that went back (0 < f ≤ 1); payments with nothing to take back are absent."""
    rows = session.execute(text("""
        SELECT id, amount, refunded_amount, status FROM payments WHERE id = ANY(CAST(:ids AS bigint[]))
    """), {"ids": payment_ids}).all()
    out = {}
    for r in rows:
        if r.status == "reversed":
            out[r.id] = ONE
        elif r.refunded_amount and r.refunded_amount > 0:
            out[r.id] = Decimal(r.refunded_amount) / Decimal(r.amount)
    return out


def reverse_in_earner(session: Session, source: int, fractions: dict[int, Decimal], today) -> int:
    """In the earner's schema (current transaction): the reversing lines still missing for these payments."""
    originals = session.execute(select(CommissionLine).where(
        CommissionLine.source_tenant_id == source, CommissionLine.source_payment_id.in_(list(fractions)),
        CommissionLine.reverses_id.is_(None), CommissionLine.amount > 0,
    ).order_by(CommissionLine.id).with_for_update()).scalars().all()
    if not originals:
        return 0
    done = defaultdict(lambda: (ZERO, ZERO))
    for line_id, amount, base in session.execute(
            select(CommissionLine.reverses_id, func.sum(CommissionLine.amount), func.sum(CommissionLine.base_amount))
            .where(CommissionLine.reverses_id.in_([o.id for o in originals])).group_by(CommissionLine.reverses_id)):
        done[line_id] = (-Decimal(amount), -Decimal(base))
    start, end = month_of(today)
    rows = []
    for line in originals:
        share = fractions[line.source_payment_id]
        target = line.amount if share == ONE else round_half_up(line.amount * share)
        target_base = line.base_amount if share == ONE else round_half_up(line.base_amount * share)
        taken, taken_base = done[line.id]
        if target <= taken:
            continue
        rows.append({"reseller_id": line.reseller_id, "customer_id": line.customer_id, "source_tenant_id": source,
                     "source_payment_id": line.source_payment_id, "rule_id": line.rule_id, "kind": line.kind,
                     "base_amount": -(target_base - taken_base), "rate": line.rate, "amount": -(target - taken),
                     "currency": line.currency, "period_start": start, "period_end": end, "reverses_id": line.id,
                     "source_key": f"rev:{line.id}:{target}",
                     "note": f"taken back: payment #{line.source_payment_id} "
                             f"{'reversed or refunded in full' if share == ONE else 'refunded in part'}"})
    return len(insert_rows(session, CommissionLine.__table__, rows, returning=("id",))) if rows else 0


def reverse_many(db: Database, payment_ids: list[int]) -> int:
    """Reverse, in every earner's schema, the commission of these payments of the current tenant as far as
    they were refunded or reversed. Idempotent; returns the number of reversing lines written."""
    source = require_tenant().id
    with db.session() as session:
        fractions = _fractions(session, sorted(set(payment_ids)))
        if not fractions:
            return 0
        tree: Branch = branch(session, source)
        today = local_today(session)
    written = 0
    for earner in tree.ids:
        with tenant_context(tree.context(earner)), db.session() as session:
            written += reverse_in_earner(session, source, fractions, today)
    return written


def reverse_payment(db: Database, payment_id: int) -> int:
    return reverse_many(db, [payment_id])
