"""Payments on the real database: allocation oldest invoice first, partial payments, overpayment kept as
credit that the next invoice takes, gap-free receipt numbers, refunds (partial and full, reopening what
they take back), reversal of a payment recorded by mistake, and the payments API around them.

The ledger audit of tests/billing/conftest.py runs after every test here: whatever a test does, the
ledger and the documents must still agree.

`issue_invoice` issues an invoice through the invoice service with the due date a test needs; the other
payment test modules import it and `finance_headers`.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app import clock
from app.models import ActivityEvent
from app.models.billing import Invoice, Payment
from app.services.auth import users
from app.services.billing import allocation, invoices, ledger, payments
from app.services.errors import Conflict, Invalid, NotFound
from app.services.settings import get_setting, put_setting
from tenants import tenant_context
from tests.auth.conftest import PASSWORD, bearer
from tests.conftest import host_of

_users = itertools.count(1)
TODAY = date(2026, 11, 20)
pytestmark = pytest.mark.clock(TODAY)  # due dates and overdue checks are judged on this day


def issue_invoice(s, customer_id: int, total: str, *, due_on: date = TODAY + timedelta(days=14),
                  currency: str = "KES") -> Invoice:
    """An invoice issued by the invoice service (numbered, posted, the customer's credit settled on it),
    falling due on `due_on`: it is issued the reseller's payment terms before that day."""
    terms = int(get_setting(s, "billing")["payment_terms_days"])
    draft = invoices.create_draft(s, customer_id, [{"description": "Fibre 20 Mbps", "unit_price": total}],
                                  currency=currency)
    invoice = invoices.issue(s, draft.id, today=due_on - timedelta(days=terms))
    assert (invoice.total, invoice.due_on) == (Decimal(total), due_on)
    return invoice


def finance_headers(app, db, tenant, role: str = "Admin") -> dict:
    """A signed-in reseller user of `tenant` (Admin holds finance.* and settings.manage)."""
    n = next(_users)
    with db.session() as s, tenant_context(tenant):
        users.create_user(s, username=f"cashier{n}@reseller.example", email=f"cashier{n}@reseller.example",
                          role=role, password=PASSWORD)
    host = host_of(tenant)
    response = app.test_client().post("/reseller/auth/login", json={"username": f"cashier{n}@reseller.example",
                                                                     "password": PASSWORD}, headers={"Host": host})
    assert response.status_code == 200, response.get_json()
    return bearer(response.get_json()["token"], host)


def _state(s, *invoices: Invoice) -> list[tuple[str, str]]:
    for invoice in invoices:
        s.refresh(invoice)
    return [(i.status, str(i.amount_paid)) for i in invoices]


# -- allocation ---------------------------------------------------------------------------------------
def test_oldest_invoice_first_partial_payment_and_overpayment_as_credit_for_the_next_invoice(db, billable):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        later = issue_invoice(s, b.customer_id, "1000.00", due_on=TODAY + timedelta(days=20))
        older = issue_invoice(s, b.customer_id, "1000.00", due_on=TODAY + timedelta(days=5))  # made second, due first

        first = payments.record(s, customer_id=b.customer_id, amount="1500.00", method="cash", today=TODAY)
        assert _state(s, older, later) == [("Paid", "1000.00"), ("Partially Paid", "500.00")]
        assert [(a.invoice_id, a.amount) for a in payments.allocations(s, first.id)] == [
            (older.id, Decimal("1000.00")), (later.id, Decimal("500.00"))]
        assert ledger.balance(s, b.customer_id) == Decimal("500.00")

        second = payments.record(s, customer_id=b.customer_id, amount="800.00", method="mpesa", reference="QK12AB",
                                 today=TODAY)
        assert _state(s, later) == [("Paid", "1000.00")]
        assert allocation.unallocated_payment(s, second) == Decimal("300.00")
        assert allocation.credit(s, b.customer_id) == Decimal("300.00")
        assert ledger.balance(s, b.customer_id) == Decimal("-300.00")

        # the credit pays the next invoice when it is issued
        nxt = issue_invoice(s, b.customer_id, "1000.00")
        assert _state(s, nxt) == [("Partially Paid", "300.00")]
        assert allocation.credit(s, b.customer_id) == Decimal("0.00")
        assert ledger.balance(s, b.customer_id) == Decimal("700.00")
        assert first.currency == "KES" and first.status == "succeeded"
        history = s.execute(select(ActivityEvent.action).where(ActivityEvent.customer_id == b.customer_id)).scalars()
        assert list(history).count("payment.received") == 2


def test_receipt_numbers_follow_the_format_and_leave_no_gap_after_a_rollback(db, billable):
    b = billable()
    year = clock.now().year
    with db.session() as s, tenant_context(b.tenant):
        billing = get_setting(s, "billing")
        put_setting(s, "billing", {**billing, "receipt_format": "R{YY}/{0000}"})
    with pytest.raises(RuntimeError), db.session() as s, tenant_context(b.tenant):
        payments.record(s, customer_id=b.customer_id, amount="10.00", method="cash")
        raise RuntimeError("the request failed after the payment was recorded")
    with db.session() as s, tenant_context(b.tenant):
        numbers = [payments.record(s, customer_id=b.customer_id, amount="10.00", method="cash").receipt_number
                   for _ in range(3)]
        pending = payments.record(s, customer_id=b.customer_id, amount="10.00", method="mpesa", provider="mpesa",
                                  provider_ref="ws_CO_1", status="pending")
    assert numbers == [f"R{year % 100:02d}/{n:04d}" for n in (1, 2, 3)]
    assert pending.receipt_number is None  # numbered when it succeeds


def test_amounts_methods_and_currencies_are_checked(db, billable):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        issue_invoice(s, b.customer_id, "100.00")
        for amount in (0.1, "1.005", "0", "-5.00", "ten", Decimal("NaN")):
            with pytest.raises(Invalid):
                payments.record(s, customer_id=b.customer_id, amount=amount, method="cash")
        with pytest.raises(Invalid, match="method"):
            payments.record(s, customer_id=b.customer_id, amount="5.00", method="cheque")
        with pytest.raises(Invalid, match="billed in KES"):
            payments.record(s, customer_id=b.customer_id, amount="5.00", method="cash", currency="USD")
        with pytest.raises(NotFound):
            payments.record(s, customer_id=99_999_999, amount="5.00", method="cash")
        assert s.execute(select(func.count()).select_from(Payment)).scalar_one() == 0


def test_the_same_gateway_reference_is_one_payment(db, billable):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        first = payments.record(s, customer_id=b.customer_id, amount="50.00", method="mpesa", provider="mpesa",
                                provider_ref="QKX1")
        with pytest.raises(payments.DuplicatePayment) as raised:
            payments.record(s, customer_id=b.customer_id, amount="50.00", method="mpesa", provider="mpesa",
                            provider_ref="QKX1")
        assert raised.value.payment.id == first.id
        assert ledger.balance(s, b.customer_id) == Decimal("-50.00")


# -- refunds and reversals ----------------------------------------------------------------------------
def test_partial_then_full_refund_spends_the_credit_first_then_reopens_invoices(db, billable):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        invoice = issue_invoice(s, b.customer_id, "1000.00")
        payment = payments.record(s, customer_id=b.customer_id, amount="1200.00", method="bank_transfer",
                                  reference="EFT 778", today=TODAY)
        assert _state(s, invoice) == [("Paid", "1000.00")]

        payments.refund(s, payment.id, amount="100.00", reason="overpaid", today=TODAY)  # from the credit only
        assert _state(s, invoice) == [("Paid", "1000.00")]
        assert (payment.status, payment.refunded_amount) == ("partially_refunded", Decimal("100.00"))
        assert allocation.credit(s, b.customer_id) == Decimal("100.00")

        payments.refund(s, payment.id, amount="600.00", reason="moved house", today=TODAY)  # 100 credit + 500
        assert _state(s, invoice) == [("Partially Paid", "500.00")]
        assert allocation.credit(s, b.customer_id) == Decimal("0.00")
        assert ledger.balance(s, b.customer_id) == Decimal("500.00")

        with pytest.raises(Invalid, match="at most 500.00"):
            payments.refund(s, payment.id, amount="500.01", reason="too much")
        full = payments.refund(s, payment.id, reason="closing the account", today=TODAY)  # what is left
        assert full.amount == Decimal("500.00")
        assert (payment.status, payment.refunded_amount) == ("refunded", Decimal("1200.00"))
        assert _state(s, invoice) == [("Issued", "0.00")]
        assert ledger.balance(s, b.customer_id) == Decimal("1000.00")
        with pytest.raises(Conflict):
            payments.refund(s, payment.id, amount="1.00", reason="again")
        assert [r.amount for r in payments.refunds(s, payment.id)] == [Decimal("100.00"), Decimal("600.00"),
                                                                       Decimal("500.00")]


def test_a_refund_that_reopens_an_invoice_lets_other_credit_pay_it(db, billable):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        invoice = issue_invoice(s, b.customer_id, "1000.00")
        first = payments.record(s, customer_id=b.customer_id, amount="1000.00", method="cash", today=TODAY)
        payments.record(s, customer_id=b.customer_id, amount="400.00", method="cash", today=TODAY)  # all credit
        payments.refund(s, first.id, amount="1000.00", reason="cheque bounced", today=TODAY)
        assert _state(s, invoice) == [("Partially Paid", "400.00")]
        assert ledger.balance(s, b.customer_id) == Decimal("600.00")


def test_reversing_a_payment_recorded_by_mistake(db, billable):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        invoice = issue_invoice(s, b.customer_id, "1000.00", due_on=TODAY - timedelta(days=3))
        wrong = payments.record(s, customer_id=b.customer_id, amount="1000.00", method="cash", today=TODAY)
        assert _state(s, invoice) == [("Paid", "1000.00")]
        payments.reverse(s, wrong.id, reason="entered on the wrong customer", actor="user 7 (cashier)", today=TODAY)
        assert wrong.status == "reversed" and "wrong customer" in wrong.notes
        assert _state(s, invoice) == [("Overdue", "0.00")]
        assert ledger.balance(s, b.customer_id) == Decimal("1000.00")
        kinds = [e.kind for e in ledger.entries(s, b.customer_id)]
        assert kinds[:2] == ["reversal", "payment"]
        with pytest.raises(Conflict):
            payments.reverse(s, wrong.id, reason="again")
        refunded = payments.record(s, customer_id=b.customer_id, amount="10.00", method="cash", today=TODAY)
        payments.refund(s, refunded.id, amount="5.00", reason="change")
        with pytest.raises(Conflict, match="refunded"):
            payments.reverse(s, refunded.id, reason="mistake")


def test_a_payment_clears_dunning_through_the_restore_hook(db, billable):
    """The hook is called in the payment's transaction; with nothing dunned it restores nothing."""
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        issue_invoice(s, b.customer_id, "100.00", due_on=TODAY - timedelta(days=30))
        payments.record(s, customer_id=b.customer_id, amount="100.00", method="cash", today=TODAY)
        assert ledger.balance(s, b.customer_id) == Decimal("0.00")


# -- the API ------------------------------------------------------------------------------------------
def test_record_list_get_refund_and_reverse_over_the_api(app, db, billable):
    b = billable()
    headers = finance_headers(app, db, b.tenant)
    client = app.test_client()
    with db.session() as s, tenant_context(b.tenant):
        invoice_id = issue_invoice(s, b.customer_id, "1000.00").id

    made = client.post("/reseller/api/payments", headers=headers, json={
        "customer_id": b.customer_id, "amount": "1250.00", "method": "mpesa", "reference": "QKL7H2"})
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert (body["amount"], body["status"], body["unallocated"], body["currency"]) == (
        "1250.00", "succeeded", "250.00", "KES")
    assert body["allocations"][0]["invoice_id"] == invoice_id and body["receipt_number"].startswith("RCT-")
    assert body["created_by"].startswith("user ")

    assert client.post("/reseller/api/payments", headers=headers, json={
        "customer_id": b.customer_id, "amount": 12.5, "method": "cash"}).status_code == 422  # a float
    assert client.post("/reseller/api/payments", headers=headers, json={
        "customer_id": 99_999_999, "amount": "1.00", "method": "cash"}).status_code == 404

    listed = client.get(f"/reseller/api/payments?customer_id={b.customer_id}", headers=headers).get_json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == body["id"]
    balance = client.get(f"/reseller/api/customers/{b.customer_id}/balance", headers=headers).get_json()
    assert (balance["balance"], balance["credit"], balance["open_invoices"]) == ("-250.00", "250.00", [])

    refund = client.post(f"/reseller/api/payments/{body['id']}/refunds", headers=headers,
                         json={"amount": "500.00", "reason": "double payment"})
    assert refund.status_code == 201, refund.get_json()
    assert refund.get_json()["payment"]["status"] == "partially_refunded"
    balance = client.get(f"/reseller/api/customers/{b.customer_id}/balance", headers=headers).get_json()
    assert balance["balance"] == "250.00" and balance["open_invoices"][0]["status"] == "Partially Paid"

    assert client.post(f"/reseller/api/payments/{body['id']}/reverse", headers=headers,
                       json={"reason": "x"}).status_code == 409  # refunded in part: refund, do not reverse
    other = client.post("/reseller/api/payments", headers=headers, json={
        "customer_id": b.customer_id, "amount": "100.00", "method": "cash"}).get_json()
    reversed_ = client.post(f"/reseller/api/payments/{other['id']}/reverse", headers=headers,
                            json={"reason": "typed twice"})
    assert reversed_.status_code == 200 and reversed_.get_json()["status"] == "reversed"
    got = client.get(f"/reseller/api/payments/{other['id']}", headers=headers).get_json()
    assert [a["amount"] for a in got["allocations"]] == ["100.00", "-100.00"]
    assert client.get("/reseller/api/payments/99999999", headers=headers).status_code == 404


def test_a_read_only_user_sees_payments_but_records_none(app, db, billable):
    b = billable()
    headers = finance_headers(app, db, b.tenant, role="Readonly")
    client = app.test_client()
    assert client.get("/reseller/api/payments", headers=headers).status_code == 200
    assert client.post("/reseller/api/payments", headers=headers, json={
        "customer_id": b.customer_id, "amount": "1.00", "method": "cash"}).status_code == 403


def test_payment_methods_over_the_api(app, db, billable):
    b = billable()
    headers = finance_headers(app, db, b.tenant)
    client = app.test_client()
    url = f"/reseller/api/customers/{b.customer_id}/payment-methods"
    card = client.post(url, headers=headers, json={"kind": "card", "token": "pm_card_visa_4242", "brand": "visa",
                                                   "last4": "4242", "expiry_month": 12, "expiry_year": 2099})
    assert card.status_code == 201, card.get_json()
    assert card.get_json()["is_default"] is True and "token" not in card.get_json()
    phone = client.post(url, headers=headers, json={"kind": "mpesa", "token": "0712 345 678"}).get_json()
    assert (phone["last4"], phone["is_default"]) == ("5678", False)
    assert client.post(url, headers=headers, json={"kind": "card", "token": "pm_x", "last4": "1111",
                                                   "expiry_month": 1, "expiry_year": 2020}).status_code == 422
    made_default = client.patch(f"{url}/{phone['id']}", headers=headers, json={"is_default": True})
    assert made_default.get_json()["is_default"] is True
    listed = client.get(url, headers=headers).get_json()
    assert [(m["id"], m["is_default"]) for m in listed] == [(phone["id"], True), (card.get_json()["id"], False)]
    assert client.delete(f"{url}/{phone['id']}", headers=headers).status_code == 204
    assert [(m["kind"], m["is_default"]) for m in client.get(url, headers=headers).get_json()] == [("card", True)]
    with db.session() as s, tenant_context(b.tenant):
        from app.models.billing import PaymentMethod
        from app.services.billing import payment_methods

        stored = s.execute(select(PaymentMethod)).scalar_one()
        assert "pm_card_visa_4242" not in stored.token_encrypted  # encrypted at rest
        assert payment_methods.token_of(stored) == "pm_card_visa_4242"


def test_a_receipt_pdf_names_the_payment_the_invoice_it_paid_and_the_brand(app, db, billable):
    import io

    import pypdf

    from app.services import branding

    b = billable()
    with db.session() as s:
        branding.update(s, branding.Owner.of(s, b.tenant.id), {"brand_name": "Receipt Fibre Ltd"}, actor="test")
    headers = finance_headers(app, db, b.tenant)
    client = app.test_client()
    with db.session() as s, tenant_context(b.tenant):
        invoice = issue_invoice(s, b.customer_id, "1000.00")
        number = invoice.number
    made = client.post("/reseller/api/payments", headers=headers, json={
        "customer_id": b.customer_id, "amount": "1250.00", "method": "mpesa", "reference": "QKL7H2"}).get_json()
    got = client.get(f"/reseller/api/payments/{made['id']}/receipt", headers=headers)
    assert got.status_code == 200 and got.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(got.data)).pages)
    for expected in (made["receipt_number"], number, "1,250.00", "1,000.00", "250.00", "Receipt Fibre Ltd"):
        assert expected in text, expected
    assert client.get("/reseller/api/payments/99999999/receipt", headers=headers).status_code == 404
