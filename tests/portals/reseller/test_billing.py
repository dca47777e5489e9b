"""The reseller portal's Billing section in a real browser, as ABC Internet's team uses it:

- an admin finds a draft in the invoice list, opens it, issues it (it is numbered and Issued), and voids another
  through the confirmation with a reason (it is Void);
- a payment recorded for a customer by Portal ID shows the invoice it paid, which turns Paid; the same form
  sent twice records one payment;
- a billing run started from its page is followed by its progress bar while a real Dramatiq worker does it,
  until it says Done;
- the dunning policy is changed and kept; M-PESA secrets typed in are never shown back, only "Set";
- a Readonly member sees no action button, and a forged POST of each action is refused (403);
- XYZ Networks' admin opening ABC's invoice or payment gets 404;
- every word of the section's pages is in Swahili.
"""

from __future__ import annotations

import itertools
import re
from decimal import Decimal

import pytest
from dramatiq import Worker
from playwright.sync_api import expect
from sqlalchemy import func, select

from app.models.billing import Invoice, Payment
from app.services import customers
from app.services.billing import dunning, invoices, payments
from app.services.billing.gateways import config
from app.services.settings import get_setting, put_setting
from tenants import tenant_context
from tenants.registry import directory
from tests.billing.test_invoice_pdfs import billing_broker  # noqa: F401  (fixture)
from tests.portals.rig import fetch, post_form
from tests.portals.signin import sign_in_team

pytestmark = pytest.mark.browser
ABC, XYZ = "abc.test.example", "xyz.test.example"
ADMIN, VIEWER = "admin@abc-internet.example", "viewer@abc-internet.example"
_n = itertools.count(1)


def _abc():
    return directory().by_code("ABC_ISP")


def _customer(db) -> tuple[int, str]:
    """A customer of ABC's of the test's own, so that what a payment pays is only what the test made."""
    n = next(_n)
    with db.session() as s, tenant_context(_abc()):
        person = customers.create(s, first_name="Baraka", last_name=f"Njoroge{n}", email=f"baraka{n}@example.com")
        s.commit()
        return person.id, person.portal_id


def _document(db, customer_id: int, price: str = "2500.00", *, issue: bool = False) -> tuple[int, str | None]:
    with db.session() as s, tenant_context(_abc()):
        made = invoices.create_draft(s, customer_id, [{"description": "Router installation",
                                                       "unit_price": Decimal(price), "taxable": False}])
        if issue:
            invoices.issue(s, made.id)
        s.commit()
        return made.id, made.number


def _url(live_server, path: str, host: str = ABC) -> str:
    return live_server.url(host, path)


def _flash(page, text: str):
    expect(page.locator(".notice", has_text=text)).to_be_visible()


def test_an_admin_issues_a_draft_and_voids_an_invoice(page, live_server, demo, db, look):
    customer_id, portal_id = _customer(db)
    draft_id, _ = _document(db, customer_id, "1800.00")
    sign_in_team(page, live_server, ABC, ADMIN)
    page.get_by_role("navigation", name="Sections").first.get_by_role("link", name="Billing").click()
    expect(page.get_by_role("heading", name="Billing", level=1)).to_be_visible()
    look(page, "reseller-billing-overview")

    page.get_by_role("link", name="All invoices").click()
    page.get_by_label("Status").select_option("Draft")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"status=Draft"))
    row = page.locator("tbody tr", has_text=portal_id)
    expect(row).to_have_count(1)
    look(page, "reseller-billing-invoices")
    row.get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Invoice (draft)")
    look(page, "reseller-billing-draft")

    page.get_by_role("button", name="Issue").click()
    _flash(page, "The invoice is issued.")
    expect(page.locator(".page-head .tag")).to_have_text("Issued")
    with db.session() as s, tenant_context(_abc()):
        issued = invoices.get(s, draft_id)
        assert issued.status == "Issued" and issued.number
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Invoice {issued.number}")
    look(page, "reseller-billing-issued")
    pdf = fetch(page, page.get_by_role("link", name="Download the PDF").get_attribute("href"))
    assert pdf["status"] == 200 and pdf["type"] == "application/pdf"

    page.get_by_role("link", name=re.compile("^Void")).click()
    expect(page.get_by_role("heading", name=f"Void Invoice {issued.number}?")).to_be_visible()
    page.get_by_role("button", name="Void it").click()  # no reason: asked for, next to the field
    expect(page.locator(".field-error .error")).to_have_text("Say why.")
    look(page, "reseller-billing-void")
    page.get_by_label("Why is it void?").fill("Installed by mistake twice")
    page.get_by_role("button", name="Void it").click()
    _flash(page, "The document is void.")
    expect(page.locator(".page-head .tag")).to_have_text("Void")
    expect(page.get_by_text("Installed by mistake twice")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("^Void"))).to_have_count(0)
    expect(page.get_by_role("link", name="Credit note")).to_have_count(0)


def test_the_invoice_list_sorts_by_a_header_and_exports_what_it_shows(page, live_server, demo, db):
    customer_id, portal_id = _customer(db)
    for price in ("700.00", "9100.00", "4200.00"):
        _document(db, customer_id, price, issue=True)
    sign_in_team(page, live_server, ABC, ADMIN)
    page.goto(_url(live_server, "/reseller/billing/invoices?status=Issued"))
    page.get_by_role("link", name="Total").click()
    expect(page.locator("th[aria-sort=ascending]")).to_have_text(re.compile("Total"))
    totals = [Decimal(t.split()[0].replace(",", "")) for t in page.locator("td[data-label=Total]").all_inner_texts()]
    assert totals == sorted(totals) and len(totals) >= 3
    page.get_by_role("link", name="Total").click()
    expect(page.locator("th[aria-sort=descending]")).to_have_text(re.compile("Total"))
    expect(page).to_have_url(re.compile(r"status=Issued"))  # the filter is kept
    exported = fetch(page, "/reseller/billing/invoices?status=Issued&format=csv")
    assert exported["status"] == 200 and "csv" in exported["type"]
    assert portal_id in exported["text"] and "9100.00" in exported["text"] and "Draft" not in exported["text"]


def test_a_credit_note_and_a_proforma_are_made_once_from_their_forms(page, live_server, demo, db, look):
    customer_id, portal_id = _customer(db)
    invoice_id, number = _document(db, customer_id, "3000.00", issue=True)
    sign_in_team(page, live_server, ABC, ADMIN)
    page.goto(_url(live_server, f"/reseller/billing/invoices/{invoice_id}"))
    page.get_by_role("link", name="Credit note").click()
    page.get_by_label("Part of some lines").check()
    page.get_by_label(re.compile("^Router installation")).fill("abc")
    page.get_by_label("Why is the customer credited?").fill("Two days without service")
    page.get_by_role("button", name="Issue the credit note").click()
    expect(page.locator(".field-error .error")).to_have_text("Enter an amount like 500 or 500.50.")
    expect(page.get_by_label("Why is the customer credited?")).to_have_value("Two days without service")
    look(page, "reseller-billing-credit-note")
    page.get_by_label(re.compile("^Router installation")).fill("200")
    token = page.locator("input[name=token]").get_attribute("value")
    csrf = page.locator("input[name=csrf_token]").first.get_attribute("value")
    line = page.locator("input[name^=line-]").get_attribute("name")
    fields = {"csrf_token": csrf, "token": token, "scope": "lines", line: "200", "reason": "Two days without service"}
    assert post_form(page, f"/reseller/billing/invoices/{invoice_id}/credit-note", fields) == 0  # sent first
    page.get_by_role("button", name="Issue the credit note").click()  # and the same form again
    _flash(page, "The credit note is issued.")
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("^Credit note "))
    with db.session() as s, tenant_context(_abc()):
        notes = invoices.credit_notes_of(s, invoice_id)
        assert len(notes) == 1 and notes[0].total == Decimal("200.00")
        assert invoices.get(s, invoice_id).amount_paid == Decimal("200.00")
    page.get_by_role("link", name=f"invoice {number}").click()
    expect(page.get_by_text("Two days without service")).to_have_count(0)  # the invoice's own page
    expect(page.locator("section", has_text="Payments applied").locator("tbody tr")).to_have_count(1)

    page.goto(_url(live_server, "/reseller/billing/invoices/new"))
    page.get_by_label("Customer's Portal ID").fill(portal_id.lower())
    page.locator("#lines-0-description").fill("Fibre survey")
    page.locator("#lines-0-unit_price").fill("1,200")
    page.get_by_role("button", name="Save the draft").click()
    _flash(page, "The draft is saved: check it, then issue it.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Pro-forma invoice (draft)")
    page.get_by_role("button", name="Issue").click()
    _flash(page, "The pro-forma invoice is issued.")
    page.get_by_role("button", name="Make it an invoice").click()
    _flash(page, "A draft invoice is made from the pro-forma: check it, then issue it.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Invoice (draft)")
    expect(page.get_by_role("cell", name="Fibre survey")).to_be_visible()


def test_a_payment_recorded_shows_what_it_paid_and_the_invoice_turns_paid(page, live_server, demo, db, look):
    customer_id, portal_id = _customer(db)
    invoice_id, number = _document(db, customer_id, "1500.00", issue=True)
    sign_in_team(page, live_server, ABC, ADMIN)
    page.goto(_url(live_server, "/reseller/billing/payments"))
    page.get_by_role("link", name="Record a payment").first.click()
    page.get_by_label("Customer's Portal ID").fill("ABC999999")
    page.get_by_label("Amount").fill("1,500")
    page.get_by_role("button", name="Record the payment").click()
    expect(page.locator("#customer-error")).to_have_text("No customer has this Portal ID.")
    expect(page.locator("#method-error")).to_have_text("Choose how the money was paid.")
    expect(page.get_by_label("Amount")).to_have_value("1,500")
    look(page, "reseller-billing-payment-form")

    page.get_by_label("Customer's Portal ID").fill(portal_id)
    page.get_by_label("Method").select_option("cash")
    page.get_by_label("Reference (optional)").fill("Counter slip 0042")
    fields = {"csrf_token": page.locator("input[name=csrf_token]").first.get_attribute("value"),
              "token": page.locator("input[name=token]").get_attribute("value"), "customer": portal_id,
              "amount": "1,500", "method": "cash", "reference": "Counter slip 0042", "received_on": "", "notes": ""}
    assert post_form(page, "/reseller/billing/payments/new", fields) == 0  # a first click that got through
    page.get_by_role("button", name="Record the payment").click()  # the second click: the same payment
    _flash(page, "The payment is recorded.")
    paid = page.locator("section", has_text="Invoices it paid")
    expect(paid.get_by_role("link", name=number)).to_be_visible()
    expect(paid.locator("tbody tr").first).to_contain_text("Paid")
    look(page, "reseller-billing-payment")
    receipt = fetch(page, page.get_by_role("link", name="Download the receipt").get_attribute("href"))
    assert receipt["status"] == 200 and receipt["type"] == "application/pdf"
    with db.session() as s, tenant_context(_abc()):
        assert s.execute(select(func.count()).select_from(Payment).where(
            Payment.customer_id == customer_id)).scalar_one() == 1
    paid.get_by_role("link", name=number).click()
    expect(page.locator(".page-head .tag")).to_have_text("Paid")
    expect(page.get_by_role("link", name=re.compile("^Void"))).to_have_count(0)  # money paid: credit it instead

    page.goto(_url(live_server, "/reseller/billing/payments"))
    page.locator("tbody tr", has_text=portal_id).get_by_role("link").first.click()
    page.get_by_role("link", name="Refund").click()
    page.get_by_label("Amount (optional)").fill("2000")
    page.get_by_label("Why does the money go back?").fill("Paid twice at the counter")
    page.get_by_role("button", name="Record the refund").click()
    expect(page.locator(".field-error .error")).to_have_text("That is more than is left to refund of this payment.")
    page.get_by_label("Amount (optional)").fill("500")
    page.get_by_role("button", name="Record the refund").click()
    _flash(page, "The refund is recorded.")
    expect(page.locator(".page-head .tag")).to_have_text("Partly refunded")
    with db.session() as s, tenant_context(_abc()):
        assert invoices.get(s, invoice_id).status in ("Partially Paid", "Overdue", "Issued")
        assert payments.balance(s, customer_id).balance == Decimal("500.00")


def test_a_billing_run_started_from_its_page_is_followed_to_done(page, live_server, demo, db, billing_broker,  # noqa: F811
                                                                  look):
    sign_in_team(page, live_server, ABC, ADMIN)
    page.goto(_url(live_server, "/reseller/billing/runs"))
    period = page.get_by_label("Month").input_value()
    page.get_by_label("Month").fill("2099-01")
    page.get_by_role("button", name="Start the run").click()
    expect(page.locator("#period-error")).to_contain_text("up to next month")
    page.get_by_label("Month").fill(period)
    page.get_by_role("button", name="Start the run").click()
    _flash(page, "The billing run is queued: this page follows it.")
    region = page.locator("#run-progress")
    expect(region.locator(".tag")).to_have_text("Queued")  # no worker yet: it waits
    expect(region.get_by_role("link", name="Refresh")).to_be_visible()
    look(page, "reseller-billing-run-queued")
    run_url = page.url

    worker = Worker(billing_broker, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        expect(region.locator(".tag")).to_have_text("Done", timeout=60_000)  # htmx polling, no reload
        billing_broker.join("billing", timeout=60_000)
    finally:
        worker.stop()
    assert page.url == run_url
    bar = page.locator("progress#run-bar")
    assert bar.get_attribute("value") == bar.get_attribute("max")
    expect(region.get_by_role("link", name="Refresh")).to_have_count(0)  # nothing left to follow
    expect(region.get_by_role("link", name="See the invoices")).to_be_visible()
    look(page, "reseller-billing-run-done")

    page.get_by_role("link", name="All billing runs").click()
    listed = page.locator("tbody tr", has_text=period)
    expect(listed.locator(".tag")).to_have_text("Done")
    listed.get_by_role("link").click()
    expect(page).to_have_url(run_url)  # left and come back to


@pytest.fixture
def abc_settings_kept(db, demo):
    """ABC's dunning policy and gateways put back after the test: the demo is shared by the session, and the
    customer portal's payment tests and the settings pages' tests read them."""
    with db.session() as s, tenant_context(_abc()):
        kept = {key: get_setting(s, key) for key in (dunning.SETTING, config.KEY)}
    yield
    with db.session() as s, tenant_context(_abc()):
        for key, value in kept.items():
            put_setting(s, key, value)


def test_the_dunning_policy_is_changed_and_gateway_secrets_are_never_shown(page, live_server, demo, db, look,
                                                                           abc_settings_kept):
    sign_in_team(page, live_server, ABC, ADMIN)
    page.goto(_url(live_server, "/reseller/billing/settings"))
    look(page, "reseller-billing-settings")
    page.get_by_role("navigation", name="Billing settings").get_by_role("link", name="Dunning policy").click()
    page.get_by_label("Reminders, in days after the due date").fill("7, 3")
    page.get_by_role("button", name="Save the policy").click()
    expect(page.locator("#reminder_days-error")).to_contain_text("ascending order")
    look(page, "reseller-billing-dunning")
    page.get_by_label("Reminders, in days after the due date").fill("2, 5, 9")
    page.get_by_label("Grace period, in days").fill("10")
    page.get_by_label("Suspend the service").check()
    page.get_by_label("SMS").check()
    page.get_by_role("button", name="Save the policy").click()
    _flash(page, "The dunning policy is saved. It applies from the next daily run.")
    expect(page.get_by_label("Grace period, in days")).to_have_value("10")
    expect(page.get_by_label("Suspend the service")).to_be_checked()
    with db.session() as s, tenant_context(_abc()):
        policy = dunning.policy(s)
    assert policy.reminder_days == (2, 5, 9) and policy.grace_days == 10 and policy.action == "suspend"
    assert policy.channels == ("email", "sms")

    page.get_by_role("navigation", name="Billing settings").get_by_role("link", name="Payment gateways").click()
    page.get_by_label("Till (Buy Goods)").check()
    page.get_by_label("Shortcode", exact=True).fill("174379")
    page.get_by_role("button", name="Save the M-PESA settings").click()
    expect(page.locator("#till_number-error")).to_have_text("A till has a till number: enter it.")
    page.get_by_label("Till number (a till only)").fill("5123456")
    page.get_by_label("Consumer key").fill("key-of-the-daraja-app")
    page.get_by_label("Consumer secret").fill("secret-of-the-daraja-app")
    page.get_by_label("Passkey").fill("passkey-of-the-store-number")
    page.get_by_role("button", name="Save the M-PESA settings").click()
    _flash(page, "The M-PESA settings are saved.")
    html = page.content()
    assert "secret-of-the-daraja-app" not in html and "passkey-of-the-store-number" not in html
    mpesa = page.locator("section", has_text="M-PESA (Daraja)")
    expect(mpesa.locator(".summary-row", has_text="Passkey").locator(".tag")).to_have_text("Set")
    expect(page.get_by_label("Till number (a till only)")).to_have_value("5123456")
    look(page, "reseller-billing-gateways")
    page.get_by_label("Shortcode", exact=True).fill("174380")  # secrets left empty keep the ones set
    page.get_by_role("button", name="Save the M-PESA settings").click()
    _flash(page, "The M-PESA settings are saved.")
    with db.session() as s, tenant_context(_abc()):
        daraja = config.describe(s)["mpesa"]["daraja"]
    assert daraja["shortcode"] == "174380" and daraja["passkey_set"] and daraja["shortcode_type"] == "till"

    page.get_by_role("navigation", name="Billing settings").get_by_role("link", name="Tax rates").click()
    page.get_by_label("Name").fill("Excise duty")
    page.get_by_label("Rate, in percent").fill("15")
    page.get_by_role("button", name="Add the tax rate").click()
    _flash(page, "The tax rate is added. It applies to invoices drafted from now on.")
    expect(page.get_by_role("cell", name="Excise duty", exact=True)).to_be_visible()
    look(page, "reseller-billing-tax-rates")
    page.get_by_role("link", name="Change Excise duty").click()
    page.get_by_label("Applied to new invoices").uncheck()
    page.get_by_role("button", name="Save the tax rate").click()
    _flash(page, "The tax rate is saved. Invoices issued already keep the rate they had.")
    expect(page.locator("tbody tr", has_text="Excise duty").locator("td").nth(3)).to_have_text("No")

    page.get_by_role("navigation", name="Billing settings").get_by_role("link", name="Top-up bundles").click()
    page.get_by_label("Code").fill("WEEK-5GB")
    page.get_by_label("Name").fill("5 GB for a week")
    page.get_by_label("How much").fill("5120")
    page.get_by_label("Price").fill("500")
    page.get_by_label("Valid for, in days (optional)").fill("7")
    page.get_by_role("button", name="Add the bundle").click()
    _flash(page, "The bundle is added: customers can buy it in the portal.")
    expect(page.get_by_role("cell", name="5 GB for a week", exact=True)).to_be_visible()
    look(page, "reseller-billing-bundles")
    page.get_by_role("button", name="Remove 5 GB for a week").click()
    _flash(page, "The bundle is removed. Bundles bought already are not touched.")
    expect(page.get_by_role("cell", name="5 GB for a week", exact=True)).to_have_count(0)


def test_a_readonly_member_sees_no_action_and_a_forged_post_is_refused(page, live_server, demo, db):
    customer_id, portal_id = _customer(db)
    draft_id, _ = _document(db, customer_id)
    issued_id, _ = _document(db, customer_id, issue=True)
    with db.session() as s, tenant_context(_abc()):
        payment_id = payments.record(s, customer_id=_customer(db)[0], amount="100.00", method="cash").id
        s.commit()
    sign_in_team(page, live_server, ABC, VIEWER)
    page.goto(_url(live_server, "/reseller/billing"))
    expect(page.get_by_role("heading", name="Billing", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Record a payment")).to_have_count(0)
    expect(page.get_by_role("link", name="New pro-forma or invoice")).to_have_count(0)
    for invoice_id in (draft_id, issued_id):
        page.goto(_url(live_server, f"/reseller/billing/invoices/{invoice_id}"))
        buttons = page.locator(".billing-buttons")
        for name in ("Issue", "Void", "Credit note", "Make it an invoice"):
            expect(buttons.get_by_role("button", name=name)).to_have_count(0)
            expect(buttons.get_by_role("link", name=re.compile(f"^{name}"))).to_have_count(0)
    page.goto(_url(live_server, "/reseller/billing/runs"))
    expect(page.get_by_role("button", name="Start the run")).to_have_count(0)
    page.goto(_url(live_server, "/reseller/billing/settings/dunning"))
    expect(page.get_by_role("button", name="Save the policy")).to_have_count(0)
    expect(page.get_by_text("Grace period", exact=True)).to_be_visible()
    page.goto(_url(live_server, "/reseller/billing/settings/tax-rates"))
    expect(page.get_by_role("button", name="Add the tax rate")).to_have_count(0)
    assert page.goto(_url(live_server, "/reseller/billing/settings/gateways")).status == 403

    page.goto(_url(live_server, "/reseller/billing/invoices"))
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")  # the sign-out form's: a real one
    forged = {"csrf_token": token, "reason": "forged", "token": "x" * 24, "period": "2026-12",
              "customer": portal_id, "amount": "100", "method": "cash", "grace_days": "1", "action": "limit"}
    for path in (f"/reseller/billing/invoices/{draft_id}/issue", f"/reseller/billing/invoices/{issued_id}/void",
                 f"/reseller/billing/invoices/{issued_id}/credit-note", "/reseller/billing/invoices/new",
                 "/reseller/billing/payments/new", "/reseller/billing/runs", "/reseller/billing/settings/dunning",
                 "/reseller/billing/settings/tax-rates", "/reseller/billing/settings/gateways/mpesa",
                 "/reseller/billing/settings/gateways/card", "/reseller/billing/settings/bundles",
                 "/reseller/billing/settings/bundles/DATA-5GB/remove",
                 f"/reseller/billing/payments/{payment_id}/refund"):
        assert post_form(page, path, forged) == 403, path
    with db.session() as s, tenant_context(_abc()):
        assert invoices.get(s, draft_id).status == "Draft" and invoices.get(s, issued_id).status == "Issued"
        assert payments.get(s, payment_id).refunded_amount == 0
    page.goto(_url(live_server, f"/reseller/billing/payments/{payment_id}"))
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("^Payment "))
    expect(page.get_by_role("link", name="Refund")).to_have_count(0)


def test_another_resellers_admin_finds_no_invoice_or_payment_of_abc(page, live_server, demo, db):
    customer_id, _ = _customer(db)
    invoice_id, number = _document(db, customer_id, "900.00", issue=True)
    with db.session() as s, tenant_context(_abc()):
        paid = payments.record(s, customer_id=customer_id, amount="900.00", method="cash")
        s.commit()
        payment_id = paid.id
    with db.session() as s, tenant_context(directory().by_code("XYZ_NET")):
        # ids are per reseller: the test means an id XYZ has none of
        assert s.get(Invoice, invoice_id) is None and s.get(Payment, payment_id) is None
    sign_in_team(page, live_server, XYZ, "admin@xyz-networks.example")
    invoice, payment = f"/reseller/billing/invoices/{invoice_id}", f"/reseller/billing/payments/{payment_id}"
    for path in (invoice, f"{invoice}/pdf", f"{invoice}/void", f"{invoice}/credit-note", payment, f"{payment}/refund",
                 f"{payment}/receipt"):
        assert page.goto(_url(live_server, path, XYZ)).status == 404, path
    page.goto(_url(live_server, "/reseller/billing/invoices", XYZ))
    assert number not in page.locator("body").inner_text()


def test_every_word_of_the_billing_pages_is_in_swahili():
    from jinja2.ext import babel_extract

    from app.portals.reseller import billing, billing_forms, billing_payments, billing_runs, billing_settings
    from app.services.branding import i18n

    words = i18n.translations("sw")
    untranslated = []
    for template in sorted((i18n.CATALOGUES.parent / "templates/reseller/billing").glob("*.html")):
        with template.open("rb") as source:
            for _line, _function, message, _comments in babel_extract(source, ("_",), [], {}):
                message = message[0] if isinstance(message, tuple) else message
                if message and words.gettext(message) == message and message not in ("M-PESA", "SMS"):
                    untranslated.append(f"{template.name}: {message}")
    modules = (billing, billing_forms, billing_payments, billing_runs, billing_settings)
    said = [v for module in modules for k, v in vars(module).items() if k.isupper() and isinstance(v, str) and " " in v]
    said += [v for k, v in vars(billing_forms).items() if k.endswith("_WORDS") for v in v.values()]
    said += [c.title for spec in (billing.DOCUMENTS, billing_payments.PAYMENTS) for c in spec.columns]
    for form in (billing_forms.InvoiceFilterForm, billing_forms.CreditNoteForm, billing_forms.DocumentForm,
                 billing_forms.PaymentForm, billing_forms.DunningForm, billing_forms.MpesaForm,
                 billing_forms.BundleForm):
        for field in vars(form).values():
            for choice in (getattr(field, "kwargs", {}).get("choices") or []):
                said.append(choice.label)
    untranslated += [m for m in said if m not in ("M-PESA", "SMS") and words.gettext(m) == m]
    assert untranslated == []
