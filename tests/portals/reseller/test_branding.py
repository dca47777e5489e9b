"""The reseller's Branding pages in a real browser: an admin changes the brand's name and colours, sees them in the
preview (the "Preview" button, and htmx as a field changes) and in a whole preview in a new tab, saves, and the
customers' sign-in page on the reseller's host is in the new brand at once; a logo is uploaded and removed; a
custom domain is added and waits, Pending, with the TXT record to create. A Readonly member has no Branding, and
another reseller's domain is not found. Every change of the demo's brand is put back at the end of its test."""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.models import Branding, Domain, Tenant
from app.services import branding
from tests.portals.rig import drawn, fetch, post_form, screenshot_dir
from tests.portals.signin import sign_in_team

pytestmark = pytest.mark.browser
ABC = "abc.test.example"
ADMIN = "admin@abc-internet.example"


@pytest.fixture
def abc_brand(db, demo):
    """ABC's brand as the demo left it, written back after the test (the demo is shared by the session)."""
    with db.session() as s:
        tenant_id = s.execute(select(Tenant.id).where(Tenant.code == "ABC_ISP")).scalar_one()
        row = s.execute(select(Branding).where(Branding.tenant_id == tenant_id)).scalar_one()
        saved = (dict(row.fields), row.white_label_enabled)
    yield tenant_id
    with db.session() as s:
        row = s.execute(select(Branding).where(Branding.tenant_id == tenant_id)).scalar_one()
        row.fields, row.white_label_enabled = saved
        row.version += 1
        s.commit()
    branding.forget()


def _open(page, live_server):
    sign_in_team(page, live_server, ABC, ADMIN)
    page.get_by_role("navigation", name="Sections").first.get_by_role("link", name="Branding").click()
    expect(page.get_by_role("heading", name="Branding", level=1)).to_be_visible()


def _colour(locator, prop: str = "background-color") -> str:
    return locator.evaluate(f"e => getComputedStyle(e).getPropertyValue('{prop}')")


def test_a_new_name_and_colour_are_previewed_saved_and_seen_on_the_sign_in_page(page, live_server, abc_brand, look):
    _open(page, live_server)
    sample = page.locator("#brand-sample")
    expect(sample.locator(".sample-bar .brand").first).to_have_text("ABC Internet Services")
    page.get_by_label("Brand name").fill("ABC Fibre Test")
    page.get_by_label("Primary colour").fill("#aa3300")
    page.get_by_role("button", name="Preview", exact=True).click()
    expect(page.locator("#brand-sample .notice")).to_contain_text("not saved yet")
    expect(sample.locator(".sample-bar .brand").first).to_have_text("ABC Fibre Test")
    expect(sample.locator(".sample-bar").first).to_have_css("background-color", "rgb(170, 51, 0)")
    assert page.get_by_label("Brand name").input_value() == "ABC Fibre Test"  # what was typed is kept
    look(page, "reseller-branding")

    # htmx: the sample follows a change of a field without the page being sent
    page.get_by_label("Secondary colour").fill("#117733")
    page.get_by_label("Secondary colour").press("Tab")
    expect(sample.locator(".sample-body .button").first).to_have_css("background-color", "rgb(17, 119, 51)")

    # a refused value is said next to its field, and nothing is saved
    page.get_by_label("Secondary colour").fill("green")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#secondary_color-error")).to_contain_text("colour like #0066CC")
    page.get_by_label("Secondary colour").fill("#117733")

    # a whole preview of the sign-in page opens in a new tab, in the unsaved brand
    with page.context.expect_page() as opened:
        page.locator(".brand-sample-panel").get_by_role("button", name="Sign-in page").click()
    tab = opened.value
    tab.wait_for_load_state()
    expect(tab.locator(".bar .brand")).to_have_text("ABC Fibre Test")
    expect(tab.locator(".bar")).to_have_css("background-color", "rgb(170, 51, 0)")
    tab.close()

    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("The brand is saved")
    expect(page.get_by_label("Primary colour")).to_have_value("#AA3300")

    signed_out = page.context.browser.new_page()
    signed_out.goto(live_server.url(ABC, "/login"))
    expect(signed_out.locator(".bar .brand")).to_have_text("ABC Fibre Test")
    expect(signed_out.locator(".bar")).to_have_css("background-color", "rgb(170, 51, 0)")
    signed_out.close()


def test_the_portal_email_and_invoice_previews_open_in_a_new_tab(page, live_server, abc_brand):
    _open(page, live_server)
    page.get_by_label("Brand name").fill("ABC Preview Only")
    for label, check in (("Customer portal", ".bar .brand"), ("E-mail", "body")):
        with page.context.expect_page() as opened:
            page.locator(".brand-sample-panel").get_by_role("button", name=label).click()
        tab = opened.value
        tab.wait_for_load_state()
        expect(tab.locator(check).first).to_contain_text("ABC Preview Only")
        if screenshot_dir() is not None:  # a sandboxed page runs no script, so no axe: a picture to look at
            name = label.lower().replace(" ", "-")
            tab.screenshot(path=str(screenshot_dir() / f"reseller-branding-preview-{name}.png"), full_page=True)
        tab.close()
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    invoice = page.evaluate("""async (token) => {
        const body = new URLSearchParams({csrf_token: token, show: "invoice", brand_name: "ABC Preview Only"});
        const r = await fetch("/reseller/branding/preview", {method: "POST", body, credentials: "same-origin"});
        const head = new Uint8Array(await r.arrayBuffer()).slice(0, 4);
        return {type: r.headers.get("content-type"), policy: r.headers.get("content-security-policy"),
                head: String.fromCharCode(...head)};
    }""", token)
    assert invoice["type"] == "application/pdf" and invoice["head"] == "%PDF"
    assert invoice["policy"].startswith("sandbox")
    found = fetch(page, "/reseller/branding")
    assert "ABC Preview Only" not in found["text"]  # previews save nothing


def test_the_preview_and_saving_work_without_javascript(browser, live_server, abc_brand):
    context = browser.new_context(java_script_enabled=False, locale="en-GB")
    page = context.new_page()
    sign_in_team(page, live_server, ABC, ADMIN)
    page.goto(live_server.url(ABC, "/reseller/branding"))
    page.get_by_label("Brand name").fill("ABC Without Script")
    page.get_by_label("Primary colour").fill("#225500")
    page.get_by_role("button", name="Preview", exact=True).click()
    sample = page.locator("#brand-sample")
    expect(sample.locator(".sample-bar .brand").first).to_have_text("ABC Without Script")
    expect(sample.locator(".sample-bar").first).to_have_css("background-color", "rgb(34, 85, 0)")
    expect(page.locator(".workspace-bar .brand").first).not_to_have_text("ABC Without Script")  # not saved yet
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("The brand is saved")
    page.goto(live_server.url(ABC, "/login"))
    expect(page.locator(".bar .brand")).to_have_text("ABC Without Script")
    context.close()


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (120, 40), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def test_a_png_logo_is_uploaded_shown_and_a_text_file_refused(page, live_server, abc_brand, tmp_path):
    _open(page, live_server)
    files = page.locator("#files")
    files.get_by_role("button", name="Upload").first.click()
    expect(page.locator("#files .error").first).to_contain_text("Choose a file to upload")
    files = page.locator("#files")
    bad = tmp_path / "logo.png"
    bad.write_text("not an image")
    files.get_by_label("Choose a file for the logo").set_input_files(str(bad))
    files.get_by_role("button", name="Upload").first.click()
    expect(page.locator("#files .error").first).to_contain_text("not a PNG, JPEG or SVG")

    # over the upload's cap, refused before it is read: back on the page, saying so, not a bare 413
    huge = tmp_path / "huge.png"
    huge.write_bytes(b"\x89PNG" + b"0" * (1024 * 1024 + 100_000))
    page.locator("#files").get_by_label("Choose a file for the logo").set_input_files(str(huge))
    page.locator("#files").get_by_role("button", name="Upload").first.click()
    expect(page.get_by_role("status")).to_contain_text("The file is too large, so nothing was saved")
    expect(page.get_by_role("heading", name="Branding", level=1)).to_be_visible()

    good = tmp_path / "new-logo.png"
    good.write_bytes(_png())
    page.locator("#files").get_by_label("Choose a file for the logo").set_input_files(str(good))
    page.locator("#files").get_by_role("button", name="Upload").first.click()
    expect(page.get_by_role("status")).to_contain_text("The logo is uploaded")
    image = page.locator("#files").get_by_role("img", name="Your current logo")
    assert drawn(image)
    assert image.evaluate("i => i.naturalWidth") == 120
    page.locator("#files").get_by_role("button", name="Remove the logo").click()
    expect(page.get_by_role("status")).to_contain_text("The logo is removed")


def test_a_custom_domain_waits_pending_with_its_txt_record(page, live_server, db, demo, look):
    sign_in_team(page, live_server, ABC, ADMIN)
    page.goto(live_server.url(ABC, "/reseller/branding/domains"))
    host = "portal.abc-branding-test.com"
    try:
        # the platform's own names are refused
        page.get_by_role("textbox", name="Domain").fill("portal.abc.test.example")
        page.get_by_role("button", name="Add the domain").click()
        expect(page.locator("#host-error")).to_be_visible()
        page.get_by_role("textbox", name="Domain").fill(host)
        page.get_by_role("button", name="Add the domain").click()
        expect(page.get_by_role("status")).to_contain_text("The domain is added")
        card = page.locator(".domain").filter(has=page.get_by_role("heading", name=host))
        expect(card.locator(".tag")).to_contain_text(["Pending"])
        expect(card.locator(".dns-records")).to_contain_text(f"_backhaul-challenge.{host}")
        expect(card.locator(".dns-records")).to_contain_text("TXT")
        look(page, "reseller-branding-domains")
        card.get_by_role("button", name="Check now").click()
        expect(page.locator(".notice-error")).to_be_visible()  # no such record in DNS: still pending
        expect(page.locator(".domain").filter(has=page.get_by_role("heading", name=host)).locator(".tag")
               ).to_contain_text(["Pending"])
        page.locator(".domain").filter(has=page.get_by_role("heading", name=host)).get_by_role(
            "link", name=re.compile("Remove")).click()
        page.get_by_role("button", name="Remove the domain").click()
        expect(page.get_by_role("status")).to_contain_text("The domain is removed")
        expect(page.get_by_role("heading", name=host)).to_have_count(0)
    finally:
        with db.session() as s:
            for row in s.execute(select(Domain).where(Domain.host == host)).scalars():
                s.delete(row)
            s.commit()


def test_a_readonly_member_has_no_branding_and_another_resellers_domain_is_not_found(page, live_server, db, demo):
    sign_in_team(page, live_server, ABC, "viewer@abc-internet.example")
    assert fetch(page, "/reseller/branding")["status"] == 403
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    assert post_form(page, "/reseller/branding", {"csrf_token": token, "brand_name": "Forged",
                                                  "action": "save"}) == 403
    assert post_form(page, "/reseller/branding/domains", {"csrf_token": token, "host": "forged.example"}) == 403

    with db.session() as s:
        xyz = s.execute(select(Domain.id).where(Domain.host == "xyz.test.example")).scalar_one()
    other = page.context.browser.new_context()
    admin = other.new_page()
    sign_in_team(admin, live_server, ABC, ADMIN)
    assert fetch(admin, f"/reseller/branding/domains/{xyz}/remove")["status"] == 404
    assert post_form(admin, f"/reseller/branding/domains/{xyz}/verify",
                     {"csrf_token": admin.locator("input[name=csrf_token]").first.get_attribute("value")}) == 404
    other.close()


def test_every_word_of_the_branding_pages_is_in_swahili():
    from jinja2.ext import babel_extract

    from app.portals.reseller import branding as pages
    from app.portals.reseller import branding_forms
    from app.services.branding import i18n

    words = i18n.translations("sw")
    untranslated = []
    for template in sorted((i18n.CATALOGUES.parent / "templates/reseller/branding").glob("*.html")):
        with template.open("rb") as source:
            for _line, _function, message, _comments in babel_extract(source, ("_",), [], {}):
                message = message[0] if isinstance(message, tuple) else message
                if message and words.gettext(message) == message:
                    untranslated.append(f"{template.name}: {message}")
    said = [v for module in (pages, branding_forms) for k, v in vars(module).items()
            if k.isupper() and isinstance(v, str) and " " in v]
    said += [v for table in (pages.LABELS, pages.HINTS, pages.SHOWN, pages.KINDS) for v in table.values()]
    said += ["Inherited (no theme of its own)"]
    untranslated += [m for m in said if words.gettext(m) == m]
    assert untranslated == []
