"""The customer's money as the Finance pages show it: invoices and their PDFs, payments and receipts, the
balance, statements, credit notes, the ledger, and the stored payment methods.

The documents are the reseller's own (`billing.invoices`, `billing.payments`, `billing.pdfs`), read
through one rule: a customer sees what was sent to them. Drafts are the reseller's work in progress and
are never shown (nor counted); an issued invoice, pro-forma or credit note is, whatever happened to it
since (a void invoice stays in the list as void). Another customer's document is not found.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, aliased

from app.models.billing import Invoice, LedgerEntry, Payment, PaymentAllocation, PaymentMethod
from app.services import customers
from app.services.billing import invoices, payment_methods, payments, pdfs
from app.services.billing.gateways import checkout, config, daraja_settings, initiation, stk_push
from app.services.billing.invoices import Page
from app.services.errors import Conflict, Invalid, NotFound
from app.services.ids import valid_id

ZERO = Decimal("0.00")
SHOWN_STATUSES = tuple(s for s in invoices.STATUSES if s != "Draft")
STATEMENT_DAYS = 365
# The orders a list of invoices can be read in (the portal's sortable columns); ties newest first.
INVOICE_SORTS = {
    "number": Invoice.number, "issued_at": Invoice.issued_at, "due_on": Invoice.due_on, "total": Invoice.total,
    "balance_due": case((Invoice.kind == "invoice", Invoice.total - Invoice.amount_paid), else_=ZERO),
    "status": Invoice.status,
}


def _own_invoices(customer_id: int):
    return (Invoice.customer_id == customer_id, Invoice.status != "Draft")


def list_invoices(session: Session, customer_id: int, *, status: str | None = None,
                  kind: str | tuple[str, ...] | None = None, sort: str | None = None, descending: bool = True,
                  page: int = 1, per_page: int = 50) -> Page:
    """The customer's invoices, pro-formas and credit notes (`kind`: one of them, or several), newest first
    or in the order of `sort` (a key of INVOICE_SORTS; documents without the value last), a page of them
    with the total."""
    where = list(_own_invoices(customer_id))
    if status is not None:
        if status not in SHOWN_STATUSES:
            raise Invalid(f"status: one of {', '.join(SHOWN_STATUSES)}", field="status")
        where.append(Invoice.status == status)
    if kind is not None:
        kinds = (kind,) if isinstance(kind, str) else tuple(kind)
        if not kinds or any(k not in invoices.KINDS for k in kinds):
            raise Invalid(f"kind: one of {', '.join(invoices.KINDS)}", field="kind")
        where.append(Invoice.kind.in_(kinds))
    order = [Invoice.id.desc()]
    if sort is not None:
        if sort not in INVOICE_SORTS:
            raise Invalid(f"sort: one of {', '.join(INVOICE_SORTS)}", field="sort")
        column = INVOICE_SORTS[sort]
        order.insert(0, (column.desc() if descending else column.asc()).nulls_last())
    total = session.execute(select(func.count()).select_from(Invoice).where(*where)).scalar_one()
    items = list(session.execute(select(Invoice).where(*where).order_by(*order)
                                 .limit(per_page).offset((page - 1) * per_page)).scalars())
    return Page(items, total, page, per_page)


def credit_notes(session: Session, customer_id: int, *, page: int = 1, per_page: int = 50) -> Page:
    return list_invoices(session, customer_id, kind="credit_note", page=page, per_page=per_page)


def own_invoice(session: Session, customer_id: int, invoice_id: int) -> Invoice:
    invoice = session.get(Invoice, invoice_id) if valid_id(invoice_id) else None
    if invoice is None or invoice.customer_id != customer_id or invoice.status == "Draft":
        raise NotFound("no such invoice")
    return invoice


def balance_due(invoice: Invoice) -> Decimal:
    return invoice.total - invoice.amount_paid if invoice.kind == "invoice" else ZERO


def invoice_detail(session: Session, customer_id: int, invoice_id: int) -> dict:
    """One invoice with its lines, taxes, the credit notes issued against it, the money applied to it (each
    payment's or credit note's share, oldest first) and whether it may still be paid from the portal."""
    invoice = own_invoice(session, customer_id, invoice_id)
    return {"invoice": invoice, "lines": invoices.lines_of(session, invoice.id),
            "taxes": invoices.taxes_of(session, invoice.id),
            "credit_notes": [n for n in invoices.credit_notes_of(session, invoice.id) if n.status != "Draft"],
            "applied": applied_to(session, invoice.id), "payable": initiation.payable(invoice)}


def applied_to(session: Session, invoice_id: int) -> list[dict]:
    """What paid an invoice: each allocation with the payment (its receipt) or credit note it came from."""
    note = aliased(Invoice)
    rows = session.execute(
        select(PaymentAllocation, Payment, note.number)
        .outerjoin(Payment, Payment.id == PaymentAllocation.payment_id)
        .outerjoin(note, note.id == PaymentAllocation.credit_note_id)
        .where(PaymentAllocation.invoice_id == invoice_id)
        .order_by(PaymentAllocation.at, PaymentAllocation.id)).all()
    return [{"at": a.at, "amount": a.amount, "payment": p, "credit_note_number": number} for a, p, number in rows]


def ways_to_pay(session: Session, customer_id: int) -> tuple[str, ...]:
    """The gateways this customer can start a payment through, as a page offers them: M-PESA where the
    reseller has Daraja credentials and the account is billed in shillings, a card where it has a card
    processor's key. None: the reseller takes no payments online."""
    found = []
    if daraja_settings.daraja(session) is not None \
            and payments.billing_currency(session, customer_id) == stk_push.CURRENCY:
        found.append(stk_push.PROVIDER)
    if config.stripe_api_key(session):
        found.append(checkout.PROVIDER)
    return tuple(found)


def payment_choice(session: Session, customer_id: int, invoice_id: int | None = None) -> dict:
    """What a Pay (or top-up) page offers: the invoice and what it owes (in whole shillings too, as M-PESA
    takes it: rounded up), the ways to pay, the currency, and the number an M-PESA prompt would go to.
    Another customer's invoice is not found; one with nothing to pay has `payable` False."""
    customer = customers.get(session, customer_id)
    invoice = own_invoice(session, customer_id, invoice_id) if invoice_id is not None else None
    payable = invoice is None or initiation.payable(invoice)
    due = initiation.amount_due(invoice) if invoice is not None and payable else None
    return {"invoice": invoice, "payable": payable, "amount_due": due,
            "mpesa_amount": stk_push.whole_shillings(due, typed=False) if due else None,
            "currency": payments.billing_currency(session, customer_id), "ways": ways_to_pay(session, customer_id),
            "phone": stk_push.phone_on_file(customer)}


def invoice_pdf(session: Session, customer_id: int, invoice_id: int) -> pdfs.Rendered:
    """The invoice's PDF in the reseller's brand (the reseller's own cached document)."""
    return pdfs.invoice_pdf(session, own_invoice(session, customer_id, invoice_id))


def list_payments(session: Session, customer_id: int, *, status: str | None = None, page: int = 1,
                  per_page: int = 50) -> tuple[list[Payment], int]:
    """The customer's payments (received, pending, failed, refunded), newest first, and how many."""
    return payments.list_payments(session, customer_id=customer_id, status=status, page=page, per_page=per_page)


def own_payment(session: Session, customer_id: int, payment_id: int) -> Payment:
    payment = session.get(Payment, payment_id) if valid_id(payment_id) else None
    if payment is None or payment.customer_id != customer_id:
        raise NotFound("no such payment")
    return payment


def invoice_numbers(session: Session, invoice_ids: list[int]) -> dict[int, str | None]:
    if not invoice_ids:
        return {}
    return dict(session.execute(select(Invoice.id, Invoice.number).where(Invoice.id.in_(invoice_ids))).all())


def receipt_pdf(session: Session, customer_id: int, payment_id: int) -> tuple[str, bytes]:
    """(file name, PDF) of a payment's receipt; a payment not received has none."""
    payment = own_payment(session, customer_id, payment_id)
    if payment.receipt_number is None:
        raise Conflict(f"this payment is {payment.status}: only money received has a receipt")
    return f"receipt-{payment.receipt_number}.pdf", pdfs.receipt_pdf(session, payment.id)


def balance(session: Session, customer_id: int) -> dict:
    """What the customer owes by the ledger, the credit they hold, their open invoices (oldest first), how
    much of it is due and overdue, and the next due date."""
    found = payments.balance(session, customer_id)
    today = invoices.local_today(session)
    owed = [(i, balance_due(i)) for i in found.open_invoices]
    due_dates = [i.due_on for i, _ in owed if i.due_on is not None]
    return {"currency": found.currency, "balance": found.balance, "credit": found.credit,
            "total_due": sum((amount for _, amount in owed), ZERO),
            "overdue": sum((amount for i, amount in owed if i.due_on is not None and i.due_on < today), ZERO),
            "next_due_on": min(due_dates) if due_dates else None, "open_invoices": found.open_invoices}


def _statement_dates(session: Session, start: date | None, end: date | None) -> tuple[date, date]:
    end = end or invoices.local_today(session)
    return start or end - timedelta(days=STATEMENT_DAYS), end


def statement(session: Session, customer_id: int, start: date | None = None, end: date | None = None) -> dict:
    """The statement of account from `start` to `end` (the reseller's local dates; default the last year):
    every ledger entry with a running balance, between the balance before and the balance after."""
    customers.get(session, customer_id)
    start, end = _statement_dates(session, start, end)
    return invoices.statement(session, customer_id, start, end)


def statement_pdf(session: Session, customer_id: int, start: date | None = None,
                  end: date | None = None) -> tuple[str, bytes]:
    customers.get(session, customer_id)
    start, end = _statement_dates(session, start, end)
    invoices.statement(session, customer_id, start, end)  # the same checks of the dates, before drawing
    return f"statement-{start}-{end}.pdf", pdfs.statement_pdf(session, customer_id, start, end)


def transactions(session: Session, customer_id: int, *, page: int = 1,
                 per_page: int = 50) -> tuple[list[LedgerEntry], int]:
    """The customer's ledger, newest first: every charge, payment, credit, refund and reversal."""
    where = LedgerEntry.customer_id == customer_id
    total = session.execute(select(func.count()).select_from(LedgerEntry).where(where)).scalar_one()
    rows = session.execute(select(LedgerEntry).where(where).order_by(LedgerEntry.at.desc(), LedgerEntry.id.desc())
                           .limit(per_page).offset((page - 1) * per_page)).scalars()
    return list(rows), total


# -- payment methods ---------------------------------------------------------------------------------------

def list_payment_methods(session: Session, customer_id: int) -> list[PaymentMethod]:
    """The customer's stored cards and M-PESA numbers, the default first (never a token)."""
    return payment_methods.list_methods(session, customer_id)


def own_payment_method(session: Session, customer_id: int, method_id: int) -> PaymentMethod:
    """One of the customer's stored methods (another customer's is not found)."""
    return payment_methods.get(session, customer_id, method_id)


def make_default_payment_method(session: Session, customer_id: int, method_id: int) -> PaymentMethod:
    """Automatic charges use this one from now on."""
    return payment_methods.make_default(session, customer_id, method_id)


def remove_payment_method(session: Session, customer_id: int, method_id: int) -> None:
    """Forget a stored method; if it was the default, the newest remaining one becomes it."""
    payment_methods.remove(session, customer_id, method_id)
