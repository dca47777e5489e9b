"""The ledger: every movement of a customer's account, append-only, and the balance as its sum.

Amounts are signed from the reseller's side: positive is owed by the customer (a charge, a late fee, a
refund paid out), negative is in the customer's favour (a payment, a credit note). A mistake is undone
by `reverse`, which posts the opposite amount and points at the entry it undoes (once: `reverses_id`
is unique); nothing is ever updated or deleted, and a database trigger refuses it if anything tries.

`audit` checks that the documents and the ledger tell the same story. Tests run it after each test;
the figure to worry about in production is any line it returns.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.models.billing import LedgerEntry
from app.services.errors import Conflict, Invalid, NotFound
from app.services.money import round_money

ZERO = Decimal("0.00")


def post(session: Session, *, customer_id: int, kind: str, amount: Decimal, currency: str, description: str,
         invoice_id: int | None = None, payment_id: int | None = None, actor: str = "system") -> LedgerEntry:
    if not isinstance(amount, Decimal):
        raise Invalid("ledger amounts are Decimal")
    amount = round_money(amount)
    if amount == ZERO:
        raise Invalid("a ledger entry moves money; this one is zero")
    entry = LedgerEntry(customer_id=customer_id, kind=kind, amount=amount, currency=currency,
                        description=description, invoice_id=invoice_id, payment_id=payment_id, actor=actor)
    session.add(entry)
    session.flush()
    return entry


def reverse(session: Session, entry_id: int, *, reason: str, actor: str = "system") -> LedgerEntry:
    """Undo an entry by posting its opposite; an entry is reversed at most once."""
    entry = session.get(LedgerEntry, entry_id)
    if entry is None:
        raise NotFound("no such ledger entry")
    if entry.kind == "reversal":
        raise Conflict("a reversal is not reversed; post a new entry instead")
    done = session.execute(select(LedgerEntry.id).where(LedgerEntry.reverses_id == entry.id)).first()
    if done is not None:
        raise Conflict(f"ledger entry {entry.id} is already reversed")
    reversal = LedgerEntry(customer_id=entry.customer_id, kind="reversal", amount=-entry.amount,
                           currency=entry.currency, description=f"Reversal: {reason}", invoice_id=entry.invoice_id,
                           payment_id=entry.payment_id, reverses_id=entry.id, actor=actor)
    session.add(reversal)
    session.flush()
    return reversal


def balance(session: Session, customer_id: int) -> Decimal:
    """What the customer owes (negative: what they have in credit)."""
    total = session.execute(select(func.coalesce(func.sum(LedgerEntry.amount), 0))
                            .where(LedgerEntry.customer_id == customer_id)).scalar_one()
    return round_money(Decimal(total))


def entries(session: Session, customer_id: int, *, limit: int = 200) -> list[LedgerEntry]:
    return list(session.execute(select(LedgerEntry).where(LedgerEntry.customer_id == customer_id)
                                .order_by(LedgerEntry.id.desc()).limit(limit)).scalars())


# Each query returns the rows that break one rule, with what was expected and what was found.
_CHECKS = {
    "an issued invoice's ledger entries add up to its total (0 once void)": """
        SELECT i.id, CASE WHEN i.status = 'Void' THEN 0
                          WHEN i.kind = 'credit_note' THEN -i.total ELSE i.total END AS expected,
               COALESCE(SUM(l.amount), 0) AS found
        FROM invoices i LEFT JOIN ledger_entries l ON l.invoice_id = i.id AND l.payment_id IS NULL
        WHERE i.status <> 'Draft' AND i.kind <> 'proforma'
        GROUP BY i.id HAVING COALESCE(SUM(l.amount), 0) <>
            CASE WHEN i.status = 'Void' THEN 0 WHEN i.kind = 'credit_note' THEN -i.total ELSE i.total END""",
    "drafts and proformas post nothing": """
        SELECT i.id, 0 AS expected, SUM(l.amount) AS found
        FROM invoices i JOIN ledger_entries l ON l.invoice_id = i.id AND l.payment_id IS NULL
        WHERE i.status = 'Draft' OR i.kind = 'proforma' GROUP BY i.id HAVING SUM(l.amount) <> 0""",
    "a payment's ledger entries add up to minus what was kept of it": """
        SELECT p.id,
               CASE WHEN p.status IN ('pending', 'failed', 'reversed') THEN 0 ELSE p.refunded_amount - p.amount END,
               COALESCE(SUM(l.amount), 0)
        FROM payments p LEFT JOIN ledger_entries l ON l.payment_id = p.id
        GROUP BY p.id HAVING COALESCE(SUM(l.amount), 0) <>
            CASE WHEN p.status IN ('pending', 'failed', 'reversed') THEN 0 ELSE p.refunded_amount - p.amount END""",
    "an invoice's allocations add up to its amount paid": """
        SELECT i.id, i.amount_paid, COALESCE(SUM(a.amount), 0)
        FROM invoices i LEFT JOIN payment_allocations a ON a.invoice_id = i.id
        GROUP BY i.id HAVING COALESCE(SUM(a.amount), 0) <> i.amount_paid""",
    "no invoice is paid beyond its total": """
        SELECT i.id, i.total, i.amount_paid FROM invoices i WHERE i.amount_paid > i.total""",
    "a payment is not allocated beyond what was kept of it": """
        SELECT p.id, p.amount - p.refunded_amount, SUM(a.amount)
        FROM payments p JOIN payment_allocations a ON a.payment_id = p.id
        GROUP BY p.id HAVING SUM(a.amount) > p.amount - p.refunded_amount OR SUM(a.amount) < 0""",
    "a credit note is not allocated beyond its total": """
        SELECT c.id, c.total, SUM(a.amount)
        FROM invoices c JOIN payment_allocations a ON a.credit_note_id = c.id
        GROUP BY c.id, c.total HAVING SUM(a.amount) > c.total OR SUM(a.amount) < 0""",
    "the status of an invoice follows what was paid": """
        SELECT i.id, i.status, i.amount_paid FROM invoices i
        WHERE i.kind = 'invoice' AND ((i.status = 'Paid' AND i.amount_paid < i.total)
           OR (i.status IN ('Issued', 'Overdue') AND i.amount_paid >= i.total AND i.total > 0)
           OR (i.status = 'Partially Paid' AND (i.amount_paid = 0 OR i.amount_paid >= i.total)))""",
    "a customer's balance is their open invoices less their unused payments and credit notes": """
        WITH owed AS (
            SELECT customer_id, SUM(total - amount_paid) AS v FROM invoices
            WHERE kind = 'invoice' AND status NOT IN ('Draft', 'Void') GROUP BY customer_id),
        unused_payments AS (
            SELECT p.customer_id, SUM(p.amount - p.refunded_amount
                                      - COALESCE((SELECT SUM(a.amount) FROM payment_allocations a
                                                  WHERE a.payment_id = p.id), 0)) AS v
            FROM payments p WHERE p.status NOT IN ('pending', 'failed', 'reversed') GROUP BY p.customer_id),
        unused_credit AS (
            SELECT c.customer_id, SUM(c.total - COALESCE((SELECT SUM(a.amount) FROM payment_allocations a
                                                          WHERE a.credit_note_id = c.id), 0)) AS v
            FROM invoices c WHERE c.kind = 'credit_note' AND c.status <> 'Void' AND c.status <> 'Draft'
            GROUP BY c.customer_id),
        loose AS (
            SELECT customer_id, SUM(amount) AS v FROM ledger_entries
            WHERE invoice_id IS NULL AND payment_id IS NULL GROUP BY customer_id),
        ledger AS (SELECT customer_id, SUM(amount) AS v FROM ledger_entries GROUP BY customer_id)
        SELECT c.id, COALESCE(o.v, 0) - COALESCE(up.v, 0) - COALESCE(uc.v, 0) + COALESCE(lo.v, 0) AS expected,
               COALESCE(l.v, 0) AS found
        FROM customers c
        LEFT JOIN owed o ON o.customer_id = c.id LEFT JOIN unused_payments up ON up.customer_id = c.id
        LEFT JOIN unused_credit uc ON uc.customer_id = c.id LEFT JOIN loose lo ON lo.customer_id = c.id
        LEFT JOIN ledger l ON l.customer_id = c.id
        WHERE COALESCE(l.v, 0) <> COALESCE(o.v, 0) - COALESCE(up.v, 0) - COALESCE(uc.v, 0) + COALESCE(lo.v, 0)""",
}


def audit(session: Session) -> list[str]:
    """Every disagreement between the documents and the ledger in the current tenant (none: [])."""
    problems = []
    for rule, query in _CHECKS.items():
        for row in session.execute(text(query)):
            problems.append(f"{rule}: #{row[0]} expected {row[1]}, found {row[2]}")
    return problems
