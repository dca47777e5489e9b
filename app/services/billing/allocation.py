"""Putting money where it is owed: payments and credit notes to open invoices, oldest first.

Oldest first means by due date, then by invoice id: the debt that has waited longest is cleared first,
which is also what dunning looks at. Money left over stays unallocated on its payment (or credit note)
and is the customer's credit: `settle` runs again whenever a new invoice is issued, so credit pays the
next invoice without anyone asking. Every allocation is a row, so a refund can undo exactly what its
payment paid, and commissions can follow a payment to the invoices it settled.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.models.billing import Invoice, Payment, PaymentAllocation
from app.services.money import round_money

ZERO = Decimal("0.00")
OPEN = ("Issued", "Partially Paid", "Overdue")
UNHELD = ("pending", "failed", "reversed")  # payments that hold no money
UNISSUED = ("Draft", "Void")  # credit notes that hold none


def status_for(invoice: Invoice, today: date | None = None) -> str:
    """The status an issued invoice has for what was paid of it and its due date."""
    if invoice.status in ("Draft", "Void") or invoice.kind != "invoice":
        return invoice.status
    if invoice.amount_paid >= invoice.total:
        return "Paid"
    today = today or clock.today()
    if invoice.due_on is not None and invoice.due_on < today:
        return "Overdue"
    return "Partially Paid" if invoice.amount_paid > ZERO else "Issued"


def open_invoices(session: Session, customer_id: int, *, lock: bool = True) -> list[Invoice]:
    query = (select(Invoice).where(Invoice.customer_id == customer_id, Invoice.kind == "invoice",
                                   Invoice.status.in_(OPEN))
             .order_by(Invoice.due_on.nulls_last(), Invoice.id))
    if lock:
        query = query.with_for_update()
    return list(session.execute(query).scalars())


def _taken(session: Session, column, source_ids: list[int]) -> dict[int, Decimal]:
    """What allocations took from each of these payments (`column` PaymentAllocation.payment_id) or credit notes
    (`credit_note_id`), in one query: a customer of some years has hundreds of payments, and asking for each
    made every settling and every look at the dashboard as many queries."""
    if not source_ids:
        return {}
    rows = session.execute(select(column, func.sum(PaymentAllocation.amount)).where(column.in_(source_ids))
                           .group_by(column))
    return {source_id: Decimal(amount) for source_id, amount in rows}


def _payment_left(payment: Payment, taken: Decimal) -> Decimal:
    if payment.status in UNHELD:
        return ZERO
    return round_money(payment.amount - payment.refunded_amount - taken)


def _note_left(note: Invoice, taken: Decimal) -> Decimal:
    if note.kind != "credit_note" or note.status in UNISSUED:
        return ZERO
    return round_money(note.total - taken)


def unallocated_payment(session: Session, payment: Payment) -> Decimal:
    return _payment_left(payment, _taken(session, PaymentAllocation.payment_id, [payment.id]).get(payment.id, ZERO))


def unallocated_credit_note(session: Session, note: Invoice) -> Decimal:
    return _note_left(note, _taken(session, PaymentAllocation.credit_note_id, [note.id]).get(note.id, ZERO))


def credit(session: Session, customer_id: int) -> Decimal:
    """The customer's credit: what their payments and credit notes hold that no invoice has taken."""
    payments = list(session.execute(select(Payment).where(Payment.customer_id == customer_id)).scalars())
    notes = list(session.execute(select(Invoice).where(Invoice.customer_id == customer_id,
                                                       Invoice.kind == "credit_note")).scalars())
    paid = _taken(session, PaymentAllocation.payment_id, [p.id for p in payments])
    noted = _taken(session, PaymentAllocation.credit_note_id, [n.id for n in notes])
    return round_money(sum((_payment_left(p, paid.get(p.id, ZERO)) for p in payments), ZERO)
                       + sum((_note_left(n, noted.get(n.id, ZERO)) for n in notes), ZERO))


def apply(session: Session, invoice: Invoice, amount: Decimal, *, payment_id: int | None = None,
          credit_note_id: int | None = None, today: date | None = None) -> PaymentAllocation | None:
    """Allocate up to `amount` to one invoice; returns the allocation (None if nothing was due)."""
    take = min(amount, invoice.total - invoice.amount_paid)
    if take <= ZERO:
        return None
    row = PaymentAllocation(invoice_id=invoice.id, payment_id=payment_id, credit_note_id=credit_note_id, amount=take)
    session.add(row)
    invoice.amount_paid = round_money(invoice.amount_paid + take)
    invoice.status = status_for(invoice, today)
    invoice.version += 1
    return row


def settle(session: Session, customer_id: int, *, today: date | None = None,
           prefer: tuple[int, int] | None = None) -> list[PaymentAllocation]:
    """Spend the customer's unallocated payments (oldest first), then credit notes, on their open
    invoices (oldest first). Safe to call any time: with nothing to spend or nothing owed it does nothing.

    `prefer` (payment id, invoice id): that payment pays that invoice before the others, because the
    customer chose it (they pressed Pay on it); what is left goes oldest first as always."""
    invoices = open_invoices(session, customer_id)
    if not invoices:
        return []
    made: list[PaymentAllocation] = []
    sources: list[tuple[str, int, Decimal]] = []
    payments = list(session.execute(select(Payment).where(Payment.customer_id == customer_id)
                                    .order_by(Payment.received_at, Payment.id).with_for_update()).scalars())
    paid = _taken(session, PaymentAllocation.payment_id, [p.id for p in payments])
    for payment in payments:
        left = _payment_left(payment, paid.get(payment.id, ZERO))
        if left > ZERO:
            sources.append(("payment", payment.id, left))
    notes = list(session.execute(select(Invoice).where(Invoice.customer_id == customer_id,
                                                       Invoice.kind == "credit_note")
                                 .order_by(Invoice.id).with_for_update()).scalars())
    noted = _taken(session, PaymentAllocation.credit_note_id, [n.id for n in notes])
    for note in notes:
        left = _note_left(note, noted.get(note.id, ZERO))
        if left > ZERO:
            sources.append(("credit_note", note.id, left))
    for kind, source_id, left in sources:
        order = invoices
        if prefer is not None and kind == "payment" and source_id == prefer[0]:
            order = sorted(invoices, key=lambda i: i.id != prefer[1])  # stable: the chosen one, then oldest first
        for invoice in order:
            if left <= ZERO:
                break
            row = apply(session, invoice, left, today=today,
                        payment_id=source_id if kind == "payment" else None,
                        credit_note_id=source_id if kind == "credit_note" else None)
            if row is not None:
                made.append(row)
                left -= row.amount
    session.flush()
    return made


def undo_payment(session: Session, payment: Payment, amount: Decimal, *, today: date | None = None) -> Decimal:
    """Take back up to `amount` of what a payment paid (for a refund or a reversed payment), newest
    allocation first, re-opening those invoices. Returns how much was taken back from invoices."""
    taken = ZERO
    rows = session.execute(select(PaymentAllocation).where(PaymentAllocation.payment_id == payment.id)
                           .order_by(PaymentAllocation.id.desc())).scalars().all()
    net: dict[int, Decimal] = {}
    for row in rows:
        net[row.invoice_id] = net.get(row.invoice_id, ZERO) + row.amount
    for invoice_id, paid in sorted(net.items(), reverse=True):
        if taken >= amount or paid <= ZERO:
            continue
        back = min(paid, amount - taken)
        invoice = session.get(Invoice, invoice_id, with_for_update=True)
        session.add(PaymentAllocation(invoice_id=invoice_id, payment_id=payment.id, amount=-back))
        invoice.amount_paid = round_money(invoice.amount_paid - back)
        invoice.status = status_for(invoice, today)
        invoice.version += 1
        taken += back
    session.flush()
    return taken
