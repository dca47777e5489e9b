"""Paying from the customer portal in a real browser, against a Daraja and a card processor served over real HTTP
(tests/billing's): a customer presses Pay on an Overdue invoice, sees "Check your phone" with the amount and the
number, and when Daraja's callback comes the page turns to the invoice, now Paid; a push cancelled on the phone
(1032) says why in words and offers to try again; a double-clicked or resent form makes one push and one payment;
without JavaScript the page refreshes itself until it is paid; a card payment goes to the processor's checkout and
comes back to our page, which shows Paid once the webhook has settled it; a top-up in whole shillings; a wrong
number and a gateway that does not answer are said on the form; paying by keyboard alone."""

from __future__ import annotations

import itertools
import json
import secrets
import time
import urllib.parse
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from app.models.billing import Invoice, Payment, PaymentRequest
from app.services.billing.gateways import stripe
from tenants import tenant_context
from tenants.registry import directory
from tests.billing.test_card_checkout import API_KEY, SECRET, Processor, session_object
from tests.billing.test_payments import finance_headers
from tests.billing.test_stk_initiation import CONSUMER_KEY, CONSUMER_SECRET, PASSKEY, Daraja
from tests.portals.customer.test_billing import billed_customer
from tests.portals.rig import post_form
from tests.portals.signin import sign_in

pytestmark = pytest.mark.browser
CANCELLED = "You cancelled the payment on your phone."


def _unique_ids():
    """CheckoutRequestIDs and checkout sessions are unique references in a tenant every test shares here."""
    return itertools.count(secrets.randbelow(10**6) * 1000 + 1)


@pytest.fixture
def gateways(app, db, demo):
    """ABC Internet's gateway settings through its API, set by a test and taken away after it."""
    tenant = directory().by_code("ABC_ISP")
    staff, client, set_up = finance_headers(app, db, tenant), app.test_client(), []

    def put(provider: str, body: dict):
        answer = client.put(f"/reseller/api/payments/gateways/{provider}", headers=staff, json=body)
        assert answer.status_code == 200, answer.get_json()
        set_up.append(provider)

    yield put
    for provider in set_up:
        client.delete(f"/reseller/api/payments/gateways/{provider}", headers=staff)


@pytest.fixture
def daraja(monkeypatch, gateways):
    with Daraja() as running:
        running._ids = _unique_ids()
        monkeypatch.setenv("BACKHAUL_DARAJA_SANDBOX_URL", running.url)
        gateways("mpesa", {"shortcode": "174379", "shortcode_type": "paybill", "environment": "sandbox",
                           "consumer_key": CONSUMER_KEY, "consumer_secret": CONSUMER_SECRET, "passkey": PASSKEY})
        yield running


@pytest.fixture
def processor(monkeypatch, gateways):
    with Processor() as running:
        running._ids = _unique_ids()
        monkeypatch.setenv("BACKHAUL_STRIPE_API_BASE", running.url)
        gateways("stripe", {"api_key": API_KEY, "webhook_secret": SECRET})
        yield running


@pytest.fixture
def billed(db, demo):
    return billed_customer(db)


def _invoice_url(live_server, billed, invoice_id=None) -> str:
    return live_server.url(billed.host, f"/portal/billing/invoices/{invoice_id or billed.overdue_id}")


def _open_pay_page(page, live_server, billed):
    sign_in(page, live_server, billed.host, billed.customer.portal_id)
    page.goto(_invoice_url(live_server, billed))
    page.get_by_role("link", name=f"Pay Invoice {billed.overdue_number}").click()
    page.wait_for_url(_invoice_url(live_server, billed) + "/pay")


def _request(db, billed, payment_id: int) -> PaymentRequest:
    with db.session() as s, tenant_context(billed.customer.tenant):
        found = s.execute(select(PaymentRequest).where(PaymentRequest.payment_id == payment_id)).scalar_one()
        s.expunge(found)
        return found


def _payment_id(page) -> int:
    return int(urllib.parse.urlsplit(page.url).path.split("/")[-2])


def _payments(db, billed) -> int:
    with db.session() as s, tenant_context(billed.customer.tenant):
        return s.execute(select(func.count()).select_from(Payment)
                         .where(Payment.customer_id == billed.customer.id)).scalar_one()


def _invoice(db, billed, invoice_id=None) -> tuple[str, Decimal]:
    with db.session() as s, tenant_context(billed.customer.tenant):
        found = s.get(Invoice, invoice_id or billed.overdue_id)
        return found.status, found.amount_paid


def _callback(app, push: dict, checkout: str, code: int = 0, desc: str = "The service request is processed "
              "successfully."):
    """The STK result posted to the CallBackURL the push carried, as Daraja posts it."""
    callback = {"MerchantRequestID": "29115-3462-1", "CheckoutRequestID": checkout, "ResultCode": code,
                "ResultDesc": desc}
    if code == 0:
        callback["CallbackMetadata"] = {"Item": [
            {"Name": "Amount", "Value": push["Amount"]},
            {"Name": "MpesaReceiptNumber", "Value": f"T{secrets.token_hex(4).upper()}"},
            {"Name": "TransactionDate", "Value": 20261121003512},
            {"Name": "PhoneNumber", "Value": int(push["PhoneNumber"])}]}
    url = urllib.parse.urlsplit(push["CallBackURL"])
    answer = app.test_client().post(url.path, data=json.dumps({"Body": {"stkCallback": callback}}),
                                    headers={"Host": url.hostname, "Content-Type": "application/json"})
    assert answer.status_code == 200, answer.get_json()


def _settle_push(app, db, billed, page, daraja, code: int = 0, desc: str = "The service request is processed "
                 "successfully."):
    row = _request(db, billed, _payment_id(page))
    _callback(app, daraja.pushes()[-1], row.provider_ref, code, desc)


def _form_fields(page) -> dict:
    return {name: page.locator(f"form.billing-form [name={name}]").first.input_value()
            for name in ("csrf_token", "token", "way", "phone")}


def test_an_invoice_paid_by_mpesa_turns_paid_on_the_page(app, page, live_server, look, db, billed, daraja):
    _open_pay_page(page, live_server, billed)
    expect(page.get_by_role("heading", name=f"Pay invoice {billed.overdue_number}", level=1)).to_be_visible()
    look(page, "pay-invoice")
    assert "To pay\n1,500.00 KES" in page.locator("main").inner_text()
    phone = page.get_by_label("M-PESA number")
    assert phone.input_value().startswith("25471100")  # the profile's phone, as M-PESA reads it
    number = phone.input_value()
    page.get_by_role("button", name="Pay 1,500.00 KES").click()
    page.wait_for_url("**/progress")
    expect(page.get_by_role("heading", name="Check your phone", level=1)).to_be_visible()
    shown = page.locator("main").inner_text()
    assert "1,500.00 KES" in shown and number in shown
    look(page, "pay-check-your-phone")
    [push] = daraja.pushes()
    assert (push["Amount"], push["PhoneNumber"], push["AccountReference"]) == (1500, number,
                                                                              billed.customer.portal_id)
    assert _invoice(db, billed) == ("Overdue", Decimal("500.00"))

    _settle_push(app, db, billed, page, daraja)
    page.wait_for_url(_invoice_url(live_server, billed))  # htmx asked again, and went on once it was paid
    expect(page.get_by_role("status")).to_have_text("Thank you. Your payment is received.")
    assert page.locator(".page-head .tag").inner_text() == "Paid"
    assert "Balance due\n0.00 KES" in page.get_by_role("region", name="Summary").inner_text()
    assert page.get_by_role("link", name=f"Pay Invoice {billed.overdue_number}").count() == 0
    assert _invoice(db, billed) == ("Paid", Decimal("2000.00"))
    assert _invoice(db, billed, billed.issued_id) == ("Issued", Decimal("0.00"))  # the chosen one was paid


def test_a_cancelled_push_says_why_and_may_be_tried_again(app, page, live_server, look, db, billed, daraja):
    _open_pay_page(page, live_server, billed)
    page.get_by_role("button", name="Pay 1,500.00 KES").click()
    page.wait_for_url("**/progress")
    progress = page.url
    _settle_push(app, db, billed, page, daraja, 1032, "Request cancelled by user")
    expect(page.get_by_role("heading", name="The payment did not go through")).to_be_visible()  # swapped in
    assert page.url == progress and CANCELLED in page.locator("main").inner_text()
    look(page, "pay-failed")
    page.reload()  # and the page itself says so too
    assert CANCELLED in page.locator("main").inner_text()
    page.get_by_role("link", name="Try again").click()
    page.wait_for_url(_invoice_url(live_server, billed) + "/pay")
    page.get_by_role("button", name="Pay 1,500.00 KES").click()
    page.wait_for_url("**/progress")
    assert page.url != progress and len(daraja.pushes()) == 2
    assert _invoice(db, billed)[1] == Decimal("500.00")  # nothing was paid by the cancelled push


def test_a_double_submitted_form_makes_one_push_and_one_payment(app, page, live_server, db, billed, daraja):
    before = _payments(db, billed)
    _open_pay_page(page, live_server, billed)
    fields = _form_fields(page)
    page.get_by_role("button", name="Pay 1,500.00 KES").dblclick()
    page.wait_for_url("**/progress")
    assert len(daraja.pushes()) == 1 and _payments(db, billed) == before + 1
    first = _payment_id(page)

    pay_path = f"/portal/billing/invoices/{billed.overdue_id}/pay"
    assert post_form(page, pay_path, fields) == 0  # the same form sent again: the same payment's page
    assert len(daraja.pushes()) == 1 and _payments(db, billed) == before + 1
    _settle_push(app, db, billed, page, daraja, 1032, "Request cancelled by user")
    assert post_form(page, pay_path, fields) == 0  # even once that push ended: its key is that payment's
    assert len(daraja.pushes()) == 1 and _payments(db, billed) == before + 1
    with db.session() as s, tenant_context(billed.customer.tenant):
        rows = s.execute(select(PaymentRequest.payment_id).where(
            PaymentRequest.customer_id == billed.customer.id)).scalars().all()
    assert rows == [first]


def test_without_javascript_the_page_refreshes_itself_until_paid(app, browser, live_server, db, billed, daraja):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        _open_pay_page(page, live_server, billed)
        page.get_by_role("button", name="Pay 1,500.00 KES").click()
        page.wait_for_url("**/progress")
        assert 'http-equiv="refresh" content="5"' in page.content()
        assert page.get_by_role("link", name="Stop checking").is_visible()
        _settle_push(app, db, billed, page, daraja)
        page.wait_for_url(_invoice_url(live_server, billed), timeout=20_000)  # the refresh found it paid
        assert "Thank you. Your payment is received." in page.locator("main").inner_text()
        assert page.locator(".page-head .tag").inner_text() == "Paid"

        page.goto(_invoice_url(live_server, billed, billed.issued_id) + "/pay")
        page.get_by_role("button", name="Pay 1,200.00 KES").click()
        page.wait_for_url("**/progress")
        page.get_by_role("link", name="Stop checking").click()
        assert 'http-equiv="refresh"' not in page.content()  # the customer stopped it
        assert page.get_by_role("link", name="Check again").is_visible()
    finally:
        context.close()


def test_paying_by_card_goes_to_the_checkout_and_the_page_shows_paid(app, page, live_server, look, db, billed,
                                                                      daraja, processor):
    page.route("https://checkout.processor.example/**", lambda route: route.fulfill(
        status=200, content_type="text/html", body="<!doctype html><title>Checkout</title><h1>Pay by card</h1>"))
    _open_pay_page(page, live_server, billed)
    ways = page.get_by_role("group", name="How do you want to pay?")
    ways.get_by_label("Card").check()
    page.get_by_role("button", name="Pay 1,500.00 KES").click()
    page.wait_for_url("https://checkout.processor.example/**")
    [sent] = processor.sessions()
    assert sent["line_items[0][price_data][unit_amount]"] == "150000"
    success, cancel = sent["success_url"], sent["cancel_url"]
    assert success.startswith(live_server.url(billed.host, "/portal/billing/card-return/"))
    assert page.url == processor.answers[processor.requests[0]["key"]][1]["url"]

    page.goto(cancel)  # the customer gives up on the processor's page
    expect(page.get_by_role("heading", name="You left the card checkout")).to_be_visible()
    look(page, "pay-card-left")
    assert page.get_by_role("link", name="Go back to the checkout").get_attribute("href").startswith(
        "https://checkout.processor.example/")

    page.goto(success)  # paid there, and sent back before the webhook came
    expect(page.get_by_role("heading", name="Waiting for your card payment")).to_be_visible()
    payment_id = _payment_id(page)
    row = _request(db, billed, payment_id)
    raw = json.dumps({"id": f"evt_{secrets.token_hex(6)}", "object": "event", "type": "checkout.session.completed",
                      "created": int(time.time()), "data": {"object": session_object(row, 150000)}}).encode()
    answer = app.test_client().post("/webhooks/stripe", data=raw, headers={
        "Host": billed.host, "Content-Type": "application/json",
        "Stripe-Signature": stripe.sign(SECRET, raw, int(time.time()))})
    assert answer.get_json()["outcome"] == "applied"
    page.wait_for_url(_invoice_url(live_server, billed))
    expect(page.get_by_role("status")).to_have_text("Thank you. Your payment is received.")
    assert page.locator(".page-head .tag").inner_text() == "Paid"
    assert _invoice(db, billed) == ("Paid", Decimal("2000.00")) and daraja.pushes() == []


def test_a_top_up_in_whole_shillings(app, page, live_server, look, db, billed, daraja):
    sign_in(page, live_server, billed.host, billed.customer.portal_id)
    page.goto(live_server.url(billed.host, "/portal/billing"))
    page.get_by_role("link", name="Top up your balance").click()
    look(page, "pay-top-up")
    page.get_by_label("Amount (KES)").fill("500.50")
    page.get_by_role("button", name="Top up").click()
    expect(page.locator("#amount-error")).to_have_text("M-PESA takes whole shillings: enter the amount without cents.")
    assert page.get_by_label("Amount (KES)").input_value() == "500.50"  # kept as typed
    assert page.get_by_label("Amount (KES)").get_attribute("aria-invalid") == "true"
    assert daraja.pushes() == []
    page.get_by_label("Amount (KES)").fill("500")
    page.get_by_role("button", name="Top up").click()
    page.wait_for_url("**/progress")
    assert "500.00 KES" in page.locator("main").inner_text()
    [push] = daraja.pushes()
    assert push["Amount"] == 500
    _settle_push(app, db, billed, page, daraja)
    page.wait_for_url(live_server.url(billed.host, "/portal/billing"))
    expect(page.get_by_role("status")).to_have_text("Thank you. Your payment is received.")
    assert "2,200.00 KES" in page.get_by_role("region", name="Balance").inner_text()


def test_a_wrong_number_and_a_gateway_that_does_not_answer_are_said_on_the_form(page, live_server, look, db,
                                                                                 billed, daraja):
    before = _payments(db, billed)
    _open_pay_page(page, live_server, billed)
    page.get_by_label("M-PESA number").fill("12345")
    page.get_by_role("button", name="Pay 1,500.00 KES").click()
    error = page.locator("#phone-error")
    expect(error).to_have_text("Enter a Kenyan mobile number, like 0712 345 678 or 254712345678.")
    assert page.get_by_label("M-PESA number").input_value() == "12345"
    look(page, "pay-invoice-wrong-number")
    daraja.down = True
    page.get_by_label("M-PESA number").fill("0712 000 444")
    page.get_by_role("button", name="Pay 1,500.00 KES").click()
    expect(page.locator(".error-summary")).to_contain_text("The payment service did not answer. Nothing was paid.")
    assert daraja.pushes() == [] and _payments(db, billed) == before  # nothing kept
    daraja.down = False
    page.get_by_role("button", name="Pay 1,500.00 KES").click()
    page.wait_for_url("**/progress")
    assert daraja.pushes()[0]["PhoneNumber"] == "254712000444"


def test_paying_by_keyboard_alone(page, live_server, db, billed, daraja):
    sign_in(page, live_server, billed.host, billed.customer.portal_id)
    page.goto(_invoice_url(live_server, billed))
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == f"Pay Invoice {billed.overdue_number}":
            break
    assert page.evaluate("document.activeElement.textContent") == f"Pay Invoice {billed.overdue_number}"
    page.keyboard.press("Enter")
    page.wait_for_url(_invoice_url(live_server, billed) + "/pay")
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "phone":
            break
    page.keyboard.press("Control+A")
    page.keyboard.type("0712 000 333")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Pay 1,500.00 KES"
    page.keyboard.press("Enter")
    page.wait_for_url("**/progress")
    assert daraja.pushes()[0]["PhoneNumber"] == "254712000333"
    expect(page.get_by_role("heading", name="Check your phone")).to_be_visible()
