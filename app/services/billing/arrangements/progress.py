"""How a payment plan stands on a day: what has been paid toward it, which instalments that reached, and
whether one was missed.

What counts toward a plan is what was allocated to the invoices it covers (app/services/billing/allocation.py:
payments oldest invoice first, credit notes, negative rows for a refund or a reversal) beyond what had been paid
on them when the plan was approved (`paid_before`). Each counts on its day in the reseller's calendar (a
payment's when it was received, anything else when it was allocated): the plan is read "by date", so money that
arrives after an instalment's grace period has ended does not make that instalment on time, and the plan it
ended stays ended.

Instalment n is reached on the first day the running total reaches the sum of instalments 1..n. It is missed
when it was not reached by its due date plus the policy's grace days. Nothing here writes: the daily job
(plans.check) records what this finds, and dunning (holds.py) asks it directly, so a missed instalment ends the
hold on its own day whether or not the job has run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.arrangements import PaymentPlan, PaymentPlanInstalment, PaymentPlanInvoice
from app.models.billing import Invoice, Payment, PaymentAllocation
from app.services.billing import allocation, invoices
from app.services.billing.arrangements.policy import policy
from app.services.money import round_money
from app.services.settings import zone

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class InstalmentState:
    number: int
    due_on: date
    amount: Decimal
    cumulative: Decimal  # instalments 1..number
    status: str  # Due, Paid, Missed
    paid_on: date | None
    late_after: date  # the last day it may be reached on time


@dataclass(frozen=True)
class Standing:
    paid: Decimal  # toward the plan, by `today`
    remaining: Decimal
    instalments: tuple[InstalmentState, ...]
    missed: InstalmentState | None
    settled: bool  # paid in full, or nothing is owed on its invoices any more
    next_due: InstalmentState | None

    @property
    def good(self) -> bool:
        return self.missed is None


def instalments_of(session: Session, plan_id: int) -> list[PaymentPlanInstalment]:
    return list(session.execute(select(PaymentPlanInstalment).where(PaymentPlanInstalment.plan_id == plan_id)
                                .order_by(PaymentPlanInstalment.number)).scalars())


def covered_ids(session: Session, plan_id: int) -> list[int]:
    return list(session.execute(select(PaymentPlanInvoice.invoice_id).where(PaymentPlanInvoice.plan_id == plan_id)
                                .order_by(PaymentPlanInvoice.invoice_id)).scalars())


def _payments_by_day(session: Session, invoice_ids: list[int], today: date) -> list[tuple[date, Decimal]]:
    """What was allocated to the invoices, each on its day: a payment's on the day it was received (a bank
    transfer recorded two days late was still paid on time), anything else (a credit note, a refund taking money
    back) on the day it was allocated."""
    if not invoice_ids:
        return []
    where = zone(session)
    rows = session.execute(select(PaymentAllocation.at, PaymentAllocation.amount, Payment.received_at)
                           .outerjoin(Payment, Payment.id == PaymentAllocation.payment_id)
                           .where(PaymentAllocation.invoice_id.in_(invoice_ids))
                           .order_by(PaymentAllocation.at, PaymentAllocation.id)).all()
    found = []
    for at, amount, received_at in rows:
        moment = received_at if received_at is not None and amount > 0 else at
        day = invoices.local_date(min(moment, at), where)
        if day <= today:
            found.append((day, Decimal(amount)))
    return sorted(found, key=lambda item: item[0])


def standing(session: Session, plan: PaymentPlan, today: date, *, grace_days: int | None = None,
             rows: list[PaymentPlanInstalment] | None = None) -> Standing:
    grace = policy(session).grace_days if grace_days is None else grace_days
    rows = instalments_of(session, plan.id) if rows is None else rows
    ids = covered_ids(session, plan.id)
    timeline = _payments_by_day(session, ids, today)
    states, running, cumulative, position = [], -plan.paid_before, ZERO, 0
    reached_on: dict[int, date] = {}
    targets = []
    for row in rows:
        cumulative += row.amount
        targets.append((row, cumulative))
    for day, amount in timeline:
        running += amount
        while position < len(targets) and running >= targets[position][1]:
            reached_on[targets[position][0].number] = day
            position += 1
        # a refund can take money back, but an instalment reached on time stays reached: it was paid by its day
    for row, total in targets:
        late_after = row.due_on + timedelta(days=grace)
        paid_on = reached_on.get(row.number)
        if paid_on is not None and paid_on <= late_after:
            status = "Paid"
        elif today > late_after:
            status = "Missed"
        else:
            status = "Due"
        states.append(InstalmentState(row.number, row.due_on, row.amount, total, status, paid_on, late_after))
    paid = round_money(max(running, ZERO))
    open_left = session.execute(select(Invoice.id).where(Invoice.id.in_(ids), Invoice.status.in_(allocation.OPEN))
                                ).first() if ids else None
    settled = paid >= plan.amount or open_left is None
    missed = next((s for s in states if s.status == "Missed"), None)
    return Standing(paid=paid, remaining=round_money(max(plan.amount - paid, ZERO)), instalments=tuple(states),
                    missed=missed, settled=settled, next_due=next((s for s in states if s.status == "Due"), None))
