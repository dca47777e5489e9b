"""The customer's Billing pages in a real browser: a customer with an Overdue invoice part-paid by M-PESA, a Paid
one (by a credit note) and an Issued one signs in, reads the overview, filters and sorts the invoices, opens one
(lines, payments applied, status, due date), downloads its PDF and the list as CSV and XLSX, reads payments with
their receipts, credit notes, transactions and a statement for a range of dates (and its PDF); makes a payment
method the default and removes one through the confirmation page; without JavaScript too; at 360 px and 1280 px
with axe-core on every page looked at; another customer's documents are not found on any Billing address."""

from __future__ import annotations

import csv
import io
import itertools
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from babel.dates import format_date
from openpyxl import load_workbook
from playwright.sync_api import expect
from pypdf import PdfReader
from sqlalchemy import select

from app.models.billing import Invoice, Payment, PaymentMethod
from app.services.billing import invoices, payment_methods
from app.services.settings import local_today
from tenants import tenant_context
from tests.portals.customers import make_customer
from tests.portals.rig import post_form
from tests.portals.signin import sign_in

pytestmark = pytest.mark.browser
_phones = itertools.count(1)


@dataclass
class Billed:
    """make_customer's customer (an Overdue invoice of 2,000.00 with 500.00 paid by M-PESA) and more documents."""

    customer: object
    overdue_id: int
    overdue_number: str
    paid_id: int
    paid_number: str
    issued_id: int
    issued_number: str
    credit_note_number: str

    @property
    def host(self) -> str:
        return self.customer.host


def billed_customer(db, code: str = "ABC_ISP", host: str = "abc.test.example") -> Billed:
    customer = make_customer(db, code, host)
    with db.session() as s, tenant_context(customer.tenant):
        overdue = s.execute(select(Invoice).where(Invoice.number == customer.invoice_number)).scalar_one()
        router = invoices.create_draft(s, customer.id, [{"description": "Router", "unit_price": Decimal("300.00"),
                                                         "taxable": False}])
        paid = invoices.issue(s, router.id)
        note = invoices.credit_note(s, paid.id, reason="Router returned")  # pays it: the invoice is Paid
        month = invoices.create_draft(s, customer.id, [{"description": "Fibre, next month",
                                                        "unit_price": Decimal("1200.00"), "taxable": False}])
        issued = invoices.issue(s, month.id)
        s.commit()
        assert (overdue.status, paid.status, issued.status) == ("Overdue", "Paid", "Issued")
        return Billed(customer, overdue.id, overdue.number, paid.id, paid.number, issued.id, issued.number,
                      note.number)


@pytest.fixture
def billed(db, demo):
    return billed_customer(db)


def _url(live_server, billed, path: str = "") -> str:
    return live_server.url(billed.host, f"/portal/billing{path}")


def _open_billing(page, live_server, billed):
    sign_in(page, live_server, billed.host, billed.customer.portal_id)
    page.get_by_role("navigation", name="Your account").get_by_role("link", name="Billing").click()
    page.wait_for_url(_url(live_server, billed))


def _rows(page) -> list[str]:
    return [r.inner_text() for r in page.locator("main table tbody tr").all()]


def _download(page, link) -> bytes:
    with page.expect_download() as started:
        link.click()
    return open(started.value.path(), "rb").read()


def _pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF")
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def _day(value) -> str:
    return format_date(value, "d MMMM y", locale="en")


def test_the_overview_shows_the_balance_what_is_due_and_where_each_list_is(page, live_server, look, db, billed):
    _open_billing(page, live_server, billed)
    expect(page.get_by_role("heading", name="Billing", level=1)).to_be_visible()
    look(page, "billing")
    balance = page.get_by_role("region", name="Balance").inner_text()
    assert "2,700.00 KES" in balance and "to pay" in balance  # 1,500.00 overdue and 1,200.00 issued
    assert "Overdue\n1,500.00 KES" in balance and "Due\n2,700.00 KES" in balance
    to_pay = page.get_by_role("region", name="To pay")
    assert billed.overdue_number in to_pay.inner_text() and billed.issued_number in to_pay.inner_text()
    assert billed.paid_number not in to_pay.inner_text()
    pay = to_pay.get_by_role("link", name=f"Pay invoice {billed.overdue_number}")
    assert pay.get_attribute("href") == f"/portal/billing/invoices/{billed.overdue_id}/pay"
    section = page.get_by_role("navigation", name="Billing")
    for name in ("Overview", "Invoices", "Payments and receipts", "Credit notes", "Transactions", "Statement",
                 "Payment methods"):
        expect(section.get_by_role("link", name=name, exact=True)).to_be_visible()
    assert section.get_by_role("link", name="Overview").get_attribute("aria-current") == "page"
    # the dashboard's Pay button leads to the same page
    page.goto(live_server.url(billed.host, "/portal"))
    assert page.get_by_role("region", name="To pay").get_by_role("link", name="Pay").first.get_attribute(
        "href").endswith("/pay")


def test_invoices_are_filtered_sorted_opened_and_downloaded(page, live_server, look, db, billed):
    _open_billing(page, live_server, billed)
    page.get_by_role("navigation", name="Billing").get_by_role("link", name="Invoices").click()
    look(page, "billing-invoices")
    numbers = [billed.issued_number, billed.paid_number, billed.overdue_number]
    assert [r.split("\t")[0] for r in _rows(page)] == numbers  # newest first
    assert billed.credit_note_number not in page.locator("main table").inner_text()  # a list of their own

    page.get_by_label("Status").select_option("Overdue")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**status=Overdue**")
    assert [r.split("\t")[0] for r in _rows(page)] == [billed.overdue_number]
    assert "Your invoices: Overdue" in page.locator("main table caption").inner_text()
    page.get_by_label("Status").select_option("Paid")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**status=Paid**")
    assert [r.split("\t")[0] for r in _rows(page)] == [billed.paid_number]

    page.get_by_label("Status").select_option("")
    page.get_by_role("button", name="Show").click()
    page.get_by_role("link", name="Total").click()  # ascending: 300, 1,200, 2,000
    assert [r.split("\t")[0] for r in _rows(page)] == [billed.paid_number, billed.issued_number,
                                                        billed.overdue_number]
    assert page.locator("th[aria-sort=ascending]").inner_text().startswith("Total")
    page.get_by_role("link", name="Total").click()
    assert [r.split("\t")[0] for r in _rows(page)] == [billed.overdue_number, billed.issued_number,
                                                        billed.paid_number]

    exported = _download(page, page.get_by_role("link", name="Download as CSV"))
    lines = list(csv.reader(io.StringIO(exported.decode())))
    assert lines[0] == ["Number", "Document", "Issued", "Due", "Total", "Balance due", "Status"]
    assert [line[0] for line in lines[1:4]] == [billed.overdue_number, billed.issued_number, billed.paid_number]
    assert lines[1][4:] == ["2000.00", "1500.00", "Overdue"]
    sheet = load_workbook(io.BytesIO(_download(page, page.get_by_role("link", name="Download as XLSX")))).active
    assert sheet["A2"].value == billed.overdue_number and sheet["E2"].value == 2000

    page.get_by_role("link", name=billed.overdue_number).click()
    page.wait_for_url(_url(live_server, billed, f"/invoices/{billed.overdue_id}"))
    look(page, "billing-invoice")
    expect(page.get_by_role("heading", name=f"Invoice {billed.overdue_number}", level=1)).to_be_visible()
    assert page.locator(".page-head .tag").inner_text() == "Overdue"
    summary = page.get_by_role("region", name="Summary").inner_text()
    with db.session() as s, tenant_context(billed.customer.tenant):
        overdue = invoices.get(s, billed.overdue_id)
        assert f"Due by\n{_day(overdue.due_on)}" in summary
    assert "Total\n2,000.00 KES" in summary and "Paid\n500.00 KES" in summary and "Balance due\n1,500.00 KES" in summary
    assert "Installation" in page.get_by_role("region", name="What it is for").inner_text()
    applied = page.get_by_role("region", name="Payments applied").inner_text()
    assert f"Payment {billed.customer.receipt_number} (M-PESA)" in applied and "500.00 KES" in applied
    expect(page.get_by_role("link", name=f"Pay Invoice {billed.overdue_number}")).to_be_visible()

    pdf = _download(page, page.get_by_role("link", name="Download the PDF"))
    assert billed.overdue_number in _pdf_text(pdf)

    page.goto(_url(live_server, billed, f"/invoices/{billed.paid_id}"))
    assert page.get_by_role("link", name=f"Pay Invoice {billed.paid_number}").count() == 0  # nothing to pay
    applied = page.get_by_role("region", name="Payments applied").inner_text()
    assert f"Credit note {billed.credit_note_number}" in applied


def test_payments_credit_notes_transactions_and_a_statement_for_a_range(page, live_server, look, db, billed):
    _open_billing(page, live_server, billed)
    nav = page.get_by_role("navigation", name="Billing")
    nav.get_by_role("link", name="Payments and receipts").click()
    look(page, "billing-payments")
    [row] = _rows(page)
    assert billed.customer.receipt_number in row and "M-PESA" in row and "500.00 KES" in row and "Received" in row
    assert billed.overdue_number in row  # what it paid
    receipt = _download(page, page.get_by_role("link", name=f"Receipt {billed.customer.receipt_number}"))
    assert billed.customer.receipt_number in _pdf_text(receipt)

    nav.get_by_role("link", name="Credit notes").click()
    look(page, "billing-credit-notes")
    [row] = _rows(page)
    assert billed.credit_note_number in row and billed.paid_number in row and "Router returned" in row
    page.get_by_role("link", name=billed.credit_note_number).click()
    expect(page.get_by_role("heading", name=f"Credit note {billed.credit_note_number}")).to_be_visible()
    assert page.get_by_role("link", name=f"invoice {billed.paid_number}").count() == 1

    nav.get_by_role("link", name="Transactions").click()
    look(page, "billing-transactions")
    rows = _rows(page)
    assert len(rows) == 5  # three invoices charged, a payment, a credit note
    assert any("Payment" in r and "500.00 KES" in r for r in rows)
    exported = _download(page, page.get_by_role("link", name="Download as CSV")).decode()
    assert exported.splitlines()[0] == "Date,Kind,Description,Charged,Paid or credited"

    nav.get_by_role("link", name="Statement").click()
    with db.session() as s, tenant_context(billed.customer.tenant):
        today = local_today(s)
    page.get_by_label("From", exact=True).fill((today - timedelta(days=40)).isoformat())
    page.get_by_label("To", exact=True).fill(today.isoformat())
    page.get_by_role("button", name="Show the statement").click()
    page.wait_for_url("**start=**")
    look(page, "billing-statement")
    statement = page.get_by_role("region", name=f"{_day(today - timedelta(days=40))} to {_day(today)}")
    assert "Balance before\n0.00 KES" in statement.inner_text()
    assert "Balance after\n2,700.00 KES" in statement.inner_text()
    assert len(_rows(page)) == 5 and _rows(page)[-1].endswith("2,700.00 KES")
    pdf = _pdf_text(_download(page, page.get_by_role("link", name="Download the statement as a PDF")))
    assert billed.overdue_number in pdf and billed.issued_number in pdf

    page.get_by_label("From", exact=True).fill(today.isoformat())
    page.get_by_label("To", exact=True).fill((today - timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Show the statement").click()
    expect(page.locator("#end-error")).to_have_text("The last day must be on or after the first day.")
    assert page.get_by_label("To", exact=True).input_value() == (today - timedelta(days=1)).isoformat()  # kept as typed


def _add_methods(db, billed) -> tuple[int, int]:
    with db.session() as s, tenant_context(billed.customer.tenant):
        first = payment_methods.add(s, billed.customer.id, kind="mpesa", token=f"07120{next(_phones):05d}")
        card = payment_methods.add(s, billed.customer.id, kind="card", token="pm_card_visa", brand="Visa",
                                   last4="4242", expiry_month=8, expiry_year=local_today(s).year + 2)
        s.commit()
        return first.id, card.id


def _methods(db, billed) -> dict[int, bool]:
    with db.session() as s, tenant_context(billed.customer.tenant):
        return dict(s.execute(select(PaymentMethod.id, PaymentMethod.is_default)
                              .where(PaymentMethod.customer_id == billed.customer.id)).all())


def test_a_payment_method_is_made_the_default_and_another_removed(page, live_server, look, db, billed):
    mpesa, card = _add_methods(db, billed)
    _open_billing(page, live_server, billed)
    page.get_by_role("navigation", name="Billing").get_by_role("link", name="Payment methods").click()
    look(page, "billing-payment-methods")
    items = page.locator(".method")
    assert "Default" in items.nth(0).inner_text() and "M-PESA number ending" in items.nth(0).inner_text()
    assert "Visa card ending 4242" in items.nth(1).inner_text()
    page.get_by_role("button", name="Make default Visa card ending 4242").click()
    expect(page.get_by_role("status")).to_have_text("Your default payment method is changed.")
    assert _methods(db, billed) == {mpesa: False, card: True}

    page.get_by_role("link", name="Remove Visa card ending 4242").click()
    look(page, "billing-remove-method")
    expect(page.get_by_role("heading", name="Remove Visa card ending 4242?")).to_be_visible()
    page.get_by_role("link", name="Cancel").click()
    assert _methods(db, billed) == {mpesa: False, card: True}
    page.get_by_role("link", name="Remove Visa card ending 4242").click()
    page.get_by_role("button", name="Remove it").click()
    expect(page.get_by_role("status")).to_have_text("The payment method is removed.")
    assert _methods(db, billed) == {mpesa: True}  # the other became the default


def test_the_pages_work_without_javascript(browser, live_server, db, billed):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        _open_billing(page, live_server, billed)
        page.get_by_role("navigation", name="Billing").get_by_role("link", name="Invoices").click()
        page.get_by_label("Status").select_option("Issued")
        page.get_by_role("button", name="Show").click()
        page.wait_for_url("**status=Issued**")
        assert [r.split("\t")[0] for r in _rows(page)] == [billed.issued_number]
        page.get_by_role("navigation", name="Billing").get_by_role("link", name="Statement").click()
        page.get_by_role("button", name="Show the statement").click()  # the last year, as filled in
        assert len(_rows(page)) == 5
    finally:
        context.close()


def test_another_customers_documents_are_not_found_on_any_billing_address(app, page, live_server, db, billed):
    other = billed_customer(db)
    their_method, _card = _add_methods(db, other)
    sign_in(page, live_server, billed.host, billed.customer.portal_id)
    with db.session() as s, tenant_context(other.customer.tenant):
        their_payment = s.execute(select(Payment.id).where(Payment.customer_id == other.customer.id)).scalar_one()
    ids = {"invoice_id": other.overdue_id, "payment_id": their_payment, "method_id": their_method,
           "key": "nothing-of-theirs"}
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("customer_billing.") and r.arguments]
    assert len(rules) >= 8
    page.goto(_url(live_server, billed))
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    for rule in rules:
        path = rule.rule
        for name, value in ids.items():
            path = path.replace(f"<int:{name}>", str(value)).replace(f"<{name}>", str(value))
        if "GET" in rule.methods:
            assert page.goto(live_server.url(billed.host, path)).status == 404, path
        if "POST" in rule.methods:
            assert post_form(page, path, {"csrf_token": token, "way": "mpesa", "phone": "0712345678"}) == 404, path
    assert _methods(db, other)[their_method] is True  # still theirs, still the default
    page.goto(_url(live_server, billed, "/invoices"))
    shown = page.locator("body").inner_text()
    assert other.overdue_number not in shown and other.customer.portal_id not in shown


def test_the_billing_pages_speak_the_resellers_language_and_every_word_is_in_swahili(client, db, demo):
    from jinja2.ext import babel_extract

    from app.portals.customer import billing, billing_forms, pay
    from app.services.billing.gateways import initiation
    from app.services.branding import i18n
    from app.services.settings import put_setting
    from tests.web.forms import submit

    words = i18n.translations("sw")
    untranslated = []
    for template in sorted((i18n.CATALOGUES.parent / "templates/portal/billing").glob("*.html")):
        with template.open("rb") as source:
            for _line, _function, message, _comments in babel_extract(source, ("_",), [], {}):
                message = message[0] if isinstance(message, tuple) else message
                if message and words.gettext(message) == message and message not in ("M-PESA",):
                    untranslated.append(f"{template.name}: {message}")
    said = [v for module in (billing, billing_forms, pay) for k, v in vars(module).items()
            if k.isupper() and isinstance(v, str) and " " in v]
    said += [c.title for spec in (billing.INVOICES, billing.PAYMENTS, billing.CREDIT_NOTES, billing.TRANSACTIONS,
                                  billing.STATEMENT) for c in spec.columns]
    said += list(initiation.MESSAGES.values())
    untranslated += [m for m in said if words.gettext(m) == m]
    assert untranslated == []

    east = billed_customer(db, "ABC_EAST", "east.abc.test.example")
    with db.session() as s, tenant_context(east.customer.tenant):
        put_setting(s, "language", "sw")
        s.commit()
    try:
        submit(client, "/login", east.host, identifier=east.customer.portal_id, password="Demo#Pass2026")
        html = client.get("/portal/billing/invoices", headers={"Host": east.host}).get_data(as_text=True)
        assert 'lang="sw"' in html and "Ankara" in html and "Pakua kama CSV" in html
        html = client.get(f"/portal/billing/invoices/{east.overdue_id}", headers={"Host": east.host}).get_data(
            as_text=True)
        assert "Malipo yaliyowekwa" in html
    finally:
        with db.session() as s, tenant_context(east.customer.tenant):
            put_setting(s, "language", "en")
            s.commit()
