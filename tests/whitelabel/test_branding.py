"""Brands: inheritance down the reseller tree, each host in its own brand (pages, stylesheet, e-mail), the
template cache never crossing tenants, and uploads refused with clear reasons."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from PIL import Image
from sqlalchemy import select, text

from app.models import Outbox
from app.services import branding
from app.services.branding import storage
from app.services.notifications import queue_email
from app.services.settings import put_setting
from tenants import tenant_context
from tests.auth.conftest import staff  # noqa: F401  (a fixture)
from tests.conftest import host_of, platform_brand_kept
from tests.whitelabel.conftest import PASSWORD


def png(colour=(200, 30, 30), size=(40, 20)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def upload(client, headers, kind: str, data: bytes, name: str = "file.png"):
    return client.post(f"/reseller/api/branding/{kind}", headers=headers,
                       data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


@pytest.fixture
def platform_brand(db):
    """The platform's own brand for one test; put back as it was afterwards."""
    def set_fields(**fields):
        with db.session() as s:
            branding.update(s, branding.Owner(), fields, actor="test")
            s.commit()

    with platform_brand_kept(db):
        yield set_fields


def test_three_levels_child_colour_parent_logo_platform_terms(client, db, make_tenant, reseller, platform_brand):
    platform_brand(terms="Platform terms: service per the fair use policy.", secondary_color="#111111")
    parent = reseller("PAR")
    assert client.patch("/reseller/api/branding", headers=parent.headers, json={
        "branding": {"brand_name": "Parent Net", "primary_color": "#0066cc", "support_email": "help@parent.example"},
    }).status_code == 200
    assert upload(client, parent.headers, "logo", png()).status_code == 200
    child_tenant = make_tenant("CHI", parent_code=parent.tenant.code)
    grandchild_tenant = make_tenant("GRA", parent_code=child_tenant.code)
    with db.session() as s:
        branding.update(s, branding.Owner.of(s, child_tenant.id), {"primary_color": "#22AA22"}, actor="test")
        s.commit()

    with db.session() as s:
        child = branding.brand_of(s, child_tenant.id)
        grandchild = branding.brand_of(s, grandchild_tenant.id)
    assert child.values["primary_color"] == "#22AA22" and child.sources["primary_color"] == child_tenant.code
    assert child.values["logo"]["file"].endswith(".png") and child.sources["logo"] == parent.tenant.code
    assert child.values["brand_name"] == "Parent Net"
    assert child.values["terms"].startswith("Platform terms") and child.sources["terms"] == "platform"
    assert child.values["secondary_color"] == "#111111"
    # the grandchild inherits through the child: the child's colour, the parent's logo, the platform's terms
    assert grandchild.values["primary_color"] == "#22AA22"
    assert grandchild.sources["logo"] == parent.tenant.code and grandchild.sources["terms"] == "platform"

    # and so do its pages: the child's host shows the parent's logo file, served on the child's own host
    page = client.get("/login", headers={"Host": host_of(child_tenant)})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Parent Net" in html and "Platform terms" in html
    logo = re.search(r'src="(/brand/logo/[0-9a-f]+\.png)"', html).group(1)
    served = client.get(logo, headers={"Host": host_of(child_tenant)})
    assert served.status_code == 200 and served.mimetype == "image/png"
    css_url = re.search(r'href="(/brand/theme-[0-9a-f]+\.css)"', html).group(1)
    css = client.get(css_url, headers={"Host": host_of(child_tenant)})
    assert "--brand-primary: #22AA22" in css.get_data(as_text=True)
    assert "immutable" in css.headers["Cache-Control"]


def test_without_inheritance_a_sub_reseller_skips_its_parent(db, make_tenant, reseller, client):
    parent = reseller("PNI")
    client.patch("/reseller/api/branding", headers=parent.headers, json={"branding": {"primary_color": "#123456"}})
    child = make_tenant("CNI", name="Own Brand Ltd", parent_code=parent.tenant.code)
    with db.session() as s:
        s.execute(text("UPDATE public.tenants SET inherited_branding = false WHERE id = :id"), {"id": child.id})
        s.commit()
        brand = branding.brand_of(s, child.id)
    assert brand.values["primary_color"] != "#123456" and brand.sources["primary_color"] == "platform"
    assert brand.values["brand_name"] == "Own Brand Ltd"


def test_unset_field_is_inherited_again_and_white_label_off_shows_the_inherited_brand(client, reseller):
    a = reseller("UNS")
    got = client.patch("/reseller/api/branding", headers=a.headers,
                       json={"reseller_id": a.tenant.id, "white_label_enabled": True,
                             "branding": {"brand_name": "ABC Internet Services", "logo_url": "https://cdn.abc.com/logo.png",
                                          "primary_color": "#0066CC", "secondary_color": "#FF6600",
                                          "support_email": "support@abc-internet.com",
                                          "support_phone": "+1-555-ABC-HELP"}})
    assert got.status_code == 200, got.get_json()
    body = got.get_json()
    assert body["branding"]["brand_name"] == "ABC Internet Services"
    assert body["sources"]["primary_color"] == a.tenant.code
    unset = client.patch("/reseller/api/branding", headers=a.headers, json={"branding": {"primary_color": None}})
    assert unset.get_json()["effective"]["primary_color"] == "#0B5CAB"
    assert "primary_color" not in unset.get_json()["branding"]
    off = client.patch("/reseller/api/branding", headers=a.headers, json={"white_label_enabled": False})
    assert off.get_json()["effective"]["brand_name"] == a.tenant.name  # its own fields are set aside
    other = client.patch("/reseller/api/branding", headers=a.headers, json={"reseller_id": a.tenant.id + 999})
    assert other.status_code == 422 and "reseller_id" in other.get_json()["detail"]


def outbox(db, tenant) -> list:
    """The e-mails queued in a tenant's outbox, as they will be sent (rendered when queued), oldest first."""
    with db.session() as s, tenant_context(tenant):
        rows = s.execute(select(Outbox).order_by(Outbox.id)).scalars().all()
        s.expunge_all()
        return rows


def test_two_tenants_same_page_and_email_each_in_its_own_brand(client, db, reseller):
    a, b = reseller("TWA"), reseller("TWB")
    client.patch("/reseller/api/branding", headers=a.headers,
                 json={"branding": {"brand_name": "Alpha Fibre", "primary_color": "#AA0000"}})
    client.patch("/reseller/api/branding", headers=b.headers,
                 json={"branding": {"brand_name": "Beta Wireless", "primary_color": "#0000BB"}})
    upload(client, a.headers, "logo", png((255, 0, 0)))
    upload(client, b.headers, "logo", png((0, 0, 255)))

    pages = {r.tenant.code: client.get("/login", headers={"Host": r.host}).get_data(as_text=True) for r in (a, b)}
    assert "Alpha Fibre" in pages[a.tenant.code] and "Beta Wireless" not in pages[a.tenant.code]
    assert "Beta Wireless" in pages[b.tenant.code] and "Alpha Fibre" not in pages[b.tenant.code]
    logos = {code: re.search(r'/brand/logo/([0-9a-f]+\.png)', html).group(1) for code, html in pages.items()}
    assert logos[a.tenant.code] != logos[b.tenant.code]
    # a tenant's host never serves another tenant's logo, even by its exact name
    assert client.get(f"/brand/logo/{logos[b.tenant.code]}", headers={"Host": a.host}).status_code == 404

    for reseller_ in (a, b):
        with db.session() as s, tenant_context(reseller_.tenant):
            queue_email(s, to="ann@example.net", template="welcome",
                        context={"portal_id": "X1", "portal_url": f"https://{reseller_.host}/", "name": "Ann"})
            s.commit()
    [alpha], [beta] = outbox(db, a.tenant), outbox(db, b.tenant)
    assert alpha.subject == "Welcome to Alpha Fibre" and beta.subject == "Welcome to Beta Wireless"
    assert "#AA0000" in alpha.body_html and "#0000BB" not in alpha.body_html
    assert f"/brand/logo/{logos[a.tenant.code]}" in alpha.body_html and a.host in alpha.body_html
    assert "#0000BB" in beta.body_html and "Alpha" not in beta.body_text


def test_template_cache_never_crosses_tenants(client, db, reseller):
    a, b = reseller("CAA"), reseller("CAB")
    theme = storage.themes_root(a.tenant.schema) / "alpha" / "templates" / "portal"
    theme.mkdir(parents=True)
    (theme / "index.html").write_text('{% extends "base:portal/index.html" %}'
                                      '{% block content %}<p id="only-a">Alpha theme</p>{{ super() }}{% endblock %}')
    assert client.patch("/reseller/api/branding", headers=a.headers,
                        json={"branding": {"theme": "alpha"}}).status_code == 200
    first_a = client.get("/", headers={"Host": a.host}).get_data(as_text=True)
    then_b = client.get("/", headers={"Host": b.host}).get_data(as_text=True)
    again_a = client.get("/", headers={"Host": a.host}).get_data(as_text=True)
    assert 'id="only-a"' in first_a and 'id="only-a"' in again_a
    assert 'id="only-a"' not in then_b
    assert "Customer self-service portal" in first_a and "Customer self-service portal" in then_b


def test_a_theme_that_does_not_exist_cannot_be_chosen(client, reseller):
    a = reseller("NOT")
    got = client.patch("/reseller/api/branding", headers=a.headers, json={"branding": {"theme": "nope"}})
    assert got.status_code == 422 and "no theme named 'nope'" in got.get_json()["detail"]


def _zip(entries: dict) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as bundle:
        for name, data in entries.items():
            bundle.writestr(name, data)
    return out.getvalue()


def theme_upload(client, headers, name: str, data: bytes):
    return client.post("/reseller/api/branding/themes", headers=headers,
                       data={"name": name, "file": (io.BytesIO(data), "theme.zip")}, content_type="multipart/form-data")


def test_uploaded_theme_is_used_and_bad_archives_are_refused(client, reseller):
    a = reseller("ZIP")
    good = _zip({"templates/portal/index.html": '{% extends "base:portal/index.html" %}'
                                                '{% block content %}<b>zipped</b>{% endblock %}',
                 "static/extra.css": "body { color: red }"})
    done = theme_upload(client, a.headers, "mine", good)
    assert done.status_code == 201 and done.get_json()["themes"] == ["mine"]
    client.patch("/reseller/api/branding", headers=a.headers, json={"branding": {"theme": "mine"}})
    assert "<b>zipped</b>" in client.get("/", headers={"Host": a.host}).get_data(as_text=True)
    assert client.get("/static/extra.css", headers={"Host": a.host}).get_data(as_text=True) == "body { color: red }"

    refusals = {
        "../ path": (_zip({"templates/../../evil.html": "x"}), "points outside the theme"),
        "absolute path": (_zip({"/etc/cron.d/x": "x"}), "points outside the theme"),
        "python file": (_zip({"templates/x.py": "import os"}), "is not allowed"),
        "bad template": (_zip({"templates/x.html": "{% if %}"}), "does not compile"),
        "svg with script": (_zip({"static/a.svg": '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)'
                                  '</script></svg>'}), "<script>"),
        "not a zip": (b"just text", "not a zip archive"),
        "too big": (b"PK" + b"0" * (5 * 1024 * 1024 + 10), "bytes; the most allowed"),
    }
    for label, (data, message) in refusals.items():
        got = theme_upload(client, a.headers, "bad", data)
        assert got.status_code == 422, label
        assert got.headers["Content-Type"].startswith("application/problem+json")
        assert message in got.get_json()["detail"], (label, got.get_json())
    assert client.get("/reseller/api/branding/themes", headers=a.headers).get_json()["themes"] == ["mine"]
    # a theme in use cannot be removed; another one can
    assert client.delete("/reseller/api/branding/themes/mine", headers=a.headers).status_code == 409


def test_sandboxed_theme_cannot_reach_python(client, reseller):
    a = reseller("SBX")
    evil = _zip({"templates/portal/index.html": "{{ ''.__class__.__mro__[1].__subclasses__() }}"})
    assert theme_upload(client, a.headers, "evil", evil).status_code == 201
    client.patch("/reseller/api/branding", headers=a.headers, json={"branding": {"theme": "evil"}})
    page = client.get("/", headers={"Host": a.host})
    assert page.status_code == 500 and "subclasses" not in page.get_data(as_text=True)


SVG_SCRIPT = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
SVG_ONLOAD = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="5" height="5"/></svg>'
SVG_LINK = (b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
            b'<image xlink:href="https://evil.example/x.png"/></svg>')
SVG_ENTITY = b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg>&x;</svg>'
SVG_OK = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="#06c"/></svg>'


@pytest.mark.parametrize(("data", "message"), [
    (SVG_SCRIPT, "<script>"), (SVG_ONLOAD, "event attribute (onload)"), (SVG_LINK, "links to"),
    (SVG_ENTITY, "DTD or entities"), (b"GIF89a" + b"\0" * 50, "not a PNG, JPEG or SVG"),
    (b"\x89PNG" + b"0" * (1024 * 1024), "the most allowed is 1,048,576 bytes"), (b"", "empty"),
])
def test_bad_logos_are_refused_and_nothing_is_kept(client, reseller, data, message):
    a = reseller("LOG")
    got = upload(client, a.headers, "logo", data, "logo.svg")
    assert got.status_code == 422 and message in got.get_json()["detail"], got.get_json()
    assert client.get("/reseller/api/branding", headers=a.headers).get_json()["branding"] == {}
    assert not (storage.owner_folder(a.tenant.schema) / "branding").exists()


def test_a_clean_svg_and_a_jpeg_are_accepted_and_jpeg_metadata_dropped(client, reseller):
    a = reseller("SVG")
    assert upload(client, a.headers, "logo", SVG_OK, "logo.svg").get_json()["branding"]["logo"]["content_type"] \
        == "image/svg+xml"
    jpeg = io.BytesIO()
    image = Image.new("RGB", (30, 30), (0, 120, 0))
    exif = Image.Exif()
    exif[0x010E] = "secret description"
    image.save(jpeg, format="JPEG", exif=exif)
    got = upload(client, a.headers, "favicon", jpeg.getvalue(), "f.jpg").get_json()["branding"]["favicon"]
    stored = (storage.owner_folder(a.tenant.schema) / "branding" / got["file"]).read_bytes()
    assert got["content_type"] == "image/jpeg" and b"secret description" not in stored
    served = client.get(got["url"], headers={"Host": a.host})
    assert served.status_code == 200 and "sandbox" in served.headers["Content-Security-Policy"]


@pytest.mark.parametrize(("css", "message"), [
    ("@import url(https://evil.example/x.css);", "@import"),
    ('body { background: url("javascript:alert(1)") }', "javascript"),
    ("body { background: url(javascript:alert(1)) }", "does not parse"),
    ("body { width: expression(alert(1)) }", "expression"),
    ("body { -moz-binding: url(https://evil.example/x.xml#x) }", "-moz-binding"),
    ("</style><script>alert(1)</script>", "HTML"),
    ("body { background: url(http://insecure.example/a.png) }", "may load images only"),
])
def test_dangerous_custom_css_is_refused(client, reseller, css, message):
    a = reseller("CSS")
    got = client.patch("/reseller/api/branding", headers=a.headers, json={"branding": {"custom_css": css}})
    assert got.status_code == 422 and message in got.get_json()["detail"], got.get_json()


def test_custom_css_and_fonts_reach_the_stylesheet(client, reseller):
    a = reseller("CSO")
    got = client.patch("/reseller/api/branding", headers=a.headers, json={"branding": {
        "custom_css": ".bar { border-bottom: 2px solid var(--brand-secondary) }", "font_family": "Inter, sans-serif"}})
    assert got.status_code == 200
    css = client.get(got.get_json()["stylesheet_url"], headers={"Host": a.host}, follow_redirects=True)
    text_ = css.get_data(as_text=True)
    assert "--brand-font: Inter, sans-serif" in text_ and "border-bottom" in text_
    stale = client.get("/brand/theme-0000000000000000.css", headers={"Host": a.host})
    assert stale.status_code == 302 and stale.headers["Location"].endswith(got.get_json()["stylesheet_url"])


@pytest.mark.parametrize(("field", "value"), [
    ("primary_color", "red"), ("support_email", "not-mail"), ("sms_sender_id", "TOO-LONG-SENDER"),
    ("logo_url", "http://plain.example/logo.png"), ("font_family", "x; } body { display:none"),
    ("brand_name", "two\nlines"), ("colour", "#000"),
])
def test_bad_fields_are_refused_with_the_field_named(client, reseller, field, value):
    a = reseller("FLD")
    got = client.patch("/reseller/api/branding", headers=a.headers, json={"branding": {field: value}})
    assert got.status_code == 422, got.get_json()


def test_preview_draws_unsaved_changes_and_saves_nothing(client, reseller):
    a = reseller("PRE")
    client.patch("/reseller/api/branding", headers=a.headers, json={"branding": {"brand_name": "Saved Name"}})
    got = client.post("/reseller/api/branding/preview", headers=a.headers,
                      json={"page": "login", "branding": {"brand_name": "Draft Name", "primary_color": "#ABCDEF"}})
    html = got.get_data(as_text=True)
    assert got.status_code == 200 and got.mimetype == "text/html"
    assert "Draft Name" in html and "--brand-primary: #ABCDEF" in html and "sandbox" in got.headers[
        "Content-Security-Policy"]
    assert client.get("/reseller/api/branding", headers=a.headers).get_json()["branding"]["brand_name"] == "Saved Name"
    bad = client.post("/reseller/api/branding/preview", headers=a.headers,
                      json={"page": "login", "branding": {"primary_color": "blue"}})
    assert bad.status_code == 422


def test_only_settings_managers_touch_the_brand(client, reseller, staff):  # noqa: F811
    readonly = reseller("RO", role="Readonly")
    assert client.get("/reseller/api/branding", headers=readonly.headers).status_code == 403
    assert client.patch("/reseller/api/branding", headers=readonly.headers,
                        json={"branding": {"brand_name": "x"}}).status_code == 403
    assert client.get("/reseller/api/branding", headers={"Host": readonly.host}).status_code == 401


def test_platform_brand_is_set_by_staff_on_the_console(client, staff, platform_brand):  # noqa: F811
    login = client.post("/console/auth/login", json={"email": staff, "password": PASSWORD},
                        headers={"Host": "console.test.example"})
    headers = {"Authorization": f"Bearer {login.get_json()['token']}", "Host": "console.test.example"}
    got = client.patch("/console/api/branding", headers=headers, json={"branding": {"terms": "Platform-wide terms"}})
    assert got.status_code == 200 and got.get_json()["effective"]["terms"] == "Platform-wide terms"


def test_email_in_the_tenants_language_and_time_zone(db, reseller, client):
    from datetime import UTC, datetime

    a = reseller("SWA")
    client.patch("/reseller/api/branding", headers=a.headers, json={"branding": {"brand_name": "Mtandao Safi"}})
    with db.session() as s, tenant_context(a.tenant):
        put_setting(s, "language", "sw")
        put_setting(s, "timezone", "Africa/Nairobi")
        queue_email(s, to="juma@example.net", template="welcome",
                    context={"portal_id": "SW1", "portal_url": "https://x.example/", "name": "Juma"})
        queue_email(s, to="juma@example.net", template="security/lockout",
                    context={"at": datetime(2026, 3, 4, 5, 6, tzinfo=UTC), "ip": "203.0.113.9", "name": "Juma"})
        s.commit()
    welcome, lockout = outbox(db, a.tenant)
    assert welcome.subject == "Karibu Mtandao Safi"
    assert "Kitambulisho chako cha Portal" in welcome.body_text
    assert "4 Machi 2026, 08:06 EAT" in lockout.body_text  # 05:06 UTC in Nairobi, the month in Swahili


def test_branding_domain_must_be_a_verified_domain_of_ones_own(client, db, reseller):
    from app.services import tenants as tenant_svc

    a = reseller("DMN")
    host = f"portal.{a.tenant.code.lower().replace('_', '-')}.example"
    refused = client.patch("/reseller/api/branding", headers=a.headers, json={"branding": {"domain": host}})
    assert refused.status_code == 422 and "not a verified domain of yours" in refused.get_json()["detail"]
    with db.session() as s:
        tenant_svc.add_domain(s, a.tenant.code, host, verified=True, actor="test")
    done = client.patch("/reseller/api/branding", headers=a.headers, json={"branding": {"domain": host}})
    assert done.status_code == 200 and done.get_json()["domain"] == host


def test_a_brand_changed_elsewhere_reaches_this_process_through_notify(client, db, reseller):
    """Another process (here: plain SQL, which clears no cache of ours) changes a brand; the trigger's
    NOTIFY drops this process's cached brand, so the next page shows the change."""
    import time

    a = reseller("NTF")
    client.patch("/reseller/api/branding", headers=a.headers, json={"branding": {"brand_name": "Before Name"}})
    assert "Before Name" in client.get("/", headers={"Host": a.host}).get_data(as_text=True)
    with db.session() as s:
        s.execute(text("UPDATE public.brandings SET fields = fields || '{\"brand_name\": \"After Name\"}'::jsonb "
                       "WHERE tenant_id = :id"), {"id": a.tenant.id})
    deadline = time.monotonic() + 5
    while "After Name" not in client.get("/", headers={"Host": a.host}).get_data(as_text=True):
        assert time.monotonic() < deadline, "the cached brand was never dropped"
        time.sleep(0.05)


def test_a_theme_shipped_as_a_folder_can_be_chosen(client, reseller):
    a, b = reseller("SHP"), reseller("SHQ")
    assert client.patch("/reseller/api/branding", headers=a.headers,
                        json={"branding": {"theme": "savanna"}}).status_code == 200
    page = client.get("/", headers={"Host": a.host}).get_data(as_text=True)
    assert 'class="savanna-band"' in page and "/static/savanna.css" in page
    assert client.get("/static/savanna.css", headers={"Host": a.host}).status_code == 200
    assert 'class="savanna-band"' not in client.get("/", headers={"Host": b.host}).get_data(as_text=True)
    assert client.get("/static/savanna.css", headers={"Host": b.host}).status_code == 404  # not in b's chain


def test_preview_of_a_sample_invoice_as_html_and_pdf(client, reseller):
    import pypdf

    a = reseller("PRI")
    draft = {"brand_name": "Draft Invoicer", "tax_number": "P059999999Z", "primary_color": "#AB1234"}
    html = client.post("/reseller/api/branding/preview", headers=a.headers,
                       json={"page": "invoice", "branding": draft})
    assert html.status_code == 200 and "Draft Invoicer" in html.get_data(as_text=True)
    assert "#AB1234" in html.get_data(as_text=True).upper()
    pdf = client.post("/reseller/api/branding/preview", headers=a.headers,
                      json={"page": "invoice", "format": "pdf", "branding": draft})
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text_ = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Draft Invoicer" in text_ and "P059999999Z" in text_
    assert client.get("/reseller/api/branding", headers=a.headers).get_json()["branding"] == {}
