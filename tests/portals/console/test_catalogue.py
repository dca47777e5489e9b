"""The console's Master catalogue: staff add a wholesale plan, authorise a reseller to sell it in a region,
see it listed, and stop it again through the confirmation; a reseller that may not sell that kind is refused
with the reason next to the field."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.models.catalogue import Plan
from app.services import catalogue, resellers
from tests.portals.console.console_rig import CONSOLE, staff_client
from tests.portals.signin import sign_in_staff
from tests.web.forms import csrf_of

pytestmark = pytest.mark.browser


def test_staff_add_a_plan_and_authorise_a_reseller_to_sell_it(page, live_server, db, demo, staff, make_tenant, look):
    tenant = make_tenant("CAT", name="Rift Valley Net")
    code = f"FIBRE-{uuid.uuid4().hex[:6].upper()}"
    sign_in_staff(page, live_server)
    page.get_by_role("navigation", name="Sections").first.get_by_role("link", name="Master catalogue").click()
    expect(page.get_by_role("heading", name="Master catalogue", level=1)).to_be_visible()
    look(page, "console-catalogue")
    page.get_by_role("link", name="Add a plan").click()
    page.get_by_label("Code").fill(code)
    page.get_by_label("Name", exact=True).fill("Fibre 50")
    page.get_by_label("Download, kbit/s").fill("50000")
    page.get_by_label("Upload, kbit/s").fill("20000")
    page.get_by_role("button", name="Add the plan").click()  # without its price
    expect(page.locator("#wholesale_price-error")).to_have_text("Enter an amount, like 1500 or 1500.50.")
    look(page, "console-catalogue-new")
    page.get_by_label("Wholesale price").fill("2400")
    page.get_by_role("button", name="Add the plan").click()
    expect(page.get_by_text("The plan is added.")).to_be_visible()
    expect(page.get_by_role("heading", name="Fibre 50", level=1)).to_be_visible()
    expect(page.locator(".summary-list")).to_contain_text("50 / 20 Mbit/s")

    page.get_by_label("Reseller", exact=True).select_option(label=f"{tenant.name} ({tenant.code})")
    page.get_by_label("Regions (optional)").fill("Nakuru")
    page.get_by_role("button", name="Authorise").click()
    expect(page.get_by_text("The reseller may sell this plan.")).to_be_visible()
    grants = page.get_by_role("table", name="Resellers authorised for Fibre 50")
    expect(grants.locator("tr", has_text=tenant.name)).to_contain_text("Nakuru")
    look(page, "console-catalogue-plan")
    grants.get_by_role("link", name="Stop").click()
    expect(page.get_by_role("heading", name=f"Stop {tenant.name} selling Fibre 50?")).to_be_visible()
    page.get_by_role("button", name="Stop selling it").click()
    expect(page.get_by_text("The reseller no longer sells this plan.")).to_be_visible()
    expect(page.get_by_text("No reseller may sell it yet")).to_be_visible()


def test_a_kind_the_reseller_may_not_sell_is_refused_and_a_plan_changed(app, db, demo, staff, make_tenant):
    tenant = make_tenant("CAV", name="Voice Only Ltd")
    resellers.configure(db, tenant.code, allowed_services=["voice"], actor="test")
    with db.session() as s:
        plan_id = s.execute(select(Plan.id).where(Plan.code == "HOME-10")).scalar_one()
    client = staff_client(app.test_client())
    url = f"/console/catalogue/{plan_id}"
    token = csrf_of(client.get(url, headers={"Host": CONSOLE}).get_data(as_text=True))
    refused = client.post(url + "/authorisations", headers={"Host": CONSOLE},
                          data={"csrf_token": token, "tenant_id": str(tenant.id)})
    assert refused.status_code == 422 and "may not sell internet services" in refused.get_data(as_text=True)
    assert client.get("/console/catalogue/999999", headers={"Host": CONSOLE}).status_code == 404

    with db.session() as s:
        made = catalogue.create_plan(s, code=f"TMP-{uuid.uuid4().hex[:6]}", name="Temp", kind="internet",
                                     wholesale_price="100", currency="KES")
        made_id = made.id
    edit = f"/console/catalogue/{made_id}/edit"
    shown = client.get(edit, headers={"Host": CONSOLE}).get_data(as_text=True)
    assert 'value="Temp"' in shown and 'name="code"' not in shown  # a plan's code is what it is
    done = client.post(edit, headers={"Host": CONSOLE}, data={
        "csrf_token": csrf_of(shown), "name": "Temp Plus", "wholesale_price": "150", "currency": "kes",
        "billing_period": "monthly"})
    assert done.status_code == 302
    with db.session() as s:
        changed = catalogue.get_plan(s, made_id)
        assert changed.name == "Temp Plus" and str(changed.wholesale_price) == "150.00" and not changed.is_active
