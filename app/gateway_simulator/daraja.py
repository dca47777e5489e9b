"""Daraja's side: `GET /oauth/v1/generate`, `POST /mpesa/stkpush/v1/processrequest`,
`POST /mpesa/stkpushquery/v1/query`, and the pretend phone (`/phone`) that answers a push.

A push is checked as Safaricom checks it (a token we issued, the Password built from the shortcode, the
passkey and the Timestamp, an amount of whole shillings), then waits for its answer: accepted on the phone
page (ResultCode 0, with a receipt number), cancelled there (1032, "Request cancelled by user"), or accepted
by itself after `answer_after` seconds. The answer is posted once to the CallBackURL, and the status query
says the same thereafter ("still being processed" until then)."""

from __future__ import annotations

import base64
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request, url_for

from app.gateway_simulator.state import Simulator, as_json, log

blp = Blueprint("daraja", __name__)
EAT = timezone(timedelta(hours=3))
PROCESSING = {"requestId": "", "errorCode": "500.001.1001", "errorMessage": "The transaction is being processed"}
CANCELLED = (1032, "Request cancelled by user")
ACCEPTED = (0, "The service request is processed successfully.")


@dataclass
class Push:
    checkout_id: str
    merchant_id: str
    amount: int
    phone: str
    account: str
    callback_url: str
    at: float
    result: tuple[int, str] | None = None
    receipt: str | None = None


def _sim() -> Simulator:
    return current_app.config["SIMULATOR"]


def _error(status: int, code: str, message: str):
    return jsonify({"requestId": secrets.token_hex(6), "errorCode": code, "errorMessage": message}), status


def _authorised() -> bool:
    token = request.headers.get("Authorization", "").removeprefix("Bearer ")
    return token in _sim().tokens


@blp.get("/oauth/v1/generate")
def token():
    keys = _sim().keys
    expected = base64.b64encode(f"{keys.consumer_key}:{keys.consumer_secret}".encode()).decode()
    if request.args.get("grant_type") != "client_credentials" or \
            request.headers.get("Authorization") != f"Basic {expected}":
        return _error(400, "400.008.01", "Invalid Authentication passed")
    issued = secrets.token_urlsafe(24)
    _sim().tokens.add(issued)
    return jsonify({"access_token": issued, "expires_in": "3599"})


@blp.post("/mpesa/stkpush/v1/processrequest")
def stk_push():
    if not _authorised():
        return _error(401, "404.001.03", "Invalid Access Token")
    body = request.get_json(silent=True) or {}
    sim = _sim()
    stamp = str(body.get("Timestamp") or "")
    shortcode = str(body.get("BusinessShortCode") or "")
    expected = base64.b64encode(f"{shortcode}{sim.keys.passkey}{stamp}".encode()).decode()
    if body.get("Password") != expected:
        return _error(400, "400.002.02", "Bad Request - Invalid Password")
    try:
        amount = Decimal(str(body.get("Amount")))
    except InvalidOperation:
        amount = Decimal(0)
    if amount < 1 or amount != amount.to_integral_value():
        return _error(400, "400.002.02", "Bad Request - Invalid Amount")
    callback = str(body.get("CallBackURL") or "")
    if not callback.startswith(("http://", "https://")):
        return _error(400, "400.002.02", "Bad Request - Invalid CallBackURL")
    push = Push(checkout_id=f"ws_CO_{datetime.now(EAT):%d%m%Y%H%M%S}{secrets.randbelow(10**9):09d}",
                merchant_id=f"{secrets.randbelow(10**5)}-{secrets.randbelow(10**8)}-1", amount=int(amount),
                phone=str(body.get("PhoneNumber") or ""), account=str(body.get("AccountReference") or ""),
                callback_url=callback, at=time.monotonic())
    with sim.lock:
        sim.pushes[push.checkout_id] = push
    timer = threading.Timer(sim.answer_after, answer, args=(sim, push.checkout_id, ACCEPTED))
    timer.daemon = True
    sim.timers.append(timer)
    timer.start()
    log.info("STK push %s: KES %s to %s", push.checkout_id, push.amount, push.phone)
    return jsonify({"MerchantRequestID": push.merchant_id, "CheckoutRequestID": push.checkout_id,
                    "ResponseCode": "0", "ResponseDescription": "Success. Request accepted for processing",
                    "CustomerMessage": "Success. Request accepted for processing"})


@blp.post("/mpesa/stkpushquery/v1/query")
def stk_query():
    if not _authorised():
        return _error(401, "404.001.03", "Invalid Access Token")
    body = request.get_json(silent=True) or {}
    push = _sim().pushes.get(str(body.get("CheckoutRequestID") or ""))
    if push is None:
        return _error(500, "500.001.1001", "No transaction found")
    if push.result is None:
        return jsonify(PROCESSING), 500
    code, description = push.result
    return jsonify({"ResponseCode": "0", "ResponseDescription": "The service request has been accepted successsfully",
                    "MerchantRequestID": push.merchant_id, "CheckoutRequestID": push.checkout_id,
                    "ResultCode": str(code), "ResultDesc": description})


def answer(sim: Simulator, checkout_id: str, result: tuple[int, str]) -> bool:
    """Answer a push (once: a push already answered keeps its answer) and post its callback."""
    with sim.lock:
        push = sim.pushes.get(checkout_id)
        if push is None or push.result is not None:
            return False
        push.result = result
        if result[0] == 0:
            push.receipt = "S" + "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(9))
    callback = {"MerchantRequestID": push.merchant_id, "CheckoutRequestID": push.checkout_id,
                "ResultCode": result[0], "ResultDesc": result[1]}
    if push.receipt:
        callback["CallbackMetadata"] = {"Item": [
            {"Name": "Amount", "Value": push.amount}, {"Name": "MpesaReceiptNumber", "Value": push.receipt},
            {"Name": "TransactionDate", "Value": int(datetime.now(EAT).strftime("%Y%m%d%H%M%S"))},
            {"Name": "PhoneNumber", "Value": int(push.phone) if push.phone.isdigit() else push.phone}]}
    status = sim.post(push.callback_url, as_json({"Body": {"stkCallback": callback}}),
                      {"Content-Type": "application/json"})
    log.info("STK push %s answered %s; callback %s", checkout_id, result[0], status or "not delivered")
    return True


@blp.get("/phone")
def phone():
    sim = _sim()
    with sim.lock:
        waiting = sorted((p for p in sim.pushes.values() if p.result is None), key=lambda p: p.at)
        done = sorted((p for p in sim.pushes.values() if p.result is not None), key=lambda p: -p.at)[:10]
    return render_template("simulator/phone.html", waiting=waiting, done=done, after=int(sim.answer_after))


@blp.post("/phone/<checkout_id>")
def press(checkout_id: str):
    choice = request.form.get("answer")
    if choice not in ("accept", "cancel") or checkout_id not in _sim().pushes:
        abort(400)
    answer(_sim(), checkout_id, ACCEPTED if choice == "accept" else CANCELLED)
    return redirect(url_for("daraja.phone"), code=303)
