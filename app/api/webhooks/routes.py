"""Payment gateways calling us: M-PESA (Daraja) callbacks and the card processor's signed events.

They come to the reseller's own host (its domain or platform sub-domain), which names the tenant; they
sign in as nobody (`public=True`) because each proves itself another way, checked before anything is
read or written: the card processor by `Stripe-Signature` (HMAC-SHA256 with the reseller's webhook
secret, five minutes' tolerance), M-PESA by the secret token in the URL (Daraja signs nothing). See
app/services/billing/gateways/ for the rules, including why a duplicate or an unmatched payment is
still answered 200.

Refusals are problems like everywhere else: 400 for a bad or stale signature, 401 for a wrong M-PESA
token, 404 when the reseller has not configured the gateway; nothing is stored for any of them.
"""

from __future__ import annotations

from flask import g, request
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from app.services.billing.gateways import mpesa, stripe
from app.services.errors import NotFound
from app.web import db_session
from app.web.auth import requires

blp = Blueprint("webhooks", __name__, url_prefix="/webhooks", description="Payment gateway callbacks")
BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}}


class MpesaAck(Schema):
    ResultCode = fields.Integer(required=True, metadata={"example": 0})
    ResultDesc = fields.String(required=True, metadata={"example": "Accepted"})


class StripeAck(Schema):
    received = fields.Boolean(required=True)
    outcome = fields.String(required=True, metadata={"description": "applied, duplicate, unmatched, ignored: …"})


def _tenant_only() -> None:
    if g.get("tenant") is None:
        raise NotFound("gateway callbacks are received on a reseller's host")


@blp.route("/mpesa/<token>/stk", methods=["POST"])
@requires(public=True)
@blp.response(200, MpesaAck)
@blp.doc(**BODY)
def mpesa_stk(token):
    """Daraja's STK-push result (`Body.stkCallback`)."""
    _tenant_only()
    mpesa.handle_stk(db_session(), token, request.get_data())
    return mpesa.ACCEPTED


@blp.route("/mpesa/<token>/c2b", methods=["POST"])
@requires(public=True)
@blp.response(200, MpesaAck)
@blp.doc(**BODY)
def mpesa_c2b(token):
    """Daraja's C2B (Paybill) confirmation; BillRefNumber names the account (Portal ID or phone number)."""
    _tenant_only()
    mpesa.handle_c2b(db_session(), token, request.get_data())
    return mpesa.ACCEPTED


@blp.route("/stripe", methods=["POST"])
@requires(public=True)
@blp.response(200, StripeAck)
@blp.doc(parameters=[{"in": "header", "name": "Stripe-Signature", "required": True, "schema": {"type": "string"},
                      "description": "t=<unix time>,v1=<hex HMAC-SHA256 of f'{t}.{body}'>"}], **BODY)
def stripe_event():
    """The card processor's events: payment_intent.succeeded, payment_intent.payment_failed, charge.refunded."""
    _tenant_only()
    outcome = stripe.handle(db_session(), request.get_data(), request.headers.get("Stripe-Signature"))
    return {"received": True, "outcome": outcome.outcome}
