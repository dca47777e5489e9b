"""Automatic retries of failed recurring charges, against a small card processor served over real HTTP
(the subset of Stripe's `POST /v1/payment_intents` our client uses, with its idempotency keys), on the
real database: the schedule from the reseller's retry days, a decline leaving the next attempt
scheduled, success paying the invoice and skipping the rest, a crash after the processor charged
recovered without a second charge, an outage retried, missed days not charging twice, and the
`retry_charges_due` actor run by a real Dramatiq worker on Redis."""

from __future__ import annotations

import itertools
import json
import threading
import urllib.parse
from datetime import date, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from dramatiq import Worker
from sqlalchemy import select

from app.models.billing import ChargeAttempt, Invoice, Payment
from app.services.billing import ledger, payment_methods, retries
from app.services.billing.gateways import config
from app.services.billing.gateways.stripe import StripeChargeClient
from app.services.settings import get_setting, put_setting
from tenants import tenant_context
from tests.billing.test_payments import issue_invoice
from tests.brokers import bound_broker

DUE = date(2026, 11, 10)
API_KEY = "sk_test_retries_0123456789"


class Processor:
    """A card processor on 127.0.0.1: `pm_ok…` cards are charged, `pm_decline…` cards declined; a repeated
    Idempotency-Key gets the first answer back (as Stripe does); `down` answers 503 to everything."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: dict[str, tuple[int, dict]] = {}
        self.charged: list[str] = []
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

    def answer(self, path: str, key: str | None, form: dict) -> tuple[int, dict]:
        if self.down:
            return 503, {"error": {"type": "api_error", "message": "try later"}}
        if path != "/v1/payment_intents":
            return 404, {"error": {"type": "invalid_request_error", "message": "no such path"}}
        if key in self.answers:
            return self.answers[key]
        intent = f"pi_{next(self._ids):04d}"
        amount = int(form["amount"])
        if form["payment_method"].startswith("pm_decline"):
            answer = (402, {"error": {"type": "card_error", "code": "card_declined",
                                      "message": "Your card was declined.",
                                      "payment_intent": {"id": intent, "status": "requires_payment_method"}}})
        else:
            self.charged.append(intent)
            answer = (200, {"id": intent, "object": "payment_intent", "status": "succeeded", "amount": amount,
                            "amount_received": amount, "currency": form["currency"],
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
def processor():
    with Processor() as running:
        yield running


def _customer_with_card(db, billable, token: str, *, total: str = "1000.00", due_on: date = DUE):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        payment_methods.add(s, b.customer_id, kind="card", token=token, brand="visa", last4="4242", expiry_month=12,
                            expiry_year=2099, today=DUE)
        invoice_id = issue_invoice(s, b.customer_id, total, due_on=due_on).id
    return b, invoice_id


def _attempts(s, invoice_id) -> list[tuple[int, date, str]]:
    return [(a.attempt, a.due_on, a.status) for a in retries.attempts(s, invoice_id)]


def test_the_schedule_follows_the_retry_days_and_is_made_once(db, billable):
    b, invoice_id = _customer_with_card(db, billable, "pm_ok_1")
    with db.session() as s, tenant_context(b.tenant):
        assert retries.schedule_unpaid(s, DUE) == 0  # not past due yet
        assert retries.schedule_unpaid(s, DUE + timedelta(days=1)) == 1
        assert retries.schedule_unpaid(s, DUE + timedelta(days=2)) == 0
        retries.schedule(s, invoice_id)
        assert _attempts(s, invoice_id) == [(n, DUE + timedelta(days=d), "scheduled")
                                            for n, d in ((1, 1), (2, 3), (3, 7), (4, 14))]
        put_setting(s, "payments", {**get_setting(s, "payments"), "retry_days": [5, 2, "x"]})
        assert retries.retry_days(s) == [1, 3, 7, 14]  # a broken setting falls back to the default
        put_setting(s, "payments", {**get_setting(s, "payments"), "retry_days": [5, 2]})
        assert retries.retry_days(s) == [2, 5]


def test_a_decline_leaves_the_next_attempt_and_a_success_pays_and_skips_the_rest(db, billable, processor):
    b, invoice_id = _customer_with_card(db, billable, "pm_decline_1")
    clients = {"card": StripeChargeClient(API_KEY, processor.url)}
    with db.session() as s, tenant_context(b.tenant):
        day1 = retries.run_due(s, DUE + timedelta(days=1), clients)
        assert day1 == {"invoices_scheduled": 1, "failed": 1}
        assert _attempts(s, invoice_id)[:2] == [(1, DUE + timedelta(days=1), "failed"),
                                                (2, DUE + timedelta(days=3), "scheduled")]
        assert retries.attempts(s, invoice_id)[0].error == "Your card was declined."
        assert retries.run_due(s, DUE + timedelta(days=2), clients) == {"invoices_scheduled": 0}  # none due
        card = payment_methods.add(s, b.customer_id, kind="card", token="pm_ok_2", last4="1881", expiry_month=1,
                                   expiry_year=2099, is_default=True, today=DUE)
        assert retries.run_due(s, DUE + timedelta(days=3), clients) == {"invoices_scheduled": 0, "succeeded": 1}
        assert [a[2] for a in _attempts(s, invoice_id)] == ["failed", "succeeded", "skipped", "skipped"]
        invoice = s.get(Invoice, invoice_id)
        assert (invoice.status, invoice.amount_paid) == ("Paid", Decimal("1000.00"))
        payment = s.execute(select(Payment)).scalar_one()
        assert (payment.provider, payment.provider_ref, payment.method, payment.amount) == (
            "stripe", "pi_0002", "card", Decimal("1000.00"))
        assert retries.attempts(s, invoice_id)[1].payment_method_id == card.id
        assert ledger.balance(s, b.customer_id) == Decimal("0.00")
        tenant_code = b.tenant.code
    assert [r["key"] for r in processor.requests] == [f"{tenant_code}:invoice:{invoice_id}:attempt:1",
                                                      f"{tenant_code}:invoice:{invoice_id}:attempt:2"]
    sent = processor.requests[1]
    assert sent["auth"] == f"Bearer {API_KEY}"
    assert (sent["form"]["amount"], sent["form"]["currency"], sent["form"]["payment_method"]) == ("100000", "kes",
                                                                                                 "pm_ok_2")
    assert sent["form"]["metadata[invoice_id]"] == str(invoice_id)


def test_a_crash_after_the_processor_charged_does_not_charge_twice(db, billable, processor):
    b, invoice_id = _customer_with_card(db, billable, "pm_ok_crash")
    clients = {"card": StripeChargeClient(API_KEY, processor.url)}
    day = DUE + timedelta(days=1)
    with db.session() as s, tenant_context(b.tenant):
        retries.schedule_unpaid(s, day)
    with pytest.raises(RuntimeError), db.session() as s, tenant_context(b.tenant):
        [attempt_id] = retries.due(s, day)
        assert retries.perform(s, attempt_id, day, clients).status == "succeeded"
        raise RuntimeError("the worker died before committing")
    with db.session() as s, tenant_context(b.tenant):
        assert retries.run_due(s, day, clients) == {"invoices_scheduled": 0, "succeeded": 1}
        assert len(s.execute(select(Payment)).scalars().all()) == 1
        assert s.get(Invoice, invoice_id).status == "Paid"
        assert retries.run_due(s, day, clients) == {"invoices_scheduled": 0}
    assert len(processor.requests) == 2 and len(processor.charged) == 1
    assert processor.requests[0]["key"] == processor.requests[1]["key"]


def test_an_outage_leaves_the_attempt_scheduled_and_missed_days_charge_once(db, billable, processor):
    b, invoice_id = _customer_with_card(db, billable, "pm_ok_outage")
    clients = {"card": StripeChargeClient(API_KEY, processor.url)}
    processor.down = True
    with db.session() as s, tenant_context(b.tenant):
        assert retries.run_due(s, DUE + timedelta(days=1), clients) == {"invoices_scheduled": 1, "scheduled": 1}
        assert retries.attempts(s, invoice_id)[0].status == "scheduled"
        assert "unreachable" in retries.attempts(s, invoice_id)[0].error
    processor.down = False
    with db.session() as s, tenant_context(b.tenant):
        # the job did not run for a week: attempts 1 to 3 are due, only the latest is made
        assert retries.run_due(s, DUE + timedelta(days=8), clients) == {"invoices_scheduled": 0, "succeeded": 1}
        assert [a[2] for a in _attempts(s, invoice_id)] == ["skipped", "skipped", "succeeded", "skipped"]
    assert len(processor.charged) == 1


def test_an_expired_card_or_no_method_fails_the_attempt_without_calling_anyone(db, billable, processor):
    b, invoice_id = _customer_with_card(db, billable, "pm_ok_old")
    clients = {"card": StripeChargeClient(API_KEY, processor.url)}
    with db.session() as s, tenant_context(b.tenant):
        assert retries.run_due(s, date(2100, 1, 2), clients)["failed"] == 1
        assert retries.attempts(s, invoice_id)[3].error == "the card has expired"
    other, other_invoice = _customer_with_card(db, billable, "pm_ok_mpesa")
    with db.session() as s, tenant_context(other.tenant):
        method = payment_methods.default_for(s, other.customer_id)
        payment_methods.remove(s, other.customer_id, method.id)
        payment_methods.add(s, other.customer_id, kind="mpesa", token="0712000222")
        retries.schedule(s, other_invoice)
        [attempt_id] = retries.due(s, DUE + timedelta(days=1))
        assert retries.perform(s, attempt_id, DUE + timedelta(days=1), clients).error == \
            "no gateway charges mpesa methods"
    assert processor.requests == []


def test_the_actor_runs_the_day_for_its_tenant_on_a_real_worker(db, billable, processor, redis_url, monkeypatch):
    from worker.actors import payments as actors

    b, invoice_id = _customer_with_card(db, billable, "pm_ok_actor")
    with db.session() as s, tenant_context(b.tenant):
        config.set_stripe(s, api_key=API_KEY)
    monkeypatch.setenv("BACKHAUL_STRIPE_API_BASE", processor.url)
    with bound_broker(redis_url, monkeypatch, "retries", (actors.retry_charges_due,), db=db) as broker:
        running = Worker(broker, worker_threads=2, worker_timeout=100)
        running.start()
        try:
            with tenant_context(b.tenant):
                actors.retry_charges_due.send((DUE + timedelta(days=1)).isoformat())
                actors.retry_charges_due.send((DUE + timedelta(days=1)).isoformat())  # sent twice: charged once
            broker.join("billing", timeout=30_000)
            running.join()
        finally:
            running.stop()
    with db.session() as s, tenant_context(b.tenant):
        assert s.get(Invoice, invoice_id).status == "Paid"
        assert [a.status for a in s.execute(select(ChargeAttempt).order_by(ChargeAttempt.attempt)).scalars()] == [
            "succeeded", "skipped", "skipped", "skipped"]
    assert len(processor.charged) == 1
