"""The card processor's side: `POST /v1/checkout/sessions` (form-encoded, a repeated Idempotency-Key gets
the first answer back) and the hosted checkout the customer is sent to, `/checkout/<id>`.

On that page the customer pays with a test card: 4242 4242 4242 4242 pays, 4000 0000 0000 0002 is declined
(the page says so and the checkout stays open, as a processor's does). Paying sends the signed
`checkout.session.completed` to the reseller's `/webhooks/stripe` (on the host of the session's success
address) before sending the customer back there; Cancel sends them to the cancel address, the checkout still
open."""

from __future__ import annotations

import secrets
import time
import urllib.parse
from decimal import Decimal

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request

from app.gateway_simulator.state import Simulator, as_json, log
from app.services.billing.gateways import stripe

blp = Blueprint("checkout", __name__)
PAYS, DECLINED = "4242424242424242", "4000000000000002"


def _sim() -> Simulator:
    return current_app.config["SIMULATOR"]


def _error(status: int, kind: str, message: str):
    return jsonify({"error": {"type": kind, "message": message}}), status


@blp.post("/v1/checkout/sessions")
def create():
    sim = _sim()
    if request.headers.get("Authorization") != f"Bearer {sim.keys.api_key}":
        return _error(401, "invalid_request_error", "Invalid API Key provided")
    form = request.form
    key = request.headers.get("Idempotency-Key") or secrets.token_hex(8)
    with sim.lock:
        if key in sim.idempotent:
            return jsonify(sim.sessions[sim.idempotent[key]])
    try:
        amount = int(form["line_items[0][price_data][unit_amount]"])
        made = {"object": "checkout.session", "mode": form["mode"], "status": "open", "payment_status": "unpaid",
                "payment_intent": None, "amount_total": amount,
                "currency": form["line_items[0][price_data][currency]"],
                "client_reference_id": form.get("client_reference_id"),
                "success_url": form["success_url"], "cancel_url": form["cancel_url"],
                "metadata": {k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")},
                "description": form.get("line_items[0][price_data][product_data][name]") or "Payment"}
    except (KeyError, ValueError):
        return _error(400, "invalid_request_error", "mode, success_url, cancel_url and one priced line item")
    if amount <= 0:
        return _error(400, "invalid_request_error", "the amount must be positive")
    made["id"] = f"cs_demo_{secrets.token_hex(12)}"
    made["url"] = f"{sim.public.rstrip('/')}/checkout/{made['id']}"
    with sim.lock:
        sim.sessions[made["id"]] = made
        sim.idempotent[key] = made["id"]
    log.info("checkout %s opened: %s %s", made["id"], amount, made["currency"])
    return jsonify(made)


def _session(session_id: str) -> dict:
    found = _sim().sessions.get(session_id)
    if found is None:
        abort(404)
    return found


def _major(made: dict) -> str:
    return f"{Decimal(made['amount_total']) / 100:,.2f} {made['currency'].upper()}"


@blp.get("/checkout/<session_id>")
def page(session_id: str):
    made = _session(session_id)
    return render_template("simulator/checkout.html", made=made, amount=_major(made), card="4242 4242 4242 4242",
                           declined=False)


@blp.post("/checkout/<session_id>")
def pay(session_id: str):
    sim, made = _sim(), _session(session_id)
    if request.form.get("action") == "cancel":
        return redirect(made["cancel_url"], code=303)
    if made["status"] == "complete":
        return redirect(made["success_url"], code=303)
    card = "".join(ch for ch in request.form.get("card", "") if ch.isdigit())
    if card != PAYS:
        return render_template("simulator/checkout.html", made=made, amount=_major(made),
                               card=request.form.get("card", ""), declined=True), 402
    with sim.lock:
        made.update(status="complete", payment_status="paid", payment_intent=f"pi_demo_{secrets.token_hex(12)}")
    now = int(time.time())
    event = as_json({"id": f"evt_demo_{secrets.token_hex(12)}", "object": "event", "created": now,
                     "type": "checkout.session.completed", "data": {"object": made}})
    parts = urllib.parse.urlsplit(made["success_url"])
    status = sim.post(f"{parts.scheme}://{parts.netloc}/webhooks/stripe", event,
                      {"Content-Type": "application/json",
                       "Stripe-Signature": stripe.sign(sim.keys.webhook_secret, event, now)})
    log.info("checkout %s paid; webhook %s", session_id, status or "not delivered")
    return redirect(made["success_url"], code=303)
