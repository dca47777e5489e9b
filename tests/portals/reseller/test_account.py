"""The reseller portal's Master ISP account in a real browser: ABC Internet's admin sees the credit used as a gauge
with its figures, the entries (and their CSV), asks for emergency credit and finds the request pending; a Readonly
member sees no request button and a forged request is refused; XYZ Networks' admin never sees ABC's request.

The account is set up through the services the console uses (app/services/reseller_accounts): a credit limit, a
debit adjustment so that there is something owed, and no emergency credit left open by an earlier run (the demo's
tenants are shared by the portal tests, and an account has one open request at a time)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.models.reseller_accounts import AccountEntry, EmergencyCredit
from app.services.reseller_accounts import accounts, emergency, payments
from tenants.registry import directory
from tests.portals.rig import fetch, post_form
from tests.portals.signin import sign_in_team
from tests.web.forms import csrf_of

pytestmark = pytest.mark.browser
ABC, XYZ = "abc.test.example", "xyz.test.example"
LIMIT = Decimal("250000.00")


@pytest.fixture
def account(db, demo):
    """ABC's account with a limit of 250,000 KES, something owed, and no emergency credit open."""
    tenant = directory().by_code("ABC_ISP")
    with db.session() as s:
        found = accounts.find(s, tenant.id)
        if found is None or found.credit_limit != LIMIT:
            accounts.configure(s, tenant.id, {"credit_limit": LIMIT}, actor="test")
        found = accounts.get(s, tenant.id)
        if s.execute(select(AccountEntry.id).where(AccountEntry.account_id == found.id)).first() is None:
            payments.adjust(s, tenant.id, amount=Decimal("40000.00"), reason="test: wholesale owed", actor="test")
        for row in s.execute(select(EmergencyCredit).where(EmergencyCredit.account_id == found.id,
                                                           EmergencyCredit.status == "requested")).scalars():
            emergency.reject(s, tenant.id, row.id, actor="test", note="cleared by the portal tests")
        emergency.expire_due(s, datetime(9999, 1, 1, tzinfo=UTC), account_id=found.id)
    return tenant


def test_an_admin_sees_the_credit_gauge_and_asks_for_emergency_credit(page, live_server, account, look):
    sign_in_team(page, live_server, ABC, "admin@abc-internet.example")
    page.get_by_role("navigation", name="Sections").first.get_by_role("link", name="Master ISP account").click()
    expect(page.get_by_role("heading", name="Master ISP account", level=1)).to_be_visible()
    gauge = page.locator("meter#credit-gauge")
    expect(gauge).to_have_attribute("max", "100")
    assert float(gauge.get_attribute("value")) > 0
    expect(page.get_by_label("Credit used")).to_be_visible()
    expect(page.locator(".gauge-figures")).to_contain_text("of a limit of 250,000.00 KES")
    look(page, "reseller-account")

    page.get_by_role("link", name="Request emergency credit").click()
    expect(page.get_by_text("At most 62,500.00 KES")).to_be_visible()  # a quarter of the limit
    reason = f"A tower upgrade this week ({secrets.token_hex(4)})"
    page.get_by_label("Amount (KES)").fill("70000")
    page.get_by_label("Why do you need it?").fill(reason)
    page.get_by_role("button", name="Send the request").click()
    expect(page.get_by_text("Enter an amount of more than zero and at most the maximum shown.")).to_be_visible()
    expect(page.get_by_label("Why do you need it?")).to_have_value(reason)  # what was typed is kept
    look(page, "reseller-account-emergency")
    page.get_by_label("Amount (KES)").fill("5,000")
    page.get_by_role("button", name="Send the request").click()
    expect(page.get_by_text("Your request for emergency credit is sent to your provider.")).to_be_visible()
    request = page.locator(".plain-list li").filter(has_text=reason)
    expect(request).to_contain_text("5,000.00 KES")
    expect(request.locator(".tag")).to_have_text("Pending")
    expect(page.get_by_role("link", name="Request emergency credit")).to_be_visible()

    page.get_by_role("link", name="Request emergency credit").click()  # a second one waits for the first
    page.get_by_label("Amount (KES)").fill("1000")
    page.get_by_label("Why do you need it?").fill("another")
    page.get_by_role("button", name="Send the request").click()
    expect(page.get_by_text("An emergency credit is already requested or active")).to_be_visible()


def test_the_entries_are_listed_and_exported(page, live_server, account, look):
    sign_in_team(page, live_server, ABC, "admin@abc-internet.example")
    page.goto(live_server.url(ABC, "/reseller/account"))
    page.get_by_role("link", name="Entries").click()
    rows = page.locator("table.table tbody tr")
    expect(rows.first).to_be_visible()
    look(page, "reseller-account-entries")
    href = page.get_by_role("link", name="Download as CSV").get_attribute("href")
    found = fetch(page, href)
    assert found["status"] == 200 and found["type"].startswith("text/csv")
    lines = found["text"].splitlines()
    assert lines[0] == "Date,Kind,Description,Reference,Due,Amount"
    assert len([line for line in lines[1:] if line]) >= rows.count()


def test_a_readonly_member_cannot_ask_for_credit(page, live_server, account):
    sign_in_team(page, live_server, ABC, "viewer@abc-internet.example")
    page.goto(live_server.url(ABC, "/reseller/account"))
    expect(page.locator("meter#credit-gauge")).to_be_visible()
    expect(page.get_by_role("link", name="Request emergency credit")).to_have_count(0)
    assert fetch(page, "/reseller/account/emergency-credit")["status"] == 403
    token = csrf_of(page.content())
    assert post_form(page, "/reseller/account/emergency-credit",
                     {"csrf_token": token, "amount": "100", "reason": "forged"}) == 403


def test_another_reseller_sees_only_its_own_account(page, live_server, account, db):
    with db.session() as s:
        emergency.request(s, account.id, amount="1000", reason="ABC only: secret reason", actor="test")
    sign_in_team(page, live_server, XYZ, "admin@xyz-networks.example")
    page.goto(live_server.url(XYZ, "/reseller/account"))
    expect(page.get_by_role("heading", name="Master ISP account", level=1)).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("ABC only: secret reason")
