"""Invoice and credit-note PDFs as a customer opens them (pypdf reads the text back): the number, the totals
and the reseller's brand; kept on disk and served again while nothing changed, drawn again when the
invoice (its version) or the brand changes; downloadable through the API; pre-drawn by a worker after
the invoice is issued."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from dramatiq import Worker
from pypdf import PdfReader

from app.services import branding
from app.services.billing import invoices, payments, pdfs, tax
from tenants import tenant_context
from tests.billing.test_payments import finance_headers
from tests.brokers import bound_broker

TODAY = date(2026, 11, 22)


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def set_brand(db, tenant, **fields) -> None:
    with db.session() as session:
        branding.update(session, branding.Owner.of(session, tenant.id), fields, actor="test")


def _issued(db, b, *lines) -> int:
    with db.session() as s, tenant_context(b.tenant):
        tax.create_rate(s, name="VAT", rate="16")
        draft = invoices.create_draft(s, b.customer_id, list(lines) or [
            {"description": "Home Fibre 20 Mbps", "unit_price": "2500.00", "service_id": b.service_id},
            {"description": "Static IP", "unit_price": "250.00"}])
        return invoices.issue(s, draft.id, today=TODAY).id


def _pdf(db, tenant, invoice_id: int) -> pdfs.Rendered:
    with db.session() as s, tenant_context(tenant):
        return pdfs.invoice_pdf(s, invoice_id)


def _cached_files(tenant, invoice_id: int) -> list[str]:
    folder = pdfs.cache_folder(tenant.schema)
    return sorted(p.name for p in folder.glob(f"invoice-{invoice_id}-*.pdf")) if folder.is_dir() else []


def test_the_pdf_shows_the_number_the_totals_and_the_resellers_brand(db, billable):
    b = billable()
    set_brand(db, b.tenant, brand_name="Simba Fibre", tax_number="P051111111A")
    invoice_id = _issued(db, b)
    rendered = _pdf(db, b.tenant, invoice_id)
    assert rendered.data.startswith(b"%PDF") and rendered.filename == "invoice-INV-2026-000001.pdf"
    text = text_of(rendered.data)
    for expected in ("Simba Fibre", "P051111111A", "INV-2026-000001", "Home Fibre 20 Mbps", "2,750.00", "440.00",
                     "3,190.00 KES", "Amina Hassan"):
        assert expected in text, expected


def test_an_unchanged_invoice_is_served_from_disk_and_a_changed_one_is_drawn_again(db, billable):
    b = billable()
    invoice_id = _issued(db, b)
    first = _pdf(db, b.tenant, invoice_id)
    again = _pdf(db, b.tenant, invoice_id)
    assert not first.cached and again.cached and again.data == first.data
    assert len(_cached_files(b.tenant, invoice_id)) == 1

    with db.session() as s, tenant_context(b.tenant):  # a payment changes the invoice (its version)
        payments.record(s, customer_id=b.customer_id, amount="1000.00", method="mpesa", today=TODAY)
    paid = _pdf(db, b.tenant, invoice_id)
    assert not paid.cached and paid.digest != first.digest
    assert "Partially Paid" in text_of(paid.data) and "2,190.00 KES" in text_of(paid.data)  # balance due
    assert len(_cached_files(b.tenant, invoice_id)) == 1  # the stale file is gone

    set_brand(db, b.tenant, brand_name="Twiga Wireless")  # so does a new brand
    rebranded = _pdf(db, b.tenant, invoice_id)
    assert not rebranded.cached and "Twiga Wireless" in text_of(rebranded.data)
    with db.session() as s, tenant_context(b.tenant):
        assert invoices.get(s, invoice_id).pdf_digest == rebranded.digest


def test_a_credit_note_pdf_names_the_invoice_it_credits(db, billable):
    b = billable()
    invoice_id = _issued(db, b)
    with db.session() as s, tenant_context(b.tenant):
        note_id = invoices.credit_note(s, invoice_id, reason="Three days without service", lines=[
            {"line_id": invoices.lines_of(s, invoice_id)[0].id, "amount": "250.00"}], today=TODAY).id
    rendered = _pdf(db, b.tenant, note_id)
    text = text_of(rendered.data)
    assert rendered.filename == "credit-note-CRN-2026-000001.pdf"
    for expected in ("CRN-2026-000001", "INV-2026-000001", "Three days without service", "290.00 KES"):
        assert expected in text, expected


def test_the_pdf_is_downloaded_through_the_api_with_an_etag(app, db, billable):
    b = billable()
    invoice_id = _issued(db, b)
    headers = finance_headers(app, db, b.tenant)
    client = app.test_client()
    response = client.get(f"/reseller/api/invoices/{invoice_id}/pdf", headers=headers)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert 'filename="invoice-INV-2026-000001.pdf"' in response.headers["Content-Disposition"]
    assert "INV-2026-000001" in text_of(response.data)
    unchanged = client.get(f"/reseller/api/invoices/{invoice_id}/pdf",
                           headers={**headers, "If-None-Match": response.headers["ETag"]})
    assert unchanged.status_code == 304
    assert client.get("/reseller/api/invoices/99999999/pdf", headers=headers).status_code == 404


@pytest.fixture
def billing_broker(redis_url, db, monkeypatch):
    """A broker of this test with the billing actors bound to it (as tests/notifications/conftest.py does
    for the e-mail actors: the real Redis, the real worker, this run's database)."""
    from worker.actors import billing as actors

    with bound_broker(redis_url, monkeypatch, "billing",
                      (actors.run_billing, actors.bill_customers_due, actors.render_invoice_pdf), db=db) as broker:
        yield broker


def test_a_worker_draws_the_pdf_once_the_invoice_is_issued(db, billable, billing_broker):
    b = billable()
    invoice_id = _issued(db, b)  # issuing queues the job after its commit
    worker = Worker(billing_broker, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        billing_broker.join("documents", timeout=60_000)
        worker.join()
    finally:
        worker.stop()
    assert len(_cached_files(b.tenant, invoice_id)) == 1
    assert _pdf(db, b.tenant, invoice_id).cached
    with db.session() as s, tenant_context(b.tenant):
        assert invoices.get(s, invoice_id).total == Decimal("3190.00")
