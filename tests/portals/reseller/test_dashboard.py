"""The reseller portal's landing page in a real browser: an admin signs in on the reseller's own host and
finds the month's figures, their twelve-month charts (each with its table) and every section in the side
navigation, in the brand; a Readonly member finds no administration sections; at 360 px the sections are
behind "Menu"; signing out returns to the team's sign-in page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.portals.rig import drawn
from tests.portals.signin import sign_in_team, workspace_sign_out

pytestmark = pytest.mark.browser
ABC = "abc.test.example"


def test_an_admin_lands_on_the_dashboard_with_figures_charts_and_every_section(page, live_server, demo, look):
    sign_in_team(page, live_server, ABC, "admin@abc-internet.example")
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    expect(page.locator(".bar .brand")).to_have_text("ABC Internet Services")
    figures = page.locator(".figure-grid")
    expect(figures.get_by_role("heading", name="Customers")).to_be_visible()
    assert int(figures.locator(".card-panel").first.locator(".figure").inner_text()) >= 3  # the demo's customers
    expect(figures.get_by_role("heading", name="MRR")).to_be_visible()
    charts = page.locator("figure.chart")
    expect(charts).to_have_count(3)
    assert drawn(charts.first.locator("img"))
    charts.first.locator("summary").click()
    rows = charts.first.locator("table tbody tr")
    expect(rows).to_have_count(12)
    assert re.fullmatch(r"[A-Z][a-z]+ 20\d\d", rows.last.locator("th").inner_text())  # "December 2026"
    side = page.get_by_role("navigation", name="Sections").first
    expect(side.get_by_role("link", name="Dashboard")).to_have_attribute("aria-current", "page")
    look(page, "reseller-dashboard")
    workspace_sign_out(page)
    expect(page.get_by_role("heading", name="Team sign-in")).to_be_visible()


def test_a_readonly_member_sees_no_administration_and_no_forged_page(page, live_server, demo):
    sign_in_team(page, live_server, ABC, "viewer@abc-internet.example")
    side = page.locator(".workspace-nav")
    labels = [t.strip() for t in side.locator(".nav-list a").all_inner_texts()]
    assert "Settings" not in labels and "Branding" not in labels and "Sub-resellers" not in labels
    assert "Dashboard" in labels and "Customers" in labels and "Team" in labels  # Readonly may look at the team


def test_at_phone_width_the_sections_are_behind_menu(page, live_server, demo):
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in_team(page, live_server, ABC, "admin@abc-internet.example")
    expect(page.locator(".workspace-nav")).to_be_hidden()
    page.get_by_text("Menu", exact=True).click()
    expect(page.locator(".nav-narrow").get_by_role("link", name="Dashboard")).to_be_visible()
    workspace_sign_out(page)


def test_every_word_of_the_shell_and_the_dashboards_is_in_swahili():
    from app.portals.console import nav as console_nav
    from app.portals.reseller import nav as reseller_nav
    from tests.portals.words import TEMPLATES, untranslated

    sections = reseller_nav.SECTIONS + console_nav.SECTIONS
    templates = [TEMPLATES / "kit/workspace.html", TEMPLATES / "kit/figures.html",
                 TEMPLATES / "reseller/dashboard/index.html", TEMPLATES / "console/dashboard/index.html"]
    said = [s.label for s in sections] + [s.group for s in sections] + ["Reseller portal", "Master ISP console"]
    assert untranslated(templates, said) == []


def test_a_sub_resellers_dashboard_in_swahili(client, db, demo):
    """ABC East speaks Swahili when its language is: the side navigation and the figures' headings too."""
    from app.services.settings import get_setting, put_setting
    from tenants import tenant_context
    from tenants.registry import directory
    from tests.web.forms import submit

    east = directory().by_code("ABC_EAST")
    host = demo["ABC_EAST"]["hosts"][0]
    with db.session() as s, tenant_context(east):
        before = get_setting(s, "language")
        put_setting(s, "language", "sw")
    try:
        submit(client, "/reseller/login", host, identifier="admin@abc-east.example", password=demo_password())
        html = client.get("/reseller/", headers={"Host": host}).get_data(as_text=True)
        assert "Muhtasari" in html and "Wateja" in html and "Biashara" in html
    finally:
        with db.session() as s, tenant_context(east):
            put_setting(s, "language", before)


def demo_password() -> str:
    from app.services import demo

    return demo.DEMO_PASSWORD
