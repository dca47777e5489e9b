"""M-PESA payments a customer starts from the portal, against a small Daraja served over real HTTP (its
OAuth token, STK push and STK push query, with every request recorded): the push signed as Daraja wants
it for a paybill and for a till, the callback posted as Daraja posts it paying the chosen invoice, a
push cancelled on the phone failing with the reason in words, a double submission making one push and
one payment, whole shillings, the status query when no callback comes, the token cached per tenant,
other customers' invoices and read-only keys refused, and no credential in any answer or log."""

from __future__ import annotations

import base64
import itertools
import json
import logging
import threading
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from app.models.billing import Invoice, Payment, PaymentRequest
from app.services import customers
from app.services.auth import users
from app.services.billing import ledger
from app.services.billing.gateways import stk_push
from tenants import tenant_context
from tests.auth.conftest import PASSWORD, bearer
from tests.billing.test_payments import finance_headers, issue_invoice
from tests.conftest import host_of

CONSUMER_KEY = "ck_daraja_0123456789abcdef"
CONSUMER_SECRET = "cs_daraja_fedcba9876543210"
PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"
PHONE = "254712000111"


class Daraja:
    """Safaricom's Daraja on 127.0.0.1, as far as we use it. `results` says what the STK query answers per
    CheckoutRequestID (None: still being processed); `refuse` makes the next push an error answer; `down`
    answers 503 without a body; `revoke()` makes the tokens issued so far invalid."""

    def __init__(self):
        self.requests: list[dict] = []
        self.tokens: set[str] = set()
        self.token_requests = 0
        self.results: dict[str, tuple[int, str] | None] = {}
        self.refuse: tuple[int, dict] | None = None
        self.down = False
        self._ids = itertools.count(1)
        daraja = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status: int, body: dict | None) -> None:
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):  # noqa: N802 - the http.server spelling
                self._answer(*daraja.answer("GET", self.path, dict(self.headers), None))

            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                self._answer(*daraja.answer("POST", self.path, dict(self.headers), body))

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def revoke(self) -> None:
        self.tokens.clear()

    def pushes(self) -> list[dict]:
        """The pushes Daraja accepted (a prompt went to a phone)."""
        return [r["body"] for r in self.requests if r["path"] == "/mpesa/stkpush/v1/processrequest"
                and r["status"] == 200]

    def queries(self) -> list[dict]:
        return [r["body"] for r in self.requests if r["path"] == "/mpesa/stkpushquery/v1/query"
                and r["status"] in (200, 500)]

    def answer(self, method: str, path: str, headers: dict, body: dict | None) -> tuple[int, dict | None]:
        status, answer = self._answer(method, path, headers, body)
        self.requests.append({"method": method, "path": path, "headers": headers, "body": body, "status": status})
        return status, answer

    def _answer(self, method: str, path: str, headers: dict, body: dict | None) -> tuple[int, dict | None]:
        if self.down:
            return 503, None
        if method == "GET" and path == "/oauth/v1/generate?grant_type=client_credentials":
            self.token_requests += 1
            expected = base64.b64encode(f"{CONSUMER_KEY}:{CONSUMER_SECRET}".encode()).decode()
            if headers.get("Authorization") != f"Basic {expected}":
                return 400, {"errorCode": "400.008.01", "errorMessage": "Invalid Authentication passed"}
            token = f"daraja-token-{next(self._ids)}"
            self.tokens.add(token)
            return 200, {"access_token": token, "expires_in": "3599"}
        if headers.get("Authorization", "").removeprefix("Bearer ") not in self.tokens:
            return 401, {"requestId": "r-1", "errorCode": "404.001.03", "errorMessage": "Invalid Access Token"}
        if path == "/mpesa/stkpush/v1/processrequest":
            if self.refuse is not None:
                answer, self.refuse = self.refuse, None
                return answer
            n = next(self._ids)
            return 200, {"MerchantRequestID": f"29115-3462-{n}", "CheckoutRequestID": f"ws_CO_2611{n:08d}",
                         "ResponseCode": "0", "ResponseDescription": "Success. Request accepted for processing",
                         "CustomerMessage": "Success. Request accepted for processing"}
        if path == "/mpesa/stkpushquery/v1/query":
            result = self.results.get(body["CheckoutRequestID"])
            if result is None:
                return 500, {"requestId": "r-2", "errorCode": "500.001.1001",
                             "errorMessage": "The transaction is being processed"}
            return 200, {"ResponseCode": "0", "ResponseDescription": "The service request has been accepted",
                         "MerchantRequestID": "29115-3462-1", "CheckoutRequestID": body["CheckoutRequestID"],
                         "ResultCode": str(result[0]), "ResultDesc": result[1]}
        return 404, {"errorCode": "404.001.01", "errorMessage": "Resource not found"}

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def daraja(monkeypatch):
    with Daraja() as running:
        monkeypatch.setenv("BACKHAUL_DARAJA_SANDBOX_URL", running.url)
        yield running


_n = itertools.count(1)


class Shop:
    """A reseller with Daraja credentials set through its API, and a customer billed in KES signed in."""

    def __init__(self, app, db, billable, *, till: bool = False, mpesa_number: str = PHONE):
        self.app, self.db = app, db
        b = billable(mpesa_number=mpesa_number)
        self.tenant, self.customer_id = b.tenant, b.customer_id
        self.host = host_of(self.tenant)
        self.staff = finance_headers(app, db, self.tenant)
        self.client = app.test_client()
        config = {"shortcode": "174379", "shortcode_type": "paybill", "environment": "sandbox",
                  "consumer_key": CONSUMER_KEY, "consumer_secret": CONSUMER_SECRET, "passkey": PASSKEY}
        if till:
            config.update(shortcode="174380", shortcode_type="till", till_number="5555123")
        self.gateway = self.client.put("/reseller/api/payments/gateways/mpesa", headers=self.staff, json=config)
        assert self.gateway.status_code == 200, self.gateway.get_json()
        self.headers = self.sign_in(self.customer_id)

    def sign_in(self, customer_id: int) -> dict:
        with self.db.session() as s, tenant_context(self.tenant):
            users.set_portal_password(s, customer_id, PASSWORD)
            portal_id = customers.get(s, customer_id).portal_id
        login = self.client.post("/portal/auth/login", json={"portal_id": portal_id, "password": PASSWORD},
                                 headers={"Host": self.host})
        assert login.status_code == 200, login.get_json()
        return bearer(login.get_json()["token"], self.host)

    def invoice(self, total: str, customer_id: int | None = None) -> int:
        with self.db.session() as s, tenant_context(self.tenant):
            return issue_invoice(s, customer_id or self.customer_id, total).id

    def pay(self, headers: dict | None = None, key: str | None = None, **body):
        extra = {"Idempotency-Key": key} if key else {}
        return self.client.post("/portal/api/payments/mpesa", json=body, headers={**(headers or self.headers),
                                                                                  **extra})

    def status(self, payment_id: int, headers: dict | None = None):
        return self.client.get(f"/portal/api/payments/{payment_id}", headers=headers or self.headers)

    def callback(self, push: dict, checkout: str, code: int = 0, desc: str = "The service request is processed "
                 "successfully.", *, amount=None, receipt: str | None = None):
        """POST the STK result to the CallBackURL the push carried, as Daraja does."""
        callback = {"MerchantRequestID": "29115-3462-1", "CheckoutRequestID": checkout, "ResultCode": code,
                    "ResultDesc": desc}
        if code == 0:
            callback["CallbackMetadata"] = {"Item": [
                {"Name": "Amount", "Value": amount if amount is not None else push["Amount"]},
                {"Name": "MpesaReceiptNumber", "Value": receipt or f"NLJ{next(_n):07d}"},
                {"Name": "TransactionDate", "Value": 20261121003512},
                {"Name": "PhoneNumber", "Value": int(push["PhoneNumber"])}]}
        url = urllib.parse.urlsplit(push["CallBackURL"])
        assert url.hostname == self.host
        return self.client.post(url.path, data=json.dumps({"Body": {"stkCallback": callback}}),
                                headers={"Host": self.host, "Content-Type": "application/json"})

    def rows(self):
        with self.db.session() as s, tenant_context(self.tenant):
            return (s.execute(select(func.count()).select_from(Payment)).scalar_one(),
                    s.execute(select(func.count()).select_from(PaymentRequest)).scalar_one())

    def invoice_status(self, invoice_id: int) -> tuple[str, Decimal]:
        with self.db.session() as s, tenant_context(self.tenant):
            invoice = s.get(Invoice, invoice_id)
            return invoice.status, invoice.amount_paid


@pytest.fixture
def shop(app, db, billable, daraja):
    return Shop(app, db, billable)


# -- paying -------------------------------------------------------------------------------------------
@pytest.mark.clock("2026-11-20T21:30:00Z")  # 00:30 on the 21st in Nairobi: the Timestamp is Kenyan time
def test_a_paybill_push_is_signed_as_daraja_wants_and_its_callback_pays_the_chosen_invoice(shop, daraja):
    older, chosen = shop.invoice("500.00"), shop.invoice("1000.00")
    started = shop.pay(invoice_id=chosen)
    assert started.status_code == 202, started.get_json()
    body = started.get_json()
    assert (body["status"], body["provider"], body["amount"], body["currency"]) == ("pending", "mpesa", "1000.00",
                                                                                  "KES")
    assert body["invoice"]["id"] == chosen and body["failure"] is None and body["phone"] == PHONE

    [push] = daraja.pushes()
    assert push["Timestamp"] == "20261121003000"
    assert push["Password"] == base64.b64encode(f"174379{PASSKEY}20261121003000".encode()).decode()
    assert (push["BusinessShortCode"], push["PartyB"], push["TransactionType"]) == (
        "174379", "174379", "CustomerPayBillOnline")
    assert (push["Amount"], push["PartyA"], push["PhoneNumber"]) == (1000, PHONE, PHONE)
    with shop.db.session() as s, tenant_context(shop.tenant):
        portal_id = customers.get(s, shop.customer_id).portal_id
    assert push["AccountReference"] == portal_id and len(push["AccountReference"]) <= 12
    assert push["CallBackURL"].startswith(f"https://{shop.host}/webhooks/mpesa/")
    assert push["CallBackURL"].endswith("/stk") and len(push["TransactionDesc"]) <= 13

    assert shop.status(body["payment_id"]).get_json()["status"] == "pending"
    with shop.db.session() as s, tenant_context(shop.tenant):
        checkout = s.execute(select(PaymentRequest.provider_ref)).scalar_one()
    answered = shop.callback(push, checkout, receipt="NLJ7RT61SV")
    assert answered.status_code == 200 and answered.get_json() == {"ResultCode": 0, "ResultDesc": "Accepted"}

    paid = shop.status(body["payment_id"]).get_json()
    assert paid["status"] == "succeeded" and paid["receipt_number"]
    assert paid["invoice"] == {"id": chosen, "number": paid["invoice"]["number"], "status": "Paid",
                               "total": "1000.00", "amount_paid": "1000.00", "amount_due": "0.00"}
    assert shop.invoice_status(chosen) == ("Paid", Decimal("1000.00"))
    assert shop.invoice_status(older)[1] == Decimal("0.00")  # oldest first would have paid this one
    with shop.db.session() as s, tenant_context(shop.tenant):
        payment = s.get(Payment, body["payment_id"])
        assert (payment.provider_ref, payment.amount) == ("NLJ7RT61SV", Decimal("1000.00"))
        assert ledger.balance(s, shop.customer_id) == Decimal("500.00")
    again = shop.callback(push, checkout, receipt="NLJ7RT61SV")  # Daraja delivering twice
    assert again.status_code == 200 and shop.rows() == (1, 1)


def test_a_till_push_names_the_till_as_party_b_and_buys_goods(app, db, billable, daraja):
    shop = Shop(app, db, billable, till=True)
    gateway = shop.gateway.get_json()["mpesa"]["daraja"]
    assert (gateway["shortcode"], gateway["shortcode_type"], gateway["till_number"]) == ("174380", "till", "5555123")
    started = shop.pay(amount="300", phone="0712 000 222")
    assert started.status_code == 202, started.get_json()
    [push] = daraja.pushes()
    assert (push["BusinessShortCode"], push["PartyB"], push["TransactionType"]) == (
        "174380", "5555123", "CustomerBuyGoodsOnline")
    assert push["Password"] == base64.b64encode(f"174380{PASSKEY}{push['Timestamp']}".encode()).decode()
    assert (push["PartyA"], push["Amount"]) == ("254712000222", 300)
    assert started.get_json()["invoice"] is None  # a top-up of the balance


def test_cancelled_on_the_phone_fails_with_the_reason_in_words_and_may_be_tried_again(shop, daraja):
    invoice_id = shop.invoice("1000.00")
    first = shop.pay(invoice_id=invoice_id).get_json()
    with shop.db.session() as s, tenant_context(shop.tenant):
        checkout = s.execute(select(PaymentRequest.provider_ref)).scalar_one()
    assert shop.callback(daraja.pushes()[0], checkout, 1032, "Request cancelled by user").status_code == 200
    failed = shop.status(first["payment_id"]).get_json()
    assert failed["status"] == "failed"
    assert failed["failure"] == {"code": "1032", "message": "You cancelled the payment on your phone."}
    assert shop.invoice_status(invoice_id)[1] == Decimal("0.00")  # nothing paid on it
    second = shop.pay(invoice_id=invoice_id)  # a cancelled push no longer holds the invoice
    assert second.status_code == 202 and second.get_json()["payment_id"] != first["payment_id"]
    assert len(daraja.pushes()) == 2


def test_a_double_submission_makes_one_push_and_one_payment(shop, daraja):
    invoice_id = shop.invoice("1000.00")
    same = [shop.pay(key="form-token-1", invoice_id=invoice_id) for _ in range(2)]
    assert [r.status_code for r in same] == [202, 202]
    assert same[1].headers.get("Idempotent-Replayed") == "true"

    def submit(n):  # the button pressed again with another key while the first push is pending
        return shop.pay(key=f"other-{n}", invoice_id=invoice_id).get_json()["payment_id"]

    with ThreadPoolExecutor(max_workers=4) as pool:
        ids = set(pool.map(submit, range(4)))
    assert ids == {same[0].get_json()["payment_id"]}
    assert len(daraja.pushes()) == 1 and shop.rows() == (1, 1)

    def top_up(n):  # a top-up has no invoice to queue on: the customer's row does the queueing
        return shop.pay(key=f"top-up-{n}", amount="50").get_json()["payment_id"]

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert len(set(pool.map(top_up, range(4)))) == 1
    assert len(daraja.pushes()) == 2 and shop.rows() == (2, 2)

    # the pages pass their form's token to the service: the same token is the same payment
    with shop.db.session() as s, tenant_context(shop.tenant):
        invoice = issue_invoice(s, shop.customer_id, "200.00")
        row = stk_push.initiate_mpesa(s, shop.customer_id, None, None, invoice_id=invoice.id,
                                      idempotency_key="page-token-9")
        again = stk_push.initiate_mpesa(s, shop.customer_id, None, None, invoice_id=invoice.id,
                                        idempotency_key="page-token-9")
        assert row.id == again.id
    assert len(daraja.pushes()) == 3
    reused = shop.pay(key="form-token-1", invoice_id=invoice_id, amount="5")  # the same key, another payment
    assert reused.status_code == 422 and reused.get_json()["type"].endswith("/idempotency-key-reused")


def test_whole_shillings_typed_cents_are_refused_an_invoice_due_is_rounded_up(shop, daraja):
    invoice_id = shop.invoice("1000.50")
    typed = shop.pay(invoice_id=invoice_id, amount="1000.50")
    assert typed.status_code == 422 and "1001" in typed.get_json()["detail"]
    assert daraja.pushes() == [] and shop.rows() == (0, 0)
    started = shop.pay(invoice_id=invoice_id).get_json()
    [push] = daraja.pushes()
    assert push["Amount"] == 1001 and started["amount"] == "1001.00"
    with shop.db.session() as s, tenant_context(shop.tenant):
        checkout = s.execute(select(PaymentRequest.provider_ref)).scalar_one()
    shop.callback(push, checkout)
    assert shop.invoice_status(invoice_id) == ("Paid", Decimal("1000.50"))
    with shop.db.session() as s, tenant_context(shop.tenant):
        assert ledger.balance(s, shop.customer_id) == Decimal("-0.50")  # the cents over are credit
    for bad, field in ((dict(amount="0"), "amount"), (dict(amount="250001"), "amount"), (dict(amount=1.5), "amount"),
                       (dict(amount="100", phone="12345"), "phone"), (dict(), "amount")):
        refused = shop.pay(**bad)
        assert refused.status_code == 422, (bad, refused.get_json())
        assert refused.get_json()["field"] == field, (bad, refused.get_json())


def test_a_customer_billed_in_another_currency_is_told_to_pay_by_card(app, db, billable, daraja):
    b = billable(currency="USD", mpesa_number=PHONE)
    staff = finance_headers(app, db, b.tenant)
    client = app.test_client()
    assert client.put("/reseller/api/payments/gateways/mpesa", headers=staff, json={
        "shortcode": "174379", "shortcode_type": "paybill", "environment": "sandbox", "consumer_key": CONSUMER_KEY,
        "consumer_secret": CONSUMER_SECRET, "passkey": PASSKEY}).status_code == 200
    with db.session() as s, tenant_context(b.tenant):
        users.set_portal_password(s, b.customer_id, PASSWORD)
        portal_id = customers.get(s, b.customer_id).portal_id
    host = host_of(b.tenant)
    token = client.post("/portal/auth/login", json={"portal_id": portal_id, "password": PASSWORD},
                        headers={"Host": host}).get_json()["token"]
    refused = client.post("/portal/api/payments/mpesa", json={"amount": "10"}, headers=bearer(token, host))
    assert refused.status_code == 422 and "pay by card" in refused.get_json()["detail"]


# -- who may pay what ---------------------------------------------------------------------------------
def test_another_customers_invoice_and_payment_are_404_and_a_read_only_key_cannot_pay(shop, daraja):
    with shop.db.session() as s, tenant_context(shop.tenant):
        other = customers.create(s, first_name="Juma", last_name="Otieno", email="juma@example.com",
                                 mpesa_number="254712000999").id
    theirs = shop.invoice("700.00", customer_id=other)
    refused = shop.pay(invoice_id=theirs)
    assert refused.status_code == 404 and refused.get_json()["detail"] == "no such invoice"
    assert shop.pay(invoice_id=999_999_999).status_code == 404
    other_headers = shop.sign_in(other)
    their_payment = shop.pay(headers=other_headers, invoice_id=theirs).get_json()["payment_id"]
    assert shop.status(their_payment).status_code == 404
    assert shop.status(their_payment, headers=other_headers).status_code == 200

    keys = {access: shop.client.post("/portal/api/api-keys", json={"name": access, "access": access},
                                     headers=shop.headers).get_json()["key"] for access in ("read", "read_write")}
    read_only = bearer(keys["read"], shop.host)
    denied = shop.pay(headers=read_only, amount="100")
    assert denied.status_code == 403 and "self.edit" in denied.get_json()["detail"]
    own = shop.pay(headers=bearer(keys["read_write"], shop.host), amount="100")
    assert own.status_code == 202
    assert shop.status(own.get_json()["payment_id"], headers=read_only).status_code == 200  # reading is allowed
    assert shop.client.post("/portal/api/payments/mpesa", json={"amount": "100"},
                            headers=shop.staff).status_code == 403  # a reseller user is no customer
    assert len(daraja.pushes()) == 2


def test_no_mpesa_configured_is_a_clear_404_and_gateway_refusals_and_outages_keep_nothing(app, db, billable, shop,
                                                                                         daraja):
    plain = billable(mpesa_number=PHONE)
    with db.session() as s, tenant_context(plain.tenant):
        users.set_portal_password(s, plain.customer_id, PASSWORD)
        portal_id = customers.get(s, plain.customer_id).portal_id
    host = host_of(plain.tenant)
    token = shop.client.post("/portal/auth/login", json={"portal_id": portal_id, "password": PASSWORD},
                             headers={"Host": host}).get_json()["token"]
    none = shop.client.post("/portal/api/payments/mpesa", json={"amount": "100"}, headers=bearer(token, host))
    assert none.status_code == 404 and none.get_json()["type"].endswith("/gateway-not-configured")

    daraja.refuse = (400, {"requestId": "r-9", "errorCode": "400.002.02",
                           "errorMessage": "Bad Request - Invalid PhoneNumber"})
    refused = shop.pay(amount="100")
    assert refused.status_code == 502 and "Invalid PhoneNumber" in refused.get_json()["detail"]
    daraja.down = True
    down = shop.pay(amount="100")
    assert down.status_code == 503 and down.get_json()["type"].endswith("/gateway-unavailable")
    assert shop.rows() == (0, 0)


# -- when no callback comes ---------------------------------------------------------------------------
def _request_of(shop: Shop, payment_id: int) -> PaymentRequest:
    with shop.db.session() as s, tenant_context(shop.tenant):
        return s.execute(select(PaymentRequest).where(PaymentRequest.payment_id == payment_id)).scalar_one()


def test_the_status_query_settles_a_push_whose_callback_never_came_and_asks_once_it_is_settled(shop, daraja):
    invoice_id = shop.invoice("800.00")
    payment_id = shop.pay(invoice_id=invoice_id).get_json()["payment_id"]
    request = _request_of(shop, payment_id)
    with shop.db.session() as s, tenant_context(shop.tenant):
        assert stk_push.query_status(s, request.id) == stk_push.Queried("pending", 1)  # still being processed
    daraja.results[request.provider_ref] = (0, "The service request is processed successfully.")
    with shop.db.session() as s, tenant_context(shop.tenant):
        assert stk_push.query_status(s, request.id) == stk_push.Queried("succeeded", 2)
    assert shop.status(payment_id).get_json()["status"] == "succeeded"
    assert shop.invoice_status(invoice_id) == ("Paid", Decimal("800.00"))
    with shop.db.session() as s, tenant_context(shop.tenant):
        assert stk_push.query_status(s, request.id).status == "succeeded"
    assert len(daraja.queries()) == 2  # a settled payment is not asked about again
    late = shop.callback(daraja.pushes()[0], request.provider_ref)  # the callback after all: no second payment
    assert late.status_code == 200 and shop.rows() == (1, 1)
    query = daraja.queries()[0]
    assert query["Password"] == base64.b64encode(f"174379{PASSKEY}{query['Timestamp']}".encode()).decode()


def test_a_query_that_never_gets_an_answer_fails_the_payment_and_a_late_success_still_pays(shop, daraja):
    invoice_id = shop.invoice("400.00")
    payment_id = shop.pay(invoice_id=invoice_id).get_json()["payment_id"]
    request = _request_of(shop, payment_id)
    with shop.db.session() as s, tenant_context(shop.tenant):
        assert stk_push.query_status(s, request.id, final=True).status == "failed"
    failed = shop.status(payment_id).get_json()
    assert failed["failure"]["code"] == "no_answer" and "did not tell us" in failed["failure"]["message"]
    shop.callback(daraja.pushes()[0], request.provider_ref)
    assert shop.status(payment_id).get_json()["status"] == "succeeded"
    assert shop.invoice_status(invoice_id) == ("Paid", Decimal("400.00"))


def test_a_cancellation_found_by_the_query_is_told_in_words(shop, daraja):
    payment_id = shop.pay(amount="150").get_json()["payment_id"]
    request = _request_of(shop, payment_id)
    daraja.results[request.provider_ref] = (2001, "The initiator information is invalid.")
    with shop.db.session() as s, tenant_context(shop.tenant):
        assert stk_push.query_status(s, request.id).status == "failed"
    assert shop.status(payment_id).get_json()["failure"] == {"code": "2001",
                                                             "message": "The M-PESA PIN entered was wrong."}


def test_the_push_sends_the_query_job_after_commit_and_the_actor_asks_again_while_it_is_processed(
        shop, daraja, db, monkeypatch):
    import worker.broker
    from worker.actors import mpesa_queries as actors

    sent = []
    monkeypatch.setattr(actors.query_stk_push, "send_with_options",
                        lambda *, args, delay: sent.append((args, delay)))
    payment_id = shop.pay(amount="120").get_json()["payment_id"]
    request = _request_of(shop, payment_id)
    assert sent == [((request.id, 1), 120_000)]  # two minutes after the push
    monkeypatch.setattr(worker.broker, "database", lambda: db)
    with tenant_context(shop.tenant):
        actors.query_stk_push.fn(request.id, 1)  # still being processed: ask again in five minutes
        actors.query_stk_push.fn(request.id, 1)  # the same message delivered twice: no second follow-up
    assert sent[1:] == [((request.id, 2), 300_000)]
    daraja.results[request.provider_ref] = (1037, "DS timeout user cannot be reached")
    with tenant_context(shop.tenant):
        actors.query_stk_push.fn(request.id, 2)
    assert len(sent) == 2
    assert shop.status(payment_id).get_json()["failure"]["code"] == "1037"


def test_a_callback_that_beat_our_commit_is_not_counted_twice_by_the_query(shop, daraja):
    payment_id = shop.pay(amount="250").get_json()["payment_id"]
    request = _request_of(shop, payment_id)
    with shop.db.session() as s, tenant_context(shop.tenant):  # as if the callback had found no pending payment
        s.execute(PaymentRequest.__table__.update().where(PaymentRequest.id == request.id)
                  .values(payment_id=None))
        s.execute(Payment.__table__.update().where(Payment.id == payment_id).values(provider_ref="ws_CO_elsewhere"))
    shop.callback(daraja.pushes()[0], request.provider_ref)  # matched by phone: a payment of its own
    with shop.db.session() as s, tenant_context(shop.tenant):
        s.execute(PaymentRequest.__table__.update().where(PaymentRequest.id == request.id)
                  .values(payment_id=payment_id))
    daraja.results[request.provider_ref] = (0, "The service request is processed successfully.")
    with shop.db.session() as s, tenant_context(shop.tenant):
        assert stk_push.query_status(s, request.id).status == "failed"
        assert ledger.balance(s, shop.customer_id) == Decimal("-250.00")  # once, not twice
    assert shop.status(payment_id).get_json()["failure"]["code"] == "duplicate"


# -- the token and the secrets ------------------------------------------------------------------------
def test_the_token_is_cached_per_tenant_encrypted_and_renewed_when_daraja_refuses_it(shop, daraja, app):
    from tenants.storage import redis_key

    shop.pay(amount="10")
    shop.pay(amount="11", key="k2")  # a top-up pending: answered with the first, no second push
    shop.pay(invoice_id=shop.invoice("20.00"))
    assert daraja.token_requests == 1 and len(daraja.pushes()) == 2
    keys = [k.decode() for k in app.extensions["backhaul"].redis.keys(redis_key(shop.tenant.schema, "daraja-token",
                                                                                "*"))]
    assert len(keys) == 1
    stored = app.extensions["backhaul"].redis.get(keys[0]).decode()
    assert "daraja-token-" not in stored  # encrypted at rest, like the credentials
    daraja.revoke()
    assert shop.pay(invoice_id=shop.invoice("30.00")).status_code == 202
    assert daraja.token_requests == 2 and len(daraja.pushes()) == 3


def test_credentials_are_never_in_an_answer_a_log_or_a_stored_detail(shop, daraja, caplog):
    caplog.set_level(logging.DEBUG)
    answers = [shop.gateway.get_data(as_text=True),
               shop.client.get("/reseller/api/payments/gateways", headers=shop.staff).get_data(as_text=True)]
    started = shop.pay(invoice_id=shop.invoice("90.00"))
    answers += [started.get_data(as_text=True),
                shop.status(started.get_json()["payment_id"]).get_data(as_text=True)]
    daraja.refuse = (400, {"errorCode": "400.002.02", "errorMessage": "Bad Request - Invalid Amount"})
    answers.append(shop.pay(amount="91").get_data(as_text=True))
    with shop.db.session() as s, tenant_context(shop.tenant):
        request = s.execute(select(PaymentRequest)).scalar_one()
        stored = json.dumps(request.detail) + repr(stk_push.client_for(s, None).credentials)
    push = daraja.pushes()[0]
    secrets = [CONSUMER_KEY, CONSUMER_SECRET, PASSKEY, push["Password"], *daraja.tokens,
               push["CallBackURL"].split("/")[-2]]
    shown = json.loads(answers[1])["mpesa"]["daraja"]
    assert shown["consumer_key_set"] and shown["consumer_secret_set"] and shown["passkey_set"]
    for text in [*answers, caplog.text, stored]:
        for secret in secrets:
            assert secret not in text
