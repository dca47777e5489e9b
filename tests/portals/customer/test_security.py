"""The customer's Security pages in a real browser: the password changed (a wrong current one said next to its
field; the new one signs in, other devices are signed out), two-step verification turned on from the QR code's
secret and used to sign in, turned off only within 5 minutes of signing in, a session on another device ended,
a personal API key that works against /portal/api until it is revoked, the sign-in history; support staff
signed in as the customer are offered none of the forms and refused when they post anyway; another customer's
session or key is not found; keyboard alone, 360 px and axe-core on every page looked at."""

from __future__ import annotations

import http.client
import re
import time
from datetime import timedelta

import pyotp
import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from app import clock
from app.models import ApiKey, AuthSession, LoginEvent, PortalAccount
from app.services import demo as seed
from app.services.auth import impersonation, passwords, totp
from app.services.auth.principal import Principal
from app.services.auth.realms import CUSTOMER
from tenants import tenant_context
from tests.portals.customers import make_customer
from tests.portals.rig import drawn, fetch, post_form
from tests.portals.signin import sign_in, sign_out
from tests.web.forms import csrf_of, submit

NEW_PASSWORD = "Fresh#Start2027"
ANDROID = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 "
           "Mobile Safari/537.36")


@pytest.fixture
def customer(db, demo):
    return make_customer(db)


def _go(page, live_server, customer, path: str):
    return page.goto(live_server.url(customer.host, path))


def _main(page) -> str:
    return page.locator("main").inner_text()


def _api(live_server, host: str, key: str, path: str, method: str = "GET") -> int:
    """The customer's API over real HTTP with a key, as a program of theirs calls it: the status."""
    connection = http.client.HTTPConnection("127.0.0.1", live_server.port, timeout=10)
    try:
        connection.request(method, path, body=b"{}" if method != "GET" else None,
                           headers={"Host": host, "Authorization": f"Bearer {key}", "Content-Type": "application/json"})
        return connection.getresponse().status
    finally:
        connection.close()


def _sign_in_form(page, live_server, customer, password: str) -> None:
    _go(page, live_server, customer, "/login")
    page.get_by_label("Portal ID").fill(customer.portal_id)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.browser
def test_a_customer_changes_their_password_and_other_devices_are_signed_out(browser, page, live_server, look,
                                                                             customer):
    laptop = browser.new_context()
    try:
        elsewhere = laptop.new_page()
        sign_in(elsewhere, live_server, customer.host, customer.portal_id)
        sign_in(page, live_server, customer.host, customer.portal_id)
        _go(page, live_server, customer, "/portal/security")
        look(page, "security")
        assert "At least 8 characters" in page.locator("#new_password-hint").inner_text()

        page.get_by_label("Current password").fill("Wrong#Pass2026")
        page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
        page.get_by_label("New password, again").fill(NEW_PASSWORD)
        page.get_by_role("button", name="Change password").click()
        assert page.locator("#current_password-error").inner_text() == "That is not your current password."
        assert page.locator("#current_password").get_attribute("aria-invalid") == "true"
        look(page, "security-password-refused")

        page.get_by_label("Current password").fill(seed.DEMO_PASSWORD)
        page.get_by_label("New password", exact=True).fill("weakpass")
        page.get_by_label("New password, again").fill("weakpass")
        page.get_by_role("button", name="Change password").click()
        assert "follows every rule" in page.locator("#new_password-error").inner_text()

        page.get_by_label("Current password").fill(seed.DEMO_PASSWORD)
        page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
        page.get_by_label("New password, again").fill(NEW_PASSWORD)
        page.get_by_role("button", name="Change password").click()
        page.wait_for_url(live_server.url(customer.host, "/portal/security"))
        assert "Your password is changed." in _main(page)
        assert elsewhere.goto(live_server.url(customer.host, "/portal")).url.endswith("/login?next=/portal")
    finally:
        laptop.close()

    sign_out(page)
    _sign_in_form(page, live_server, customer, seed.DEMO_PASSWORD)
    assert "The sign-in name or password is not correct." in _main(page)
    _sign_in_form(page, live_server, customer, NEW_PASSWORD)
    page.wait_for_url(live_server.url(customer.host, "/portal"))


@pytest.mark.browser
def test_the_password_is_changed_by_keyboard_alone(page, live_server, customer):
    sign_in(page, live_server, customer.host, customer.portal_id)
    _go(page, live_server, customer, "/portal/security")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "current_password":
            break
    assert page.evaluate("document.activeElement.id") == "current_password"
    page.keyboard.type(seed.DEMO_PASSWORD)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "new_password"
    page.keyboard.type(NEW_PASSWORD)
    page.keyboard.press("Tab")
    page.keyboard.type(NEW_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url(customer.host, "/portal/security"))
    assert "Your password is changed." in _main(page)


@pytest.mark.browser
def test_a_customer_turns_on_two_step_verification_and_signs_in_with_a_code(page, live_server, look, customer):
    sign_in(page, live_server, customer.host, customer.portal_id)
    _go(page, live_server, customer, "/portal/security/two-factor")
    look(page, "security-two-factor")
    page.get_by_role("button", name="Set up two-step verification").click()

    qr = page.get_by_role("img", name=re.compile("QR code for your authenticator app"))
    assert drawn(qr)
    svg = fetch(page, qr.get_attribute("src"))
    assert svg["status"] == 200 and svg["type"].startswith("image/svg+xml") and "<script" not in svg["text"]
    secret = "".join(page.locator("#secret span:not(.visually-hidden)").all_inner_texts())
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    look(page, "security-two-factor-enrol")

    page.get_by_label("Code", exact=True).fill("000000")
    page.get_by_role("button", name="Turn on two-step verification").click()
    assert "That code is not correct." in page.locator("#code-error").inner_text()
    assert "".join(page.locator("#secret span:not(.visually-hidden)").all_inner_texts()) == secret  # the same key

    page.get_by_label("Code", exact=True).fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-step verification").click()
    codes = page.locator(".backup-codes code").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", c) for c in codes)
    look(page, "security-backup-codes")
    page.get_by_label("I have saved my backup codes").check()
    page.get_by_role("button", name="Done").click()
    assert "Your account asks for a code" in _main(page) and "10 backup codes left." in _main(page)
    assert codes[0] not in page.content()  # shown that once

    sign_out(page)
    _sign_in_form(page, live_server, customer, seed.DEMO_PASSWORD)
    page.wait_for_url(live_server.url(customer.host, "/login/two-factor"))
    page.get_by_label("Code", exact=True).fill(pyotp.TOTP(secret).at(time.time() + totp.STEP))  # the next step: unused
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(live_server.url(customer.host, "/portal"))


def _with_two_factor(db, customer) -> tuple[str, list[str]]:
    with db.session() as s, tenant_context(customer.tenant):
        account = s.get(PortalAccount, customer.id)
        secret = totp.begin_enrolment(account, customer.portal_id, "test")["secret"]
        codes = totp.confirm_enrolment(s, CUSTOMER, account, pyotp.TOTP(secret).now())
        s.commit()
    return secret, codes


def _sign_in_with_code(page, live_server, customer, code: str) -> None:
    _sign_in_form(page, live_server, customer, seed.DEMO_PASSWORD)
    page.wait_for_url(live_server.url(customer.host, "/login/two-factor"))
    page.get_by_label("Code", exact=True).fill(code)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(live_server.url(customer.host, "/portal"))


@pytest.mark.browser
def test_turning_two_step_verification_off_needs_a_sign_in_of_the_last_5_minutes(page, live_server, look, db,
                                                                                  customer):
    secret, backup_codes = _with_two_factor(db, customer)
    _sign_in_with_code(page, live_server, customer, pyotp.TOTP(secret).at(time.time() + totp.STEP))
    with db.session() as s, tenant_context(customer.tenant):  # the sign-in was 6 minutes ago
        s.execute(update(AuthSession).where(AuthSession.principal_id == customer.id, AuthSession.principal_kind
                                            == "customer").values(authenticated_at=clock.now() - timedelta(minutes=6)))
        s.commit()
    _go(page, live_server, customer, "/portal/security/two-factor")
    page.get_by_role("link", name="Turn off two-step verification").click()
    assert "Sign in again first" in _main(page) and page.get_by_role("button", name="Turn it off").count() == 0
    look(page, "security-two-factor-sign-in-again")
    token = csrf_of(page.content())
    assert post_form(page, "/portal/security/two-factor/off", {"csrf_token": token}) == 403
    with db.session() as s, tenant_context(customer.tenant):
        assert s.get(PortalAccount, customer.id).totp_enabled_at is not None

    page.get_by_role("button", name="Sign out now").click()
    page.wait_for_url(re.compile(r"/login$"))
    _sign_in_with_code(page, live_server, customer, backup_codes[0])  # its code was used: a backup code
    _go(page, live_server, customer, "/portal/security/two-factor/off")
    look(page, "security-two-factor-turn-off")
    page.get_by_role("button", name="Turn it off").click()
    page.wait_for_url(live_server.url(customer.host, "/portal/security/two-factor"))
    assert "Two-step verification is off." in _main(page)
    assert page.get_by_role("button", name="Set up two-step verification").count() == 1


@pytest.mark.browser
def test_a_customer_ends_the_session_of_another_device(browser, page, live_server, look, customer):
    phone = browser.new_context(user_agent=ANDROID)
    try:
        elsewhere = phone.new_page()
        sign_in(elsewhere, live_server, customer.host, customer.portal_id)
        sign_in(page, live_server, customer.host, customer.portal_id)
        _go(page, live_server, customer, "/portal/security")
        listed = page.locator("#sessions .session")
        assert listed.count() == 2
        here = listed.filter(has_text="This device")
        assert here.count() == 1 and "Chrome on Linux" in here.inner_text()
        assert here.get_by_role("button").count() == 0  # this device signs out with "Sign out"
        other = listed.filter(has_text="Chrome on Android")
        assert "127.0.0.1" in other.inner_text() and "Last seen" in other.inner_text()
        other.get_by_role("button", name=re.compile("End this session")).click()
        page.wait_for_url(re.compile(r"/portal/security#sessions$"))
        assert "That session is ended" in _main(page) and page.locator("#sessions .session").count() == 1
        assert elsewhere.goto(live_server.url(customer.host, "/portal")).url.endswith("/login?next=/portal")
        page.goto(live_server.url(customer.host, "/portal"))  # this device is still signed in
        assert page.url == live_server.url(customer.host, "/portal")
    finally:
        phone.close()


@pytest.mark.browser
def test_the_sign_in_history_lists_every_attempt_a_page_at_a_time(page, live_server, look, db, customer):
    _sign_in_form(page, live_server, customer, "Wrong#Pass2026")
    sign_in(page, live_server, customer.host, customer.portal_id)
    _go(page, live_server, customer, "/portal/security/history")
    rows = page.locator("table tbody tr")
    assert rows.count() == 2
    assert "Signed in" in rows.nth(0).inner_text() and "Wrong password" in rows.nth(1).inner_text()
    assert "Chrome on Linux" in rows.nth(0).inner_text() and "127.0.0.1" in rows.nth(0).inner_text()
    look(page, "security-history")
    with db.session() as s, tenant_context(customer.tenant):  # a month of older sign-ins, from a phone
        s.add_all(LoginEvent(principal_kind="customer", principal_id=customer.id, success=True, reason="ok",
                             ip="10.0.0.7", user_agent=ANDROID, at=clock.now() - timedelta(days=day))
                  for day in range(1, 24))
        s.commit()
    _go(page, live_server, customer, "/portal/security/history")
    assert page.locator("table tbody tr").count() == 20 and "page 1 of 2" in _main(page)
    page.get_by_role("link", name="Next page").click()
    expect(page.locator("table tbody tr")).to_have_count(5)
    assert "page 2 of 2" in _main(page)
    assert "Chrome on Android" in page.locator("table tbody tr").first.inner_text()


@pytest.mark.browser
def test_a_customer_makes_an_api_key_that_works_until_it_is_revoked(page, live_server, look, db, customer):
    sign_in(page, live_server, customer.host, customer.portal_id)
    _go(page, live_server, customer, "/portal/security/api-keys")
    look(page, "security-api-keys")
    page.get_by_label("Name").fill("Home dashboard")
    page.get_by_label("Expires on (optional)").fill("2001-01-01")
    page.get_by_role("button", name="Make the key").click()
    assert page.locator("#expires_on-error").inner_text() == "Choose today or a day after it."
    assert page.get_by_label("Name").input_value() == "Home dashboard"  # what was typed is kept

    tomorrow = (clock.today() + timedelta(days=2)).isoformat()
    page.get_by_label("Expires on (optional)").fill(tomorrow)
    page.get_by_label("Read only").check()
    page.get_by_role("button", name="Make the key").click()
    key = page.get_by_label("Key").input_value()
    assert key.startswith(f"bhk.{customer.tenant.id}.")
    assert "shown only this once" in _main(page)
    look(page, "security-api-key-created")

    assert _api(live_server, customer.host, key, "/portal/api/profile") == 200
    assert _api(live_server, customer.host, key, "/portal/api/api-keys", "POST") == 403  # read-only: no writes
    page.get_by_role("link", name="I have copied it").click()
    row = page.locator("tbody tr", has_text="Home dashboard")
    assert "Read only" in row.inner_text() and "Active" in row.inner_text() and key not in page.content()

    row.get_by_role("link", name=re.compile("Revoke")).click()
    assert "Revoke the key “Home dashboard”?" in _main(page)
    look(page, "security-api-key-revoke")
    page.get_by_role("button", name="Revoke the key").click()
    page.wait_for_url(live_server.url(customer.host, "/portal/security/api-keys"))
    assert "The key is revoked" in _main(page)
    assert "Revoked" in page.locator("tbody tr", has_text="Home dashboard").inner_text()
    assert _api(live_server, customer.host, key, "/portal/api/profile") == 401
    with db.session() as s, tenant_context(customer.tenant):
        assert s.execute(select(ApiKey.revoked_at).where(ApiKey.customer_id == customer.id)).scalar_one()


@pytest.mark.browser
def test_the_security_forms_work_without_javascript(browser, live_server, customer):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, live_server, customer.host, customer.portal_id)
        _go(page, live_server, customer, "/portal/security/api-keys")
        page.get_by_label("Name").fill("Script")
        page.get_by_label("Read and write").check()
        page.get_by_role("button", name="Make the key").click()
        assert page.get_by_label("Key").input_value().startswith("bhk.")
        _go(page, live_server, customer, "/portal/security/api-keys")
        page.locator("tbody tr", has_text="Script").get_by_role("link", name=re.compile("Revoke")).click()
        page.get_by_role("button", name="Revoke the key").click()
        assert "Revoked" in page.locator("tbody tr", has_text="Script").inner_text()
        _go(page, live_server, customer, "/portal/security/two-factor")
        page.get_by_role("button", name="Set up two-step verification").click()
        qr = page.get_by_role("img", name=re.compile("QR code"))
        assert drawn(qr)
    finally:
        context.close()


@pytest.mark.browser
def test_support_staff_signed_in_as_the_customer_are_offered_no_credential_forms(app, db, page, live_server, look,
                                                                                 customer):
    staff = Principal(kind="staff", id=1, name="ops@backhaul.example", tenant_id=None, can_impersonate=True)
    with db.session() as s:
        _tenant, ticket = impersonation.issue_ticket(s, app.extensions["backhaul"].redis, staff, customer.portal_id)
        s.commit()
    _go(page, live_server, customer, f"/portal/auth/impersonate?ticket={ticket}")
    _go(page, live_server, customer, "/portal/security")
    assert page.locator("#current_password").count() == 0
    assert "Support staff signed in as the customer cannot." in _main(page)
    look(page, "security-support-session")
    _go(page, live_server, customer, "/portal/security/two-factor")
    assert page.get_by_role("button", name="Set up two-step verification").count() == 0
    assert "Support staff signed in as the customer cannot." in _main(page)
    _go(page, live_server, customer, "/portal/security/api-keys")
    assert page.get_by_role("button", name="Make the key").count() == 0
    assert "Support staff signed in as the customer cannot." in _main(page)

    token = csrf_of(page.content())  # the sign-out form's: one token per browser session, good for any form
    refused = {"/portal/security/password": {"current_password": seed.DEMO_PASSWORD, "new_password": NEW_PASSWORD,
                                             "confirm": NEW_PASSWORD},
               "/portal/security/two-factor/start": {},
               "/portal/security/api-keys": {"name": "support's key", "access": "read_write"}}
    for path, fields in refused.items():
        assert post_form(page, path, {"csrf_token": token, **fields}) == 403, path
    assert fetch(page, "/portal/security/two-factor/qr.svg")["status"] == 403
    with db.session() as s, tenant_context(customer.tenant):
        account = s.get(PortalAccount, customer.id)
        assert passwords.verify_password(account.password_hash, seed.DEMO_PASSWORD)
        assert account.totp_secret is None
        assert s.execute(select(ApiKey).where(ApiKey.customer_id == customer.id)).first() is None


def test_another_customers_session_and_key_are_not_found(app, client, db, demo, customer):
    other = make_customer(db)
    neighbour = app.test_client()
    submit(neighbour, "/login", other.host, identifier=other.portal_id, password=seed.DEMO_PASSWORD)
    assert neighbour.post("/portal/security/api-keys", headers={"Host": other.host}, data={
        "csrf_token": csrf_of(neighbour.get("/portal/security/api-keys", headers={"Host": other.host})
                              .get_data(as_text=True)), "name": "theirs", "access": "read"}).status_code == 200
    with db.session() as s, tenant_context(other.tenant):
        their_session = s.execute(select(AuthSession.id).where(AuthSession.principal_id == other.id,
                                                               AuthSession.principal_kind == "customer")).scalar_one()
        their_key = s.execute(select(ApiKey.id).where(ApiKey.customer_id == other.id)).scalar_one()

    submit(client, "/login", customer.host, identifier=customer.portal_id, password=seed.DEMO_PASSWORD)
    host = {"Host": customer.host}
    token = csrf_of(client.get("/portal/security", headers=host).get_data(as_text=True))
    assert client.post(f"/portal/security/sessions/{their_session}/end", headers=host,
                       data={"csrf_token": token}).status_code == 404
    assert client.get(f"/portal/security/api-keys/{their_key}/revoke", headers=host).status_code == 404
    assert client.post(f"/portal/security/api-keys/{their_key}/revoke", headers=host,
                       data={"csrf_token": token}).status_code == 404
    with db.session() as s, tenant_context(other.tenant):
        assert s.get(AuthSession, their_session).revoked_at is None
        assert s.get(ApiKey, their_key).revoked_at is None
    assert neighbour.get("/portal/security", headers={"Host": other.host}).status_code == 200


def test_a_form_without_its_token_changes_nothing(client, db, demo, customer):
    submit(client, "/login", customer.host, identifier=customer.portal_id, password=seed.DEMO_PASSWORD)
    answer = client.post("/portal/security/password", headers={"Host": customer.host}, data={
        "current_password": seed.DEMO_PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert answer.status_code == 422 and "This form has expired" in answer.get_data(as_text=True)
    with db.session() as s, tenant_context(customer.tenant):
        assert passwords.verify_password(s.get(PortalAccount, customer.id).password_hash, seed.DEMO_PASSWORD)
