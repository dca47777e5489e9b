"""A reseller's payments: recording (cash, bank transfer, M-PESA, card, wallet), refunds and reversals,
customers' stored payment methods and balances, gateway events staff must match, automatic charge
attempts, and the gateway credentials (webhook secrets) under /reseller/api/payments/gateways.

The POSTs that move money honour `Idempotency-Key` (`idempotent.py`). A user limited to some customers
sees only their payments; any other answers 404.
"""

from __future__ import annotations

from decimal import Decimal

from flask import request
from flask_smorest import Blueprint

from app.api.payments import schemas as s
from app.api.payments.idempotent import PARAMETER, idempotent
from app.api.visibility import principal, visible, visible_customer
from app.models.billing import GatewayEvent, Payment
from app.services.auth.principal import USER
from app.services.billing import payment_methods, payments, pdfs, retries
from app.services.billing.gateways import config, daraja_settings, events
from app.web import db_session, downloads
from app.web.auth import requires

blp = Blueprint("payments", __name__, url_prefix="/reseller/api",
                description="Payments, refunds, payment methods, balances and payment gateways")
KINDS = (USER,)
KEYED = {"parameters": [PARAMETER]}


def _payment(payment_id: int, *, for_update: bool = False) -> Payment:
    return visible(payments.get(db_session(), payment_id, for_update=for_update), "payment")


def payments_out(rows: list[Payment]) -> list[dict]:
    """Payments with their allocations and refunds, read for the whole page in two queries."""
    session = db_session()
    allocations = payments.allocations_of(session, [p.id for p in rows])
    refunds = payments.refunds_of(session, [p.id for p in rows])
    out = []
    for payment in rows:
        mine = allocations.get(payment.id, [])
        allocated = sum((a.amount for a in mine), Decimal("0.00"))
        unallocated = (Decimal("0.00") if payment.status in ("pending", "failed")
                       else payment.amount - payment.refunded_amount - allocated)
        out.append({**{c: getattr(payment, c) for c in (
            "id", "customer_id", "method", "amount", "currency", "status", "provider", "provider_ref", "reference",
            "received_at", "refunded_amount", "receipt_number", "notes", "created_by")},
            "unallocated": unallocated, "allocations": mine, "refunds": refunds.get(payment.id, [])})
    return out


def payment_out(payment: Payment) -> dict:
    return payments_out([payment])[0]


# -- payments -----------------------------------------------------------------------------------------
@blp.route("/payments", methods=["POST"])
@requires("finance.payments", kinds=KINDS)
@idempotent
@blp.arguments(s.PaymentIn)
@blp.response(201, s.PaymentOut)
@blp.doc(**KEYED)
def record_payment(body):
    """Record a payment received: posted to the ledger, numbered (receipt), allocated to the oldest open
    invoices first; what is left over is the customer's credit for the next invoice. A payment that
    clears the overdue balance restores suspended or limited services at once."""
    customer_id = visible_customer(body.pop("customer_id"))
    return payment_out(payments.record(db_session(), customer_id=customer_id, actor=principal().actor, **body))


@blp.route("/payments")
@requires("finance.view", kinds=KINDS)
@blp.arguments(s.PaymentListArgs, location="query")
@blp.response(200, s.PaymentPage)
def list_payments(args):
    """Payments, newest first, a page at a time, with the total."""
    if args.get("customer_id") is not None:
        visible_customer(args["customer_id"])
    rows, total = payments.list_payments(db_session(), visible=principal().allowed_customer_ids, **args)
    return {"items": payments_out(rows), "total": total, "page": args["page"],
            "per_page": args["per_page"]}


@blp.route("/payments/<int:payment_id>")
@requires("finance.view", kinds=KINDS)
@blp.response(200, s.PaymentOut)
def get_payment(payment_id):
    """One payment, with the invoices it paid and its refunds."""
    return payment_out(_payment(payment_id))


@blp.route("/payments/<int:payment_id>/refunds", methods=["POST"])
@requires("finance.payments", kinds=KINDS)
@idempotent
@blp.arguments(s.RefundIn)
@blp.response(201, s.RefundOut)
@blp.doc(**KEYED)
def refund_payment(body, payment_id):
    """Refund all (no amount) or part of a payment. The payment's unused credit goes first; the rest is
    taken back from the invoices it paid, newest first, which reopen. This records money already given
    back (in cash, by M-PESA B2C or at the card processor), it does not send it."""
    payment = _payment(payment_id)
    row = payments.refund(db_session(), payment.id, amount=body["amount"], reason=body["reason"],
                          actor=principal().actor)
    return {**{c: getattr(row, c) for c in ("id", "payment_id", "amount", "reason", "provider_ref", "at", "actor")},
            "payment": payment_out(payment)}


@blp.route("/payments/<int:payment_id>/receipt")
@requires("finance.view", kinds=KINDS)
@blp.doc(responses={"200": {"description": "the receipt", "content": {
    "application/pdf": {"schema": {"type": "string", "format": "binary"}}}}})
def payment_receipt(payment_id):
    """The payment's receipt as a PDF in the reseller's brand: amount, method, reference, and the invoices
    it paid."""
    payment = _payment(payment_id)
    data = pdfs.receipt_pdf(db_session(), payment.id)
    return downloads.pdf(data, f"receipt-{payment.receipt_number}.pdf")


@blp.route("/payments/<int:payment_id>/reverse", methods=["POST"])
@requires("finance.payments", kinds=KINDS)
@idempotent
@blp.arguments(s.ReverseIn)
@blp.response(200, s.PaymentOut)
@blp.doc(**KEYED)
def reverse_payment(body, payment_id):
    """Undo a payment recorded by mistake: its ledger entry is reversed, the invoices it paid reopen, and
    it ends `failed`. 409 for a payment that is not `succeeded` (a refunded one is refunded, not reversed)."""
    payment = _payment(payment_id)
    return payment_out(payments.reverse(db_session(), payment.id, reason=body["reason"], actor=principal().actor))


# -- balances and payment methods ---------------------------------------------------------------------
@blp.route("/customers/<int:customer_id>/balance")
@requires("finance.view", kinds=KINDS)
@blp.response(200, s.BalanceOut)
def customer_balance(customer_id):
    """What the customer owes (from the ledger), the credit they hold, and their open invoices."""
    found = payments.balance(db_session(), visible_customer(customer_id))
    return {"customer_id": found.customer_id, "currency": found.currency, "balance": found.balance,
            "credit": found.credit, "open_invoices": found.open_invoices}


@blp.route("/customers/<int:customer_id>/payment-methods")
@requires("finance.view", kinds=KINDS)
@blp.response(200, s.PaymentMethodOut(many=True))
def list_payment_methods(customer_id):
    """The customer's stored cards and M-PESA numbers, the default first (tokens are never shown)."""
    return payment_methods.list_methods(db_session(), visible_customer(customer_id))


@blp.route("/customers/<int:customer_id>/payment-methods", methods=["POST"])
@requires("finance.payments", kinds=KINDS)
@blp.arguments(s.PaymentMethodIn)
@blp.response(201, s.PaymentMethodOut)
def add_payment_method(body, customer_id):
    """Store a card token from the processor (with its brand, last four digits and expiry) or an M-PESA
    number. The first method becomes the default."""
    return payment_methods.add(db_session(), visible_customer(customer_id), **body)


@blp.route("/customers/<int:customer_id>/payment-methods/<int:method_id>", methods=["PATCH"])
@requires("finance.payments", kinds=KINDS)
@blp.arguments(s.PaymentMethodPatch)
@blp.response(200, s.PaymentMethodOut)
def update_payment_method(body, customer_id, method_id):
    """Make this method the default (automatic retries charge the default)."""
    return payment_methods.make_default(db_session(), visible_customer(customer_id), method_id)


@blp.route("/customers/<int:customer_id>/payment-methods/<int:method_id>", methods=["DELETE"])
@requires("finance.payments", kinds=KINDS)
@blp.response(204)
def remove_payment_method(customer_id, method_id):
    """Remove a method; if it was the default, the newest remaining one becomes the default."""
    payment_methods.remove(db_session(), visible_customer(customer_id), method_id)


# -- gateway events and charge attempts ---------------------------------------------------------------
def _event_out(event: GatewayEvent) -> dict:
    return {**{c: getattr(event, c) for c in ("id", "provider", "event_id", "kind", "object_ref", "received_at",
                                               "outcome", "payment_id")},
            "payload": events.payload_of(db_session(), event.id)}


@blp.route("/payments/unmatched")
@requires("finance.view", kinds=KINDS)
@blp.response(200, s.GatewayEventOut(many=True))
def list_unmatched():
    """Money a gateway reported for an account we could not find (a mistyped Paybill account number…),
    oldest first, for staff to match to a customer."""
    return [_event_out(e) for e in events.unmatched(db_session())]


@blp.route("/payments/unmatched/<int:event_id>/resolve", methods=["POST"])
@requires("finance.payments", kinds=KINDS)
@blp.arguments(s.ResolveIn)
@blp.response(200, s.GatewayEventOut)
def resolve_unmatched(body, event_id):
    """Record an unmatched event's money as the named customer's payment (outcome `resolved`), or
    `duplicate` if that money was recorded meanwhile."""
    event = events.resolve(db_session(), event_id, visible_customer(body["customer_id"]), actor=principal().actor)
    return _event_out(event)


@blp.route("/payments/charge-attempts")
@requires("finance.view", kinds=KINDS)
@blp.arguments(s.ChargeAttemptArgs, location="query")
@blp.response(200, s.ChargeAttemptOut(many=True))
def list_charge_attempts(args):
    """The automatic charge attempts of an invoice (days from the reseller's `payments.retry_days`)."""
    return retries.attempts(db_session(), args["invoice_id"])


# -- gateway settings ---------------------------------------------------------------------------------
def _gateways_out() -> dict:
    found = config.describe(db_session())
    found["stripe"]["webhook_url"] = f"{request.url_root}webhooks/stripe"
    return found


@blp.route("/payments/gateways")
@requires("settings.manage", kinds=KINDS)
@blp.response(200, s.GatewaysOut)
def get_gateways():
    """Which gateway credentials are set (never the secrets) and the card processor's webhook URL."""
    return _gateways_out()


@blp.route("/payments/gateways/mpesa/token", methods=["POST"])
@requires("settings.manage", kinds=KINDS)
@blp.response(201, s.MpesaTokenOut)
def rotate_mpesa_token():
    """Make a new secret token for the M-PESA callback URLs and show it, with the URLs, this once. The
    previous URLs stop working at once: register the new ones with Daraja."""
    token = config.rotate_mpesa_token(db_session())
    base = f"{request.url_root}webhooks/mpesa/{token}"
    return {"token": token, "stk_url": f"{base}/stk", "c2b_url": f"{base}/c2b"}


@blp.route("/payments/gateways/mpesa", methods=["PUT"])
@requires("settings.manage", kinds=KINDS)
@blp.arguments(s.MpesaGatewayIn)
@blp.response(200, s.GatewaysOut)
def set_mpesa_gateway(body):
    """Set the Daraja API credentials (stored encrypted, shown only as set) with which Backhaul sends STK
    pushes to customers who pay from the portal: a paybill, or a till (Buy Goods) with its store number as
    `shortcode` and the till as `till_number`. A secret left out keeps the stored one. Makes the M-PESA
    callback token if there is none yet."""
    daraja_settings.set_daraja(db_session(), **body)
    return _gateways_out()


@blp.route("/payments/gateways/stripe", methods=["PUT"])
@requires("settings.manage", kinds=KINDS)
@blp.arguments(s.StripeGatewayIn)
@blp.response(200, s.GatewaysOut)
def set_stripe_gateway(body):
    """Set the card processor's webhook signing secret and/or secret API key (stored encrypted). The key
    charges stored cards (retries) and opens the hosted checkouts customers pay by card from the portal."""
    config.set_stripe(db_session(), **body)
    return _gateways_out()


@blp.route("/payments/gateways/<provider>", methods=["DELETE"])
@requires("settings.manage", kinds=KINDS)
@blp.response(204)
def remove_gateway(provider):
    """Forget a gateway's credentials (`mpesa` or `stripe`): its webhooks are refused from now on."""
    config.remove(db_session(), provider)
