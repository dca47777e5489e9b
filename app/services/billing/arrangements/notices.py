"""The customer is told, by e-mail through the outbox, of every change of status of their disputes and plans:
written in the transaction of the change, so an answer rolled back is never announced. A customer without an
e-mail address is told nothing here (the portal shows it); the history says so.

Templates: `email/billing/dispute_update` and `email/billing/payment_plan_update` (subject, text and HTML),
one per subject, which say what the new status means; every name they read is given, so none is ever sent
with a hole in it.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.models import Customer
from app.models.arrangements import InvoiceDispute, PaymentPlan
from app.models.billing import Invoice
from app.services.billing.arrangements.progress import instalments_of


def _base(session: Session) -> str | None:
    from app.config import Settings
    from app.services.branding import rendering
    from tenants import current_tenant

    tenant = current_tenant()
    host = rendering.primary_host(session, tenant.id) if tenant is not None else None
    return Settings.from_env().public_url(host) if host else None


def _send(session: Session, customer: Customer, template: str, context: dict) -> int | None:
    from app.services.notifications.outbox import queue_email

    if not customer.email:
        return None
    return queue_email(session, to=customer.email, template=template, context=context).id


def dispute_changed(session: Session, dispute: InvoiceDispute) -> int | None:
    """Tell the customer where their dispute stands now; the outbox row's id, or None (no address)."""
    customer = session.get(Customer, dispute.customer_id)
    invoice = session.get(Invoice, dispute.invoice_id)
    note = session.get(Invoice, dispute.credit_note_id) if dispute.credit_note_id else None
    base = _base(session)
    return _send(session, customer, "billing/dispute_update", {
        "name": customer.display_name, "portal_id": customer.portal_id, "dispute_id": dispute.id,
        "invoice_number": invoice.number, "status": dispute.status, "outcome": dispute.outcome,
        "disputed_amount": str(dispute.disputed_amount), "currency": dispute.currency,
        "credited_amount": None if dispute.credited_amount is None else str(dispute.credited_amount),
        "credit_note_number": note.number if note else None, "expected_by": dispute.expected_by.isoformat(),
        "answer": dispute.answer, "appealable": dispute.status == "Rejected" and dispute.appealed_at is None,
        "dispute_url": f"{base}/portal/disputes/{dispute.id}" if base else None})


def plan_changed(session: Session, plan: PaymentPlan, *, missed=None) -> int | None:
    """Tell the customer where their payment plan stands now (`missed`: the instalment that ended it)."""
    customer = session.get(Customer, plan.customer_id)
    base = _base(session)
    return _send(session, customer, "billing/payment_plan_update", {
        "name": customer.display_name, "portal_id": customer.portal_id, "plan_id": plan.id, "status": plan.status,
        "amount": str(plan.amount), "currency": plan.currency, "proposed_instalments": plan.proposed_instalments,
        "note": plan.decision_note,
        "instalments": [{"number": i.number, "due_on": i.due_on.isoformat(), "amount": str(i.amount)}
                        for i in instalments_of(session, plan.id)],
        "missed_number": missed.number if missed else None,
        "missed_due_on": missed.due_on.isoformat() if missed else None,
        "plan_url": f"{base}/portal/payment-plans/{plan.id}" if base else None})
