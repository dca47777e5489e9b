"""The reseller's payments to the master ISP, and their allocation to charges, oldest first.

A payment is recorded by the master ISP's staff (bank transfer, M-PESA…) as a negative entry of the
account; it is then applied to the open charges in the order they fell due (due date, then the order they
accrued), each as far as it goes. What is left over stays on the payment and pays the next charges as
they accrue. A reversed charge gives back what had been applied to it (negative allocation rows), and
the money goes to the next oldest charges. The master ISP's adjustments take the same way: a debit is
paid in its turn like a charge, a credit pays charges like a payment. Allocation runs under the account's
row lock, so two payments (or a payment and the daily accrual) never apply the same money twice.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import Row, and_, func, select
from sqlalchemy.orm import Session, aliased

from app.models.base import utcnow
from app.models.reseller_accounts import AccountAllocation, AccountEntry, ResellerAccount
from app.services.billing import runs
from app.services.errors import Conflict, Invalid
from app.services.money import money
from app.services.reseller_accounts import accounts

ZERO = Decimal("0.00")
METHODS = ("bank_transfer", "mpesa", "cash", "card", "cheque", "other")
DEBITS = ("charge", "adjustment")  # with a positive amount: what payments pay
CREDITS = ("payment", "adjustment")  # with a negative amount: what pays them


@dataclass(frozen=True)
class Applied:
    """An allocation made: `amount` of payment `payment_id` to charge `charge_id`."""

    id: int
    payment_id: int
    charge_id: int
    amount: Decimal


def _allocated(column):
    return (select(func.coalesce(func.sum(AccountAllocation.amount), ZERO)).where(column == AccountEntry.id)
            .correlate(AccountEntry).scalar_subquery())


def open_charges(session: Session, account_id: int) -> list[tuple[Row, Decimal]]:
    """Charges (and debit adjustments) not reversed and not fully paid, oldest due first (rows of id,
    due_on, amount), with what is still owed on each: one pass over the account's charges and allocations,
    joined by hash, not a sub-query per charge, and no ORM objects (a large reseller has tens of thousands
    a month)."""
    reversal = aliased(AccountEntry)
    paid = (select(AccountAllocation.charge_id, func.sum(AccountAllocation.amount).label("paid"))
            .join(AccountEntry, AccountEntry.id == AccountAllocation.charge_id)
            .where(AccountEntry.account_id == account_id).group_by(AccountAllocation.charge_id).subquery())
    owed = AccountEntry.amount - func.coalesce(paid.c.paid, ZERO)
    rows = session.execute(
        select(AccountEntry.id, AccountEntry.due_on, AccountEntry.amount, owed.label("owed"))
        .outerjoin(paid, paid.c.charge_id == AccountEntry.id)
        .outerjoin(reversal, reversal.reverses_id == AccountEntry.id)
        .where(AccountEntry.account_id == account_id, AccountEntry.kind.in_(DEBITS), AccountEntry.amount > 0,
               reversal.id.is_(None), owed > 0)
        .order_by(AccountEntry.due_on, AccountEntry.id)).all()
    return [(row, row.owed) for row in rows]


def unapplied_payments(session: Session, account_id: int) -> list[tuple[AccountEntry, Decimal]]:
    """Payments (and credit adjustments) with money not yet applied to a charge, oldest first."""
    left = -AccountEntry.amount - _allocated(AccountAllocation.payment_id)
    rows = session.execute(
        select(AccountEntry, left.label("left"))
        .where(AccountEntry.account_id == account_id, AccountEntry.kind.in_(CREDITS), AccountEntry.amount < 0,
               left > 0)
        .order_by(AccountEntry.id)).all()
    return [(row[0], row[1]) for row in rows]


def allocate(session: Session, account: ResellerAccount) -> list[Applied]:
    """Apply every payment's unapplied money to the open charges, oldest charge first. The caller holds
    the account's row lock (`accounts.get(..., lock=True)`)."""
    waiting = unapplied_payments(session, account.id)
    if not waiting:  # the usual case of an accrual: nothing to apply, and no need to read every charge
        return []
    charges = open_charges(session, account.id)
    rows: list[dict] = []
    index = 0
    for payment, left in waiting:
        while left > 0 and index < len(charges):
            charge, owed = charges[index]
            amount = min(left, owed)
            rows.append({"payment_id": payment.id, "charge_id": charge.id, "amount": amount})
            left -= amount
            owed -= amount
            charges[index] = (charge, owed)
            if owed == 0:
                index += 1
    if not rows:
        return []
    # one short statement over arrays for a payment that settles thousands of charges (as billing writes)
    made = runs.insert_rows(session, AccountAllocation.__table__, rows,
                            returning=("id", "payment_id", "charge_id", "amount"))
    return [Applied(*row) for row in made]


def release(session: Session, charge: AccountEntry) -> None:
    """Undo what payments applied to `charge` (it is being reversed): negative rows, per payment."""
    rows = session.execute(select(AccountAllocation.payment_id, func.sum(AccountAllocation.amount))
                           .where(AccountAllocation.charge_id == charge.id)
                           .group_by(AccountAllocation.payment_id)
                           .having(func.sum(AccountAllocation.amount) > 0)).all()
    session.add_all([AccountAllocation(payment_id=payment_id, charge_id=charge.id, amount=-amount)
                     for payment_id, amount in rows])
    session.flush()


@dataclass(frozen=True)
class Recorded:
    payment: AccountEntry
    allocations: list[Applied]


def record(session: Session, tenant_id: int, *, amount, method: str, reference: str | None = None,
           received_on: date | None = None, notes: str | None = None, actor: str) -> Recorded:
    """Record a payment the reseller made to the master ISP and apply it, oldest charge first. A
    reference (the bank's or M-PESA's) is unique per reseller: the same transfer is never recorded twice."""
    from app.services.reseller_accounts import credit

    value = money(amount, "amount")
    if value <= 0:
        raise Invalid("amount: more than 0", field="amount")
    if method not in METHODS:
        raise Invalid(f"method: one of {', '.join(METHODS)}", field="method")
    reference = (reference or "").strip() or None
    if reference is not None and (len(reference) > 120 or not reference.isprintable()):
        raise Invalid("reference: up to 120 printable characters", field="reference")
    account = accounts.get(session, tenant_id, lock=True)
    key = f"payment:{tenant_id}:{reference}" if reference else f"payment:{tenant_id}:{secrets.token_hex(12)}"
    if session.execute(select(AccountEntry.id).where(AccountEntry.source_key == key)).first() is not None:
        raise Conflict(f"a payment with reference {reference!r} is already recorded for this reseller",
                       reference=reference)
    received = f" received {received_on.isoformat()}" if received_on else ""
    description = f"Payment by {method.replace('_', ' ')}{received}" + (f": {notes.strip()}" if notes else "")
    payment = AccountEntry(account_id=account.id, kind="payment", amount=-value, currency=account.currency,
                           source_key=key, method=method, reference=reference, description=description[:2000],
                           actor=actor)
    session.add(payment)
    session.flush()
    made = [a for a in allocate(session, account) if a.payment_id == payment.id]
    credit.evaluate(session, tenant_id)
    return Recorded(payment, made)


def adjust(session: Session, tenant_id: int, *, amount, reason: str, actor: str, today: date | None = None
           ) -> Recorded:
    """A correction by the master ISP: positive, a debit the reseller owes (due after the payment terms,
    paid in its turn); negative, a credit that pays the oldest charges as a payment does. Never an edit of
    an entry: the account is append-only."""
    from app.services.reseller_accounts import credit

    value = money(amount, "amount")
    if value == 0:
        raise Invalid("amount: not 0 (positive: owed by the reseller; negative: in its favour)", field="amount")
    reason = (reason or "").strip()
    if not reason or len(reason) > 2000:
        raise Invalid("reason: why the account is adjusted (up to 2000 characters)", field="reason")
    account = accounts.get(session, tenant_id, lock=True)
    today = today or utcnow().date()
    entry = AccountEntry(account_id=account.id, kind="adjustment", amount=value, currency=account.currency,
                         due_on=today + timedelta(days=account.payment_terms_days) if value > 0 else None,
                         source_key=f"adjustment:{tenant_id}:{secrets.token_hex(12)}",
                         description=f"Adjustment: {reason}", actor=actor)
    session.add(entry)
    session.flush()
    made = [a for a in allocate(session, account) if entry.id in (a.payment_id, a.charge_id)]
    credit.evaluate(session, tenant_id)
    return Recorded(entry, made)


def allocations_of(session: Session, entry_ids: list[int]) -> dict[int, list[dict]]:
    """Net allocations by payment and by charge for the entries `entry_ids` (for listing them)."""
    if not entry_ids:
        return {}
    rows = session.execute(
        select(AccountAllocation.payment_id, AccountAllocation.charge_id, func.sum(AccountAllocation.amount))
        .where((AccountAllocation.payment_id.in_(entry_ids)) | (AccountAllocation.charge_id.in_(entry_ids)))
        .group_by(AccountAllocation.payment_id, AccountAllocation.charge_id)
        .having(func.sum(AccountAllocation.amount) != 0)
        .order_by(AccountAllocation.payment_id, AccountAllocation.charge_id)).all()
    out: dict[int, list[dict]] = {}
    wanted = set(entry_ids)
    for payment_id, charge_id, amount in rows:
        line = {"payment_id": payment_id, "charge_id": charge_id, "amount": amount}
        for entry_id in {payment_id, charge_id} & wanted:
            out.setdefault(entry_id, []).append(line)
    return out


def list_entries(session: Session, account_id: int, *, kind: str | None = None, page: int = 1,
                 per_page: int = 50) -> tuple[list[AccountEntry], int]:
    """The account's entries, newest first, a page at a time, with the total."""
    conditions = [AccountEntry.account_id == account_id]
    if kind is not None:
        conditions.append(AccountEntry.kind == kind)
    total = session.execute(select(func.count()).select_from(AccountEntry).where(and_(*conditions))).scalar_one()
    rows = session.execute(select(AccountEntry).where(*conditions).order_by(AccountEntry.id.desc())
                           .offset((page - 1) * per_page).limit(per_page)).scalars().all()
    return list(rows), total


def overdue(session: Session, account_id: int, today: date) -> Decimal:
    """What is owed on charges past their due date (not reversed), in one aggregate."""
    reversal = aliased(AccountEntry)
    charged = session.execute(
        select(func.coalesce(func.sum(AccountEntry.amount), ZERO))
        .outerjoin(reversal, reversal.reverses_id == AccountEntry.id)
        .where(AccountEntry.account_id == account_id, AccountEntry.kind.in_(DEBITS), AccountEntry.amount > 0,
               AccountEntry.due_on < today,
               reversal.id.is_(None))).scalar_one()
    paid = session.execute(
        select(func.coalesce(func.sum(AccountAllocation.amount), ZERO))
        .join(AccountEntry, AccountEntry.id == AccountAllocation.charge_id)
        .outerjoin(reversal, reversal.reverses_id == AccountEntry.id)
        .where(AccountEntry.account_id == account_id, AccountEntry.due_on < today, reversal.id.is_(None))
    ).scalar_one()
    return charged - paid
