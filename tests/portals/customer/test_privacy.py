"""The customer's Privacy pages in a real browser: a consent given on the page and recorded as given there, by
keyboard alone too; the cookie list, and nothing else kept in the browser; a copy of the data asked for, the
page refreshing itself while the real worker builds it, then downloaded; the account's deletion asked for with
the password again (a wrong one said next to its field), its status, and withdrawn; support staff signed in as
the customer are offered none of the forms and refused when they post anyway; the pages in Swahili; 360 px and
axe-core on every page looked at."""

from __future__ import annotations

import json
import re
import zipfile

import pytest
from sqlalchemy import select

from app.models.privacy import ConsentEvent, DataExport, DeletionRequest
from app.services import demo as seed
from app.services.auth import impersonation
from app.services.auth.principal import Principal
from app.services.privacy import cookies
from app.services.settings import put_setting
from tenants import tenant_context
from tests.portals.customers import make_customer
from tests.portals.rig import post_form
from tests.portals.signin import account_menu, sign_in
from tests.privacy.conftest import ExportWorker, privacy_broker  # noqa: F401  (a fixture)
from tests.web.forms import csrf_of, submit


@pytest.fixture
def customer(db, demo):
    return make_customer(db)


def _go(page, live_server, customer, path: str):
    return page.goto(live_server.url(customer.host, path))


def _main(page) -> str:
    return page.locator("main").inner_text()


@pytest.mark.browser
def test_a_customer_gives_a_consent_on_the_page_and_reads_the_cookies_it_sets(db, context, page, live_server, look,
                                                                              customer):
    sign_in(page, live_server, customer.host, customer.portal_id)
    account_menu(page).get_by_role("link", name="Privacy").click()
    page.wait_for_url(live_server.url(customer.host, "/portal/privacy"))
    look(page, "privacy")
    assert page.get_by_label("News and offers by SMS").is_checked() is False
    assert "Not given." in page.locator("#marketing_sms-state").inner_text()
    page.get_by_label("News and offers by SMS").check()
    page.get_by_role("button", name="Save my choices").click()
    page.wait_for_url(live_server.url(customer.host, "/portal/privacy"))
    assert "Your choices are saved." in _main(page)
    assert page.get_by_label("News and offers by SMS").is_checked()
    assert re.search(r"Given .*, on this portal\.", page.locator("#marketing_sms-state").inner_text())
    with db.session() as s, tenant_context(customer.tenant):
        [row] = s.execute(select(ConsentEvent).where(ConsentEvent.customer_id == customer.id)).scalars().all()
    assert (row.purpose, row.granted, row.door, row.via) == ("marketing_sms", True, "portal", "session")

    page.get_by_role("link", name="See every change of your choices").click()
    assert "News and offers by SMS" in _main(page) and "2026-12" in _main(page)
    look(page, "privacy-history")
    page.locator(".section-nav").get_by_role("link", name="Cookies").click()
    assert "nothing to accept or refuse" in _main(page)
    look(page, "privacy-cookies")
    held = {c["name"] for c in context.cookies()}
    assert held <= cookies.names() and "bh_session" in held  # what the browser holds is what the page lists
    assert {name for name in cookies.names()} <= set(page.locator("tbody code").all_inner_texts())
    assert page.evaluate("localStorage.length") == 0
    assert set(page.evaluate("Object.keys(sessionStorage)")) <= cookies.storage_names()


@pytest.mark.browser
def test_consents_are_given_by_keyboard_alone(db, page, live_server, customer):
    sign_in(page, live_server, customer.host, customer.portal_id)
    _go(page, live_server, customer, "/portal/privacy")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "marketing_email":
            break
    assert page.evaluate("document.activeElement.id") == "marketing_email"
    page.keyboard.press("Space")
    for _ in range(5):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.type") == "submit":
            break
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url(customer.host, "/portal/privacy"))
    assert page.get_by_label("News and offers by e-mail").is_checked()


@pytest.mark.browser
def test_a_customer_downloads_a_copy_of_their_data(browser, db, page, live_server, look, customer,
                                                   privacy_broker):  # noqa: F811
    sign_in(page, live_server, customer.host, customer.portal_id)
    _go(page, live_server, customer, "/portal/privacy/export")
    assert "You have not asked for a copy yet." in _main(page)
    look(page, "privacy-export")
    # no worker yet: the page is seen while the copy waits to be made
    page.get_by_role("button", name="Ask for a copy of my data").click()
    page.wait_for_url(live_server.url(customer.host, "/portal/privacy/export"))
    assert "Being prepared" in _main(page)
    look(page, "privacy-export-building")
    scriptless = browser.new_context(java_script_enabled=False)
    try:
        plain = scriptless.new_page()
        sign_in(plain, live_server, customer.host, customer.portal_id)
        _go(plain, live_server, customer, "/portal/privacy/export")
        assert plain.locator('meta[http-equiv="refresh"]').get_attribute("content") == "5"
        worker = ExportWorker(privacy_broker)
        worker.worker.start()
        try:
            worker.drain()
        finally:
            worker.worker.stop()
        plain.locator("#export-status").get_by_role("link", name="Download your data").wait_for(
            timeout=20_000)  # the page reloaded itself until the copy was ready
        assert "Ready" in plain.locator("main").inner_text()
        assert plain.locator('meta[http-equiv="refresh"]').count() == 0
    finally:
        scriptless.close()
    page.locator("#export-status").get_by_role("link", name="Download your data").wait_for(
        timeout=20_000)  # htmx asked again until it was ready
    assert "Ready" in _main(page)
    look(page, "privacy-export-ready")
    with page.expect_download() as download:
        page.locator("#export-status").get_by_role("link", name="Download your data").click()
    with zipfile.ZipFile(download.value.path()) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        profile = json.loads(archive.read("profile.json"))
    assert manifest["portal_id"] == customer.portal_id
    assert profile["customers"][0]["id"] == customer.id
    assert download.value.suggested_filename.startswith(f"my-data-{customer.portal_id}-")


@pytest.mark.browser
def test_a_customer_asks_for_their_account_to_be_deleted_and_withdraws(db, page, live_server, look, customer):
    sign_in(page, live_server, customer.host, customer.portal_id)
    _go(page, live_server, customer, "/portal/privacy/delete")
    main = _main(page)
    assert "Tax law requires your provider to keep its financial records" in main
    assert "Your services must end before your account can be deleted" in main
    look(page, "privacy-delete")
    page.get_by_label("Why are you leaving? (optional)").fill("Moving to Mombasa")
    page.get_by_label("Your portal password").fill("Wrong#Pass2026")
    page.get_by_role("button", name="Yes, ask to delete my account").click()
    assert page.locator("#password-error").inner_text() == "That password is not correct."
    assert page.get_by_label("Why are you leaving? (optional)").input_value() == "Moving to Mombasa"  # kept
    look(page, "privacy-delete-refused")
    page.get_by_label("Your portal password").fill(seed.DEMO_PASSWORD)
    page.get_by_role("button", name="Yes, ask to delete my account").click()
    page.wait_for_url(live_server.url(customer.host, "/portal/privacy/delete"))
    assert "Your request is sent." in _main(page) and "Waiting for review" in _main(page)
    look(page, "privacy-delete-requested")
    with db.session() as s, tenant_context(customer.tenant):
        [request] = s.execute(select(DeletionRequest).where(DeletionRequest.customer_id == customer.id)).scalars()
        assert (request.status, request.reason) == ("Requested", "Moving to Mombasa")
    page.get_by_role("button", name="Withdraw my request").click()
    assert "Your request is withdrawn" in _main(page)
    assert page.get_by_role("button", name="Yes, ask to delete my account").count() == 1


@pytest.mark.browser
def test_support_staff_see_the_privacy_pages_without_their_forms(app, db, page, live_server, look, customer):
    staff = Principal(kind="staff", id=1, name="ops@backhaul.example", tenant_id=None, can_impersonate=True)
    with db.session() as s:
        _tenant, ticket = impersonation.issue_ticket(s, app.extensions["backhaul"].redis, staff, customer.portal_id)
        s.commit()
    _go(page, live_server, customer, f"/portal/auth/impersonate?ticket={ticket}")
    for path, button in (("/portal/privacy", "Save my choices"),
                         ("/portal/privacy/export", "Ask for a copy of my data"),
                         ("/portal/privacy/delete", "Yes, ask to delete my account")):
        _go(page, live_server, customer, path)
        assert page.get_by_role("button", name=button).count() == 0, path
        assert "Support staff signed in as the customer cannot." in _main(page), path
    look(page, "privacy-delete-support-session")
    token = csrf_of(page.content())
    for path, fields in (("/portal/privacy/consents", {"marketing_email": "y"}), ("/portal/privacy/export", {}),
                         ("/portal/privacy/delete", {"password": seed.DEMO_PASSWORD})):
        assert post_form(page, path, {"csrf_token": token, **fields}) == 403, path
    with db.session() as s, tenant_context(customer.tenant):
        for model in (ConsentEvent, DataExport, DeletionRequest):
            assert s.execute(select(model).where(model.customer_id == customer.id)).first() is None


def test_the_privacy_pages_speak_the_resellers_language(client, db, demo):
    customer = make_customer(db, code="ABC_EAST", host="east.abc.test.example")
    with db.session() as s, tenant_context(customer.tenant):
        put_setting(s, "language", "sw")
        s.commit()
    try:
        submit(client, "/login", customer.host, identifier=customer.portal_id, password=seed.DEMO_PASSWORD)
        host = {"Host": customer.host}
        choices = client.get("/portal/privacy", headers=host).get_data(as_text=True)
        assert "Faragha" in choices and "Hifadhi machaguo yangu" in choices
        assert "Pakua data yako" in client.get("/portal/privacy/export", headers=host).get_data(as_text=True)
        assert "Futa akaunti yako" in client.get("/portal/privacy/delete", headers=host).get_data(as_text=True)
        assert "Vidakuzi" in client.get("/portal/privacy/cookies", headers=host).get_data(as_text=True)
    finally:
        with db.session() as s, tenant_context(customer.tenant):
            put_setting(s, "language", "en")
            s.commit()
