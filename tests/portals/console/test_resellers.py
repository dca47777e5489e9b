"""The console's Resellers pages: staff find every reseller with its figures, open one, create one (the first
admin's generated password shown once), and suspend it, upon which its customers' sign-in page says the
portal is unavailable, until it is reactivated. A suspended reseller takes its sub-resellers with it. Nobody
but staff opens these pages: a reseller's team member is refused on the console host."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from app.services import tenants as tenant_svc
from tenants.schema import subdomain_for_code
from tests.portals.console.console_rig import CONSOLE, staff_client
from tests.portals.signin import sign_in_staff
from tests.web.forms import csrf_of, submit

pytestmark = pytest.mark.browser


def _url(live_server, path: str) -> str:
    return live_server.url(CONSOLE, path)


def test_staff_see_every_reseller_with_its_figures_and_search(page, live_server, demo, staff, look):
    sign_in_staff(page, live_server)
    page.get_by_role("navigation", name="Sections").first.get_by_role("link", name="Resellers").click()
    expect(page.get_by_role("heading", name="Resellers", level=1)).to_be_visible()
    page.get_by_label("Code or name").fill("ABC")  # the test session's resellers fill several pages
    page.get_by_role("button", name="Search").click()
    table = page.locator("table.table")
    abc = table.locator("tr", has=page.get_by_role("link", name="ABC Internet", exact=True))
    expect(abc).to_have_count(1)
    expect(abc.locator("td[data-label='Customers']")).not_to_have_text("")
    assert int(abc.locator("td[data-label='Customers']").inner_text()) >= 3  # the demo's customers
    east = table.locator("tr", has=page.get_by_role("link", name="ABC East Connect", exact=True))
    expect(east.locator("td[data-label='Parent']")).to_have_text("ABC_ISP")
    look(page, "console-resellers")

    page.get_by_label("Code or name").fill("xyz")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name="XYZ Networks", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="ABC Internet", exact=True)).to_have_count(0)

    page.get_by_role("link", name="XYZ Networks", exact=True).click()
    expect(page.get_by_role("heading", name="XYZ Networks", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Commission of XYZ Networks")).to_be_visible()
    expect(page.locator(".summary-list").first).to_contain_text("xyz.test.example")
    look(page, "console-reseller")

    page.goto(_url(live_server, "/console/resellers/ABC_ISP"))
    children = page.get_by_role("table", name=re.compile("Direct sub-resellers of ABC Internet"))
    expect(children.get_by_role("link", name="ABC East Connect")).to_be_visible()


def test_create_suspend_and_reactivate_a_reseller(page, live_server, demo, staff, look):
    code = f"NEW{uuid.uuid4().hex[:6].upper()}"
    host = f"{subdomain_for_code(code)}.test.example"
    sign_in_staff(page, live_server)
    page.goto(_url(live_server, "/console/resellers"))
    page.get_by_role("link", name="Create a reseller").first.click()
    page.get_by_label("Code").fill("lower case")
    page.get_by_role("button", name="Create the reseller").click()
    expect(page.locator("#code-error")).to_contain_text("upper-case letters")
    expect(page.locator("#name-error")).to_contain_text("Enter the reseller's name.")
    expect(page.get_by_label("Code")).to_have_value("lower case")  # what was typed is kept
    look(page, "console-reseller-create")

    page.get_by_label("Code").fill(code)
    page.get_by_label("Name", exact=True).fill("Savannah Fibre")
    page.get_by_label("Commission, percent").fill("9.5")
    page.get_by_label("Internet").check()
    page.get_by_label("Username").fill(f"admin@{code.lower()}.example")
    page.get_by_label("E-mail address").fill(f"admin@{code.lower()}.example")
    page.get_by_role("button", name="Create the reseller").click()
    expect(page.get_by_role("heading", name="Savannah Fibre is created")).to_be_visible()
    password = page.locator("#generated-password").inner_text().strip()
    assert len(password) >= 12
    look(page, "console-reseller-created")
    page.get_by_role("link", name="Go to the reseller").click()
    expect(page.get_by_role("heading", name="Savannah Fibre", level=1)).to_be_visible()
    expect(page.locator(".summary-list").first).to_contain_text(host)
    expect(page.locator(".summary-list").first).to_contain_text("9.50")
    assert password not in page.content()  # shown once, never again

    page.goto(live_server.url(host, "/login"))  # its customers' sign-in page works
    expect(page.get_by_label("Portal ID")).to_be_visible()

    page.goto(_url(live_server, f"/console/resellers/{code}"))
    page.get_by_role("link", name="Suspend").click()
    expect(page.get_by_role("heading", name="Suspend Savannah Fibre?")).to_be_visible()
    page.get_by_role("button", name="Suspend the reseller").click()
    expect(page.locator("#reason-error")).to_have_text("Say why the reseller is suspended.")
    look(page, "console-reseller-suspend")
    page.get_by_label("Reason").fill("Unpaid wholesale invoices")
    page.get_by_role("button", name="Suspend the reseller").click()
    expect(page.get_by_text("The reseller is suspended.")).to_be_visible()
    expect(page.locator(".page-head .tag")).to_have_text("Suspended")
    expect(page.get_by_text("Reason: Unpaid wholesale invoices")).to_be_visible()

    for path in ("/login", "/reseller/login"):  # its customers and its team find the portal unavailable, at once
        page.goto(live_server.url(host, path))
        expect(page.get_by_role("heading", name="This portal is unavailable")).to_be_visible()
        expect(page.get_by_text("Savannah Fibre")).to_be_visible()

    page.goto(_url(live_server, f"/console/resellers/{code}"))
    page.get_by_role("link", name="Reactivate").click()
    page.get_by_role("button", name="Reactivate the reseller").click()
    expect(page.get_by_text("The reseller is active again.")).to_be_visible()
    page.goto(live_server.url(host, "/login"))
    expect(page.get_by_label("Portal ID")).to_be_visible()


def test_a_suspended_reseller_takes_its_sub_resellers_with_it(client, db, demo, staff):
    east = demo["ABC_EAST"]["hosts"][0]
    staff_client(client)
    try:
        refused = client.post("/console/resellers/ABC_ISP/suspend", headers={"Host": CONSOLE},
                              data={"reason": "no token"})
        assert refused.status_code == 422  # a forged post (no CSRF token) changes nothing
        assert client.get("/login", headers={"Host": east}).status_code == 200
        done = submit(client, "/console/resellers/ABC_ISP/suspend", CONSOLE, reason="Fraud investigation")
        assert done.status_code == 302
        for host in ("abc.test.example", east):
            shown = client.get("/login", headers={"Host": host, "Accept": "text/html"})
            assert shown.status_code == 403 and "This portal is unavailable" in shown.get_data(as_text=True)
            api = client.post("/reseller/auth/login", headers={"Host": host},
                              json={"username": "admin@abc-internet.example", "password": "x"})
            assert api.status_code == 403 and api.get_json()["type"] == "/problems/tenant-suspended"
        page = client.get("/console/resellers/ABC_EAST", headers={"Host": CONSOLE}).get_data(as_text=True)
        assert "ABC Internet, above it, is suspended" in page
    finally:
        with db.session() as s:
            still = tenant_svc.get(s, "ABC_ISP").status
        if still != "Active":
            back = submit(client, "/console/resellers/ABC_ISP/reactivate", CONSOLE, reason="cleared")
            assert back.status_code == 302
    assert client.get("/login", headers={"Host": east}).status_code == 200


def test_configure_changes_only_what_was_changed(client, db, demo, staff, make_tenant):
    tenant = make_tenant("CONF", name="Lake Basin Wireless")
    staff_client(client)
    url = f"/console/resellers/{tenant.code}/configure"
    shown = client.get(url, headers={"Host": CONSOLE}).get_data(as_text=True)
    assert 'value="Lake Basin Wireless"' in shown
    done = client.post(url, headers={"Host": CONSOLE}, data={
        "csrf_token": csrf_of(shown), "name": "Lake Basin Fibre", "commission_percent": "7.25", "customer_limit": "40",
        "allowed_services": ["internet", "voice"], "inherited_branding": "y"})
    assert done.status_code == 302
    with db.session() as s:
        row = tenant_svc.get(s, tenant.code)
        assert (row.name, str(row.commission_percent), row.customer_limit) == ("Lake Basin Fibre", "7.25", 40)
        assert sorted(row.allowed_services) == ["internet", "voice"]
    page = client.get(f"/console/resellers/{tenant.code}", headers={"Host": CONSOLE}).get_data(as_text=True)
    assert "The reseller&#39;s terms are saved." in page or "The reseller's terms are saved." in page


def test_configure_keeps_the_tree_s_rules_and_says_why(client, demo, staff):
    staff_client(client)
    shown = client.get("/console/resellers/ABC_EAST/configure", headers={"Host": CONSOLE}).get_data(as_text=True)
    answer = client.post("/console/resellers/ABC_EAST/configure", headers={"Host": CONSOLE}, data={
        "csrf_token": csrf_of(shown), "name": "ABC East Connect", "commission_percent": "101",
        "customer_limit": "", "inherited_branding": "y"})
    assert answer.status_code == 422
    assert "Enter a percentage from 0 to 100" in answer.get_data(as_text=True)
    assert client.get("/console/resellers/NOPE_NOT_HERE", headers={"Host": CONSOLE}).status_code == 404


def test_a_resellers_team_member_is_refused_on_the_console(app, client, db, demo, staff):
    signed = client.post("/reseller/auth/login", headers={"Host": "abc.test.example"},
                         json={"username": "admin@abc-internet.example", "password": demo_password()})
    token = signed.get_json()["token"]
    for path in ("/console/resellers", "/console/resellers/ABC_ISP", "/console/search", "/console/commissions",
                 "/console/accounts"):
        answer = client.get(path, headers={"Host": CONSOLE, "Authorization": f"Bearer {token}"})
        assert answer.status_code in (401, 403), (path, answer.status_code)
    assert client.get("/console/resellers", headers={"Host": "abc.test.example"}).status_code == 403  # signed in there
    assert app.test_client().get("/console/resellers", headers={"Host": "abc.test.example"}).status_code == 404
    tried = submit(client, "/console/login", CONSOLE, identifier="admin@abc-internet.example",
                   password=demo_password())
    assert tried.status_code != 302  # no staff member of that name: the console stays shut
    assert client.get("/console/resellers", headers={"Host": CONSOLE}).status_code == 302  # to its sign-in


def demo_password() -> str:
    from app.services import demo

    return demo.DEMO_PASSWORD

