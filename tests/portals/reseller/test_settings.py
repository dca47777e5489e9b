"""The reseller portal's Settings in a real browser: an admin changes the time zone and the payment terms and
finds them saved; a bad value is refused next to its field with what was typed kept, and the settings API
refuses the same value with the same words; XYZ Networks' settings do not move; who lacks `settings.manage`
(a Readonly member) has no Settings and a forged POST is refused. The demo's settings are put back as they
were after each test (the demo is shared by the whole session)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.models import Setting
from app.services import tenant_settings
from app.services.demo import DEMO_PASSWORD
from tenants import tenant_context
from tenants.registry import directory
from tests.portals.rig import fetch, post_form
from tests.portals.signin import sign_in_team

pytestmark = pytest.mark.browser
ABC, XYZ = "abc.test.example", "xyz.test.example"
ADMIN, VIEWER = "admin@abc-internet.example", "viewer@abc-internet.example"


def _stored(db, code: str) -> dict:
    with db.session() as s, tenant_context(directory().by_code(code)):
        return {row.key: row.value for row in s.execute(select(Setting)).scalars()}


@pytest.fixture
def kept(db, demo):
    """ABC's and XYZ's settings as they were, put back when the test ends."""
    before = {code: _stored(db, code) for code in ("ABC_ISP", "XYZ_NET")}
    yield before
    for code, rows in before.items():
        with db.session() as s, tenant_context(directory().by_code(code)):
            for row in s.execute(select(Setting)).scalars():
                if row.key not in rows:
                    s.delete(row)
                else:
                    row.value = rows[row.key]


def _summary(page, label: str):
    return page.locator(".summary-row", has=page.locator("dt", has_text=re.compile(f"^{re.escape(label)}$")))


def test_an_admin_changes_the_time_zone_and_the_payment_terms(page, live_server, demo, db, kept, look):
    sign_in_team(page, live_server, ABC, ADMIN)
    page.get_by_role("navigation", name="Sections").first.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Settings", level=1)).to_be_visible()
    expect(_summary(page, "Time zone").locator("dd")).to_have_text("Africa/Nairobi")
    expect(_summary(page, "Reminders").locator("dd")).to_have_text("1, 3, 7 days after the due date")  # dunning
    look(page, "reseller-settings")
    page.get_by_role("link", name="Change Portal, language and money").click()
    expect(page.get_by_label("Time zone")).to_have_value("Africa/Nairobi")
    look(page, "reseller-settings-general")
    page.get_by_label("Time zone").fill("Africa/Kampala")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    expect(_summary(page, "Time zone").locator("dd")).to_have_text("Africa/Kampala")

    page.get_by_role("link", name="Change Billing").click()
    look(page, "reseller-settings-billing")
    page.get_by_label("Payment terms, in days").fill("30")
    page.get_by_role("button", name="Save").click()
    expect(_summary(page, "Payment terms").locator("dd")).to_have_text("30 days")
    with db.session() as s, tenant_context(directory().by_code("ABC_ISP")):
        found = tenant_settings.current(s)
    assert found["timezone"] == "Africa/Kampala" and found["billing"]["payment_terms_days"] == 30
    assert found["currency"] == "KES"  # what the forms did not change
    assert _stored(db, "XYZ_NET") == kept["XYZ_NET"]


def test_a_bad_value_is_refused_beside_its_field_as_the_api_refuses_it(page, live_server, demo, db, kept, client,
                                                                      look):
    sign_in_team(page, live_server, ABC, ADMIN)
    page.goto(live_server.url(ABC, "/reseller/settings/billing"))
    page.get_by_label("Payment terms, in days").fill("-3")
    page.get_by_role("button", name="Save").click()
    field = page.locator(".field", has=page.get_by_label("Payment terms, in days"))
    expect(field.locator(".error")).to_have_text(tenant_settings.M["terms"])
    expect(page.get_by_label("Payment terms, in days")).to_have_value("-3")
    expect(page.get_by_label("Payment terms, in days")).to_have_attribute("aria-invalid", "true")
    look(page, "reseller-settings-refused")

    page.goto(live_server.url(ABC, "/reseller/settings/general"))
    page.get_by_label("Time zone").fill("Mars/Olympus_Mons")
    page.get_by_label("Prefix").fill("AB1")
    page.get_by_role("button", name="Save").click()
    zone_error = page.locator(".field", has=page.get_by_label("Time zone")).locator(".error").inner_text()
    prefix_error = page.locator(".field", has=page.get_by_label("Prefix")).locator(".error").inner_text()
    expect(page.get_by_label("Time zone")).to_have_value("Mars/Olympus_Mons")
    assert _stored(db, "ABC_ISP") == kept["ABC_ISP"]  # nothing stored, not even the good values

    token = client.post("/reseller/auth/login", json={"username": ADMIN, "password": DEMO_PASSWORD},
                        headers={"Host": ABC}).get_json()["token"]
    api = client.patch("/reseller/api/settings", headers={"Host": ABC, "Authorization": f"Bearer {token}"},
                       json={"timezone": "Mars/Olympus_Mons", "portal_id_format": {"prefix": "AB1"},
                             "billing": {"payment_terms_days": -3}})
    assert api.status_code == 422
    errors = api.get_json()["errors"]
    assert errors["timezone"] == [zone_error]
    assert errors["portal_id_format.prefix"] == [prefix_error]
    assert errors["billing.payment_terms_days"] == [tenant_settings.M["terms"]]
    assert _stored(db, "ABC_ISP") == kept["ABC_ISP"]


def test_a_readonly_member_has_no_settings_and_a_forged_post_is_refused(page, live_server, demo, db, kept):
    sign_in_team(page, live_server, ABC, VIEWER)
    labels = [t.strip() for t in page.locator(".workspace-nav .nav-list a").all_inner_texts()]
    assert "Settings" not in labels
    assert fetch(page, "/reseller/settings")["status"] == 403
    assert fetch(page, "/reseller/settings/billing")["status"] == 403
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")  # a real one: the sign-out form's
    assert post_form(page, "/reseller/settings/billing", {"csrf_token": token, "payment_terms_days": "99",
                                                          "mode": "prepaid", "retry_days": "1"}) == 403
    assert _stored(db, "ABC_ISP") == kept["ABC_ISP"]


def test_an_unknown_group_is_not_found(page, live_server, demo):
    sign_in_team(page, live_server, ABC, ADMIN)
    assert page.goto(live_server.url(ABC, "/reseller/settings/colours")).status == 404


def test_what_customers_may_change_and_the_radius_policy_are_set_here(page, live_server, demo, db, kept, client,
                                                                     look):
    sign_in_team(page, live_server, ABC, ADMIN)
    page.goto(live_server.url(ABC, "/reseller/settings/customers"))
    look(page, "reseller-settings-customers")
    page.get_by_label("M-PESA number").check()
    page.get_by_label("Customers may edit their contacts").check()
    page.get_by_role("button", name="Save").click()
    expect(_summary(page, "Profile fields customers may change").locator("dd")).to_contain_text("M-PESA number")
    expect(_summary(page, "Customers may edit their contacts").locator("dd")).to_have_text("Yes")

    page.get_by_role("link", name="Change Network access (RADIUS)").click()
    look(page, "reseller-settings-radius")
    page.get_by_label("Interim updates, in seconds").fill("30")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".field", has=page.get_by_label("Interim updates, in seconds")).locator(".error")) \
        .to_have_text(tenant_settings.M["interim"])
    page.get_by_label("Interim updates, in seconds").fill("300")
    page.get_by_label("Connect them to the payment page only").check()
    page.get_by_role("button", name="Save").click()
    expect(_summary(page, "Interim updates every").locator("dd")).to_have_text("300 seconds")
    # what the RADIUS policy's own API and the self-care rules' API read
    token = client.post("/reseller/auth/login", json={"username": ADMIN, "password": DEMO_PASSWORD},
                        headers={"Host": ABC}).get_json()["token"]
    headers = {"Host": ABC, "Authorization": f"Bearer {token}"}
    policy = client.get("/reseller/api/radius/policy", headers=headers).get_json()
    assert policy["interim_interval"] == 300 and policy["suspended_action"] == "payment_page"
    assert "mpesa_number" in client.get("/reseller/api/portal-settings", headers=headers).get_json()["editable_fields"]
    assert _stored(db, "XYZ_NET") == kept["XYZ_NET"]

