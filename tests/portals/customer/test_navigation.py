"""The customer portal's navigation in a real browser: at 1280 px the bar holds the brand and every top-level
section on one line, in the base theme (ABC Internet) and the savanna theme (XYZ Networks), in English and in
Swahili, with the account's sections and "Sign out" behind an "Account" disclosure that a click or the keyboard
opens and that is marked current on the account's pages; at 360 px the "Menu" disclosure lists everything."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.portals.customer import nav
from app.services.branding import i18n
from app.services.settings import put_setting
from tenants import tenant_context
from tenants.registry import directory
from tests.portals.signin import sign_in

pytestmark = pytest.mark.browser
BRANDS = [("ABC_ISP", "abc.test.example"), ("XYZ_NET", "xyz.test.example")]  # the base theme, the savanna theme
ACCOUNT = ["Profile", "Security", "Privacy", "Sign out"]

# Each visible item of the bar (the brand's name, the top-level links, the "Account" summary): its box and how
# many lines its text takes (the distinct tops of the text's line boxes).
BAR_ITEMS = """() => {
    const items = [document.querySelector("header .brand"),
                   ...document.querySelectorAll(".nav-wide > .nav-list > li > a, .nav-account > summary")];
    return items.filter(e => e.offsetParent !== null).map(e => {
        const range = document.createRange();
        range.selectNodeContents(e);
        const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
        const box = e.getBoundingClientRect();
        return {text: e.textContent.trim(), top: box.top, bottom: box.bottom, height: box.height, width: box.width,
                lines: tops.size};
    });
}"""


def _sign_in(page, live_server, demo, code: str, host: str) -> None:
    sign_in(page, live_server, host, demo[code]["customers"][0][0])


def _assert_one_line(page) -> list[dict]:
    items = page.evaluate(BAR_ITEMS)
    brand, links = items[0], items[1:]
    assert len(links) >= 2, items
    assert [i["text"] for i in items if i["lines"] != 1] == [], items  # no item breaks onto a second line
    assert max(i["top"] for i in links) - min(i["top"] for i in links) <= 1, items  # the links share one row
    assert brand["top"] < links[0]["bottom"] and brand["bottom"] > links[0]["top"], items  # the brand on that row too
    header = page.locator("header.portal-bar").bounding_box()
    tallest = max(i["height"] for i in links)
    assert header["height"] < tallest + 30, (header, items)  # one row: its padding and border, no second row
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    return links


def _labels(page, selector: str) -> list[str]:
    return [t.strip() for t in page.locator(selector).all_inner_texts()]


@pytest.mark.parametrize(("code", "host"), BRANDS)
def test_the_bar_is_one_line_and_the_account_sections_are_behind_account(page, live_server, look, demo, code,
                                                                         host):
    _sign_in(page, live_server, demo, code, host)
    links = _assert_one_line(page)
    assert [i["text"] for i in links][-1] == "Account"
    assert [i["text"] for i in links][:-1] == [s.label for s in nav.SECTIONS if s.group is None]
    bar = page.locator("nav.nav-wide")
    summary = bar.locator("details.nav-account > summary")
    for label in ACCOUNT[:-1]:
        expect(bar.get_by_role("link", name=label)).to_be_hidden()
    expect(bar.get_by_role("button", name="Sign out")).to_be_hidden()
    look(page, f"navigation-{code}")

    summary.click()
    panel = bar.locator(".nav-account-list")
    expect(panel).to_be_visible()
    assert _labels(page, ".nav-wide .nav-account-list > li") == ACCOUNT
    look(page, f"navigation-account-open-{code}")
    opened, under = panel.bounding_box(), summary.bounding_box()
    assert opened["y"] >= under["y"] + under["height"]  # under the summary
    assert abs((opened["x"] + opened["width"]) - (under["x"] + under["width"])) <= 1  # its right edge on the summary's
    assert opened["x"] + opened["width"] <= 1280
    for item in panel.locator("a, button").all():
        assert item.bounding_box()["height"] >= 44, item.inner_text()
    assert _assert_one_line(page)  # opening it moves nothing in the bar

    panel.get_by_role("link", name="Security").click()
    page.wait_for_url(live_server.url(host, "/portal/security"))
    summary = page.locator("nav.nav-wide details.nav-account > summary")
    assert summary.get_attribute("aria-current") == "true"
    assert "underline" in summary.locator("span").evaluate("s => getComputedStyle(s).textDecorationLine")
    assert not page.locator("nav.nav-wide details.nav-account").evaluate("d => d.open")
    security = page.locator(".nav-wide .nav-account-list a", has_text="Security")
    assert security.get_attribute("aria-current") == "page"
    assert page.locator(".nav-wide [aria-current]").count() == 2  # the summary and its link, nothing else
    look(page, f"navigation-account-current-{code}")
    page.goto(live_server.url(host, "/portal"))
    assert page.locator("nav.nav-wide details.nav-account > summary").get_attribute("aria-current") is None


def test_the_account_menu_works_by_keyboard_alone(page, live_server, demo):
    code, host = BRANDS[0]
    _sign_in(page, live_server, demo, code, host)
    for _ in range(15):  # skip link, brand, the top-level sections, then "Account"
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.tagName") == "SUMMARY":
            break
    assert page.evaluate("document.activeElement.textContent") == "Account"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"  # a focus ring
    page.keyboard.press("Enter")
    assert page.locator(".nav-wide details.nav-account").evaluate("d => d.open")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Profile"
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url(host, "/portal/profile"))


@pytest.mark.parametrize(("code", "host"), BRANDS)
def test_the_bar_is_one_line_in_swahili(db, page, live_server, look, demo, code, host):
    _sign_in(page, live_server, demo, code, host)
    tenant = directory().by_code(code)
    with db.session() as s, tenant_context(tenant):
        put_setting(s, "language", "sw")
        s.commit()
    try:
        page.reload()
        assert page.locator("html").get_attribute("lang") == "sw"
        links = _assert_one_line(page)
        assert links[-1]["text"] == "Akaunti"
        assert "Malipo na ankara" in [i["text"] for i in links]  # the longest label, translated
        page.locator(".nav-wide details.nav-account > summary").click()
        assert _labels(page, ".nav-wide .nav-account-list > li") == ["Wasifu", "Usalama", "Faragha", "Toka"]
        _assert_one_line(page)
        look(page, f"navigation-account-open-sw-{code}")
    finally:
        with db.session() as s, tenant_context(tenant):
            put_setting(s, "language", "en")
            s.commit()


def test_the_phone_menu_lists_every_section_and_sign_out(app, page, live_server, demo):
    code, host = BRANDS[0]
    page.set_viewport_size({"width": 360, "height": 740})
    _sign_in(page, live_server, demo, code, host)
    expect(page.locator("nav.nav-wide")).to_be_hidden()
    page.locator("details.nav-narrow > summary").click()
    shown = [s.label for s in nav.SECTIONS if s.endpoint in app.view_functions]
    assert {"Profile", "Security", "Privacy"} <= set(shown)
    assert _labels(page, "details.nav-narrow nav li") == [*shown, "Sign out"]
    assert page.locator("details.nav-narrow details").count() == 0  # flat: no disclosure inside the menu
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    # the account's sections are reached from here as the others are
    page.locator("details.nav-narrow").get_by_role("link", name="Privacy").click()
    page.wait_for_url(live_server.url(host, "/portal/privacy"))
    assert page.locator("details.nav-narrow a[aria-current='page']").get_attribute("href") == "/portal/privacy"


def test_every_word_of_the_portal_shell_is_in_swahili():
    from jinja2.ext import babel_extract

    words = i18n.translations("sw")
    layout = i18n.CATALOGUES.parent / "templates/portal/layout.html"
    with layout.open("rb") as source:
        messages = [m[0] if isinstance(m, tuple) else m
                    for _line, _function, m, _comments in babel_extract(source, ("_",), [], {})]
    messages += [s.label for s in nav.SECTIONS]
    assert "Account" in messages
    assert [m for m in messages if m and words.gettext(m) == m] == []
