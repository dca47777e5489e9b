"""The customer's dashboard in a real browser: a customer signs in through the form and sees their balance,
next bill, what is unpaid, each service's card with its usage and fair-use state and the latest payments;
everything by keyboard alone, at 360 px and 1280 px; a card refreshes alone with JavaScript and with the page
without it; another customer's service is not found."""

from __future__ import annotations

import pytest
from babel.dates import format_date
from playwright.sync_api import expect

from app.services.billing import next_bill
from tenants import tenant_context
from tests.portals.customers import add_usage, make_customer
from tests.portals.rig import drawn, fetch
from tests.portals.signin import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def customer(db, demo):
    return make_customer(db)


def _card(page, service_id: int):
    return page.locator(f"#service-{service_id}")


def test_a_customer_sees_every_figure_of_their_account(page, live_server, look, db, demo, customer):
    sign_in(page, live_server, customer.host, customer.portal_id)
    look(page, "dashboard")
    text = page.locator("main").inner_text()
    balance = page.get_by_role("region", name="Balance")
    assert "1,500.00 KES" in balance.inner_text() and "to pay" in balance.inner_text()
    assert "0.00 KES" in balance.get_by_text("Credit").locator("..").inner_text()
    with db.session() as s, tenant_context(customer.tenant):
        coming = next_bill.next_bill(s, customer.id)
    assert format_date(coming.on, "d MMMM y", locale="en") in balance.inner_text()
    assert format_date(coming.due_on, "d MMMM y", locale="en") in balance.inner_text()

    unpaid = page.get_by_role("region", name="To pay").inner_text()
    assert customer.invoice_number in unpaid and "Overdue" in unpaid and "1,500.00 KES" in unpaid
    pay = page.get_by_role("region", name="To pay").get_by_role("link", name="Pay")
    assert pay.get_attribute("href").startswith("/portal/billing/invoices/") and pay.get_attribute("href").endswith(
        "/pay")  # the payment page exists, so its button is shown

    limited, active = _card(page, customer.limited_id).inner_text(), _card(page, customer.active_id).inner_text()
    assert "Home 10 Mbps" in limited and "Limited" in limited and "Limited by fair use." in limited
    assert "Home 20 Mbps" in active and "Active" in active and "1,500 of 500,000 MB used" in active
    assert page.locator(f"#service-{customer.active_id} img").get_attribute("src").endswith("/usage.svg")
    chart = fetch(page, page.locator(f"#service-{customer.active_id} img").get_attribute("src"))
    assert chart["status"] == 200 and chart["type"].startswith("image/svg+xml") and "<script" not in chart["text"]
    assert drawn(page.locator(f"#service-{customer.active_id} img"))

    payments = page.get_by_role("region", name="Recent payments").inner_text()
    assert customer.receipt_number in payments and "500.00 KES" in payments and "M-PESA" in payments
    first = demo["ABC_ISP"]["customers"][0]  # another customer of the same reseller
    assert first[0] not in text and first[1] not in text


def test_the_dashboard_works_by_keyboard_alone_at_phone_width(page, live_server, look, customer):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(live_server.url(customer.host, "/login"))
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    for _ in range(8):  # to the Portal ID field, by Tab alone
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "identifier":
            break
    page.keyboard.type(customer.portal_id)
    page.keyboard.press("Tab")
    page.keyboard.type("Demo#Pass2026")
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url(customer.host, "/portal"))
    menu = page.locator("details.nav-narrow")
    assert not menu.evaluate("d => d.open") and page.locator(".nav-wide").is_hidden()
    for _ in range(5):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.tagName") == "SUMMARY":
            break
    page.keyboard.press("Enter")
    assert menu.evaluate("d => d.open")
    look(page, "dashboard-menu-open")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Dashboard"
    assert page.evaluate("document.activeElement.getAttribute('aria-current')") == "page"
    sections = page.locator("details.nav-narrow nav a").all_inner_texts()
    assert sections[0] == "Dashboard"
    for label in sections[1:] + ["Sign out"]:  # every other section that has its page, then signing out
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == label
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url(customer.host, "/login"))
    assert "You are signed out." in page.locator("main").inner_text()


def test_refresh_usage_reloads_the_dashboard_at_the_card(page, live_server, db, customer):
    sign_in(page, live_server, customer.host, customer.portal_id)
    with db.session() as s, tenant_context(customer.tenant):
        add_usage(s, customer.active_id, 1000)
        s.commit()
    _card(page, customer.active_id).get_by_role("link", name="Refresh usage").click()
    page.wait_for_url(f"**/portal?service={customer.active_id}#service-{customer.active_id}")
    expect(_card(page, customer.active_id)).to_contain_text("2,500 of 500,000 MB used")
    # the dashboard loads no script: what it shows comes with the page (htmx is for the pages that poll)
    assert page.locator("script").count() == 0


def test_the_same_link_reloads_the_page_without_javascript(browser, live_server, db, customer):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, live_server, customer.host, customer.portal_id)
        with db.session() as s, tenant_context(customer.tenant):
            add_usage(s, customer.active_id, 700)
            s.commit()
        _card(page, customer.active_id).get_by_role("link", name="Refresh usage").click()
        page.wait_for_load_state()
        assert "2,200 of 500,000 MB used" in _card(page, customer.active_id).inner_text()
        page.get_by_text("Show the figures as a table").first.click()  # a <details>: opens without script
        assert page.locator("details.chart-figures[open] table").count() == 1
    finally:
        context.close()


def test_another_customers_service_is_not_found(page, live_server, db, customer):
    other = make_customer(db)
    sign_in(page, live_server, customer.host, customer.portal_id)
    for path in (f"/portal?service={other.active_id}", f"/portal/dashboard/services/{other.active_id}/usage.svg"):
        assert page.goto(live_server.url(customer.host, path)).status == 404, path
    assert page.goto(live_server.url(customer.host, f"/portal?service={customer.active_id}")).status == 200
    page.goto(live_server.url(customer.host, "/portal"))
    shown = page.locator("body").inner_text()
    assert other.portal_id not in shown and other.name not in shown and other.invoice_number not in shown
    assert page.goto(live_server.url("xyz.test.example", "/portal")).url.endswith("/login?next=/portal")
