"""The customer's money through /portal/api: the documents sent to them (never drafts, never another
customer's), their PDFs, payments and receipts, the balance, statements, the ledger, payment methods."""

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from app.models.billing import Payment
from app.services.billing import invoices, payment_methods
from app.services.settings import local_today
from tenants import tenant_context
from tests.portal_api.conftest import api_key, invoice, pay


def test_invoices_are_the_issued_ones_of_the_customer_newest_first_in_pages(client, db, portal):
    p = portal()
    first = invoice(db, p, "1000.00")
    second = invoice(db, p, "250.00")
    invoice(db, p, "99.00", issue=False)  # a draft: the reseller's work in progress
    theirs = invoice(db, p, "500.00", customer_id=p.other_customer_id)
    page = client.get("/portal/api/invoices", headers=p.headers).get_json()
    assert [i["id"] for i in page["items"]] == [second, first] and page["total"] == 2
    top = page["items"][0]
    assert top["status"] == "Issued" and top["total"] == "250.00" and top["balance_due"] == "250.00"
    assert top["pdf_url"] == f"/portal/api/invoices/{second}/pdf" and "created_by" not in top
    paged = client.get("/portal/api/invoices?per_page=1&page=2", headers=p.headers).get_json()
    assert [i["id"] for i in paged["items"]] == [first] and paged["total"] == 2 and paged["per_page"] == 1
    assert client.get("/portal/api/invoices?status=Paid", headers=p.headers).get_json()["total"] == 0
    assert client.get("/portal/api/invoices?status=Draft", headers=p.headers).status_code == 422
    assert client.get("/portal/api/invoices?page=0", headers=p.headers).status_code == 422
    for path in (f"/portal/api/invoices/{theirs}", f"/portal/api/invoices/{theirs}/pdf",
                 f"/portal/api/invoices/{first + 2}"):  # another customer's, and the draft
        assert client.get(path, headers=p.headers).status_code == 404, path


def test_one_invoice_with_lines_and_its_pdf(client, db, portal):
    p = portal()
    made = invoice(db, p, "1000.00")
    detail = client.get(f"/portal/api/invoices/{made}", headers=p.headers).get_json()
    assert [line["description"] for line in detail["lines"]] == ["Internet"] and detail["credit_notes"] == []
    pdf = client.get(f"/portal/api/invoices/{made}/pdf", headers=p.headers)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    etag = pdf.headers["ETag"]
    assert client.get(f"/portal/api/invoices/{made}/pdf", headers={**p.headers, "If-None-Match": etag}
                      ).status_code == 304


def test_payments_receipts_balance_and_credit_notes(client, db, portal):
    p = portal()
    made = invoice(db, p, "1000.00")
    paid = pay(db, p, "1200.00", method="mpesa")
    pay(db, p, "10.00", customer_id=p.other_customer_id)
    listed = client.get("/portal/api/payments", headers=p.headers).get_json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == paid
    payment = listed["items"][0]
    assert payment["amount"] == "1200.00" and payment["receipt_number"] and payment["receipt_url"]
    assert payment["allocations"][0]["invoice_id"] == made and payment["allocations"][0]["amount"] == "1000.00"
    receipt = client.get(payment["receipt_url"], headers=p.headers)
    assert receipt.status_code == 200 and receipt.data.startswith(b"%PDF")
    with db.session() as s, tenant_context(p.tenant):
        theirs = s.execute(select(Payment.id).where(Payment.customer_id == p.other_customer_id)).scalar_one()
    assert client.get(f"/portal/api/payments/{theirs}/receipt", headers=p.headers).status_code == 404

    balance = client.get("/portal/api/balance", headers=p.headers).get_json()
    assert balance["balance"] == "-200.00" and balance["credit"] == "200.00" and balance["open_invoices"] == []
    assert balance["total_due"] == "0.00" and balance["currency"] == "KES"

    second = invoice(db, p, "500.00")  # 200.00 of credit is spent on it when it is issued
    balance = client.get("/portal/api/balance", headers=p.headers).get_json()
    assert balance["balance"] == "300.00" and balance["total_due"] == "300.00"
    assert [(i["id"], i["balance_due"]) for i in balance["open_invoices"]] == [(second, "300.00")]
    with db.session() as s, tenant_context(p.tenant):
        note = invoices.credit_note(s, made, reason="outage").id
    notes = client.get("/portal/api/credit-notes", headers=p.headers).get_json()
    assert [n["id"] for n in notes["items"]] == [note] and notes["items"][0]["credited_invoice_id"] == made
    assert client.get(f"/portal/api/invoices/{made}", headers=p.headers).get_json()["credit_notes"][0]["id"] == note
    assert client.get("/portal/api/invoices?kind=credit_note", headers=p.headers).get_json()["total"] == 1


def test_a_pending_payment_has_no_receipt(client, db, portal):
    from app.services.billing import payments

    p = portal()
    with db.session() as s, tenant_context(p.tenant):
        pending = payments.record(s, customer_id=p.customer_id, amount=Decimal("100.00"), method="mpesa",
                                  status="pending").id
    found = client.get("/portal/api/payments", headers=p.headers).get_json()["items"][0]
    assert found["id"] == pending and found["status"] == "pending" and found["receipt_url"] is None
    assert client.get(f"/portal/api/payments/{pending}/receipt", headers=p.headers).status_code == 409


def test_the_statement_and_the_ledger(client, db, portal):
    p = portal()
    invoice(db, p, "1000.00")
    pay(db, p, "400.00")
    with db.session() as s, tenant_context(p.tenant):
        today = local_today(s)
    statement = client.get("/portal/api/statement", headers=p.headers).get_json()
    assert statement["customer_id"] == p.customer_id and statement["period_end"] == today.isoformat()
    assert statement["opening_balance"] == "0.00" and statement["closing_balance"] == "600.00"
    assert [(e["debit"], e["credit"]) for e in statement["entries"]] == [("1000.00", None), (None, "400.00")]
    ranged = client.get("/portal/api/statement", query_string={
        "from": (today + timedelta(days=1)).isoformat(), "to": (today + timedelta(days=2)).isoformat()},
        headers=p.headers).get_json()
    assert ranged["opening_balance"] == "600.00" and ranged["entries"] == []
    pdf = client.get("/portal/api/statement?format=pdf", headers=p.headers)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    backwards = client.get("/portal/api/statement", query_string={"from": today.isoformat(),
                                                                  "to": (today - timedelta(days=1)).isoformat()},
                           headers=p.headers)
    assert backwards.status_code == 422
    assert client.get("/portal/api/statement", query_string={"from": "2000-01-01", "format": "pdf"},
                      headers=p.headers).status_code == 422  # more than ten years: refused, nothing drawn
    ledger = client.get("/portal/api/transactions", headers=p.headers).get_json()
    assert ledger["total"] == 2 and [t["amount"] for t in ledger["items"]] == ["-400.00", "1000.00"]


def test_payment_methods_default_and_removal(client, db, portal):
    p = portal()
    with db.session() as s, tenant_context(p.tenant):
        card = payment_methods.add(s, p.customer_id, kind="card", token="pm_card_1", brand="visa", last4="4242",
                                   expiry_month=12, expiry_year=2099).id
        phone = payment_methods.add(s, p.customer_id, kind="mpesa", token="0712345678").id
        theirs = payment_methods.add(s, p.other_customer_id, kind="mpesa", token="0712000000").id
    listed = client.get("/portal/api/payment-methods", headers=p.headers).get_json()
    assert [(m["id"], m["is_default"]) for m in listed] == [(card, True), (phone, False)]
    assert all("token" not in m for m in listed)
    read = api_key(client, p, "read")
    assert client.get("/portal/api/payment-methods", headers=read).status_code == 200
    assert client.post(f"/portal/api/payment-methods/{phone}/default", headers=read).status_code == 403
    assert client.post(f"/portal/api/payment-methods/{phone}/default", headers=p.headers).get_json()["is_default"]
    assert client.post(f"/portal/api/payment-methods/{theirs}/default", headers=p.headers).status_code == 404
    assert client.delete(f"/portal/api/payment-methods/{theirs}", headers=p.headers).status_code == 404
    assert client.delete(f"/portal/api/payment-methods/{phone}", headers=p.headers).status_code == 204
    assert [(m["id"], m["is_default"]) for m in client.get("/portal/api/payment-methods",
                                                           headers=p.headers).get_json()] == [(card, True)]
