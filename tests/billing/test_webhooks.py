"""Gateway webhooks through the real app and database: each event applied exactly once (the same event
fifty times in parallel makes one payment), out-of-order events (a failure after the success undoes
nothing), bad or stale signatures and wrong M-PESA tokens refused with nothing written, unknown accounts
kept as unmatched for staff, refunds reported by the processor, and the STK/C2B pair recorded once."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.models.billing import GatewayEvent, Payment, Refund
from app.services import customers
from app.services.billing import ledger, payments
from app.services.billing.gateways import mpesa, stripe
from tenants import tenant_context
from tests.billing.test_payments import finance_headers, issue_invoice
from tests.conftest import host_of

SECRET = "whsec_test_0123456789abcdef"


# -- helpers ------------------------------------------------------------------------------------------
def _counts(db, tenant) -> tuple[int, int]:
    with db.session() as s, tenant_context(tenant):
        return (s.execute(select(func.count()).select_from(GatewayEvent)).scalar_one(),
                s.execute(select(func.count()).select_from(Payment)).scalar_one())


def _portal_id(db, b) -> str:
    with db.session() as s, tenant_context(b.tenant):
        return customers.get(s, b.customer_id).portal_id


def intent_event(event_id: str, kind: str, intent: str, cents: int, portal_id: str, **extra) -> dict:
    succeeded = kind == "payment_intent.succeeded"
    obj = {"id": intent, "object": "payment_intent", "amount": cents, "amount_received": cents if succeeded else 0,
           "currency": "kes", "status": "succeeded" if succeeded else "requires_payment_method",
           "metadata": {"portal_id": portal_id}, "latest_charge": f"ch_{intent[3:]}", "created": int(time.time())}
    if not succeeded:
        obj["last_payment_error"] = {"code": "card_declined", "message": "Your card was declined."}
    obj.update(extra)
    return {"id": event_id, "object": "event", "type": kind, "created": int(time.time()), "data": {"object": obj}}


def send_stripe(client, tenant, event: dict | bytes, *, secret: str = SECRET, timestamp: int | None = None,
                signature: str | None = None):
    raw = event if isinstance(event, bytes) else json.dumps(event).encode()
    header = signature if signature is not None else stripe.sign(secret, raw, timestamp or int(time.time()))
    return client.post("/webhooks/stripe", data=raw, headers={"Host": host_of(tenant), "Stripe-Signature": header,
                                                              "Content-Type": "application/json"})


@pytest.fixture
def shop(app, db, billable):
    """A billable customer (M-PESA number 254712000111) whose reseller set its card webhook secret and
    M-PESA token through the API; returns (billable, staff headers, M-PESA token)."""
    b = billable(mpesa_number="254712000111")
    headers = finance_headers(app, db, b.tenant)
    client = app.test_client()
    assert client.put("/reseller/api/payments/gateways/stripe", headers=headers,
                      json={"webhook_secret": SECRET}).status_code == 200
    made = client.post("/reseller/api/payments/gateways/mpesa/token", headers=headers)
    assert made.status_code == 201
    urls = made.get_json()
    assert urls["stk_url"].endswith(f"/webhooks/mpesa/{urls['token']}/stk")
    shown = client.get("/reseller/api/payments/gateways", headers=headers).get_json()
    assert shown["stripe"]["webhook_secret_set"] and shown["mpesa"]["configured"]
    assert SECRET not in json.dumps(shown) and urls["token"] not in json.dumps(shown)
    return b, headers, urls["token"]


# -- the card processor -------------------------------------------------------------------------------
def test_the_same_event_fifty_times_in_parallel_makes_one_payment(app, db, shop):
    b, _, _ = shop
    with db.session() as s, tenant_context(b.tenant):
        invoice = issue_invoice(s, b.customer_id, "1000.00")
    event = intent_event("evt_parallel_1", "payment_intent.succeeded", "pi_parallel_1", 100000, _portal_id(db, b))
    raw = json.dumps(event).encode()

    def deliver(_):
        return send_stripe(app.test_client(), b.tenant, raw).status_code

    with ThreadPoolExecutor(max_workers=25) as pool:
        statuses = list(pool.map(deliver, range(50)))
    assert statuses == [200] * 50
    assert _counts(db, b.tenant) == (1, 1)
    with db.session() as s, tenant_context(b.tenant):
        payment = s.execute(select(Payment)).scalar_one()
        assert (payment.provider, payment.provider_ref, payment.amount, payment.method) == (
            "stripe", "pi_parallel_1", Decimal("1000.00"), "card")
        assert s.get(type(invoice), invoice.id).status == "Paid"
        assert s.execute(select(GatewayEvent.outcome)).scalar_one() == "applied"
    again = send_stripe(app.test_client(), b.tenant, raw)
    assert again.get_json() == {"received": True, "outcome": "duplicate"}


def test_a_failure_arriving_after_the_success_undoes_nothing(app, db, shop):
    b, _, _ = shop
    portal_id = _portal_id(db, b)
    client = app.test_client()
    ok = send_stripe(client, b.tenant, intent_event("evt_ok", "payment_intent.succeeded", "pi_late", 5000, portal_id))
    assert ok.get_json()["outcome"] == "applied"
    late = send_stripe(client, b.tenant, intent_event("evt_late_fail", "payment_intent.payment_failed", "pi_late",
                                                      5000, portal_id))
    assert late.status_code == 200 and late.get_json()["outcome"] == "ignored: already succeeded"
    with db.session() as s, tenant_context(b.tenant):
        payment = payments.find_by_ref(s, "stripe", "pi_late")
        assert payment.status == "succeeded"
        assert ledger.balance(s, b.customer_id) == Decimal("-50.00")
        outcomes = dict(s.execute(select(GatewayEvent.event_id, GatewayEvent.outcome)).all())
        assert outcomes == {"evt_ok": "applied", "evt_late_fail": "ignored: already succeeded"}


def test_a_failure_then_a_success_of_the_same_intent_is_one_payment(app, db, shop):
    b, _, _ = shop
    portal_id = _portal_id(db, b)
    client = app.test_client()
    failed = send_stripe(client, b.tenant, intent_event("evt_f1", "payment_intent.payment_failed", "pi_retry", 2500,
                                                        portal_id))
    assert failed.get_json()["outcome"] == "failed"
    with db.session() as s, tenant_context(b.tenant):
        assert payments.find_by_ref(s, "stripe", "pi_retry").status == "failed"
        assert ledger.balance(s, b.customer_id) == Decimal("0.00")
    ok = send_stripe(client, b.tenant, intent_event("evt_s1", "payment_intent.succeeded", "pi_retry", 2500, portal_id))
    assert ok.get_json()["outcome"] == "applied"
    with db.session() as s, tenant_context(b.tenant):
        payment = payments.find_by_ref(s, "stripe", "pi_retry")
        assert payment.status == "succeeded" and payment.receipt_number
        assert ledger.balance(s, b.customer_id) == Decimal("-25.00")
    assert _counts(db, b.tenant) == (2, 1)


def test_a_payment_staff_reversed_is_not_redone_by_a_late_gateway_report(app, db, shop):
    b, headers, _ = shop
    portal_id = _portal_id(db, b)
    client = app.test_client()
    send_stripe(client, b.tenant, intent_event("evt_first", "payment_intent.succeeded", "pi_rev", 4000, portal_id))
    with db.session() as s, tenant_context(b.tenant):
        payment_id = payments.find_by_ref(s, "stripe", "pi_rev").id
    assert client.post(f"/reseller/api/payments/{payment_id}/reverse", headers=headers,
                       json={"reason": "disputed and lost"}).status_code == 200
    late = send_stripe(client, b.tenant, intent_event("evt_again", "payment_intent.succeeded", "pi_rev", 4000,
                                                      portal_id))
    assert late.status_code == 200 and late.get_json()["outcome"].startswith("rejected: payment #")
    with db.session() as s, tenant_context(b.tenant):
        assert s.get(Payment, payment_id).status == "reversed"
        assert ledger.balance(s, b.customer_id) == Decimal("0.00")


@pytest.mark.parametrize("case", ["tampered body", "wrong secret", "no header", "garbage header", "no v1"])
def test_a_bad_signature_is_refused_with_no_side_effect(app, db, shop, case):
    b, _, _ = shop
    event = intent_event("evt_bad", "payment_intent.succeeded", "pi_bad", 100000, _portal_id(db, b))
    raw = json.dumps(event).encode()
    now = int(time.time())
    client = app.test_client()
    if case == "tampered body":
        signed = stripe.sign(SECRET, raw, now)
        response = send_stripe(client, b.tenant, raw.replace(b"100000", b"900000"), signature=signed)
    elif case == "wrong secret":
        response = send_stripe(client, b.tenant, raw, secret="whsec_someone_else")
    elif case == "no header":
        response = client.post("/webhooks/stripe", data=raw, headers={"Host": host_of(b.tenant)})
    elif case == "garbage header":
        response = send_stripe(client, b.tenant, raw, signature="v1=;t=abc")
    else:
        response = send_stripe(client, b.tenant, raw, signature=f"t={now},v0=abc")
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.get_json()["type"] == "/problems/webhook-signature-invalid"
    assert _counts(db, b.tenant) == (0, 0)


def test_a_stale_timestamp_is_refused_even_when_signed(app, db, shop):
    """Over HTTP the request takes its time to arrive (seconds, on a loaded machine): the skews stay a minute
    clear of the tolerance either way; the exact edge is the next test's, with `now` given."""
    b, _, _ = shop
    event = intent_event("evt_old", "payment_intent.succeeded", "pi_old", 1000, _portal_id(db, b))
    client = app.test_client()
    for skew in (-stripe.TOLERANCE - 60, stripe.TOLERANCE + 60):
        response = send_stripe(client, b.tenant, event, timestamp=int(time.time()) + skew)
        assert response.status_code == 400
        assert response.get_json()["type"] == "/problems/webhook-timestamp-stale"
    assert _counts(db, b.tenant) == (0, 0)
    assert send_stripe(client, b.tenant, event, timestamp=int(time.time()) - 200).status_code == 200


def test_the_tolerance_ends_at_five_minutes_either_way():
    raw, now = b'{"id": "evt_edge"}', 1_800_000_000
    for timestamp in (now - stripe.TOLERANCE, now + stripe.TOLERANCE):
        stripe.verify(raw, stripe.sign(SECRET, raw, timestamp), SECRET, now=now)
    for timestamp in (now - stripe.TOLERANCE - 1, now + stripe.TOLERANCE + 1):
        with pytest.raises(stripe.StaleSignature):
            stripe.verify(raw, stripe.sign(SECRET, raw, timestamp), SECRET, now=now)


def test_an_unknown_account_is_kept_unmatched_and_staff_resolve_it(app, db, shop):
    b, headers, _ = shop
    client = app.test_client()
    response = send_stripe(client, b.tenant, intent_event("evt_who", "payment_intent.succeeded", "pi_who", 12345,
                                                          "NOBODY0001"))
    assert response.status_code == 200 and response.get_json()["outcome"] == "unmatched"
    assert _counts(db, b.tenant) == (1, 0)
    unmatched = client.get("/reseller/api/payments/unmatched", headers=headers).get_json()
    assert [(e["event_id"], e["payload"]["data"]["object"]["amount"]) for e in unmatched] == [("evt_who", 12345)]
    resolved = client.post(f"/reseller/api/payments/unmatched/{unmatched[0]['id']}/resolve", headers=headers,
                           json={"customer_id": b.customer_id})
    assert resolved.status_code == 200 and resolved.get_json()["outcome"] == "resolved"
    payment = client.get(f"/reseller/api/payments/{resolved.get_json()['payment_id']}", headers=headers).get_json()
    assert (payment["amount"], payment["provider_ref"]) == ("123.45", "pi_who")
    assert client.get("/reseller/api/payments/unmatched", headers=headers).get_json() == []
    assert client.post(f"/reseller/api/payments/unmatched/{unmatched[0]['id']}/resolve", headers=headers,
                       json={"customer_id": b.customer_id}).status_code == 409


def test_refunds_reported_by_the_processor_add_up_once(app, db, shop):
    b, headers, _ = shop
    portal_id = _portal_id(db, b)
    client = app.test_client()
    send_stripe(client, b.tenant, intent_event("evt_pay", "payment_intent.succeeded", "pi_refund", 10000, portal_id))
    with db.session() as s, tenant_context(b.tenant):
        payment_id = payments.find_by_ref(s, "stripe", "pi_refund").id
    # staff record a 30.00 refund themselves first; the processor then reports 30.00, then 100.00 in all
    assert client.post(f"/reseller/api/payments/{payment_id}/refunds", headers=headers,
                       json={"amount": "30.00", "reason": "partial service"}).status_code == 201

    def charge_refunded(event_id, total_cents, refund_id):
        return {"id": event_id, "type": "charge.refunded", "created": int(time.time()), "data": {"object": {
            "id": "ch_refund", "object": "charge", "payment_intent": "pi_refund", "amount": 10000,
            "amount_refunded": total_cents, "currency": "kes", "refunds": {"data": [{"id": refund_id}]}}}}

    first = send_stripe(client, b.tenant, charge_refunded("evt_r1", 3000, "re_1"))
    assert first.get_json()["outcome"] == "ignored: already recorded"
    second = send_stripe(client, b.tenant, charge_refunded("evt_r2", 10000, "re_2"))
    assert second.get_json()["outcome"] == "refunded"
    with db.session() as s, tenant_context(b.tenant):
        payment = s.get(Payment, payment_id)
        assert (payment.status, payment.refunded_amount) == ("refunded", Decimal("100.00"))
        assert [(r.amount, r.provider_ref) for r in s.execute(select(Refund).order_by(Refund.id)).scalars()] == [
            (Decimal("30.00"), None), (Decimal("70.00"), "re_2")]
        assert ledger.balance(s, b.customer_id) == Decimal("0.00")


def test_webhooks_answer_only_on_a_reseller_host_and_only_when_configured(app, db, billable):
    b = billable()
    client = app.test_client()
    event = intent_event("evt_x", "payment_intent.succeeded", "pi_x", 100, "X")
    assert send_stripe(client, b.tenant, event).status_code == 404  # no secret set
    raw = json.dumps(event).encode()
    on_console = client.post("/webhooks/stripe", data=raw, headers={
        "Host": "console.test.example", "Stripe-Signature": stripe.sign(SECRET, raw, int(time.time()))})
    assert on_console.status_code == 404
    assert _counts(db, b.tenant) == (0, 0)


# -- M-PESA -------------------------------------------------------------------------------------------
def c2b(trans_id: str, amount: str, account: str, msisdn: str = "254708374149") -> dict:
    return {"TransactionType": "Pay Bill", "TransID": trans_id, "TransTime": "20261120143005",
            "TransAmount": amount, "BusinessShortCode": "600638", "BillRefNumber": account, "InvoiceNumber": "",
            "OrgAccountBalance": "49197.00", "ThirdPartyTransID": "", "MSISDN": msisdn, "FirstName": "Amina"}


def stk(checkout: str, result: int, *, amount=None, receipt: str | None = None, phone: int = 254712000111) -> dict:
    callback = {"MerchantRequestID": "29115-34620561-1", "CheckoutRequestID": checkout, "ResultCode": result,
                "ResultDesc": "The service request is processed successfully." if result == 0
                else "Request cancelled by user"}
    if result == 0:
        callback["CallbackMetadata"] = {"Item": [
            {"Name": "Amount", "Value": amount}, {"Name": "MpesaReceiptNumber", "Value": receipt},
            {"Name": "Balance"}, {"Name": "TransactionDate", "Value": 20261120102115},
            {"Name": "PhoneNumber", "Value": phone}]}
    return {"Body": {"stkCallback": callback}}


def post_mpesa(client, tenant, token: str, kind: str, body: dict | str):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(f"/webhooks/mpesa/{token}/{kind}", data=data,
                       headers={"Host": host_of(tenant), "Content-Type": "application/json"})


def test_c2b_pays_the_account_named_once_and_unknown_accounts_are_unmatched(app, db, shop):
    b, _, token = shop
    portal_id = _portal_id(db, b)
    with db.session() as s, tenant_context(b.tenant):
        invoice = issue_invoice(s, b.customer_id, "1500.00")
    client = app.test_client()
    paid = post_mpesa(client, b.tenant, token, "c2b", c2b("TKL1AB2CD3", "1000.00", portal_id.lower()))
    assert paid.status_code == 200 and paid.get_json() == {"ResultCode": 0, "ResultDesc": "Accepted"}
    by_phone = post_mpesa(client, b.tenant, token, "c2b", c2b("TKL1AB2CD4", "500.00", "0712000111"))
    assert by_phone.status_code == 200
    again = post_mpesa(client, b.tenant, token, "c2b", c2b("TKL1AB2CD3", "1000.00", portal_id))
    assert again.status_code == 200
    nobody = post_mpesa(client, b.tenant, token, "c2b", c2b("TKL1AB2CD5", "200.00", "ACC-UNKNOWN"))
    assert nobody.status_code == 200 and nobody.get_json()["ResultCode"] == 0
    with db.session() as s, tenant_context(b.tenant):
        assert s.get(type(invoice), invoice.id).status == "Paid"
        rows = s.execute(select(Payment.provider_ref, Payment.amount, Payment.received_at)
                         .order_by(Payment.id)).all()
        assert [(r[0], r[1]) for r in rows] == [("TKL1AB2CD3", Decimal("1000.00")), ("TKL1AB2CD4", Decimal("500.00"))]
        assert rows[0][2].isoformat() == "2026-11-20T11:30:05+00:00"  # 14:30:05 in Nairobi
        outcomes = dict(s.execute(select(GatewayEvent.event_id, GatewayEvent.outcome)).all())
        assert outcomes == {"c2b:TKL1AB2CD3": "applied", "c2b:TKL1AB2CD4": "applied", "c2b:TKL1AB2CD5": "unmatched"}


def test_a_wrong_mpesa_token_is_refused_with_nothing_written(app, db, shop):
    b, headers, token = shop
    client = app.test_client()
    for wrong in ("not-the-token", token[:-1] + ("A" if token[-1] != "A" else "B")):
        response = post_mpesa(client, b.tenant, wrong, "c2b", c2b("TKWRONG1", "10.00", _portal_id(db, b)))
        assert response.status_code == 401
        assert response.get_json()["type"] == "/problems/webhook-token-invalid"
    assert _counts(db, b.tenant) == (0, 0)
    # rotating the token retires the old URL at once
    new = client.post("/reseller/api/payments/gateways/mpesa/token", headers=headers).get_json()["token"]
    assert post_mpesa(client, b.tenant, token, "c2b", c2b("TKOLD1", "10.00", "X")).status_code == 401
    assert post_mpesa(client, b.tenant, new, "c2b", c2b("TKNEW1", "10.00", "X")).status_code == 200


def test_stk_push_callbacks_settle_the_pending_payment_once(app, db, shop):
    b, _, token = shop
    with db.session() as s, tenant_context(b.tenant):
        sent_ok = mpesa.stk_sent(s, customer_id=b.customer_id, amount="100.00", checkout_request_id="ws_CO_ok",
                                 phone="0712000111")
        sent_cancelled = mpesa.stk_sent(s, customer_id=b.customer_id, amount="100.00",
                                        checkout_request_id="ws_CO_cancel", phone="0712000111")
    client = app.test_client()
    raw = json.dumps(stk("ws_CO_ok", 0, amount=Decimal("100.00"), receipt="NLJ7RT61SV"), default=str)
    raw = raw.replace('"100.00"', "100.00")  # Daraja sends the amount as a JSON number
    assert post_mpesa(client, b.tenant, token, "stk", raw).status_code == 200
    assert post_mpesa(client, b.tenant, token, "stk", raw).status_code == 200  # delivered twice
    assert post_mpesa(client, b.tenant, token, "stk", stk("ws_CO_cancel", 1032)).status_code == 200
    # the same receipt confirmed again through C2B is the same payment
    assert post_mpesa(client, b.tenant, token, "c2b", c2b("NLJ7RT61SV", "100.00", "254712000111")).status_code == 200
    # a paid callback for a push we did not send is matched by the paying phone number
    assert post_mpesa(client, b.tenant, token, "stk",
                      stk("ws_CO_other", 0, amount=50, receipt="NLJ7RT61SW")).status_code == 200
    with db.session() as s, tenant_context(b.tenant):
        ok, cancelled = s.get(Payment, sent_ok), s.get(Payment, sent_cancelled)
        assert (ok.status, ok.provider_ref, ok.amount, ok.receipt_number is not None) == (
            "succeeded", "NLJ7RT61SV", Decimal("100.00"), True)
        assert cancelled.status == "failed" and "1032" in cancelled.notes
        other = payments.find_by_ref(s, "mpesa", "NLJ7RT61SW")
        assert (other.customer_id, other.amount) == (b.customer_id, Decimal("50.00"))
        assert ledger.balance(s, b.customer_id) == Decimal("-150.00")
        outcomes = dict(s.execute(select(GatewayEvent.event_id, GatewayEvent.outcome)).all())
        assert outcomes == {"stk:ws_CO_ok": "applied", "stk:ws_CO_cancel": "failed", "c2b:NLJ7RT61SV": "duplicate",
                            "stk:ws_CO_other": "applied"}
