"""The console's Reports: staff run a report over one reseller with its sub-resellers (the rows tagged with their
reseller, the totals over both) or over every tenant, download it as the console API writes it, and are told on the
page what is wrong with a period, a filter or a reseller code. Set up in tenants of their own (console_rig.py)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from app import clock
from app.portals import report_views
from app.portals.console import figures, figures_forms
from app.services import demo as seed
from app.services.reports import export, reports
from tests.brokers import worker_running
from tests.portals.console.console_rig import CONSOLE, add_line, reseller_with_customer, staff_client
from tests.portals.rig import fetch
from tests.portals.signin import sign_in_staff
from tests.portals.words import TEMPLATES, untranslated
from tests.reports.conftest import export_broker  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser


@pytest.fixture
def family(db, make_tenant):
    """A reseller with this month's 150.00 of commission, and its sub-reseller with 40.00."""
    partner = reseller_with_customer(db, make_tenant, earned="150.00")
    child = make_tenant("CONS", name=f"{partner.name} North", parent_code=partner.code)
    add_line(db, child, "40.00", clock.today())
    return partner, child


def api_headers(client) -> dict:
    reply = client.post("/console/auth/login", json={"email": seed.STAFF["email"], "password": seed.DEMO_PASSWORD},
                        headers={"Host": CONSOLE})
    assert reply.status_code == 200, reply.get_json()
    return {"Authorization": f"Bearer {reply.get_json()['token']}", "Host": CONSOLE}


def test_staff_run_a_resellers_commissions_with_its_sub_resellers(page, live_server, app, demo, staff, family,
                                                                  look):
    partner, child = family
    sign_in_staff(page, live_server)
    page.get_by_role("navigation", name="Sections").first.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Reports", level=1)).to_be_visible()
    expect(page.get_by_text("Each reseller's customers by their status at the end of the period.")).to_be_visible()
    look(page, "console-reports")
    page.get_by_role("main").get_by_role("link", name="Commissions").click()
    expect(page.get_by_role("heading", name="Commissions", level=1)).to_be_visible()
    page.get_by_label("Reseller").select_option(label=f"{partner.name} ({partner.code})")
    page.get_by_label("Status").select_option("Pending")
    page.get_by_label("Currency").fill("KES")
    page.get_by_label("Currency").press("Enter")  # sent from the keyboard, as a GET form is

    report = page.get_by_role("table", name="Commissions")
    expect(report.locator("tbody tr")).to_have_count(2)
    expect(report.locator("tbody tr").nth(0)).to_contain_text(partner.code)
    expect(report.locator("tbody tr").nth(0)).to_contain_text("150.00")
    expect(report.locator("tbody tr").nth(1)).to_contain_text(child.code)
    expect(report.locator("tbody tr").nth(1)).to_contain_text("40.00")
    expect(page.get_by_role("table", name="Totals")).to_contain_text("190.00")
    expect(page.get_by_text(f"{partner.code} with its sub-resellers.")).to_be_visible()
    expect(page.get_by_label("Reseller")).to_have_value(partner.code)  # the form says what is shown
    expect(page.get_by_label("Status")).to_have_value("Pending")
    look(page, "console-reports-commissions")

    href = page.get_by_role("link", name="Download as CSV").get_attribute("href")
    assert f"tenant={partner.code}" in href and "status=Pending" in href
    found = fetch(page, href)
    assert found["status"] == 200 and found["type"].startswith("text/csv")
    client = app.test_client()
    api = client.get(f"/console/api/reports/commissions?tenant={partner.code}&status=Pending&currency=KES"
                     "&format=csv", headers=api_headers(client))
    assert found["text"] == api.get_data(as_text=True)  # the API's file, byte for byte
    lines = list(csv.reader(io.StringIO(found["text"])))
    assert [line[0] for line in lines[1:3]] == [partner.code, child.code]
    assert lines[-1][0] == "Total" and lines[-1][-1] == "190.00"

    report.get_by_role("link", name=child.code).click()  # a row's reseller opens its page
    expect(page.get_by_role("heading", name=child.name, level=1)).to_be_visible()


def test_a_bad_period_and_an_unknown_reseller_are_said_on_the_page(page, live_server, demo, staff, look):
    sign_in_staff(page, live_server)
    page.goto(live_server.url(CONSOLE, "/console/reports/revenue?tenant=NO_SUCH_CODE"))
    expect(page.locator("#tenant-error")).to_have_text("No reseller has this code: choose one of the list.")
    expect(page.get_by_label("Reseller")).to_have_value("NO_SUCH_CODE")  # what was asked is kept
    expect(page.get_by_role("table")).to_have_count(0)
    page.get_by_label("Reseller").select_option("")
    page.get_by_label("From").fill("2026-03-10")
    page.get_by_label("To").fill("2026-03-01")
    page.get_by_role("button", name="Run the report").click()
    expect(page.locator("#from-error")).to_have_text("The first day must be on or before the last day.")
    expect(page.get_by_label("From")).to_have_value("2026-03-10")
    expect(page.get_by_label("To")).to_have_value("2026-03-01")
    look(page, "console-reports-refused")
    page.get_by_label("From").fill("2026-03-01")
    page.get_by_label("To").fill("2026-03-31")
    page.get_by_role("button", name="Run the report").click()
    expect(page.get_by_text("Every tenant of the platform.")).to_be_visible()
    expect(page.locator(".error")).to_have_count(0)


def test_every_tenant_and_the_files_are_the_apis(app, demo, staff, family, monkeypatch):
    from app.services.reports import export_jobs

    partner, child = family
    monkeypatch.setattr(export_jobs, "INLINE_TENANTS", 2)  # the reseller and its child: written in the request
    client = staff_client(app.test_client())
    headers = {"Host": CONSOLE}
    every = client.get("/console/reports/commissions?format=csv&kind=recurring", headers=headers)
    assert every.status_code == 303  # every tenant: the worker writes it (test_over_many_resellers_… follows it)
    assert every.headers["Location"].startswith("/console/reports/exports/")
    mine_too = f"tenant={partner.code}&kind=recurring&format=csv"
    page_csv = client.get(f"/console/reports/commissions?{mine_too}", headers=headers)
    api = client.get(f"/console/api/reports/commissions?{mine_too}", headers=api_headers(client))
    assert page_csv.status_code == 200 and page_csv.data == api.data
    assert page_csv.headers["Content-Disposition"] == api.headers["Content-Disposition"]
    codes = {row[0] for row in csv.reader(io.StringIO(page_csv.get_data(as_text=True))) if row}
    assert {partner.code, child.code} <= codes

    query = f"tenant={partner.code}&status=Pending"
    page_xlsx = client.get(f"/console/reports/commissions?{query}&format=xlsx", headers=headers)
    api_xlsx = client.get(f"/console/api/reports/commissions?{query}&format=xlsx", headers=api_headers(client))
    assert page_xlsx.content_type == api_xlsx.content_type == export.CONTENT_TYPES["xlsx"]
    mine, theirs = (load_workbook(io.BytesIO(r.data)) for r in (page_xlsx, api_xlsx))
    assert list(mine["Report"].values) == list(theirs["Report"].values)
    about = [r for r in mine["About"].values if r[0] != "Generated (UTC)"]
    assert about == [r for r in theirs["About"].values if r[0] != "Generated (UTC)"]
    assert ("Scope", f"{partner.code} and its sub-resellers") in about

    shown = client.get("/console/reports/customers_by_status", headers=headers).get_data(as_text=True)
    assert "Every tenant of the platform." in shown and partner.code in shown


def test_a_filter_is_checked_as_the_api_checks_it(app, demo, staff):
    client = staff_client(app.test_client())
    headers = {"Host": CONSOLE}
    cases = {"/console/reports/churn?currency=KES": report_views.NOT_TAKEN,  # an edited address
             "/console/reports/commissions?kind=bogus": report_views.CHOOSE_ONE,
             "/console/reports/revenue?currency=KESH": report_views.FILTER_WRONG["currency"],
             "/console/reports/revenue?from=2020-01-01&to=2026-01-01": report_views.RANGE_TOO_LONG,
             "/console/reports/revenue?from=1.2.2026": report_views.NOT_A_DATE}
    for path, message in cases.items():
        reply = client.get(path, headers=headers)
        assert reply.status_code == 422 and message in reply.get_data(as_text=True), path
    assert client.get("/console/reports/no_such_report", headers=headers).status_code == 404
    signed_out = app.test_client().get("/console/reports/revenue", headers=headers)
    assert signed_out.status_code in (302, 401, 403)


def test_every_word_of_the_console_reports_is_in_swahili(app):
    templates = [*sorted((TEMPLATES / "console/figures").glob("*.html")), TEMPLATES / "kit/report.html"]
    said = [*figures.DESCRIPTIONS.values(), figures_forms.EVERY_TENANT, figures_forms.UNKNOWN_RESELLER,
            *report_views.FILTER_LABELS.values(), *report_views.FILTER_WRONG.values(), report_views.CHOOSE_ONE,
            report_views.NOT_TAKEN, report_views.RANGE_BACKWARDS, report_views.RANGE_TOO_LONG,
            report_views.NOT_A_DATE]
    for found in reports.REPORTS.values():
        said += [found.title, *(c.title.replace("%", "%%") for c in found.columns)]
    assert set(figures.DESCRIPTIONS) == set(reports.REPORTS)
    assert untranslated(templates, said) == []


def test_over_many_resellers_the_worker_writes_the_file_and_the_page_follows_it(page, live_server, db, demo, staff,
                                                                              family, export_broker, monkeypatch,  # noqa: F811
                                                                              look):
    """Past INLINE_TENANTS tenants the file is a job: its page waits for a worker, follows it without a reload, and
    offers the file, which is the one the request would have written; the page may be left and opened again."""

    from app.services.reports import export_jobs, scope
    from app.services.reports.periods import DateRange

    partner, child = family
    monkeypatch.setattr(export_jobs, "INLINE_TENANTS", 1)
    sign_in_staff(page, live_server)
    today = clock.today()
    page.goto(live_server.url(CONSOLE, f"/console/reports/commissions?tenant={partner.code}"
                                       f"&from={today:%Y-%m}-01&to={today.isoformat()}"))
    page.get_by_role("link", name="Download as CSV").click()
    expect(page.get_by_role("heading", name="File of Commissions", level=1)).to_be_visible()
    region = page.locator("#report-export")
    expect(region.get_by_role("heading", name="Waiting for a worker to start it.")).to_be_visible()
    expect(page.locator("progress#export-bar")).to_have_attribute("max", "2")
    look(page, "console-report-export-queued")
    job_page = page.url

    page.get_by_role("link", name="Back to the report").click()
    expect(page.get_by_role("heading", name="Commissions", level=1)).to_be_visible()
    page.get_by_role("link", name="Download as CSV").click()  # asked again: the same job
    expect(page).to_have_url(job_page)

    with worker_running(export_broker):
        expect(region.get_by_role("heading", name="The file is ready")).to_be_visible(timeout=30_000)
    look(page, "console-report-export-ready")
    with page.expect_download() as waiting:
        region.get_by_role("link", name="Download").click()
    got = waiting.value
    content = Path(got.path()).read_bytes()
    with db.session() as s:
        where = scope.of_platform(s, partner.code)
    table = reports.run(db, where, "commissions", DateRange(today.replace(day=1), today, figures.UTC), {})
    assert (got.suggested_filename, content) == (export.filename(table, "csv"), export.to_csv(table))
    assert {line[0] for line in csv.reader(io.StringIO(content.decode())) if line} >= {partner.code, child.code}
    assert fetch(page, page.url + "/file")["status"] == 200
    assert fetch(page, "/console/reports/exports/no-such-job/file")["status"] == 404
