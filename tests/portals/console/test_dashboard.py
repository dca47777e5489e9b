"""The console's landing page in a real browser: staff sign in on the console host and find the platform's
figures over every reseller, with their charts, the moment they were computed and a way to compute them now."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.portals.rig import drawn
from tests.portals.signin import sign_in_staff, workspace_sign_out

pytestmark = pytest.mark.browser


def test_staff_land_on_the_platform_dashboard(page, live_server, demo, staff, look):
    # the figures are a pass over every tenant, and this database holds every tenant the suite has made by now
    # (hundreds, most of them empty): on a loaded machine that pass outlasts Playwright's 30 s; nothing here
    # measures its speed (bench/console.py does)
    page.set_default_timeout(120_000)
    page.set_default_navigation_timeout(120_000)
    sign_in_staff(page, live_server, landing="/console/")
    expect(page.get_by_role("heading", name="Platform dashboard")).to_be_visible()
    expect(page.locator(".figure-grid").get_by_role("heading", name="Customers")).to_be_visible()
    charts = page.locator("figure.chart")
    expect(charts).to_have_count(3)
    assert drawn(charts.first.locator("img"))
    look(page, "console-dashboard")
    expect(page.get_by_text("Figures as of")).to_be_visible()  # kept a few minutes: the page says since when
    page.get_by_role("link", name="Refresh now").click()
    expect(page.get_by_role("heading", name="Platform dashboard")).to_be_visible()
    assert page.url.endswith("/console/?fresh=1")
    workspace_sign_out(page)
