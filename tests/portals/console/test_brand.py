"""The console's Platform brand page: staff see who is drawn in the platform's brand, change its name and colours,
see them in the preview (the "Preview" button, and htmx as a field changes), have a bad colour said next to its
field with what they typed kept, save, and the console itself and an inheriting reseller's sign-in page are in the
new brand at once; the logo is uploaded (a text file, an oversized one and none at all are refused next to the
field) and removed. Saving is audited as the API's PATCH is; a reseller's team member has no such page.
Every test puts the platform's brand back as it was (the demo's resellers, shared by every portal test of the
process, inherit it)."""

from __future__ import annotations

import io

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.models import AuditEvent
from app.portals import brand_editor
from app.portals.console import brand as pages
from app.portals.console import brand_forms
from app.services import branding
from tests.conftest import host_of, platform_brand_kept
from tests.portals.console.console_rig import CONSOLE, staff_client
from tests.portals.signin import sign_in_staff
from tests.portals.words import TEMPLATES, untranslated
from tests.web.forms import csrf_of, submit

BROWSER = pytest.mark.browser


@pytest.fixture
def platform_brand(db, demo, staff):
    """The platform's brand as it was, put back after the test."""
    with platform_brand_kept(db):
        yield
    branding.forget()


def _url(live_server, path: str) -> str:
    return live_server.url(CONSOLE, path)


def _open(page, live_server):
    sign_in_staff(page, live_server)
    page.get_by_role("navigation", name="Sections").first.get_by_role("link", name="Platform brand").click()
    expect(page.get_by_role("heading", name="Platform brand", level=1)).to_be_visible()


def _png(size=(120, 40)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (30, 120, 60)).save(out, format="PNG")
    return out.getvalue()


@BROWSER
def test_staff_preview_and_save_the_platform_brand_which_inheriting_resellers_show(
        page, live_server, make_tenant, platform_brand, look):
    plain = make_tenant("PLB", name="Plain Brand Partner")
    _open(page, live_server)
    inheritors = page.locator("#inheritors")
    expect(inheritors.get_by_role("link", name="Plain Brand Partner")).to_be_visible()
    expect(inheritors.get_by_role("link", name="ABC Internet")).to_have_count(0)  # ABC sets its own brand

    sample = page.locator("#brand-sample")
    page.get_by_label("Brand name").fill("Backhaul Fibre Test")
    page.get_by_label("Primary colour").fill("#7a1f5c")
    page.get_by_role("button", name="Preview", exact=True).click()
    expect(page.locator("#brand-sample .notice")).to_contain_text("not saved yet")
    expect(sample.locator(".sample-bar .brand").first).to_have_text("Backhaul Fibre Test")
    expect(sample.locator(".sample-bar").first).to_have_css("background-color", "rgb(122, 31, 92)")
    expect(page.get_by_label("Brand name")).to_have_value("Backhaul Fibre Test")
    expect(page.locator(".workspace-bar .brand").first).not_to_have_text("Backhaul Fibre Test")  # not saved yet
    look(page, "console-brand")

    # htmx: the sample follows a change of a field without the page being sent
    page.get_by_label("Secondary colour").fill("#336699")
    page.get_by_label("Secondary colour").press("Tab")
    expect(sample.locator(".sample-body .button").first).to_have_css("background-color", "rgb(51, 102, 153)")

    # a colour that is not one is said next to its field, what was typed is kept, nothing is saved
    page.get_by_label("Secondary colour").fill("blueish")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#secondary_color-error")).to_contain_text("colour like #0066CC")
    expect(page.get_by_label("Secondary colour")).to_have_value("blueish")
    expect(page.get_by_label("Brand name")).to_have_value("Backhaul Fibre Test")
    look(page, "console-brand-refused")

    # a whole preview of the sign-in page opens in a new tab, in the unsaved brand
    page.get_by_label("Secondary colour").fill("#336699")
    with page.context.expect_page() as opened:
        page.locator(".brand-sample-panel").get_by_role("button", name="Sign-in page").click()
    tab = opened.value
    tab.wait_for_load_state()
    expect(tab.locator(".bar .brand")).to_have_text("Backhaul Fibre Test")
    expect(tab.locator(".bar")).to_have_css("background-color", "rgb(122, 31, 92)")
    tab.close()

    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("The platform brand is saved")
    expect(page.get_by_label("Primary colour")).to_have_value("#7A1F5C")
    expect(page.locator(".workspace-bar .brand").first).to_have_text("Backhaul Fibre Test")  # the console's own

    signed_out = page.context.browser.new_page()
    signed_out.goto(live_server.url(host_of(plain), "/login"))
    expect(signed_out.locator(".bar")).to_have_css("background-color", "rgb(122, 31, 92)")
    signed_out.close()

    # emptied, a field returns to the built-in default
    page.get_by_label("Primary colour").fill("")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("The platform brand is saved")
    expect(page.locator("#primary_color-hint")).to_contain_text("built-in default (#0B5CAB)")


@BROWSER
def test_the_logo_is_uploaded_shown_and_removed_and_bad_files_are_said_next_to_the_field(
        page, live_server, platform_brand, tmp_path, look):
    _open(page, live_server)
    files = page.locator("#files")
    files.get_by_role("button", name="Upload").click()
    expect(page.locator("#logo-file-error")).to_contain_text("Choose a file to upload")

    text = tmp_path / "logo.png"
    text.write_text("not an image at all")
    page.locator("#files").get_by_label("Choose a file for the logo").set_input_files(str(text))
    page.locator("#files").get_by_role("button", name="Upload").click()
    expect(page.locator("#logo-file-error")).to_contain_text("not a PNG, JPEG or SVG")

    huge = tmp_path / "huge.png"
    huge.write_bytes(b"\x89PNG" + b"0" * (1024 * 1024 + 100_000))
    page.locator("#files").get_by_label("Choose a file for the logo").set_input_files(str(huge))
    page.locator("#files").get_by_role("button", name="Upload").click()
    expect(page.get_by_role("status")).to_contain_text("The file is too large, so nothing was saved")
    expect(page.get_by_role("heading", name="Platform brand", level=1)).to_be_visible()  # back on the page
    look(page, "console-brand-logo-refused")

    good = tmp_path / "platform-logo.png"
    good.write_bytes(_png())
    page.locator("#files").get_by_label("Choose a file for the logo").set_input_files(str(good))
    page.locator("#files").get_by_role("button", name="Upload").click()
    expect(page.get_by_role("status")).to_contain_text("The logo is uploaded")
    image = page.locator("#files").get_by_role("img", name="The platform's current logo")
    expect(image).to_be_visible()
    assert image.evaluate("i => i.complete && i.naturalWidth") == 120
    page.locator("#files").get_by_role("button", name="Remove the logo").click()
    expect(page.get_by_role("status")).to_contain_text("The logo is removed")
    expect(page.locator("#files").get_by_role("img")).to_have_count(0)


def test_saving_is_audited_as_the_api_does_and_previews_save_nothing(app, db, platform_brand):
    client = staff_client(app.test_client())
    saved = submit(client, "/console/brand", CONSOLE, action="save", brand_name="Audited Platform",
                   terms="Platform terms, from the console.")
    assert saved.status_code == 302
    with db.session() as s:
        event = s.execute(select(AuditEvent).where(AuditEvent.action == "branding.update")
                          .order_by(AuditEvent.id.desc()).limit(1)).scalar_one()
        assert event.tenant_id is None and "brand_name" in event.detail["fields"]
        assert branding.own(s, branding.Owner())[0]["brand_name"] == "Audited Platform"

    token = csrf_of(client.get("/console/brand", headers={"Host": CONSOLE}).get_data(as_text=True))
    for show, kind in (("portal", "text/html"), ("login", "text/html"), ("email", "text/html"),
                       ("invoice", "application/pdf")):
        drawn = client.post("/console/brand/preview", headers={"Host": CONSOLE},
                            data={"csrf_token": token, "show": show, "brand_name": "Only Previewed"})
        assert drawn.status_code == 200 and drawn.mimetype == kind, show
        assert drawn.headers["Content-Security-Policy"].startswith("sandbox")
        if kind == "text/html":
            assert "Only Previewed" in drawn.get_data(as_text=True), show
    refused = client.post("/console/brand", headers={"Host": CONSOLE},
                          data={"csrf_token": token, "action": "save", "support_email": "not-an-address"})
    assert refused.status_code == 422
    assert 'value="not-an-address"' in refused.get_data(as_text=True)
    with db.session() as s:
        assert branding.own(s, branding.Owner())[0]["brand_name"] == "Audited Platform"  # nothing else was saved

    css = client.get("/console/brand/sample.css?primary_color=%23123456&secondary_color=nope",
                     headers={"Host": CONSOLE})
    drawn_css = css.get_data(as_text=True)
    assert css.status_code == 200 and drawn_css.startswith(".brand-sample")
    assert "#123456" in drawn_css and "nope" not in drawn_css  # a refused value leaves the saved one


def test_a_resellers_team_member_has_no_platform_brand(client, demo, staff, platform_brand):
    from app.services import demo as seed

    signed = client.post("/reseller/auth/login", headers={"Host": "abc.test.example"},
                         json={"username": "admin@abc-internet.example", "password": seed.DEMO_PASSWORD})
    token = signed.get_json()["token"]
    for method, path in (("get", "/console/brand"), ("post", "/console/brand"), ("post", "/console/brand/logo")):
        answer = getattr(client, method)(path, headers={"Host": CONSOLE, "Authorization": f"Bearer {token}"})
        assert answer.status_code in (401, 403), (path, answer.status_code)
    assert client.get("/console/brand", headers={"Host": "abc.test.example"}).status_code in (403, 404)


def test_every_word_of_the_platform_brand_page_is_in_swahili(app):
    templates = sorted((TEMPLATES / "console/brand").glob("*.html")) + [TEMPLATES / "kit/brand_editor.html"]
    said = [v for module in (pages, brand_forms, brand_editor) for k, v in vars(module).items()
            if k.isupper() and isinstance(v, str) and " " in v]
    said += [*brand_editor.LABELS.values(), *brand_editor.HINTS.values(), *brand_editor.SHOWN.values(), pages.LOGO]
    assert untranslated(templates, said) == []
