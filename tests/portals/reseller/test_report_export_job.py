"""The reseller portal's Reports over a reseller with sub-resellers, when the file is a job of the worker (past
INLINE_TENANTS tenants, set low here): ABC Internet's admin asks for a report with ABC East Connect included as CSV,
lands on the job's page, which waits for a worker and follows it without a reload, and downloads the file, which is
the one the API's report writes. Asking again is the same job; the page may be left and opened again. The console's
twin is in tests/portals/console/test_figures.py."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import expect

from app.services import demo as seed
from app.services.reports import export_jobs, scope
from tenants.registry import directory
from tests.brokers import worker_running
from tests.portals.rig import fetch
from tests.portals.signin import sign_in_team
from tests.reports.conftest import export_broker  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser
ABC = "abc.test.example"
ADMIN = "admin@abc-internet.example"


def api_csv(app) -> bytes:
    """The report's file, with the sub-resellers, as the API gives it to the same admin (in the request)."""
    client = app.test_client()
    reply = client.post("/reseller/auth/login", json={"username": ADMIN, "password": seed.DEMO_PASSWORD},
                        headers={"Host": ABC})
    assert reply.status_code == 200, reply.get_json()
    got = client.get("/reseller/api/reports/customers_by_status?consolidated=true&format=csv",
                     headers={"Authorization": f"Bearer {reply.get_json()['token']}", "Host": ABC})
    assert got.status_code == 200
    return got.data


def test_a_csv_over_the_sub_resellers_is_written_by_the_worker_and_followed(page, live_server, app, db, demo,
                                                                           export_broker, monkeypatch,  # noqa: F811
                                                                           look):
    monkeypatch.setattr(export_jobs, "INLINE_TENANTS", 1)  # ABC and ABC East: more than one, so a job
    with db.session() as s:
        tenants = len(scope.of_tenant(s, directory().by_code("ABC_ISP"), consolidated=True).tenants)
    sign_in_team(page, live_server, ABC, ADMIN)
    page.get_by_role("navigation", name="Sections").first.get_by_role("link", name="Reports").click()
    page.get_by_role("main").get_by_role("link", name="Customers by status").click()
    expect(page.get_by_role("heading", name="Customers by status", level=1)).to_be_visible()
    page.get_by_label("Include sub-resellers").check()
    page.get_by_role("button", name="Run the report").click()
    expect(page.get_by_role("table", name="Customers by status")).to_contain_text("ABC_EAST")

    page.get_by_role("link", name="Download as CSV").click()
    expect(page.get_by_role("heading", name="File of Customers by status", level=1)).to_be_visible()
    region = page.locator("#report-export")
    expect(region.get_by_role("heading", name="Waiting for a worker to start it.")).to_be_visible()
    expect(page.locator("progress#export-bar")).to_have_attribute("max", str(tenants))
    expect(region).to_contain_text(f"0 of {tenants} resellers done.")
    look(page, "reseller-report-export-queued")
    job_page = page.url

    page.get_by_role("link", name="Back to the report").click()
    expect(page.get_by_role("heading", name="Customers by status", level=1)).to_be_visible()
    expect(page.get_by_label("Include sub-resellers")).to_be_checked()  # back to what was asked
    page.get_by_role("link", name="Download as CSV").click()  # asked again: the same job, not a second pass
    expect(page).to_have_url(job_page)

    with worker_running(export_broker):
        expect(region.get_by_role("heading", name="The file is ready")).to_be_visible(timeout=30_000)
    assert page.url == job_page  # followed in place, without a reload
    look(page, "reseller-report-export-ready")
    with page.expect_download() as waiting:
        region.get_by_role("link", name="Download").click()
    got = waiting.value
    content = Path(got.path()).read_bytes()
    assert got.suggested_filename.startswith("customers_by_status_") and got.suggested_filename.endswith(".csv")
    assert content == api_csv(app)  # the API's file, byte for byte
    assert {line[0] for line in csv.reader(io.StringIO(content.decode())) if line} >= {"ABC_ISP", "ABC_EAST"}

    assert fetch(page, job_page + "/file")["status"] == 200  # kept at its address
    assert fetch(page, "/reseller/reports/exports/no-such-job/file")["status"] == 404
    page.goto(live_server.url(ABC, "/reseller/reports/exports/no-such-job"))
    expect(page.get_by_text("That file is no longer kept: ask for it again from its report.")).to_be_visible()
