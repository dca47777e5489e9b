"""The customer's Top-ups pages in a real browser: a customer signs in, opens Top-ups and one of their services, buys a
data bundle from their balance (the bucket appears with weight 20 and its expiry, the balance goes down), is
refused when the credit does not cover it (the message, the choice kept), pays a bundle by M-PESA against a Daraja
served over real HTTP (the "check your phone" page refreshes itself without JavaScript until the callback has come,
then shows the bundle; the money pays the bundle and not an older invoice), buys once when the form is sent twice,
asks for emergency credit where the reseller allows it and finds none where it does not; by keyboard alone, at 360 px
and 1280 px; another customer's service or payment is not found; every word is in Swahili."""

from __future__ import annotations

import itertools
import json
import urllib.parse
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app import clock
from app.models.billing import Invoice, PaymentRequest, UsageBucket
from app.models.catalogue import Plan
from app.services import customers, services
from app.services.auth import users
from app.services.billing import allocation, invoices, payments
from app.services.billing.gateways import config as gateway_config
from app.services.billing.gateways import daraja_settings
from app.services.demo import DEMO_PASSWORD
from app.services.settings import get_setting, put_setting
from app.services.usage import views
from tenants import tenant_context
from tenants.registry import directory
from tests.billing.test_stk_initiation import CONSUMER_KEY, CONSUMER_SECRET, PASSKEY, daraja  # noqa: F401
from tests.portals.signin import sign_in

pytestmark = pytest.mark.browser
_n = itertools.count(1)
_receipts = itertools.count(1)
_daraja_runs = itertools.count(1)
UNCHANGED = ("SMS", "Data")  # the same word in Swahili


@dataclass
class Shopper:
    tenant: object
    host: str
    id: int
    portal_id: str
    name: str
    phone: str  # as M-PESA has it, 2547…
    service_id: int
    invoice_id: int | None  # an older invoice left unpaid, if any


def make_shopper(db, *, credit: str | None = "2000.00", owing: str | None = None, code: str = "ABC_ISP",
                 host: str = "abc.test.example") -> Shopper:
    """A customer with one active Home 20 Mbps service; `credit` paid in cash with nothing to pay it on, or
    `owing` on an overdue invoice."""
    tenant = directory().by_code(code)
    n = next(_n)
    phone = f"25472{tenant.id % 10}{n:06d}"
    with db.session() as s, tenant_context(tenant):
        plan = s.execute(select(Plan).where(Plan.code == "HOME-20")).scalar_one()
        person = customers.create(s, first_name="Amani", last_name=f"Otieno{n}", email=f"amani{n}@example.com",
                                  phone=f"+{phone}", billing_day=5)
        users.set_portal_password(s, person.id, DEMO_PASSWORD)
        service = services.create(s, person.id, plan.id)
        services.activate(s, service.id, reason="test")
        invoice_id = None
        if owing:
            today = views.local_today(s)
            bill = invoices.create_draft(s, person.id, [{"description": "Installation", "unit_price": Decimal(owing),
                                                         "taxable": False}])
            invoice_id = invoices.issue(s, bill.id, today=today - timedelta(days=30)).id
            invoices.mark_overdue(s, today)
        if credit:
            payments.record(s, customer_id=person.id, amount=Decimal(credit), method="cash", actor="test")
        s.commit()
        return Shopper(tenant, host, person.id, person.portal_id, person.display_name, phone, service.id, invoice_id)


@pytest.fixture
def shopper(db, demo):
    return make_shopper(db)


def _buckets(db, who: Shopper, source: str | None = None) -> list[UsageBucket]:
    with db.session() as s, tenant_context(who.tenant):
        query = select(UsageBucket).where(UsageBucket.service_id == who.service_id).order_by(UsageBucket.id)
        if source:
            query = query.where(UsageBucket.source == source)
        found = list(s.execute(query).scalars())
        s.expunge_all()
        return found


def _credit(db, who: Shopper) -> Decimal:
    with db.session() as s, tenant_context(who.tenant):
        return allocation.credit(s, who.id)


def _service_url(live_server, who: Shopper, service_id: int | None = None) -> str:
    return live_server.url(who.host, f"/portal/topups/services/{service_id or who.service_id}")


def _open_service(page, live_server, who: Shopper) -> None:
    sign_in(page, live_server, who.host, who.portal_id)
    page.get_by_role("navigation", name="Your account").get_by_role("link", name="Top-ups").click()
    page.wait_for_url(live_server.url(who.host, "/portal/topups"))
    page.get_by_role("link", name="Buy a bundle for Home 20 Mbps").click()
    page.wait_for_url(_service_url(live_server, who))


def post(page, path: str, fields: dict) -> int:
    """A form's POST from inside the page (its cookies), not followed: its status (0 for a redirect)."""
    return page.evaluate("""async ([path, fields]) => {
        const r = await fetch(path, {method: "POST", body: new URLSearchParams(fields), redirect: "manual",
                                     credentials: "same-origin"});
        return r.status;
    }""", [path, fields])


def _send(page, path: str, fields: dict) -> dict:
    """A form's POST from inside the page, followed: the status and the page it answers with."""
    return page.evaluate("""async ([path, fields]) => {
        const r = await fetch(path, {method: "POST", body: new URLSearchParams(fields), credentials: "same-origin"});
        return {status: r.status, text: await r.text()};
    }""", [path, fields])


def _fields(page, selector: str = "form.topup-form") -> dict:
    """The form's fields as the page holds them now (the CSRF token and the form's own token among them)."""
    return page.evaluate("s => Object.fromEntries(new FormData(document.querySelector(s)))", selector)


# -- buying from the balance ----------------------------------------------------------------------------------

def test_a_data_bundle_bought_from_the_balance(page, live_server, look, db, shopper):
    _open_service(page, live_server, shopper)
    look(page, "topups-service")
    assert "You have 2,000.00 KES in credit." in page.locator("#buy").inner_text()
    page.get_by_label("5 GB data, 30 days").check()
    assert page.get_by_label("From my balance").is_checked()
    page.get_by_role("button", name="Buy the bundle").click()
    page.wait_for_url(f"**/portal/topups/services/{shopper.service_id}?bought=*")
    bought = page.locator("#bought")
    expect(bought).to_contain_text("Bought: 5,120 MB of data for Home 20 Mbps.")
    assert "Paid from your balance: 500.00 KES" in bought.inner_text()
    look(page, "topups-bought")

    [bucket] = _buckets(db, shopper, "topup")
    assert (bucket.kind, bucket.total, bucket.remaining, bucket.weight) == ("data", 5120, 5120, 20)
    assert abs(bucket.expires_at - (clock.now() + timedelta(days=30))) < timedelta(minutes=5)
    row = page.locator("tr.topup-new")
    assert [c.strip() for c in row.locator("td").all_inner_texts()][:6] == [
        "Data", "Top-up", "20", "5,120 MB", "0 MB", "5,120 MB"]
    shown_expiry = row.locator("td").nth(6).inner_text()
    assert bucket.expires_at.astimezone(bucket.expires_at.tzinfo).strftime("%Y") in shown_expiry
    order = page.locator("#buckets tbody tr td:nth-child(3)").all_inner_texts()
    assert order == sorted(order, key=int)  # in draw order: the top-up (20) before the plan's allowance (30)
    assert "Used in this order" in page.locator("#buckets").inner_text()

    assert _credit(db, shopper) == Decimal("1500.00")
    assert "You have 1,500.00 KES in credit." in page.locator("#buy").inner_text()
    page.get_by_role("link", name="Top-ups", exact=True).first.click()
    overview = page.get_by_role("region", name="Your balance").inner_text()
    assert "1,500.00 KES" in overview
    card = page.locator(f"#service-{shopper.service_id}").inner_text()
    assert "MB left" in card
    look(page, "topups")


def test_a_bundle_the_credit_does_not_cover_is_refused_and_the_choice_kept(page, live_server, look, db, demo):
    poor = make_shopper(db, credit="100.00")
    _open_service(page, live_server, poor)
    page.get_by_label("20 GB data, 30 days").check()
    page.get_by_role("button", name="Buy the bundle").click()
    page.wait_for_load_state()
    refused = page.locator("#pay_with-error").inner_text()
    assert "Your balance does not cover this bundle." in refused
    assert "You have 100.00 KES in credit and this bundle costs 1,500.00 KES." in refused
    assert page.get_by_label("20 GB data, 30 days").is_checked() and page.get_by_label("From my balance").is_checked()
    look(page, "topups-not-covered")
    assert _buckets(db, poor, "topup") == [] and _credit(db, poor) == Decimal("100.00")
    with db.session() as s, tenant_context(poor.tenant):
        assert s.execute(select(Invoice.id).where(Invoice.customer_id == poor.id)).first() is None
    assert page.get_by_label("By M-PESA").count() == 0  # this reseller takes no M-PESA online: not offered
    sent = _send(page, f"/portal/topups/services/{poor.service_id}/buy", {**_fields(page), "pay_with": "mpesa"})
    assert sent["status"] == 409 and "does not take M-PESA payments online" in sent["text"]


def test_a_form_sent_twice_buys_once(page, live_server, db, shopper):
    _open_service(page, live_server, shopper)
    page.get_by_label("20 GB data, 30 days").check()
    fields = _fields(page)
    path = f"/portal/topups/services/{shopper.service_id}/buy"
    statuses = page.evaluate("""async ([path, fields]) => {
        const send = () => fetch(path, {method: "POST", body: new URLSearchParams(fields), redirect: "manual",
                                        credentials: "same-origin"}).then(r => r.status);
        return Promise.all([send(), send()]);
    }""", [path, fields])
    assert statuses == [0, 0]  # both answered with the redirect to what was bought
    assert len(_buckets(db, shopper, "topup")) == 1
    assert _credit(db, shopper) == Decimal("500.00")
    assert post(page, path, fields) == 0  # and again later: still the first purchase
    assert len(_buckets(db, shopper, "topup")) == 1 and _credit(db, shopper) == Decimal("500.00")
    bought = _buckets(db, shopper, "topup")[0].id
    page.goto(_service_url(live_server, shopper) + f"?bought={bought}&again=1")
    assert "nothing more was bought" in page.locator("#bought").inner_text()


def test_one_purchase_by_keyboard_alone_at_phone_width(page, live_server, look, db, shopper):
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, live_server, shopper.host, shopper.portal_id)
    page.goto(live_server.url(shopper.host, "/portal/topups"))

    def tab_to(test: str, limit: int = 40) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(test):
                return
        raise AssertionError(f"never reached by Tab: {test}")

    tab_to("document.activeElement.textContent.startsWith('Buy a bundle')")
    page.keyboard.press("Enter")
    page.wait_for_url(_service_url(live_server, shopper))
    tab_to("document.activeElement.name === 'bundle'")
    page.keyboard.press("Space")  # the first bundle: 5 GB
    assert page.get_by_label("5 GB data, 30 days").is_checked()
    tab_to("document.activeElement.name === 'pay_with'")
    assert page.evaluate("document.activeElement.value") == "balance"
    tab_to("document.activeElement.type === 'submit' && document.activeElement.textContent === 'Buy the bundle'")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/portal/topups/services/{shopper.service_id}?bought=*")
    assert "Bought: 5,120 MB of data" in page.locator("#bought").inner_text()
    assert len(_buckets(db, shopper, "topup")) == 1


# -- by M-PESA ------------------------------------------------------------------------------------------------

@pytest.fixture
def mpesa(db, daraja, demo):  # noqa: F811 (the Daraja fixture of the STK tests)
    """ABC Internet takes M-PESA online through the test's Daraja, for the test only. Its CheckoutRequestIDs
    are numbered on from the last test's: every test's pushes are ABC Internet's, in one schema."""
    daraja._ids = itertools.count(next(_daraja_runs) * 10_000)
    tenant = directory().by_code("ABC_ISP")
    with db.session() as s, tenant_context(tenant):
        daraja_settings.set_daraja(s, shortcode="174379", shortcode_type="paybill", environment="sandbox",
                                   consumer_key=CONSUMER_KEY, consumer_secret=CONSUMER_SECRET, passkey=PASSKEY)
        s.commit()
    yield daraja
    with db.session() as s, tenant_context(tenant):
        gateway_config.remove(s, "mpesa")
        s.commit()


def callback(app, push: dict, code: int = 0, desc: str = "The service request is processed successfully."):
    """Daraja's STK result, POSTed to the CallBackURL the push carried."""
    found = {"MerchantRequestID": "29115-3462-1", "CheckoutRequestID": push["checkout"], "ResultCode": code,
             "ResultDesc": desc}
    if code == 0:
        found["CallbackMetadata"] = {"Item": [
            {"Name": "Amount", "Value": push["Amount"]},
            {"Name": "MpesaReceiptNumber", "Value": f"TOP{next(_receipts):07d}"},
            {"Name": "TransactionDate", "Value": 20261121003512},
            {"Name": "PhoneNumber", "Value": int(push["PhoneNumber"])}]}
    url = urllib.parse.urlsplit(push["CallBackURL"])
    answer = app.test_client().post(url.path, data=json.dumps({"Body": {"stkCallback": found}}),
                                    headers={"Host": url.hostname, "Content-Type": "application/json"})
    assert answer.status_code == 200, answer.get_data(as_text=True)


def _push(db, who: Shopper, daraja) -> dict:  # noqa: F811
    [push] = daraja.pushes()
    with db.session() as s, tenant_context(who.tenant):
        request = s.execute(select(PaymentRequest).where(PaymentRequest.customer_id == who.id)).scalar_one()
        return {**push, "checkout": request.provider_ref, "payment_id": request.payment_id}


def test_a_bundle_paid_by_mpesa_without_javascript(browser, live_server, app, db, mpesa):
    who = make_shopper(db, credit=None, owing="1000.00")
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        _open_service(page, live_server, who)
        assert page.get_by_label("M-PESA number").input_value() == who.phone  # from the profile
        page.get_by_label("5 GB data, 30 days").check()
        page.get_by_label("By M-PESA").check()
        page.get_by_role("button", name="Buy the bundle").click()
        page.wait_for_url("**/portal/topups/payments/*")
        main = page.locator("main")
        assert page.get_by_role("heading", name="Check your phone").is_visible()
        assert "500.00 KES" in main.inner_text() and who.phone in main.inner_text()
        assert page.locator('meta[http-equiv="refresh"]').get_attribute("content") == "5"  # no script: it reloads
        push = _push(db, who, mpesa)
        assert push["Amount"] == 500 and push["PhoneNumber"] == who.phone and push["TransactionDesc"] == "Top-up"
        assert _buckets(db, who, "topup") == []  # nothing before the money

        callback(app, push)
        page.wait_for_url(f"**/portal/topups/services/{who.service_id}?bought=*", timeout=15_000)  # reloaded itself
        bought = page.locator("#bought").inner_text()
        assert "Bought: 5,120 MB of data for Home 20 Mbps." in bought and "Paid by M-PESA: 500.00 KES" in bought
        [bucket] = _buckets(db, who, "topup")
        assert (bucket.kind, bucket.total, bucket.weight) == ("data", 5120, 20)
        assert "5,120 MB" in page.locator("tr.topup-new").inner_text()
        with db.session() as s, tenant_context(who.tenant):
            bundle_invoice = s.get(Invoice, bucket.invoice_id)
            older = s.get(Invoice, who.invoice_id)
            assert bundle_invoice.status == "Paid" and bundle_invoice.total == Decimal("500.00")
            assert older.status == "Overdue" and older.amount_paid == 0  # the money paid the bundle it was sent for
    finally:
        context.close()


def test_the_mpesa_pages_look_right_and_a_cancelled_push_says_why(page, live_server, app, look, db, mpesa):
    who = make_shopper(db, credit=None)
    _open_service(page, live_server, who)
    page.get_by_label("By M-PESA").check()
    page.get_by_label("200 SMS, 30 days").check()
    look(page, "topups-mpesa-choice")
    page.get_by_role("button", name="Buy the bundle").click()
    page.wait_for_url("**/portal/topups/payments/*")
    expect(page.get_by_role("heading", name="Check your phone")).to_be_visible()
    look(page, "topups-check-your-phone")
    callback(app, _push(db, who, mpesa), code=1032, desc="Request cancelled by user")
    failed = page.get_by_role("heading", name="The payment did not go through")
    expect(failed).to_be_visible(timeout=15_000)  # htmx asked again and swapped the answer in
    assert "You cancelled the payment on your phone." in page.locator("main").inner_text()
    page.get_by_role("link", name="Try again").click()
    page.wait_for_url(f"**/portal/topups/services/{who.service_id}?bundle=SMS-200#buy")
    assert page.get_by_label("200 SMS, 30 days").is_checked()
    assert _buckets(db, who, "topup") == []


def test_an_mpesa_form_sent_twice_sends_one_push(page, live_server, db, mpesa):
    who = make_shopper(db, credit=None)
    _open_service(page, live_server, who)
    page.get_by_label("5 GB data, 30 days").check()
    page.get_by_label("By M-PESA").check()
    fields = _fields(page)
    path = f"/portal/topups/services/{who.service_id}/buy"
    statuses = page.evaluate("""async ([path, fields]) => {
        const send = () => fetch(path, {method: "POST", body: new URLSearchParams(fields), redirect: "manual",
                                        credentials: "same-origin"}).then(r => r.status);
        return Promise.all([send(), send()]);
    }""", [path, fields])
    assert statuses == [0, 0]
    assert len(mpesa.pushes()) == 1
    with db.session() as s, tenant_context(who.tenant):
        assert len(s.execute(select(PaymentRequest).where(PaymentRequest.customer_id == who.id)).all()) == 1
    # another bundle while that prompt waits for the PIN: refused, with the way to the waiting one
    page.reload()
    page.get_by_label("20 GB data, 30 days").check()
    page.get_by_label("By M-PESA").check()
    page.get_by_role("button", name="Buy the bundle").click()
    page.wait_for_load_state()
    assert "A payment is already waiting for your M-PESA PIN." in page.get_by_role("alert").inner_text()
    assert len(mpesa.pushes()) == 1
    page.get_by_role("link", name="See the payment that is waiting").click()
    expect(page.get_by_role("heading", name="Check your phone")).to_be_visible()


def test_money_that_came_for_a_bundle_no_longer_possible_stays_as_credit(page, live_server, app, db, mpesa):
    who = make_shopper(db, credit=None)
    _open_service(page, live_server, who)
    page.get_by_label("5 GB data, 30 days").check()
    page.get_by_label("By M-PESA").check()
    page.get_by_role("button", name="Buy the bundle").click()
    page.wait_for_url("**/portal/topups/payments/*")
    with db.session() as s, tenant_context(who.tenant):
        services.terminate(s, who.service_id, reason="moved away")
        s.commit()
    callback(app, _push(db, who, mpesa))
    page.wait_for_url(f"**/portal/topups/services/{who.service_id}#buy", timeout=15_000)
    assert "the bundle could not be added to this service" in page.locator(".notices").inner_text()
    assert "This service cannot take a top-up" in page.locator("main").inner_text()
    assert _buckets(db, who, "topup") == [] and _credit(db, who) == Decimal("500.00")


# -- emergency credit ------------------------------------------------------------------------------------------

def test_emergency_credit_where_the_reseller_allows_it_and_none_where_not(page, live_server, look, db, shopper):
    _open_service(page, live_server, shopper)
    offer = page.get_by_role("region", name="Emergency credit")
    assert "for 48 hours" in offer.inner_text()
    offer.get_by_label("5,120 MB of data").check()
    offer.get_by_role("button", name="Ask for emergency credit").click()
    page.wait_for_url(f"**/portal/topups/services/{shopper.service_id}#emergency")
    assert "Your emergency credit is ready to use." in page.locator(".notices").inner_text()
    held = page.get_by_role("region", name="Emergency credit").inner_text()
    assert "5,120 MB" in held and "In use." in held
    assert page.get_by_role("button", name="Ask for emergency credit").count() == 0  # one at a time
    [lent] = _buckets(db, shopper, "emergency")
    assert (lent.kind, lent.total, lent.weight) == ("data", 5120, 40)
    assert "Emergency credit" in page.locator("#buckets tbody tr").last.inner_text()
    look(page, "topups-emergency")

    with db.session() as s, tenant_context(shopper.tenant):
        kept = get_setting(s, "topups")
        put_setting(s, "topups", {**kept, "emergency": {"self_service": False}})
        s.commit()
    try:
        page.reload()  # what this service holds still shows; asking for more is gone
        assert "In use." in page.get_by_role("region", name="Emergency credit").inner_text()
        assert "Run out before you can pay?" not in page.locator("main").inner_text()
        other = make_shopper(db)
        page.context.clear_cookies()
        sign_in(page, live_server, other.host, other.portal_id)
        page.goto(_service_url(live_server, other))
        assert page.get_by_role("region", name="Emergency credit").count() == 0
        token = page.locator("input[name=csrf_token]").first.get_attribute("value")
        assert post(page, f"/portal/topups/services/{other.service_id}/emergency",
                    {"csrf_token": token, "kind": "data", "token": "x" * 24}) == 409
        assert _buckets(db, other, "emergency") == []
    finally:
        with db.session() as s, tenant_context(shopper.tenant):
            put_setting(s, "topups", kept)
            s.commit()


# -- the tenant boundary ---------------------------------------------------------------------------------------

def test_another_customers_service_and_payment_are_not_found(page, live_server, db, shopper, mpesa):
    other = make_shopper(db, credit=None)
    sign_in(page, live_server, other.host, other.portal_id)  # the other one starts an M-PESA payment of theirs
    page.goto(_service_url(live_server, other))
    page.get_by_label("5 GB data, 30 days").check()
    page.get_by_label("By M-PESA").check()
    page.get_by_role("button", name="Buy the bundle").click()
    page.wait_for_url("**/portal/topups/payments/*")
    theirs = page.url.rsplit("/", 1)[-1]
    page.context.clear_cookies()

    sign_in(page, live_server, shopper.host, shopper.portal_id)
    assert page.goto(_service_url(live_server, shopper, other.service_id)).status == 404
    assert page.goto(live_server.url(shopper.host, f"/portal/topups/payments/{theirs}")).status == 404
    page.goto(_service_url(live_server, shopper))
    fields = {**_fields(page), "bundle": "DATA-5GB", "pay_with": "balance"}
    assert post(page, f"/portal/topups/services/{other.service_id}/buy", fields) == 404
    emergency = _fields(page, f"form[action$='/services/{shopper.service_id}/emergency']")
    assert post(page, f"/portal/topups/services/{other.service_id}/emergency", {**emergency, "kind": "data"}) == 404
    assert {b.source for b in _buckets(db, other)} <= {"plan"}
    assert _credit(db, shopper) == Decimal("2000.00")
    page.goto(live_server.url(shopper.host, "/portal/topups"))
    shown = page.locator("body").inner_text()
    assert other.portal_id not in shown and other.name not in shown
    assert f"service-{other.service_id}" not in page.content()
    assert page.goto(live_server.url("xyz.test.example", "/portal/topups")).url.endswith("/login?next=/portal/topups")


# -- words -----------------------------------------------------------------------------------------------------

def test_the_pages_speak_the_resellers_language_and_every_word_is_in_swahili(client, db, demo):
    from jinja2.ext import babel_extract

    from app.services.branding import i18n
    from tests.web.forms import submit

    words = i18n.translations("sw")
    untranslated = []
    for template in sorted((i18n.CATALOGUES.parent / "templates/portal/topups").glob("*.html")):
        with template.open("rb") as source:
            for _line, _function, message, _comments in babel_extract(source, ("_",), [], {}):
                message = message[0] if isinstance(message, tuple) else message
                if message and words.gettext(message) == message and message not in UNCHANGED:
                    untranslated.append(f"{template.name}: {message}")
    from app.portals.customer import topups

    for name in dir(topups):  # the pages' messages (msgids) and the forms' choices
        value = getattr(topups, name)
        texts = [value] if isinstance(value, str) and name.isupper() and " " in value else []
        if name in ("PAY_WITH", "EMERGENCY_KINDS"):
            texts = [choice.label for choice in value]
        untranslated += [f"topups.{name}: {t}" for t in texts if words.gettext(t) == t and t not in UNCHANGED]
    shown = ("Your plan", "Promotion", "Top-up", "Add-on", "Emergency credit", "Prepaid credit", "Voice")  # _words.html
    untranslated += [w for w in shown if words.gettext(w) == w]
    assert untranslated == []

    who = make_shopper(db, code="ABC_EAST", host="east.abc.test.example")
    with db.session() as s, tenant_context(who.tenant):
        put_setting(s, "language", "sw")
        s.commit()
    try:
        submit(client, "/login", who.host, identifier=who.portal_id, password=DEMO_PASSWORD)
        html = client.get("/portal/topups", headers={"Host": who.host}).get_data(as_text=True)
        assert 'lang="sw"' in html and words.gettext("Bundles on offer") in html
        html = client.get(f"/portal/topups/services/{who.service_id}", headers={"Host": who.host}).get_data(
            as_text=True)
        assert words.gettext("Buy a bundle") in html and words.gettext("What this service draws on") in html
    finally:
        with db.session() as s, tenant_context(who.tenant):
            put_setting(s, "language", "en")
            s.commit()
