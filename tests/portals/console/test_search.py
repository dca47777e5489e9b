"""The console's Portal ID search: staff find a customer of any reseller by Portal ID, open it read-only in the
console (profile, balance, services, invoices) with its reseller and that reseller's commission, and, holding
`can_impersonate`, open the customer's own portal signed in as them (audited); staff without it see no such
button and a forged one is refused."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.models import AuditEvent
from tests.portals.console.console_rig import (
    CONSOLE,
    reseller_with_customer,
    staff_client,
    staff_without_impersonation,
)
from tests.portals.signin import sign_in_staff
from tests.web.forms import csrf_of

pytestmark = pytest.mark.browser


def test_staff_find_a_customer_by_portal_id_and_see_its_resellers_commission(page, live_server, db, demo, staff,
                                                                           make_tenant, look):
    partner = reseller_with_customer(db, make_tenant, commission="12.50", earned="150.00")
    sign_in_staff(page, live_server)
    page.get_by_role("navigation", name="Sections").first.get_by_role("link", name="Portal ID search").click()
    look(page, "console-search")
    page.get_by_role("textbox", name="Portal ID").fill(partner.portal_id.lower())  # typed as a person types it
    page.get_by_role("button", name="Search").click()
    results = page.get_by_role("table", name=re.compile("Customers found"))
    expect(results.get_by_role("link", name=partner.name)).to_be_visible()
    look(page, "console-search-results")
    results.get_by_role("link", name=partner.portal_id).click()

    expect(page.get_by_role("heading", name=partner.customer_name, level=1)).to_be_visible()
    reseller = page.get_by_role("region", name="Reseller")
    expect(reseller).to_contain_text(partner.name)
    commission = page.get_by_role("region", name=f"Commission of {partner.name}")
    expect(commission).to_contain_text("12.5 %")
    expect(commission.locator(".summary-row", has_text="Earned this month")).to_contain_text("150.00")
    expect(page.get_by_role("region", name="Profile")).to_contain_text(partner.portal_id)
    expect(page.get_by_role("region", name="Balance")).to_be_visible()
    look(page, "console-search-customer")

    commission.get_by_role("link", name="Its commissions: rules, payouts and disputes").click()
    expect(page.get_by_role("heading", name=f"Commissions of {partner.name}", level=1)).to_be_visible()


def test_a_demo_customer_is_found_with_a_prefix_and_impersonated(page, live_server, db, demo, staff):
    portal_id, name, _status = demo["ABC_ISP"]["customers"][0]
    sign_in_staff(page, live_server)
    page.goto(live_server.url(CONSOLE, "/console/search"))
    page.get_by_role("textbox", name="Portal ID").fill(portal_id[:5])
    page.get_by_label("Every Portal ID starting so").check()
    page.get_by_role("button", name="Search").click()
    results = page.get_by_role("table", name=re.compile("Customers found"))
    expect(results.get_by_role("link", name=portal_id)).to_be_visible()
    expect(results.get_by_role("link", name="ABC Internet").first).to_be_visible()
    results.get_by_role("link", name=portal_id).click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()

    page.get_by_role("button", name="Impersonate in the customer's portal").click()
    page.wait_for_url(re.compile(r"^http://abc\.test\.example:\d+/"))  # on the customer's host, signed in
    page.goto(live_server.url("abc.test.example", "/portal"))
    expect(page.get_by_text("Support is viewing your account.")).to_be_visible()
    with db.session() as s:
        audited = s.execute(select(AuditEvent).where(AuditEvent.action == "customer.impersonate")
                            .order_by(AuditEvent.id.desc())).scalars().first()
    assert audited is not None and audited.detail["portal_id"] == portal_id


def test_staff_without_the_permission_have_no_impersonate_button_and_a_forged_one_is_refused(app, db, demo, staff):
    client = staff_client(app.test_client(), staff_without_impersonation(db))
    portal_id = demo["XYZ_NET"]["customers"][0][0]
    shown = client.get(f"/console/search/customers/{portal_id}", headers={"Host": CONSOLE})
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200 and "XYZ Networks" in html
    assert "Impersonate" not in html
    token = csrf_of(client.get("/console/resellers/new", headers={"Host": CONSOLE}).get_data(as_text=True))
    forged = client.post(f"/console/search/customers/{portal_id}/impersonate", headers={"Host": CONSOLE},
                         data={"csrf_token": token})  # their own session's token: only the permission is missing
    assert forged.status_code == 403
    with db.session() as s:
        assert s.execute(select(AuditEvent).where(AuditEvent.action == "customer.impersonate",
                                                  AuditEvent.actor.contains("Help Desk"))).first() is None
    assert client.get("/console/search/customers/NOPE0000001", headers={"Host": CONSOLE}).status_code == 404
    bad = client.get("/console/search?portal_id=", headers={"Host": CONSOLE})
    assert bad.status_code == 422 and "Enter a Portal ID" in bad.get_data(as_text=True)
