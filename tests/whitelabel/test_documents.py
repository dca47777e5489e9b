"""Branded PDF documents: each tenant's invoices carry its own brand and nobody else's, amounts are exact,
the logo is embedded but nothing is ever fetched from the network or read from arbitrary files, the
tenant's language and theme are used, and every kind of document renders.

Real tenants, real brand rows (set through the branding service), real uploaded files; the PDFs are read
back with pypdf, as a customer's PDF reader would.
"""

from __future__ import annotations

import io
import select
import socket
from decimal import Decimal

import pytest
from PIL import Image
from pypdf import PdfReader

from app.services import branding, documents
from app.services.branding import storage
from app.services.branding.rendering import locale_of
from app.services.documents import DocumentError, LinkResolver
from app.services.errors import Invalid
from app.services.settings import put_setting
from tenants import tenant_context
from tenants.themes import BASE

SAMPLES = {
    "invoice": documents.sample_invoice,
    "credit_note": documents.sample_credit_note,
    "receipt": documents.sample_receipt,
    "statement": documents.sample_statement,
}
SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40" viewBox="0 0 120 40">'
       b'<rect width="120" height="40" fill="#c02020"/></svg>')


def png(colour=(200, 30, 30), size=(240, 80)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def set_brand(db, tenant, **fields) -> branding.Brand:
    with db.session() as session:
        return branding.update(session, branding.Owner.of(session, tenant.id), fields, actor="test")


def upload(db, tenant, kind: str, data: bytes) -> branding.Brand:
    with db.session() as session:
        return branding.upload(session, branding.Owner.of(session, tenant.id), kind, data, actor="test")


def render(db, tenant, kind: str = "invoice", document: dict | None = None) -> bytes:
    """As the billing code will: inside the tenant's context, brand and language left to the service."""
    with tenant_context(tenant), db.session() as session:
        return documents.render_pdf(session, kind, document or SAMPLES[kind]("KES"))


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def images_of(pdf: bytes) -> list:
    return [image for page in PdfReader(io.BytesIO(pdf)).pages for image in page.images]


def write_theme(tenant, name: str, templates: dict[str, str]) -> None:
    root = storage.themes_root(tenant.schema) / name / "templates"
    for path, source in templates.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(source)


@pytest.fixture
def two_brands(db, make_tenant):
    a, b = make_tenant("DOCA"), make_tenant("DOCB")
    set_brand(db, a, brand_name="Simba Fibre", address="Kenyatta Avenue 12\nNairobi", tax_number="P051111111A",
              support_email="help@simba.example", support_phone="+254 700 111 111",
              terms="Service is billed monthly in advance.", primary_color="#0A7E3C")
    set_brand(db, b, brand_name="Twiga Wireless", address="Nkrumah Road 5\nMombasa", tax_number="P052222222B",
              support_email="care@twiga.example", primary_color="#7A1FA2")
    return a, b


def test_an_invoice_carries_its_own_tenants_brand_and_nobody_elses(db, two_brands):
    a, b = two_brands
    invoice = documents.sample_invoice("KES")
    invoice["number"] = "INV-SIMBA-0001"
    text = text_of(render(db, a, "invoice", invoice))
    for expected in ("Simba Fibre", "Kenyatta Avenue 12", "Nairobi", "P051111111A", "help@simba.example",
                     "+254 700 111 111", "INV-SIMBA-0001", "Amina Wanjiru",
                     "Terms and conditions", "Service is billed monthly in advance.", "Page 1 of 1"):
        assert expected in text
    for foreign in ("Twiga Wireless", "Nkrumah Road", "Mombasa", "P052222222B", "care@twiga.example"):
        assert foreign not in text

    other = text_of(render(db, b, "invoice", invoice))
    assert "Twiga Wireless" in other and "P052222222B" in other and "INV-SIMBA-0001" in other
    assert "Simba Fibre" not in other and "P051111111A" not in other
    assert "Service is billed monthly in advance." not in other  # A's terms never reach B's documents


def test_amounts_are_printed_to_the_cent_exactly_as_given(db, make_tenant):
    tenant = make_tenant("DOCM")
    invoice = documents.sample_invoice("KES")
    invoice["lines"] = [
        {"description": "Dedicated 1 Gbps link", "quantity": "1", "unit_price": "1234567.89", "amount": "1234567.89"},
        # 2.675 is 2.67499999... as a float: only exact decimals round it half-up to 2.68
        {"description": "Per-MB overage", "quantity": Decimal("3.000"), "unit_price": "2.675", "tax_rate": "16.00",
         "amount": Decimal("8.025")},
    ]
    invoice.update(subtotal="1234575.915", discount_total="0", taxes=[{"name": "VAT", "rate": "16", "amount": "1.28"}],
                   total=Decimal("1234577.20"), amount_paid=Decimal("0.1") + Decimal("0.2"),
                   balance_due="1234576.9")
    text = text_of(render(db, tenant, "invoice", invoice))
    for expected in ("1,234,567.89", "2.68", "8.03", "1,234,575.92", "1,234,577.20 KES", "-0.30",
                     "1,234,576.90 KES", "VAT (16%)", "16%"):
        assert expected in text
    assert "3.000" not in text  # a quantity is shown as 3, without the trailing zeros of its Decimal


def test_a_float_amount_is_refused_rather_than_printed(db, make_tenant):
    tenant = make_tenant("DOCF")
    invoice = documents.sample_invoice("KES")
    invoice["total"] = 6669.98
    with pytest.raises(Invalid, match="never a float") as caught:
        render(db, tenant, "invoice", invoice)
    assert caught.value.extra["field"] == "invoice.total"
    del invoice["total"]
    with pytest.raises(Invalid, match="invoice.total is missing"):
        render(db, tenant, "invoice", invoice)


def test_an_unknown_kind_is_invalid(db, make_tenant):
    tenant = make_tenant("DOCK")
    with pytest.raises(Invalid, match="unknown document kind"):
        render(db, tenant, "quotation", documents.sample_invoice("KES"))


def test_an_uploaded_png_logo_is_embedded_in_place_of_the_name(db, make_tenant):
    tenant = make_tenant("DOCL")
    set_brand(db, tenant, brand_name="Chui Networks")
    without = render(db, tenant)
    assert images_of(without) == []
    assert text_of(without).count("Chui Networks") == 2  # the header, and the seller's details

    upload(db, tenant, "logo", png((20, 120, 200), (240, 80)))
    pdf = render(db, tenant)
    [image] = images_of(pdf)
    assert image.image.size == (240, 80)
    assert image.image.convert("RGB").getpixel((120, 40)) == (20, 120, 200)
    assert text_of(pdf).count("Chui Networks") == 1  # the logo took the name's place in the header


def test_an_svg_logo_is_drawn_or_gives_way_to_the_brand_name(db, make_tenant):
    tenant = make_tenant("DOCS")
    set_brand(db, tenant, brand_name="Kifaru Online")
    brand = upload(db, tenant, "logo", SVG)
    pdf = render(db, tenant)
    if documents.svg_drawable():
        assert len(images_of(pdf)) == 1
    else:  # no cairo backend here: an empty header would be worse than the name
        assert images_of(pdf) == []
        assert text_of(pdf).count("Kifaru Online") == 2
    # in a browser (the HTML preview) the SVG is shown as it is
    with tenant_context(tenant), db.session() as session:
        html = documents.render_html(session, "invoice", documents.sample_invoice("KES"))
    assert f'src="/brand/logo/{brand.values["logo"]["file"]}"' in html


@pytest.fixture
def listener():
    """A TCP port on 127.0.0.1 that would see any connection the renderer made."""
    server = socket.create_server(("127.0.0.1", 0))
    server.setblocking(False)
    yield server
    server.close()


def connections(server) -> int:
    count = 0
    while select.select([server], [], [], 0.3)[0]:
        client, _ = server.accept()
        client.close()
        count += 1
    return count


def test_an_external_logo_url_is_not_fetched_and_the_name_is_shown(db, make_tenant, listener):
    tenant = make_tenant("DOCU")
    port = listener.getsockname()[1]
    set_brand(db, tenant, brand_name="Nyati Broadband", logo_url=f"https://127.0.0.1:{port}/logo.png")
    pdf = render(db, tenant)
    assert connections(listener) == 0
    assert images_of(pdf) == []
    assert text_of(pdf).count("Nyati Broadband") == 2


def test_a_theme_cannot_make_the_renderer_fetch_or_read_anything(db, make_tenant, listener, tmp_path):
    """A reseller's template is untrusted: every way it could name an outside resource comes to nothing."""
    tenant, other = make_tenant("DOCH"), make_tenant("DOCO")
    theirs = upload(db, other, "logo", png((0, 0, 255))).values["logo"]["file"]
    upload(db, tenant, "logo", png((0, 255, 0)))
    secret = tmp_path / "secret.png"
    secret.write_bytes(png((255, 0, 255)))
    here = f"127.0.0.1:{listener.getsockname()[1]}"
    hostile = (
        '{% extends "base:documents/invoice.html" %}\n'
        "{% block styles %}@import url(http://" + here + "/a.css);\n"
        "@font-face { font-family: Evil; src: url(http://" + here + "/f.ttf); }\n"
        "body { background-image: url(http://" + here + "/bg.png); }{% endblock %}\n"
        '{% block logo %}<img src="{{ brand.logo_url }}"><img src="http://' + here + '/x.png">'
        '<img src="https://' + here + '/y.png"><img src="file://' + str(secret) + '">'
        '<img src="' + str(secret) + '"><img src="/brand/logo/../../../' + str(secret) + '">'
        '<img src="/brand/logo/' + theirs + '"><img src="/static/../../../../' + str(secret) + '">'
        '<link rel="stylesheet" href="http://' + here + '/b.css">{% endblock %}'
    )
    write_theme(tenant, "hostile", {"documents/invoice.html": hostile})
    set_brand(db, tenant, brand_name="Fisi Data", theme="hostile", logo_url=f"https://{here}/logo.png")
    pdf = render(db, tenant)
    assert connections(listener) == 0
    assert images_of(pdf) == []  # not the secret file, not the other tenant's logo, not even its own
    text = text_of(pdf)
    assert text.count("Fisi Data") == 1  # the theme's logo block was drawn (it has no name), the rest is base
    assert "INV-" in text


def test_the_link_resolver_answers_only_for_the_brands_own_files(db, make_tenant, tmp_path):
    tenant, other = make_tenant("DOCR"), make_tenant("DOCQ")
    theirs = upload(db, other, "logo", png((0, 0, 255))).values["logo"]["file"]
    brand = upload(db, tenant, "logo", png((0, 255, 0)))
    mine = brand.values["logo"]["file"]
    resolver = LinkResolver(brand)
    assert resolver.resolve(f"/brand/logo/{mine}") == storage.asset_path(tenant.schema, mine)
    assert resolver.resolve("/static/base.css") == BASE / "static" / "base.css"
    for refused in (f"/brand/logo/{theirs}", f"/brand/favicon/{mine}", f"/brand/logo/../{mine}",
                    f"/brand/logo/{mine}?x=1", "/static/../../pyproject.toml", "/static/nope.css",
                    "https://cdn.example/logo.png", "http://127.0.0.1/", "file:///etc/passwd", "/etc/passwd",
                    str(storage.asset_path(tenant.schema, mine)), "data:image/png;base64,AAAA", None):
        assert resolver.resolve(refused) is None
        assert resolver(refused, None) == "data:,"  # never None: xhtml2pdf would then use the link as written


def test_a_swahili_tenant_gets_its_documents_in_swahili(db, make_tenant):
    sw, en = make_tenant("DOCSW"), make_tenant("DOCEN")
    with tenant_context(sw), db.session() as session:
        put_setting(session, "language", "sw")
    with tenant_context(sw), db.session() as session:
        assert locale_of(session).language == "sw"
    text = text_of(render(db, sw))
    for label in ("Ankara", "Jumla", "Tarehe ya Mwisho wa Kulipa", "Salio linalodaiwa", "Ukurasa 1 wa 1"):
        assert label in text
    assert "Due date" not in text and "Invoice" not in text
    assert "Risiti" in text_of(render(db, sw, "receipt"))
    assert "Taarifa ya Akaunti" in text_of(render(db, sw, "statement"))
    assert "Hati ya Mkopo" in text_of(render(db, sw, "credit_note"))

    english = text_of(render(db, en))
    assert "Due date" in english and "Ankara" not in english


def test_a_theme_override_of_one_block_is_used_for_its_tenant_only(db, make_tenant):
    themed, plain = make_tenant("DOCT"), make_tenant("DOCP")
    write_theme(themed, "mvua", {"documents/invoice.html": (
        '{% extends "base:documents/invoice.html" %}\n'
        "{% block notes %}<p>Karibu tena: lipa kwa M-Pesa {{ invoice.customer.portal_id }}.</p>{% endblock %}\n")})
    set_brand(db, themed, theme="mvua")
    text = text_of(render(db, themed))
    assert "Karibu tena: lipa kwa M-Pesa BHL004217." in text
    assert "Pay by M-Pesa: Paybill 400200" not in text  # the block it replaced
    assert "INV-" in text and "Balance due" in text  # the rest is the platform's invoice

    untouched = text_of(render(db, plain))
    assert "Karibu tena" not in untouched
    assert "Pay by M-Pesa: Paybill 400200" in untouched


def test_a_broken_theme_template_fails_clearly_instead_of_drawing_half_a_document(db, make_tenant):
    tenant = make_tenant("DOCX")
    write_theme(tenant, "broken", {"documents/invoice.html": (
        '{% extends "base:documents/invoice.html" %}{% block notes %}{{ invoice.no_such_field }}{% endblock %}')})
    set_brand(db, tenant, theme="broken")
    with pytest.raises(DocumentError, match="invoice template could not be drawn.*no_such_field"):
        render(db, tenant)


def test_a_document_the_converter_refuses_fails_clearly(db, make_tenant):
    tenant = make_tenant("DOCN")
    write_theme(tenant, "deep", {"documents/invoice.html": (
        '{% extends "base:documents/invoice.html" %}{% block notes %}'
        + "<div>" * 400 + "too deep" + "</div>" * 400 + "{% endblock %}")})
    set_brand(db, tenant, theme="deep")
    with pytest.raises(DocumentError, match="invoice could not be converted to PDF.*nests more than"):
        render(db, tenant)


@pytest.mark.parametrize("kind, expected", [
    ("invoice", ["Invoice", "INV-", "Balance due", "5,669.98 KES", "Extra data bundle, 2.5 GB", "249.98"]),
    ("credit_note", ["Credit note", "CN-", "Credited invoice", "INV-", "Total credited", "2,320.00 KES"]),
    ("receipt", ["Receipt", "RCT-", "M-Pesa", "SGK7Q2X9PL", "Amount received", "5,700.00 KES", "5,669.98",
                 "30.02 KES"]),
    ("statement", ["Statement of account", "Opening balance", "Closing balance", "CASH-0193", "6,669.98",
                   "-2,350.02 KES"]),
])
def test_every_kind_renders(db, make_tenant, kind, expected):
    tenant = make_tenant("DOCE")
    set_brand(db, tenant, brand_name="Duma Fibre")
    pdf = render(db, tenant, kind)
    assert pdf.startswith(b"%PDF")
    text = text_of(pdf)
    for piece in ["Duma Fibre", "Amina Wanjiru", "BHL004217", "Page 1 of 1", *expected]:
        assert piece in text, piece


def test_a_long_invoice_runs_over_pages_with_numbers_and_headings_on_each(db, make_tenant):
    tenant = make_tenant("DOCG")
    invoice = documents.sample_invoice("KES")
    invoice["lines"] = invoice["lines"] * 20
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(render(db, tenant, "invoice", invoice))).pages]
    assert len(pages) > 1
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page
        assert "Unit price" in page  # the table's heading row is repeated
    assert "Balance due" in pages[-1]
