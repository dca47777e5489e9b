"""The demo's payments, as a person trying `make run --demo` makes them: the gateway simulator
(app/gateway_simulator) served over real HTTP, the demo reseller's gateways pointed at it with the keys derived
from SECRET_KEY (app/services/demo_gateways.py). Paying by M-PESA rings the simulator's pretend phone, where
the prompt is accepted, and the invoice turns Paid from the callback it posts; a prompt cancelled there says
so; paying by card goes to the simulator's checkout, where a declined card is said and a good one pays, and
the customer comes back to the invoice, Paid. A gateway someone set by hand is left as it is."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from werkzeug.serving import make_server

from app.gateway_simulator.server import create
from app.gateway_simulator.state import Simulator
from app.models.billing import Invoice
from app.services import demo_gateways
from app.services.billing.gateways import config, daraja_settings
from tenants import tenant_context
from tenants.registry import directory
from tests.portals.customer.test_billing import billed_customer
from tests.portals.signin import sign_in

pytestmark = pytest.mark.browser


def _remove_gateways(db) -> None:
    with tenant_context(directory().by_code("ABC_ISP")), db.session() as s:
        config.remove(s, "mpesa")
        config.remove(s, "stripe")
        s.commit()


@pytest.fixture
def simulator(app, db, demo, live_server, monkeypatch):
    """The simulator on a free port, the gateways' addresses pointed at it, ABC's gateways set by the demo's
    `connect` (and taken away after: the demo tenants are shared by every test of this worker)."""
    keys = demo_gateways.Keys.from_secret_key(app.config["SECRET_KEY"])
    sim = Simulator(keys=keys, web=f"http://127.0.0.1:{live_server.port}", public="", answer_after=600)
    server = make_server("127.0.0.1", 0, create(sim), threaded=True)
    sim.public = f"http://gateway.simulator.example:{server.server_port}"  # chromium maps every host to us
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    for name in ("BACKHAUL_DARAJA_SANDBOX_URL", "BACKHAUL_STRIPE_API_BASE"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{server.server_port}")
    assert demo_gateways.connect(db, ["ABC_ISP"], keys) == ["ABC_ISP"]
    yield sim
    sim.close()
    server.shutdown()
    server.server_close()
    _remove_gateways(db)


@pytest.fixture
def billed(db, demo):
    return billed_customer(db)


def _invoice_url(live_server, billed) -> str:
    return live_server.url(billed.host, f"/portal/billing/invoices/{billed.overdue_id}")


def _status(db, billed) -> tuple[str, Decimal]:
    with tenant_context(billed.customer.tenant), db.session() as s:
        found = s.execute(select(Invoice).where(Invoice.id == billed.overdue_id)).scalar_one()
        return found.status, found.amount_paid


def _pay(page, live_server, billed, way: str) -> None:
    sign_in(page, live_server, billed.host, billed.customer.portal_id)
    page.goto(_invoice_url(live_server, billed))
    page.get_by_role("link", name=f"Pay Invoice {billed.overdue_number}").click()
    page.get_by_role("group", name="How do you want to pay?").get_by_label(way).check()  # both are offered
    page.get_by_role("button", name="Pay 1,500.00 KES").click()


def test_a_demo_customer_pays_by_mpesa_on_the_pretend_phone(page, live_server, look, db, billed, simulator):
    _pay(page, live_server, billed, way="M-PESA")
    page.wait_for_url("**/progress")
    expect(page.get_by_role("heading", name="Check your phone", level=1)).to_be_visible()

    phone = page.context.new_page()
    phone.goto(f"{simulator.public}/phone")
    prompt = phone.get_by_role("region", name=f"Pay KES 1,500 to account {billed.customer.portal_id}?")
    expect(prompt).to_be_visible()
    look(phone, "demo-gateway-phone")
    prompt.get_by_role("button", name="Enter PIN and pay").click()
    expect(phone.get_by_text("No prompt is waiting.")).to_be_visible()
    assert "The service request is processed successfully." in phone.locator("main").inner_text()

    page.wait_for_url(_invoice_url(live_server, billed))  # the callback came, and the page went on
    expect(page.get_by_role("status")).to_have_text("Thank you. Your payment is received.")
    assert page.locator(".page-head .tag").inner_text() == "Paid"
    assert _status(db, billed) == ("Paid", Decimal("2000.00"))


def test_a_prompt_cancelled_on_the_phone_says_so(page, live_server, db, billed, simulator):
    _pay(page, live_server, billed, way="M-PESA")
    page.wait_for_url("**/progress")
    phone = page.context.new_page()
    phone.goto(f"{simulator.public}/phone")
    phone.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("heading", name="The payment did not go through")).to_be_visible()
    assert "You cancelled the payment on your phone." in page.locator("main").inner_text()
    assert _status(db, billed) == ("Overdue", Decimal("500.00"))


def test_a_demo_customer_pays_by_card_at_the_demo_checkout(page, live_server, look, db, billed, simulator):
    _pay(page, live_server, billed, way="Card")
    page.wait_for_url(f"{simulator.public}/checkout/**")
    expect(page.get_by_role("heading", name="Pay 1,500.00 KES", level=1)).to_be_visible()
    page.get_by_label("Card number").fill("4000 0000 0000 0002")
    page.get_by_role("button", name="Pay 1,500.00 KES").click()
    expect(page.get_by_role("alert")).to_contain_text("Your card was declined.")
    look(page, "demo-gateway-checkout-declined")
    assert _status(db, billed) == ("Overdue", Decimal("500.00"))

    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_role("button", name="Pay 1,500.00 KES").click()
    page.wait_for_url(_invoice_url(live_server, billed))  # the webhook came before the customer did
    expect(page.get_by_role("status")).to_have_text("Thank you. Your payment is received.")
    assert page.locator(".page-head .tag").inner_text() == "Paid"
    assert _status(db, billed) == ("Paid", Decimal("2000.00"))


def test_connect_keeps_a_gateway_set_by_hand_and_resets_its_own(app, db, demo):
    keys = demo_gateways.Keys.from_secret_key(app.config["SECRET_KEY"])
    tenant = directory().by_code("ABC_ISP")
    try:
        with tenant_context(tenant), db.session() as s:
            daraja_settings.set_daraja(s, shortcode="600100", shortcode_type="paybill", environment="production",
                                       consumer_key="ck_live_by_hand_1234", consumer_secret="cs_live_by_hand_1234",
                                       passkey="passkey_by_hand_1234")
            s.commit()
        demo_gateways.connect(db, ["ABC_ISP", "NO_SUCH_RESELLER"], keys)
        with tenant_context(tenant), db.session() as s:
            kept = daraja_settings.daraja(s)
            assert (kept.consumer_key, kept.shortcode, kept.environment) == ("ck_live_by_hand_1234", "600100",
                                                                             "production")
            assert config.stripe_api_key(s) == keys.api_key  # unset, so the demo's
            config.set_stripe(s, api_key="sk_demo_an_older_secret_key")  # the demo's, from another SECRET_KEY
            s.commit()
        demo_gateways.connect(db, ["ABC_ISP"], keys)
        with tenant_context(tenant), db.session() as s:
            assert config.stripe_api_key(s) == keys.api_key
            assert config.stripe_webhook_secret(s) == keys.webhook_secret
    finally:
        _remove_gateways(db)
