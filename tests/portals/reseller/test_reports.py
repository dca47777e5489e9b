"""The reseller portal's Reports in a real browser: ABC Internet's admin runs the revenue report for this month,
exports it as CSV (the API's exporter: the same figures as the page), schedules a report and deletes it; a Readonly
member reads reports but schedules none and a forged POST is refused; a member limited to some customers is refused
reports as in the API; XYZ Networks' admin never sees ABC's rows or schedules.

This month is billed for the demo resellers through the billing service (app/services/demo.py `seed_billing`, which
is idempotent), so that the revenue report has ABC's invoices."""

from __future__ import annotations

import csv
import io
import secrets

import pytest
from playwright.sync_api import expect

from app.services import demo as seed
from app.services.auth import users
from app.services.auth.principal import Principal
from app.services.reports import export, schedules
from app.services.settings import local_today, put_setting
from tenants import tenant_context
from tenants.registry import directory
from tests.portals.rig import fetch, post_form
from tests.portals.signin import sign_in_team
from tests.web.forms import csrf_of

pytestmark = pytest.mark.browser
ABC, XYZ = "abc.test.example", "xyz.test.example"


@pytest.fixture(scope="module")
def billed(db, demo):
    seed.seed_billing(db)
    return demo


def test_an_admin_runs_the_revenue_report_and_exports_it(page, live_server, db, billed, look):
    sign_in_team(page, live_server, ABC, "admin@abc-internet.example")
    page.get_by_role("navigation", name="Sections").first.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Reports", level=1)).to_be_visible()
    look(page, "reseller-reports")
    page.get_by_role("link", name="Revenue").click()
    with db.session() as s, tenant_context(directory().by_code("ABC_ISP")):
        today = local_today(s)  # the reseller's day (Nairobi), on which its invoices are dated, not UTC's
    page.get_by_label("From").fill(f"{today:%Y-%m}-01")
    page.get_by_label("To").fill(today.isoformat())
    page.get_by_label("Currency").fill("KES")
    page.get_by_role("button", name="Run the report").click()
    report = page.get_by_role("table", name="Revenue")
    expect(report.locator("tbody tr")).to_have_count(1)
    row = report.locator("tbody tr").first
    expect(row.locator("td").nth(0)).to_have_text(f"{today:%Y-%m}")
    net = row.locator("td").last.inner_text()
    assert net not in ("0.00", "—")
    expect(page.get_by_role("table", name="Totals")).to_contain_text(net)
    look(page, "reseller-reports-revenue")

    href = page.get_by_role("link", name="Download as CSV").get_attribute("href")
    assert "currency=KES" in href and "from=" in href
    found = fetch(page, href)
    assert found["status"] == 200 and found["type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(found["text"])))
    assert lines[0] == ["Reseller", "Month", "Currency", "Invoices", "Invoiced", "Credit notes", "Voided",
                        "Net revenue"]
    assert lines[1][:3] == ["ABC_ISP", f"{today:%Y-%m}", "KES"]
    assert f"{float(lines[1][-1]):,.2f}" == net  # the page's figure, written with two places
    assert lines[-1][0] == "Total" and lines[-1][-1] == lines[1][-1]
    assert all(line[0] == "ABC_ISP" for line in lines[1:-2])  # ABC alone: no sub-reseller unless asked

    xlsx = fetch(page, page.get_by_role("link", name="Download as XLSX").get_attribute("href"))
    assert xlsx["status"] == 200 and xlsx["type"] == export.CONTENT_TYPES["xlsx"]

    page.get_by_label("Include sub-resellers").check()
    page.get_by_role("button", name="Run the report").click()
    expect(page.get_by_role("table", name="Revenue").locator("thead")).to_contain_text("Reseller")


def test_an_admin_schedules_a_report_and_deletes_it(page, live_server, billed, look):
    sign_in_team(page, live_server, ABC, "admin@abc-internet.example")
    page.goto(live_server.url(ABC, "/reseller/reports/revenue?currency=KES"))
    page.get_by_role("link", name="Schedule this report").click()
    expect(page.get_by_label("Report")).to_have_value("revenue")
    expect(page.get_by_label("Currency")).to_have_value("KES")  # the report's filters come along
    name = f"Weekly revenue {secrets.token_hex(3)}"
    page.get_by_label("Name").fill(name)
    page.get_by_label("How often").select_option("weekly")
    page.get_by_label("Send to").fill("not an address")
    page.get_by_role("button", name="Save the schedule").click()
    expect(page.get_by_text("Enter e-mail addresses, one a line, at most 20.")).to_be_visible()
    expect(page.get_by_label("Name")).to_have_value(name)
    look(page, "reseller-reports-schedule-form")
    page.get_by_label("Send to").fill("admin@abc-internet.example")
    page.get_by_role("button", name="Save the schedule").click()
    expect(page.get_by_text("The report is scheduled.")).to_be_visible()
    item = page.locator("li.schedule").filter(has_text=name)
    expect(item).to_contain_text("Revenue, Weekly, as CSV")
    expect(item).to_contain_text("currency=KES")
    look(page, "reseller-reports-schedules")

    item.get_by_role("link", name="Change").click()
    page.get_by_label("Send it (untick to pause)").uncheck()
    page.get_by_role("button", name="Save the schedule").click()
    expect(page.locator("li.schedule").filter(has_text=name)).to_contain_text("Paused")

    page.locator("li.schedule").filter(has_text=name).get_by_role("link", name="Delete").click()
    expect(page.get_by_role("heading", name=f"Delete the schedule {name}?")).to_be_visible()
    page.get_by_role("button", name="Delete it").click()
    expect(page.get_by_text("The schedule is deleted")).to_be_visible()
    expect(page.locator("li.schedule").filter(has_text=name)).to_have_count(0)


def test_a_readonly_member_reads_reports_but_schedules_none(page, live_server, billed, db):
    tenant = directory().by_code("ABC_ISP")
    with db.session() as s, tenant_context(tenant):
        admin = Principal(kind="user", id=0, name="test", tenant_id=tenant.id,
                          permissions=frozenset({schedules.MANAGE, schedules.OUTSIDE}))
        row = schedules.create(s, {"name": "Kept", "report": "churn", "format": "csv", "frequency": "daily",
                                   "recipients": ["admin@abc-internet.example"]}, by=admin)
        schedule_id = row.id
    sign_in_team(page, live_server, ABC, "viewer@abc-internet.example")
    page.goto(live_server.url(ABC, "/reseller/reports/churn"))
    expect(page.get_by_role("table", name="Customer churn")).to_be_visible()
    expect(page.get_by_role("link", name="Schedule this report")).to_have_count(0)
    page.goto(live_server.url(ABC, "/reseller/reports/schedules"))
    expect(page.get_by_role("link", name="Schedule a report")).to_have_count(0)
    expect(page.get_by_role("link", name="Delete")).to_have_count(0)
    token = csrf_of(page.content())
    assert fetch(page, "/reseller/reports/schedules/new")["status"] == 403
    assert post_form(page, "/reseller/reports/schedules/new", {"csrf_token": token, "name": "forged",
                                                              "report": "revenue", "frequency": "daily",
                                                              "format": "csv", "recipients": "x@example.com"}) == 403
    assert post_form(page, f"/reseller/reports/schedules/{schedule_id}/delete", {"csrf_token": token}) == 403
    with db.session() as s, tenant_context(tenant):
        assert schedules.get(s, schedule_id).name == "Kept"
        schedules.delete(s, schedule_id, by=admin)


def test_a_member_limited_to_some_customers_is_refused_reports(page, live_server, billed, db):
    tenant = directory().by_code("ABC_ISP")
    username = f"limited-{secrets.token_hex(3)}@abc-internet.example"
    with db.session() as s, tenant_context(tenant):
        users.create_user(s, username=username, email=username, role="Manager", password=seed.DEMO_PASSWORD,
                          allowed_customer_ids=[1])
    sign_in_team(page, live_server, ABC, username)
    for path in ("/reseller/reports", "/reseller/reports/revenue", "/reseller/reports/schedules"):
        assert fetch(page, path)["status"] == 403, path


def test_another_reseller_never_sees_abcs_rows_or_schedules(page, live_server, billed, db):
    tenant = directory().by_code("ABC_ISP")
    name = f"ABC secret schedule {secrets.token_hex(3)}"
    admin = Principal(kind="user", id=0, name="test", tenant_id=tenant.id,
                      permissions=frozenset({schedules.MANAGE, schedules.OUTSIDE}))
    with db.session() as s, tenant_context(tenant):
        schedule_id = schedules.create(s, {"name": name, "report": "revenue", "format": "csv", "frequency": "daily",
                                           "recipients": ["admin@abc-internet.example"]}, by=admin).id
    try:
        sign_in_team(page, live_server, XYZ, "admin@xyz-networks.example")
        page.goto(live_server.url(XYZ, "/reseller/reports/revenue?consolidated=y"))
        table = page.get_by_role("table", name="Revenue")
        if table.count():
            expect(table).not_to_contain_text("ABC_ISP")
        text = fetch(page, "/reseller/reports/revenue?format=csv&consolidated=y")["text"]
        assert "ABC_ISP" not in text and "ABC_EAST" not in text
        page.goto(live_server.url(XYZ, "/reseller/reports/schedules"))
        expect(page.locator("main")).not_to_contain_text(name)
        found = fetch(page, f"/reseller/reports/schedules/{schedule_id}/edit")
        assert found["status"] == 404 or name not in found["text"]
    finally:
        with db.session() as s, tenant_context(tenant):
            schedules.delete(s, schedule_id, by=admin)


def test_the_money_sections_speak_swahili(page, live_server, billed, db):
    tenant = directory().by_code("XYZ_NET")
    sign_in_team(page, live_server, XYZ, "admin@xyz-networks.example")  # the sign-in page is in English yet
    with db.session() as s, tenant_context(tenant):
        put_setting(s, "language", "sw")
    try:
        page.goto(live_server.url(XYZ, "/reseller/reports/revenue"))
        expect(page.get_by_role("heading", name="Mapato", level=1)).to_be_visible()
        expect(page.get_by_role("button", name="Endesha ripoti")).to_be_visible()
        page.goto(live_server.url(XYZ, "/reseller/commissions"))
        expect(page.get_by_role("link", name="Malipo na taarifa")).to_be_visible()
        page.goto(live_server.url(XYZ, "/reseller/account"))
        expect(page.get_by_role("heading", name="Akaunti ya ISP mkuu", level=1)).to_be_visible()
    finally:
        with db.session() as s, tenant_context(tenant):
            put_setting(s, "language", "en")
