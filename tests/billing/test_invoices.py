"""Invoices as a reseller's staff use them: drafts, issuing (number, due date, posting, credit spent), the
void rule (only what nothing was paid on; a paid invoice is corrected by a credit note), credit notes
(whole or some lines, capped at the invoice), pro-formas (numbered apart, never owed), overdue, versions,
and the invoice API. The ledger audit of conftest.py runs after each test."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.models.billing import Invoice, LedgerEntry
from app.services import customers, documents, services
from app.services.billing import allocation, invoices, ledger, payments, tax
from app.services.billing.invoices import InvoicePaid, InvoiceState
from app.services.errors import Invalid, NotFound
from tenants import tenant_context
from tests.billing.test_payments import finance_headers

D = Decimal
TODAY = date(2026, 11, 22)
FIBRE = {"description": "Home Fibre 20 Mbps", "unit_price": "1000.00"}


def _issue(s, customer_id: int, *lines: dict, today: date = TODAY) -> Invoice:
    draft = invoices.create_draft(s, customer_id, list(lines) or [FIBRE])
    return invoices.issue(s, draft.id, today=today)


def _entries(s, invoice_id: int) -> list[tuple[str, Decimal]]:
    return [(e.kind, e.amount) for e in s.execute(select(LedgerEntry).where(LedgerEntry.invoice_id == invoice_id)
                                                  .order_by(LedgerEntry.id)).scalars()]


def test_a_draft_posts_nothing_and_issuing_numbers_posts_and_dates_it(db, billable):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        draft = invoices.create_draft(s, b.customer_id, [
            {"description": "Fibre", "unit_price": "2500.00", "discount": "500.00", "service_id": b.service_id},
            {"description": "Static IP", "unit_price": "250.00", "quantity": "2"},
            {"description": "Launch promotion", "unit_price": "-300.00", "kind": "discount"}],
            notes="Pay by M-PESA")
        assert (draft.status, draft.number, draft.currency) == ("Draft", None, "KES")
        assert (draft.subtotal, draft.discount_total, draft.total) == (D("2700.00"), D("500.00"), D("2200.00"))
        assert _entries(s, draft.id) == [] and ledger.balance(s, b.customer_id) == D("0.00")
        invoices.update_draft(s, draft.id, {"lines": [FIBRE]})
        assert draft.total == D("1000.00") and draft.version == 2
        issued = invoices.issue(s, draft.id, today=TODAY)
        assert issued.number == "INV-2026-000001" and issued.status == "Issued" and issued.version == 3
        assert issued.due_on == TODAY + timedelta(days=14) and issued.issued_at is not None
        assert _entries(s, issued.id) == [("charge", D("1000.00"))]
        assert ledger.balance(s, b.customer_id) == D("1000.00")
        for change in (lambda: invoices.update_draft(s, issued.id, {"notes": "x"}),
                       lambda: invoices.issue(s, issued.id), lambda: invoices.delete_draft(s, issued.id)):
            with pytest.raises(InvoiceState):
                change()
        with pytest.raises(Invalid):
            invoices.create_draft(s, b.customer_id, [])
        with pytest.raises(Invalid, match="credit note"):  # money owed to the customer is a credit note
            invoices.create_draft(s, b.customer_id, [{"description": "x", "unit_price": "-5"}])
        with pytest.raises(NotFound):
            invoices.create_draft(s, 999_999_999, [FIBRE])


def test_line_input_is_checked(db, billable):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        neighbour = customers.create(s, first_name="Baraka", last_name="Kamau")
        theirs = services.create(s, neighbour.id, b.plan.id)
        for bad in ({"unit_price": 10.5}, {"unit_price": "1.00001"}, {"quantity": "0"}, {"discount": "2000"},
                    {"description": ""}, {"service_id": theirs.id}, {"kind": "gift"},
                    {"period_start": date(2026, 11, 1)}):
            with pytest.raises(Invalid):
                invoices.create_draft(s, b.customer_id, [{**FIBRE, **bad}])


def test_issuing_spends_the_customers_credit_oldest_invoice_first(db, billable):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        payments.record(s, customer_id=b.customer_id, amount="1500.00", method="cash", today=TODAY)
        assert allocation.credit(s, b.customer_id) == D("1500.00")
        first = _issue(s, b.customer_id)
        assert (first.status, first.amount_paid) == ("Paid", D("1000.00"))
        second = _issue(s, b.customer_id)
        assert (second.status, second.amount_paid) == ("Partially Paid", D("500.00"))
        assert ledger.balance(s, b.customer_id) == D("500.00")


def test_void_reverses_an_unpaid_invoice_and_refuses_a_paid_one(db, billable):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        unpaid = _issue(s, b.customer_id)
        with pytest.raises(Invalid):
            invoices.void(s, unpaid.id, reason=" ")
        voided = invoices.void(s, unpaid.id, reason="issued to the wrong customer", actor="user 1")
        assert voided.status == "Void" and voided.void_reason == "issued to the wrong customer"
        assert _entries(s, unpaid.id) == [("charge", D("1000.00")), ("reversal", D("-1000.00"))]
        assert ledger.balance(s, b.customer_id) == D("0.00")
        with pytest.raises(InvoiceState):
            invoices.void(s, unpaid.id, reason="again")
        part_paid = _issue(s, b.customer_id)
        payments.record(s, customer_id=b.customer_id, amount="400.00", method="mpesa", today=TODAY)
        with pytest.raises(InvoicePaid, match="credit note"):
            invoices.void(s, part_paid.id, reason="wrong")
        assert s.get(Invoice, part_paid.id).status == "Partially Paid"
        draft = invoices.create_draft(s, b.customer_id, [FIBRE])
        with pytest.raises(InvoiceState, match="deleted"):
            invoices.void(s, draft.id, reason="x")


def test_a_full_credit_note_pays_the_open_invoice_it_credits(db, billable):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        invoice = _issue(s, b.customer_id)
        note = invoices.credit_note(s, invoice.id, reason="service never installed", today=TODAY)
        assert note.kind == "credit_note" and note.number == "CRN-2026-000001"
        assert (note.total, note.credited_invoice_id, note.status) == (D("1000.00"), invoice.id, "Issued")
        assert _entries(s, note.id) == [("credit", D("-1000.00"))]
        assert (invoice.status, invoice.amount_paid) == ("Paid", D("1000.00"))
        assert ledger.balance(s, b.customer_id) == D("0.00")
        with pytest.raises(InvoicePaid):  # paid by its credit note: nothing to void
            invoices.void(s, invoice.id, reason="x")
        with pytest.raises(InvoiceState):  # wholly credited already
            invoices.credit_note(s, invoice.id, reason="again")


def test_credit_on_a_paid_invoice_stays_with_the_customer_for_the_next_one(db, billable):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        invoice = _issue(s, b.customer_id)
        payments.record(s, customer_id=b.customer_id, amount="1000.00", method="card", today=TODAY)
        assert s.get(Invoice, invoice.id).status == "Paid"
        invoices.credit_note(s, invoice.id, reason="outage", lines=[
            {"line_id": invoices.lines_of(s, invoice.id)[0].id, "amount": "250.00"}], today=TODAY)
        assert allocation.credit(s, b.customer_id) == D("250.00")
        following = _issue(s, b.customer_id)
        assert (following.status, following.amount_paid) == ("Partially Paid", D("250.00"))


def test_partial_credit_notes_recompute_taxes_and_never_exceed_the_invoice(db, billable):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        tax.create_rate(s, name="VAT", rate="16")
        invoice = _issue(s, b.customer_id, FIBRE, {"description": "Router", "unit_price": "500.00", "taxable": False})
        assert invoice.total == D("1660.00")
        fibre, router = invoices.lines_of(s, invoice.id)
        note = invoices.credit_note(s, invoice.id, reason="3 days down", lines=[
            {"line_id": fibre.id, "amount": "100.00"}], today=TODAY)
        assert (note.subtotal, note.tax_total, note.total) == (D("100.00"), D("16.00"), D("116.00"))
        whole_router = invoices.credit_note(s, invoice.id, reason="router returned", lines=[{"line_id": router.id}],
                                            today=TODAY)
        assert (whole_router.tax_total, whole_router.total) == (D("0.00"), D("500.00"))
        with pytest.raises(Invalid, match="left to credit"):  # 1044.00 left; the whole fibre line is 1160.00
            invoices.credit_note(s, invoice.id, reason="all of it", lines=[{"line_id": fibre.id}])
        for bad in ([{"line_id": 123456789}], [{"line_id": fibre.id, "amount": "0"}],
                    [{"line_id": fibre.id, "amount": "1000.01"}], [{"line_id": fibre.id}, {"line_id": fibre.id}]):
            with pytest.raises(Invalid):
                invoices.credit_note(s, invoice.id, reason="x", lines=bad)
        assert invoices.credited_total(s, invoice.id) == D("616.00")
        assert s.get(Invoice, invoice.id).amount_paid == D("616.00")


def test_a_proforma_is_numbered_apart_never_posted_and_converts_to_a_draft_invoice(db, billable):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        proforma = invoices.issue(s, invoices.create_draft(s, b.customer_id, [FIBRE], kind="proforma").id,
                                  today=TODAY)
        assert (proforma.number, proforma.status) == ("PRO-2026-000001", "Issued")
        assert _entries(s, proforma.id) == [] and ledger.balance(s, b.customer_id) == D("0.00")
        assert allocation.open_invoices(s, b.customer_id) == []
        with pytest.raises(InvoiceState):
            invoices.credit_note(s, proforma.id, reason="x")
        draft = invoices.convert_proforma(s, proforma.id)
        assert (draft.kind, draft.status, draft.total) == ("invoice", "Draft", D("1000.00"))
        assert "PRO-2026-000001" in draft.notes
        assert invoices.issue(s, draft.id, today=TODAY).number == "INV-2026-000001"
        assert invoices.void(s, proforma.id, reason="accepted").status == "Void"


def test_open_invoices_past_due_become_overdue(db, billable):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        late = _issue(s, b.customer_id, today=date(2026, 10, 1))
        paid = _issue(s, b.customer_id, today=date(2026, 10, 1))
        payments.record(s, customer_id=b.customer_id, amount="1500.00", method="cash", today=date(2026, 10, 2))
        current = _issue(s, b.customer_id, today=TODAY)
        late_id, paid_id, current_id = late.id, paid.id, current.id
        assert s.get(Invoice, paid_id).status == "Partially Paid"  # 500 of the second, oldest first
        assert sorted(invoices.mark_overdue(s, today=TODAY)) == [paid_id]
        assert invoices.mark_overdue(s, today=TODAY) == []  # once
        overdue = s.get(Invoice, paid_id)
        assert overdue.status == "Overdue" and s.get(Invoice, late_id).status == "Paid"
        assert s.get(Invoice, current_id).status == "Issued"


def test_the_document_has_the_documents_modules_shape(db, billable):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        tax.create_rate(s, name="VAT", rate="16")
        invoice = _issue(s, b.customer_id)
        shown = invoices.document(s, invoice)
        prepared = documents.prepare("invoice", shown)
        assert prepared["number"] == invoice.number and prepared["total"] == D("1160.00")
        assert prepared["customer"]["name"].startswith("Amina Hassan")
        assert prepared["lines"][0]["tax_rate"] == D("16") and prepared["balance_due"] == D("1160.00")
        note = invoices.credit_note(s, invoice.id, reason="goodwill", today=TODAY)
        assert documents.prepare("credit_note", invoices.document(s, note))["invoice_number"] == invoice.number


# -- the API -------------------------------------------------------------------------------------------

def test_invoices_over_the_api(app, db, billable):
    b = billable()
    headers = finance_headers(app, db, b.tenant)
    client = app.test_client()
    made = client.post("/reseller/api/invoices", headers=headers, json={
        "customer_id": b.customer_id, "lines": [{"description": "Fibre", "unit_price": "1000.00",
                                                 "service_id": b.service_id}]})
    assert made.status_code == 201, made.get_json()
    draft = made.get_json()
    assert draft["status"] == "Draft" and draft["number"] is None and draft["total"] == "1000.00"
    patched = client.patch(f"/reseller/api/invoices/{draft['id']}", headers=headers, json={
        "lines": [{"description": "Fibre", "unit_price": "1200.00"}], "notes": "thanks"}).get_json()
    assert patched["total"] == "1200.00" and patched["version"] == 2
    issued = client.post(f"/reseller/api/invoices/{draft['id']}/issue", headers=headers)
    assert issued.status_code == 200 and issued.get_json()["number"].startswith("INV-")
    again = client.post(f"/reseller/api/invoices/{draft['id']}/issue", headers=headers)
    assert again.status_code == 409 and again.content_type == "application/problem+json"
    assert again.get_json()["type"].endswith("/invoice-state")

    at_once = client.post("/reseller/api/invoices", headers=headers, json={
        "customer_id": b.customer_id, "issue": True, "lines": [{"description": "Router", "unit_price": "300"}]})
    assert at_once.status_code == 201 and at_once.get_json()["status"] == "Issued"
    float_refused = client.post("/reseller/api/invoices", headers=headers, json={
        "customer_id": b.customer_id, "lines": [{"description": "x", "unit_price": 0.1}]})
    assert float_refused.status_code == 422

    listed = client.get(f"/reseller/api/invoices?customer_id={b.customer_id}&status=Issued&per_page=1",
                        headers=headers).get_json()
    assert listed["total"] == 2 and len(listed["items"]) == 1 and listed["page"] == 1
    assert client.get("/reseller/api/invoices?status=Nope", headers=headers).status_code == 422

    paid_id = issued.get_json()["id"]
    headers_keyed = {**headers, "Idempotency-Key": "credit-1"}
    note = client.post(f"/reseller/api/invoices/{paid_id}/credit-notes", headers=headers_keyed,
                       json={"reason": "outage"})
    assert note.status_code == 201 and note.get_json()["kind"] == "credit_note"
    replay = client.post(f"/reseller/api/invoices/{paid_id}/credit-notes", headers=headers_keyed,
                         json={"reason": "outage"})
    assert replay.get_json()["id"] == note.get_json()["id"] and replay.headers["Idempotent-Replayed"] == "true"
    refused = client.post(f"/reseller/api/invoices/{paid_id}/void", headers=headers, json={"reason": "x"})
    assert refused.status_code == 409 and refused.get_json()["type"].endswith("/invoice-paid")
    voided = client.post(f"/reseller/api/invoices/{at_once.get_json()['id']}/void", headers=headers,
                         json={"reason": "duplicate"})
    assert voided.status_code == 200 and voided.get_json()["status"] == "Void"
    detail = client.get(f"/reseller/api/invoices/{paid_id}", headers=headers).get_json()
    assert detail["status"] == "Paid" and [n["id"] for n in detail["credit_notes"]] == [note.get_json()["id"]]
    assert detail["lines"][0]["amount"] == "1200.00"
    assert client.get("/reseller/api/invoices/99999999", headers=headers).status_code == 404

    statement = client.get(f"/reseller/api/customers/{b.customer_id}/statement", headers=headers).get_json()
    assert [e["kind"] for e in statement["entries"]] == ["charge", "charge", "credit", "reversal"]
    assert statement["closing_balance"] == "0.00" and statement["entries"][0]["debit"] == "1200.00"
    pdf = client.get(f"/reseller/api/customers/{b.customer_id}/statement?format=pdf", headers=headers)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_a_read_only_user_reads_invoices_but_changes_none(app, db, billable):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        invoice_id = _issue(s, b.customer_id).id
    headers = finance_headers(app, db, b.tenant, role="Readonly")
    client = app.test_client()
    assert client.get(f"/reseller/api/invoices/{invoice_id}", headers=headers).status_code == 200
    assert client.post(f"/reseller/api/invoices/{invoice_id}/void", headers=headers,
                       json={"reason": "x"}).status_code == 403
    refused = client.post("/reseller/api/tax-rates", headers=headers, json={"name": "VAT", "rate": "16"})
    assert refused.status_code == 403


def test_tax_rates_over_the_api(app, db, billable):
    b = billable()
    headers = finance_headers(app, db, b.tenant)
    client = app.test_client()
    made = client.post("/reseller/api/tax-rates", headers=headers, json={"name": "VAT", "rate": "16"})
    assert made.status_code == 201 and made.get_json()["rate"] == "16.0000"
    rate_id = made.get_json()["id"]
    assert client.post("/reseller/api/tax-rates", headers=headers,
                       json={"name": "VAT", "rate": "160"}).status_code == 422
    changed = client.patch(f"/reseller/api/tax-rates/{rate_id}", headers=headers, json={"compound": True})
    assert changed.get_json()["compound"] is True
    assert [r["name"] for r in client.get("/reseller/api/tax-rates", headers=headers).get_json()] == ["VAT"]
    assert client.delete(f"/reseller/api/tax-rates/{rate_id}", headers=headers).status_code == 204
    assert client.get(f"/reseller/api/tax-rates/{rate_id}", headers=headers).status_code == 404
