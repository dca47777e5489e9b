"""A customer pays from their own account: an M-PESA prompt on their phone (STK push), or a hosted card
checkout at the reseller's processor, then polls the payment until the gateway has spoken.

The rules are in app/services/billing/gateways/ (`initiation`, `stk_push`, `checkout`): a customer pays
only their own invoices (another's is a 404); a read-only API key reads a payment's status but cannot
pay (403); the same `Idempotency-Key` starts one payment, and asking again while a payment for the same
invoice is pending answers with that one. Both POSTs answer 202: the payment is pending until the
gateway's callback or webhook (or the status query the worker makes when none comes) settles it.
"""

from __future__ import annotations

from flask import g, request, url_for
from flask_smorest import Blueprint

from app.api.payments.idempotent import HEADER, PARAMETER, idempotent
from app.api.portal_payments import schemas as s
from app.services.billing.gateways import checkout, initiation, stk_push
from app.web import db_session, state
from app.web.auth import requires

blp = Blueprint("portal_payments", __name__, url_prefix="/portal/api/payments",
                description="A customer's own payments: M-PESA STK push, card checkout, status")
CUSTOMER = ("customer",)
KEYED = {"parameters": [PARAMETER]}


def _out(payment_id: int) -> dict:
    found = initiation.status(db_session(), g.principal.id, payment_id)
    invoice = found.invoice
    return {
        **{k: getattr(found, k) for k in ("payment_id", "status", "provider", "method", "amount", "currency",
                                          "received_at", "receipt_number", "phone", "checkout_url")},
        "invoice": None if invoice is None else {k: getattr(invoice, k) for k in (
            "id", "number", "status", "total", "amount_paid", "amount_due")},
        "failure": None if found.failure_message is None else {"code": found.failure_code,
                                                               "message": found.failure_message},
        "status_url": url_for("portal_payments.payment_status", payment_id=found.payment_id, _external=True),
    }


@blp.route("/mpesa", methods=["POST"])
@requires("self.edit", kinds=CUSTOMER)
@idempotent
@blp.arguments(s.MpesaPayIn)
@blp.response(202, s.PaymentStatusOut)
@blp.doc(**KEYED)
def pay_by_mpesa(body):
    """Send an M-PESA prompt to the phone for an invoice (or a top-up): "check your phone". The answer is
    the pending payment; poll `status_url` until it is `succeeded` or `failed` (with the reason in words).
    M-PESA takes whole shillings: an amount with cents is refused; an invoice's amount due is rounded up
    (the cents over stay as credit)."""
    row = stk_push.initiate_mpesa(db_session(), g.principal.id, body["amount"], body["phone"],
                                  invoice_id=body["invoice_id"], idempotency_key=request.headers.get(HEADER),
                                  redis=state().redis, actor=g.principal.actor)
    return _out(row.payment_id)


@blp.route("/card-checkout", methods=["POST"])
@requires("self.edit", kinds=CUSTOMER)
@idempotent
@blp.arguments(s.CardCheckoutIn)
@blp.response(202, s.PaymentStatusOut)
@blp.doc(**KEYED)
def pay_by_card(body):
    """Open a hosted card checkout at the reseller's processor for an invoice (or a top-up): send the
    customer to `checkout_url`; the processor's webhook settles the payment, which `status_url` shows."""
    home = f"{request.url_root}portal"
    row = checkout.start_card_checkout(db_session(), g.principal.id, body["amount"], invoice_id=body["invoice_id"],
                                       success_url=body["success_url"] or home, cancel_url=body["cancel_url"] or home,
                                       idempotency_key=request.headers.get(HEADER), actor=g.principal.actor)
    return _out(row.payment_id)


@blp.route("/<int:payment_id>")
@requires("self.view", kinds=CUSTOMER)
@blp.response(200, s.PaymentStatusOut)
def payment_status(payment_id):
    """One of your payments, as it stands: pending, succeeded (with its receipt number, and the invoice it
    paid) or failed (and why, in words)."""
    return _out(payment_id)
