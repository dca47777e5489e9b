"""The direct ReportLab drawing of documents (app/services/documents/fast_pdf.py): taken for a tenant whose
theme leaves the document templates to the base theme, never for one whose theme overrides them; customer
text printed literally; long invoices numbered "Page X of Y" with the table heading on every page.

Real tenants and brand rows; the PDFs are read back with pypdf.
"""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from app.services import documents
from app.services.documents import fast_pdf
from app.services.documents import pdf as pdf_module
from tenants.themes import ThemeChain
from tests.whitelabel.test_documents import render, set_brand, text_of, write_theme

MARKER = "Themed-only marker 7Q"


@pytest.fixture
def paths(monkeypatch):
    """Counts of renders through each path."""
    taken = {"fast": 0, "html": 0}
    fast, convert = fast_pdf.render, pdf_module._convert

    def counted_fast(*args, **kwargs):
        taken["fast"] += 1
        return fast(*args, **kwargs)

    def counted_html(*args, **kwargs):
        taken["html"] += 1
        return convert(*args, **kwargs)

    monkeypatch.setattr(fast_pdf, "render", counted_fast)
    monkeypatch.setattr(pdf_module, "_convert", counted_html)
    return taken


def producer(pdf: bytes) -> str:
    return str(PdfReader(io.BytesIO(pdf)).metadata.get("/Producer", ""))


def test_the_fast_path_draws_base_theme_documents_and_a_themed_invoice_keeps_its_template(db, make_tenant, paths):
    plain, themed = make_tenant("FPB"), make_tenant("FPT")
    write_theme(themed, "mvua", {"documents/invoice.html": (
        '{% extends "base:documents/invoice.html" %}\n'
        "{% block notes %}<p>" + MARKER + "</p>{% endblock %}\n")})
    set_brand(db, themed, theme="mvua")

    text = text_of(pdf := render(db, plain))
    assert paths == {"fast": 1, "html": 0}
    assert "ReportLab" in producer(pdf)
    assert MARKER not in text and "INV-" in text and "Balance due" in text and "Page 1 of 1" in text

    text = text_of(pdf := render(db, themed))
    assert paths == {"fast": 1, "html": 1}
    assert "xhtml2pdf" in producer(pdf)
    assert MARKER in text and "INV-" in text

    # the themed tenant's other documents are not overridden: they take the fast path
    render(db, themed, "receipt")
    assert paths == {"fast": 2, "html": 1}


def test_overriding_the_layout_alone_also_keeps_the_html_path(tmp_path):
    theme = tmp_path / "theme"
    (theme / "templates" / "documents").mkdir(parents=True)
    chain = ThemeChain((theme,))
    assert not any(fast_pdf.overridden(chain, kind) for kind in fast_pdf.KINDS)
    (theme / "templates" / "documents" / "layout.html").write_text("{% block content %}{% endblock %}")
    assert all(fast_pdf.overridden(chain, kind) for kind in fast_pdf.KINDS)
    (theme / "templates" / "documents" / "layout.html").unlink()
    (theme / "templates" / "documents" / "receipt.html").write_text("x")
    assert fast_pdf.overridden(chain, "receipt") and not fast_pdf.overridden(chain, "invoice")
    assert not fast_pdf.overridden(ThemeChain(), "invoice")


@pytest.mark.parametrize("kind", ["invoice", "credit_note", "receipt", "statement"])
def test_hostile_text_prints_literally(db, make_tenant, paths, kind):
    tenant = make_tenant("FPH")
    hostile = "<b>Evil</b> & Co"
    set_brand(db, tenant, brand_name="<i>Brand</i> & <font size=40>Sons</font>",
              terms="Terms <br/> & <para>conditions</para>")
    document = getattr(documents, f"sample_{kind}")("KES")
    document["customer"]["name"] = hostile
    document["notes"] = "Note <u>underlined</u> &amp; not"
    if kind == "credit_note":
        document["reason"] = "Reason <strike>gone</strike> & back"
    if kind == "invoice":
        document["lines"][0]["description"] = "Line <super>x</super> & y"
    text = text_of(render(db, tenant, kind, document))
    assert paths["fast"] == 1 and paths["html"] == 0
    for literal in (hostile, "<i>Brand</i> & <font size=40>Sons</font>", "Terms <br/> & <para>conditions</para>",
                    "Note <u>underlined</u> &amp; not"):
        assert literal in text, literal
    if kind == "credit_note":
        assert "Reason <strike>gone</strike> & back" in text
    if kind == "invoice":
        assert "Line <super>x</super> & y" in text


def test_a_three_page_invoice_repeats_its_heading_and_numbers_its_pages(db, make_tenant, paths):
    tenant = make_tenant("FPL")
    invoice = documents.sample_invoice("KES")
    invoice["lines"] = [dict(line, description=f"{line['description']} #{n}")
                        for n, line in enumerate((invoice["lines"] * 20)[:70])]
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(render(db, tenant, "invoice", invoice))).pages]
    assert paths == {"fast": 1, "html": 0}
    assert len(pages) == 3
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of 3" in page
        assert "Description" in page and "Unit price" in page and "Amount" in page  # the heading row, again
    assert "#0" in pages[0] and "#69" in pages[2]
    assert "Balance due" in pages[-1] and "Balance due" not in pages[0]
    all_text = "\n".join(pages)
    assert all(f"#{n}\n" in all_text or f"#{n} " in all_text for n in range(70))  # no line lost at a break


def test_a_swahili_proforma_on_the_fast_path(db, make_tenant, paths):
    from app.services.settings import put_setting
    from tenants import tenant_context

    tenant = make_tenant("FPS")
    with tenant_context(tenant), db.session() as session:
        put_setting(session, "language", "sw")
    invoice = documents.sample_invoice("KES")
    invoice["kind"] = "proforma"
    text = text_of(render(db, tenant, "invoice", invoice))
    assert paths == {"fast": 1, "html": 0}
    assert "Ankara ya awali" in text and "Ukurasa 1 wa 1" in text and "Salio linalodaiwa" in text
    assert "Novemba" in text or "Oktoba" in text or any(month in text for month in (
        "Januari", "Februari", "Machi", "Aprili", "Mei", "Juni", "Julai", "Agosti", "Septemba", "Desemba"))


def test_a_line_taller_than_a_page_falls_back_to_the_html_path(db, make_tenant, paths):
    tenant = make_tenant("FPF")
    invoice = documents.sample_invoice("KES")
    invoice["lines"][0]["description"] = "\n".join(f"detail {n}" for n in range(120))
    pdf = render(db, tenant, "invoice", invoice)
    assert paths["fast"] == 1 and paths["html"] >= 1
    assert "detail 119" in text_of(pdf)
