"""What dunning must leave alone (app/services/billing/dunning.py asks here; see this package's docstring for
why): of each overdue invoice, the amount under an active dispute, and the whole of an invoice an Active plan
in good standing covers.

Read, never stored: a dispute answered or a plan's instalment missed changes what is held at that moment, so
dunning's run that day already sees it, whatever order the daily jobs run in.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.arrangements import DISPUTE_ACTIVE, InvoiceDispute, PaymentPlan, PaymentPlanInvoice
from app.models.billing import Invoice
from app.services.billing.arrangements import progress
from app.services.money import round_money

ZERO = Decimal("0.00")


def owed(invoice: Invoice) -> Decimal:
    return round_money(invoice.total - invoice.amount_paid)


def disputed(session: Session, invoice_ids: list[int]) -> dict[int, Decimal]:
    """The amount under active disputes, per invoice (absent: none)."""
    if not invoice_ids:
        return {}
    return {invoice_id: Decimal(total) for invoice_id, total in session.execute(
        select(InvoiceDispute.invoice_id, func.sum(InvoiceDispute.disputed_amount))
        .where(InvoiceDispute.invoice_id.in_(invoice_ids), InvoiceDispute.status.in_(DISPUTE_ACTIVE))
        .group_by(InvoiceDispute.invoice_id))}


def planned(session: Session, invoice_ids: list[int], today: date) -> set[int]:
    """The invoices an Active plan covers that is in good standing on `today`."""
    if not invoice_ids:
        return set()
    found: set[int] = set()
    rows = session.execute(select(PaymentPlanInvoice.invoice_id, PaymentPlan)
                           .join(PaymentPlan, PaymentPlan.id == PaymentPlanInvoice.plan_id)
                           .where(PaymentPlanInvoice.invoice_id.in_(invoice_ids), PaymentPlan.status == "Active")).all()
    standing: dict[int, bool] = {}
    for invoice_id, plan in rows:
        if plan.id not in standing:
            found_standing = progress.standing(session, plan, today)
            standing[plan.id] = found_standing.good or found_standing.settled
        if standing[plan.id]:
            found.add(invoice_id)
    return found


def held_amounts(session: Session, invoices: Iterable[Invoice], today: date) -> dict[int, Decimal]:
    """Per invoice, the part of what it owes that dunning leaves alone today (absent: nothing is held)."""
    invoices = list(invoices)
    ids = [i.id for i in invoices]
    under_dispute = disputed(session, ids)
    on_plan = planned(session, ids, today)
    held: dict[int, Decimal] = {}
    for invoice in invoices:
        amount = owed(invoice) if invoice.id in on_plan else under_dispute.get(invoice.id, ZERO)
        amount = min(amount, owed(invoice))
        if amount > ZERO:
            held[invoice.id] = amount
    return held


def wholly_held(invoice: Invoice, held: dict[int, Decimal]) -> bool:
    """Whether nothing of the invoice is left for dunning to act on."""
    return held.get(invoice.id, ZERO) >= owed(invoice)
