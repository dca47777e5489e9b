"""Card payments a customer starts from the portal: a hosted checkout at a small Stripe-style processor
served over real HTTP (`POST /v1/checkout/sessions`, with its idempotency keys, every request recorded),
then the processor's signed webhook as it sends it: `checkout.session.completed` paying the chosen
invoice, the intent's own `payment_intent.succeeded` in either order making one payment, an expired
checkout failing, a declined card leaving the checkout open, a double submission opening one checkout,
return addresses kept on the portal, other customers' invoices and read-only keys refused, and the API
key in no answer or log."""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
import urllib.parse
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from app.models.billing import Invoice, Payment, PaymentRequest
from app.services import customers
from app.services.auth import users
from app.services.billing import ledger
from app.services.billing.gateways import checkout, stripe
from tenants import tenant_context
from tests.auth.conftest import PASSWORD, bearer
from tests.billing.test_payments import finance_headers, issue_invoice
from tests.conftest import host_of

API_KEY = "sk_test_checkout_0123456789"
SECRET = "whsec_checkout_0123456789abcdef"


class Processor:
    """Checkout sessions on 127.0.0.1: a repeated Idempotency-Key gets the first answer back, as Stripe
    does; `refuse` answers the next request with that error; `down` answers 503."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: dict[str, tuple[int, dict]] = {}
        self.refuse: tuple[int, dict] | None = None
        self.down = False
        self._ids = itertools.count(1)
        processor = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server spelling
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                key = self.headers.get("Idempotency-Key")
                processor.requests.append({"path": self.path, "key": key, "auth": self.headers.get("Authorization"),
                                           "form": form})
                status, body = processor.answer(self.path, key, form)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def sessions(self) -> list[dict]:
        return [r["form"] for r in self.requests if r["path"] == "/v1/checkout/sessions"]

    def answer(self, path: str, key: str | None, form: dict) -> tuple[int, dict]:
        if self.down:
            return 503, {"error": {"type": "api_error", "message": "try later"}}
        if self.refuse is not None:
            answer, self.refuse = self.refuse, None
            return answer
        if path != "/v1/checkout/sessions":
            return 404, {"error": {"type": "invalid_request_error", "message": "no such path"}}
        if key in self.answers:
            return self.answers[key]
        n = next(self._ids)
        answer = (200, {"id": f"cs_test_{n:04d}", "object": "checkout.session", "mode": form["mode"],
                        "url": f"https://checkout.processor.example/c/pay/cs_test_{n:04d}", "status": "open",
                        "payment_status": "unpaid", "payment_intent": None,
                        "amount_total": int(form["line_items[0][price_data][unit_amount]"]),
                        "currency": form["line_items[0][price_data][currency]"],
                        "client_reference_id": form.get("client_reference_id"),
                        "metadata": {k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")}})
        self.answers[key] = answer
        return answer

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def processor(monkeypatch):
    with Processor() as running:
        monkeypatch.setenv("BACKHAUL_STRIPE_API_BASE", running.url)
        yield running


class Shop:
    """A reseller with the processor's API key and webhook secret set through its API, and a customer
    billed in KES signed in to the portal."""

    def __init__(self, app, db, billable):
        self.app, self.db = app, db
        b = billable()
        self.tenant, self.customer_id = b.tenant, b.customer_id
        self.host = host_of(self.tenant)
        self.staff = finance_headers(app, db, self.tenant)
        self.client = app.test_client()
        self.gateway = self.client.put("/reseller/api/payments/gateways/stripe", headers=self.staff,
                                       json={"api_key": API_KEY, "webhook_secret": SECRET})
        assert self.gateway.status_code == 200
        self.headers = self.sign_in(self.customer_id)

    def sign_in(self, customer_id: int) -> dict:
        with self.db.session() as s, tenant_context(self.tenant):
            users.set_portal_password(s, customer_id, PASSWORD)
            portal_id = customers.get(s, customer_id).portal_id
        login = self.client.post("/portal/auth/login", json={"portal_id": portal_id, "password": PASSWORD},
                                 headers={"Host": self.host})
        return bearer(login.get_json()["token"], self.host)

    def invoice(self, total: str, customer_id: int | None = None) -> int:
        with self.db.session() as s, tenant_context(self.tenant):
            return issue_invoice(s, customer_id or self.customer_id, total).id

    def start(self, headers: dict | None = None, key: str | None = None, **body):
        extra = {"Idempotency-Key": key} if key else {}
        return self.client.post("/portal/api/payments/card-checkout", json=body,
                                headers={**(headers or self.headers), **extra})

    def status(self, payment_id: int, headers: dict | None = None):
        return self.client.get(f"/portal/api/payments/{payment_id}", headers=headers or self.headers)

    def event(self, kind: str, obj: dict, event_id: str | None = None):
        """POST a signed event to the webhook, as the processor does."""
        raw = json.dumps({"id": event_id or f"evt_{kind}_{obj['id']}", "object": "event", "type": kind,
                          "created": int(time.time()), "data": {"object": obj}}).encode()
        return self.client.post("/webhooks/stripe", data=raw, headers={
            "Host": self.host, "Content-Type": "application/json",
            "Stripe-Signature": stripe.sign(SECRET, raw, int(time.time()))})

    def request_row(self, payment_id: int) -> PaymentRequest:
        with self.db.session() as s, tenant_context(self.tenant):
            return s.execute(select(PaymentRequest).where(PaymentRequest.payment_id == payment_id)).scalar_one()

    def payments(self) -> list[Payment]:
        with self.db.session() as s, tenant_context(self.tenant):
            return list(s.execute(select(Payment).order_by(Payment.id)).scalars())

    def invoice_status(self, invoice_id: int) -> tuple[str, Decimal]:
        with self.db.session() as s, tenant_context(self.tenant):
            invoice = s.get(Invoice, invoice_id)
            return invoice.status, invoice.amount_paid


def session_object(row: PaymentRequest, cents: int, *, paid: bool = True, intent: str = "pi_checkout_1") -> dict:
    return {"id": row.provider_ref, "object": "checkout.session", "mode": "payment", "status": "complete",
            "payment_status": "paid" if paid else "unpaid", "amount_total": cents, "currency": "kes",
            "payment_intent": intent, "client_reference_id": str(row.id),
            "metadata": {"payment_request": str(row.id)}}


def intent_object(row: PaymentRequest, cents: int, intent: str = "pi_checkout_1", *, succeeded: bool = True) -> dict:
    obj = {"id": intent, "object": "payment_intent", "amount": cents, "amount_received": cents if succeeded else 0,
           "currency": "kes", "status": "succeeded" if succeeded else "requires_payment_method",
           "metadata": {"payment_request": str(row.id)}, "latest_charge": "ch_checkout_1",
           "created": int(time.time())}
    if not succeeded:
        obj["last_payment_error"] = {"code": "card_declined", "message": "Your card was declined."}
    return obj


@pytest.fixture
def shop(app, db, billable, processor):
    return Shop(app, db, billable)


# -- paying -------------------------------------------------------------------------------------------
def test_the_checkout_is_opened_at_the_processor_and_its_webhook_pays_the_chosen_invoice(shop, processor):
    older, chosen = shop.invoice("300.00"), shop.invoice("1250.50")
    started = shop.start(invoice_id=chosen, success_url=f"https://{shop.host}/portal/paid?s={{CHECKOUT_SESSION_ID}}",
                         cancel_url=f"https://{shop.host}/portal")
    assert started.status_code == 202, started.get_json()
    body = started.get_json()
    assert (body["status"], body["provider"], body["method"], body["amount"]) == ("pending", "stripe", "card",
                                                                                "1250.50")
    assert body["checkout_url"] == "https://checkout.processor.example/c/pay/cs_test_0001"

    [sent] = processor.requests
    form = sent["form"]
    assert sent["auth"] == f"Bearer {API_KEY}" and sent["key"].startswith(f"{shop.tenant.code}:checkout:")
    row = shop.request_row(body["payment_id"])
    assert (form["mode"], form["line_items[0][price_data][currency]"], form["line_items[0][price_data][unit_amount]"],
            form["line_items[0][quantity]"]) == ("payment", "kes", "125050", "1")
    assert form["line_items[0][price_data][product_data][name]"].startswith("Invoice ")
    assert form["success_url"] == f"https://{shop.host}/portal/paid?s={{CHECKOUT_SESSION_ID}}"
    assert form["client_reference_id"] == str(row.id) and form["metadata[payment_request]"] == str(row.id)
    assert form["payment_intent_data[metadata][payment_request]"] == str(row.id)

    done = shop.event("checkout.session.completed", session_object(row, 125050))
    assert done.get_json() == {"received": True, "outcome": "applied"}
    paid = shop.status(body["payment_id"]).get_json()
    assert paid["status"] == "succeeded" and paid["receipt_number"] and paid["checkout_url"] is None
    assert paid["invoice"]["status"] == "Paid" and shop.invoice_status(chosen) == ("Paid", Decimal("1250.50"))
    assert shop.invoice_status(older)[1] == Decimal("0.00")  # oldest first would have paid this one
    again = shop.event("payment_intent.succeeded", intent_object(row, 125050))  # the intent's own event
    assert again.get_json()["outcome"] == "duplicate"
    [payment] = shop.payments()
    assert (payment.provider_ref, payment.amount, payment.status) == ("pi_checkout_1", Decimal("1250.50"), "succeeded")


def test_the_intent_event_first_then_the_session_is_one_payment(shop, processor):
    invoice_id = shop.invoice("600.00")
    payment_id = shop.start(invoice_id=invoice_id).get_json()["payment_id"]
    row = shop.request_row(payment_id)
    assert shop.event("payment_intent.succeeded", intent_object(row, 60000, "pi_first")).get_json()["outcome"] == \
        "applied"
    assert shop.event("checkout.session.completed", session_object(row, 60000, intent="pi_first")).get_json()[
        "outcome"] == "duplicate"
    assert [p.status for p in shop.payments()] == ["succeeded"]
    assert shop.invoice_status(invoice_id) == ("Paid", Decimal("600.00"))


def test_a_declined_card_leaves_the_checkout_open_and_an_expired_one_fails(shop, processor):
    invoice_id = shop.invoice("450.00")
    payment_id = shop.start(invoice_id=invoice_id).get_json()["payment_id"]
    row = shop.request_row(payment_id)
    declined = shop.event("payment_intent.payment_failed", intent_object(row, 45000, "pi_declined", succeeded=False))
    assert declined.get_json()["outcome"] == "ignored: checkout still open"
    assert shop.status(payment_id).get_json()["status"] == "pending"
    unpaid = shop.event("checkout.session.completed", session_object(row, 45000, paid=False))
    assert unpaid.get_json()["outcome"] == "ignored: not paid yet"
    expired = shop.event("checkout.session.expired", {**session_object(row, 45000, paid=False), "status": "expired"})
    assert expired.get_json()["outcome"] == "failed"
    failed = shop.status(payment_id).get_json()
    assert failed["status"] == "failed" and failed["checkout_url"] is None
    assert failed["failure"] == {"code": "expired", "message": "The card checkout expired before it was paid."}
    assert shop.invoice_status(invoice_id)[1] == Decimal("0.00")  # nothing paid on it
    fresh = shop.start(invoice_id=invoice_id)  # the customer may start again
    assert fresh.status_code == 202 and fresh.get_json()["payment_id"] != payment_id
    assert len(processor.sessions()) == 2


def test_a_double_submission_opens_one_checkout(shop, processor):
    invoice_id = shop.invoice("999.00")
    first, second = (shop.start(key="form-token-7", invoice_id=invoice_id) for _ in range(2))
    assert first.get_json() == second.get_json() and second.headers.get("Idempotent-Replayed") == "true"
    other_key = shop.start(key="form-token-8", invoice_id=invoice_id)  # pressed again while the first is open
    assert other_key.get_json()["payment_id"] == first.get_json()["payment_id"]
    with shop.db.session() as s, tenant_context(shop.tenant):  # the pages pass their form's token
        made = checkout.start_card_checkout(s, shop.customer_id, "25", success_url=f"https://{shop.host}/portal",
                                            cancel_url=f"https://{shop.host}/portal", idempotency_key="page-3")
        again = checkout.start_card_checkout(s, shop.customer_id, "25", success_url=f"https://{shop.host}/portal",
                                             cancel_url=f"https://{shop.host}/portal", idempotency_key="page-3")
        assert made.id == again.id
    assert len(processor.sessions()) == 2 and len(shop.payments()) == 2


# -- refusals -----------------------------------------------------------------------------------------
def test_return_addresses_stay_on_the_portal(shop, processor):
    for bad in ("https://evil.example/phish", "javascript:alert(1)", "/portal", f"ftp://{shop.host}/x"):
        refused = shop.start(amount="10", success_url=bad)
        assert refused.status_code == 422 and refused.get_json()["field"] == "success_url", bad
    assert shop.start(amount="10", cancel_url="https://evil.example/").get_json()["field"] == "cancel_url"
    assert processor.requests == []


def test_another_customers_invoice_is_404_a_read_only_key_is_403_and_a_paid_invoice_409(shop, processor):
    with shop.db.session() as s, tenant_context(shop.tenant):
        other = customers.create(s, first_name="Juma", last_name="Otieno", email="juma.card@example.com").id
    theirs = shop.invoice("700.00", customer_id=other)
    assert shop.start(invoice_id=theirs).status_code == 404
    read = shop.client.post("/portal/api/api-keys", json={"name": "r", "access": "read"},
                            headers=shop.headers).get_json()["key"]
    denied = shop.start(headers=bearer(read, shop.host), amount="10")
    assert denied.status_code == 403
    mine = shop.invoice("100.00")
    row = shop.request_row(shop.start(invoice_id=mine).get_json()["payment_id"])
    shop.event("checkout.session.completed", session_object(row, 10000, intent="pi_paid_1"))
    paid = shop.start(invoice_id=mine, key="after-paid")
    assert paid.status_code == 409 and "Paid" in paid.get_json()["detail"]
    assert shop.status(row.payment_id, headers=shop.sign_in(other)).status_code == 404
    assert len(processor.sessions()) == 1


def test_processor_refusals_and_outages_keep_nothing_and_no_answer_or_log_shows_the_key(shop, processor, caplog):
    caplog.set_level(logging.DEBUG)
    processor.refuse = (401, {"error": {"type": "invalid_request_error", "message": f"Invalid API Key: {API_KEY}"}})
    refused = shop.start(amount="10")
    assert refused.status_code == 502 and "API key" in refused.get_json()["detail"]
    processor.refuse = (400, {"error": {"type": "invalid_request_error", "message": "Amount must be at least 50 KES"}})
    too_small = shop.start(amount="10")
    assert too_small.status_code == 502 and "at least 50" in too_small.get_json()["detail"]
    processor.down = True
    assert shop.start(amount="10").status_code == 503
    with shop.db.session() as s, tenant_context(shop.tenant):
        assert s.execute(select(func.count()).select_from(PaymentRequest)).scalar_one() == 0
        assert ledger.balance(s, shop.customer_id) == Decimal("0.00")
    processor.down = False
    started = shop.start(amount="75")
    texts = [refused.get_data(as_text=True), too_small.get_data(as_text=True), started.get_data(as_text=True),
             shop.gateway.get_data(as_text=True), shop.status(started.get_json()["payment_id"]).get_data(as_text=True),
             shop.client.get("/reseller/api/payments/gateways", headers=shop.staff).get_data(as_text=True),
             json.dumps(shop.request_row(started.get_json()["payment_id"]).detail), caplog.text]
    for text in texts:
        assert API_KEY not in text and SECRET not in text
