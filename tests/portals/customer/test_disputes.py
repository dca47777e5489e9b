"""The customer's Disputes pages in a real browser: a customer disputes a charge of an invoice with a document (a
wrong kind of file and a form sent without a charge come back with the message next to the field and what was
typed kept), sees the usage of the 30 days before the invoice, the day the answer is due and the dispute listed
with its status; asks for a payment plan on the balance and sees its instalments once approved; by keyboard alone,
without JavaScript, at 360 px and 1280 px; another customer's dispute and plan are not found; every word of the
pages is in Swahili."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from babel.dates import format_date
from playwright.sync_api import expect
from sqlalchemy import select, update

from app.models.arrangements import InvoiceDispute, PaymentPlan
from app.models.usage import UsageDaily
from app.services.billing import invoices
from app.services.billing.arrangements import business_days, disputes, plans
from app.services.billing.arrangements import evidence as frozen_usage
from app.services.settings import local_today
from tenants import tenant_context
from tests.portals.customers import MB, add_usage, make_customer
from tests.portals.signin import sign_in

pytestmark = pytest.mark.browser
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def customer(db, demo):
    """make_customer's customer, with a bill for their Home 20 service issued today and usage before it."""
    found = make_customer(db)
    with db.session() as s, tenant_context(found.tenant):
        today = local_today(s)
        for back in range(1, 31):
            add_usage(s, found.active_id, 200 + back, day=today - timedelta(days=back))
        draft = invoices.create_draft(s, found.id, [
            {"description": "Home 20 Mbps, this month", "unit_price": Decimal("2500.00"), "service_id": found.active_id,
             "kind": "recurring", "taxable": False},
            {"description": "Router rental", "unit_price": Decimal("300.00"), "taxable": False}])
        found.bill_number = invoices.issue(s, draft.id, today=today).number
        s.commit()
    return found


def _day(value) -> str:
    return format_date(value, "d MMMM y", locale="en")


def _today(db, customer):
    with db.session() as s, tenant_context(customer.tenant):
        return local_today(s)


def _open_disputes(page, live_server, customer):
    sign_in(page, live_server, customer.host, customer.portal_id)
    page.get_by_role("navigation", name="Your account").get_by_role("link", name="Disputes").click()
    expect(page.get_by_role("heading", name="Disputes and payment plans", level=1)).to_be_visible()


def test_a_customer_disputes_a_charge_with_a_document_and_sees_it_listed(page, live_server, look, db, customer,
                                                                           tmp_path):
    _open_disputes(page, live_server, customer)
    look(page, "disputes")
    page.get_by_role("link", name="Dispute a charge").click()
    page.get_by_label("Which invoice is the charge on?").select_option(label=f"{customer.bill_number} · 2,800.00 KES")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Dispute a charge on invoice {customer.bill_number}")
    look(page, "dispute-form")

    wrong = tmp_path / "bill.pdf"
    wrong.write_bytes(b"<html><body>not a pdf</body></html>")
    page.get_by_label("The service did not work").check()
    page.get_by_label("What is wrong?").fill("The line was down from the 3rd to the 9th.")
    page.get_by_role("button", name="Send the dispute").click()  # no charge chosen
    expect(page.locator("#lines-error")).to_have_text("Choose the charges you dispute.")
    assert page.get_by_label("What is wrong?").input_value() == "The line was down from the 3rd to the 9th."
    assert page.get_by_label("The service did not work").is_checked()
    page.get_by_label("Home 20 Mbps, this month · 2,500.00 KES").check()
    page.get_by_label("Documents (optional)").set_input_files(str(wrong))
    page.get_by_role("button", name="Send the dispute").click()
    expect(page.locator("#files-error")).to_contain_text("Send PDF, PNG, JPEG, CSV or plain text files only.")
    assert page.get_by_label("Home 20 Mbps, this month · 2,500.00 KES").is_checked()
    look(page, "dispute-form-refused")
    with db.session() as s, tenant_context(customer.tenant):
        assert s.execute(select(InvoiceDispute).where(InvoiceDispute.customer_id == customer.id)).first() is None

    proof = tmp_path / "outage.pdf"
    proof.write_bytes(PDF)
    page.get_by_label("Documents (optional)").set_input_files(str(proof))
    page.get_by_role("button", name="Send the dispute").click()
    expect(page.get_by_role("status").filter(has_text="We have your dispute")).to_be_visible()
    assert page.locator("main").inner_text().count("We have your dispute") == 1  # the page's notice, no flash too
    today = _today(db, customer)
    due = business_days.add_business_days(today, 10)
    notice = page.locator("main .notice-info").inner_text()
    assert f"will answer by {_day(due)}" in notice
    evidence = page.get_by_role("table", name=f"Daily usage from {_day(today - timedelta(days=30))} to "
                                              f"{_day(today - timedelta(days=1))}")
    expect(evidence).to_be_hidden()  # the days are behind a disclosure, the totals before it
    documents = page.get_by_role("region", name="Documents")
    expect(documents.get_by_role("link", name="outage.pdf")).to_be_visible()
    assert "Home 20 Mbps, this month" in page.get_by_role("region", name="Disputed charges").inner_text()
    look(page, "dispute")
    page.locator("summary", has_text="Show the day-by-day usage").click()
    assert evidence.locator("tbody tr").count() == 30
    assert "201.0" in evidence.inner_text()  # yesterday's download, in MB

    page.get_by_role("link", name="All your disputes").click()
    row = page.get_by_role("table", name="Your disputes").inner_text()
    assert customer.bill_number in row and "2,500.00 KES" in row and "Open" in row and _day(due) in row


def _figure(text: str) -> Decimal:
    """A figure as the page writes it ("6,465.0 MB", "1,234.5") as a number."""
    return Decimal(re.sub(r"[^0-9.]", "", text))


def test_a_disputes_usage_is_summed_up_at_360_px_and_its_days_are_a_table_one_press_away(page, live_server, look,
                                                                                        db, customer):
    """30 days of usage were 30 blocks of four lines at 360 px, a page some 5,400 px long: now the totals, and the
    days a table behind a disclosure that scrolls in its own box."""
    today = _today(db, customer)
    with db.session() as s, tenant_context(customer.tenant):
        for back in range(1, 31):  # uploads too, so that every column has its own figures
            s.execute(update(UsageDaily).where(UsageDaily.service_id == customer.active_id,
                                               UsageDaily.day == today - timedelta(days=back))
                      .values(upload=(back % 7) * MB))
        s.execute(update(UsageDaily).where(UsageDaily.service_id == customer.active_id,
                                           UsageDaily.day == today - timedelta(days=12)).values(download=0, upload=0))
        bill = s.execute(select(invoices.Invoice).where(invoices.Invoice.number == customer.bill_number)).scalar_one()
        line = next(x for x in invoices.lines_of(s, bill.id) if x.service_id == customer.active_id)
        made = disputes.open_dispute(s, customer.id, bill.id, [line.id], "outage", "Down for a day.")
        s.commit()
        [held] = frozen_usage.of_dispute(s, made.id)
    assert held["summary"]["days"] == len(held["days"]) == 30 and held["summary"]["quiet_days"] == 1
    used = {back: 200 + back + back % 7 for back in range(1, 31) if back != 12}  # MB each day, down and up
    busiest = max(used, key=used.get)
    assert held["summary"]["busiest"]["day"] == today - timedelta(days=busiest)
    sign_in(page, live_server, customer.host, customer.portal_id)
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(live_server.url(customer.host, f"/portal/disputes/{made.id}"))

    usage = page.get_by_role("region", name="Usage before the invoice")
    shown = {row.locator("dt").inner_text(): row.locator("dd").inner_text()
             for row in usage.locator(".summary-row").all()}
    period = f"{_day(today - timedelta(days=30))} to {_day(today - timedelta(days=1))}"
    assert shown["Period"] == f"{period} (30 days)"
    assert _figure(shown["Download"]) == Decimal(sum(200 + back for back in range(1, 31) if back != 12))
    assert _figure(shown["Upload"]) == Decimal(sum(back % 7 for back in range(1, 31) if back != 12))
    assert _figure(shown["Total"]) == _figure(shown["Download"]) + _figure(shown["Upload"])
    assert shown["Busiest day"] == f"{used[busiest]}.0 MB on {_day(today - timedelta(days=busiest))}"
    assert shown["Days without usage"] == "1"
    disclosure = usage.locator("details")
    assert disclosure.get_attribute("open") is None
    table = page.get_by_role("table", name=f"Daily usage from {period}")
    expect(table).to_be_hidden()
    tall = page.evaluate("document.documentElement.scrollHeight")
    assert tall < 2500, f"the dispute's page is {tall} px tall at 360 px"  # it was some 5,400
    look(page, "dispute-usage")

    usage.locator("summary", has_text="Show the day-by-day usage").click()
    expect(table).to_be_visible()
    rows = table.locator("tbody tr")
    assert rows.count() == len(held["days"])
    cells = [[_figure(c) for c in row.locator("td").all_inner_texts()] for row in rows.all()]
    assert [sum(column) for column in zip(*cells, strict=True)] == [
        _figure(shown["Download"]), _figure(shown["Upload"]), _figure(shown["Total"])]
    assert all(down + up == both for down, up, both in cells)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # the table scrolls in its box, if at all
    box = page.get_by_role("region", name=f"Daily usage from {period}")
    assert box.get_attribute("tabindex") == "0"
    if box.evaluate("b => b.scrollWidth > b.clientWidth"):  # a keyboard scrolls it: it takes the focus
        box.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_function("b => b.scrollLeft > 0", arg=box.element_handle())  # it may scroll smoothly
    look(page, "dispute-usage-open")


def test_a_customer_asks_for_a_payment_plan_and_sees_its_instalments(page, live_server, look, db, customer):
    _open_disputes(page, live_server, customer)
    page.get_by_role("link", name="Ask for a payment plan").click()
    assert "4,300.00 KES" in page.locator("main").inner_text()  # 1,500.00 left of the installation, and the bill
    look(page, "payment-plan-ask")
    page.get_by_label("3", exact=True).check()
    page.get_by_label("Anything your provider should know? (optional)").fill("Paid at the end of each month.")
    page.get_by_role("button", name="Ask for the plan").click()
    expect(page.get_by_role("status").filter(has_text="We have your request")).to_be_visible()
    expect(page.locator(".page-head .tag")).to_have_text("Waiting for approval")
    with db.session() as s, tenant_context(customer.tenant):
        [asked] = s.execute(select(PaymentPlan).where(PaymentPlan.customer_id == customer.id)).scalars().all()
        assert (asked.status, asked.proposed_instalments, asked.amount) == ("Pending", 3, Decimal("4300.00"))
        plans.approve(s, asked.id, note="Agreed.")
        s.commit()
        plan_id = asked.id
    page.reload()
    expect(page.locator(".page-head .tag")).to_have_text("Active")
    rows = page.get_by_role("table", name="Instalments").locator("tbody tr")
    assert rows.count() == 3
    assert "1,433.33 KES" in rows.nth(0).inner_text() and "1,433.34 KES" in rows.nth(2).inner_text()
    assert "Agreed." in page.locator("main").inner_text()
    look(page, "payment-plan")
    page.get_by_role("link", name="Disputes and payment plans").click()
    assert "Active" in page.get_by_role("table", name="Your payment plans").inner_text()
    assert page.get_by_role("link", name="Ask for a payment plan").count() == 0  # one plan at a time
    assert page.url.endswith("/portal/disputes") and plan_id


def test_the_dispute_form_works_by_keyboard_alone_and_without_javascript(browser, live_server, db, customer):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 740})
    page = context.new_page()
    try:
        sign_in(page, live_server, customer.host, customer.portal_id)
        with db.session() as s, tenant_context(customer.tenant):
            invoice_id = s.execute(select(invoices.Invoice.id).where(
                invoices.Invoice.number == customer.bill_number)).scalar_one()
        page.goto(live_server.url(customer.host, f"/portal/disputes/new?invoice={invoice_id}"))
        page.locator("#line-" + str(_lines(db, customer, invoice_id)[1])).focus()
        page.keyboard.press("Space")  # Router rental
        page.keyboard.press("Tab")
        page.keyboard.press("Space")  # the first reason
        page.keyboard.press("ArrowDown")  # the second: the price is not what I agreed
        page.get_by_label("What is wrong?").focus()
        page.keyboard.type("The rental was meant to be free for a year.")
        page.get_by_role("button", name="Send the dispute").focus()
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/portal/disputes/\d+$"))  # the dispute's page, not the form's own URL
        with db.session() as s, tenant_context(customer.tenant):
            [made] = s.execute(select(InvoiceDispute).where(InvoiceDispute.customer_id == customer.id)).scalars().all()
            assert (made.reason, made.disputed_amount) == ("price", Decimal("300.00"))
        assert "Router rental" in page.locator("main").inner_text()
        assert "no usage to attach" in page.locator("main").inner_text()  # a rental is not a service's usage
    finally:
        context.close()


def _lines(db, customer, invoice_id) -> list[int]:
    with db.session() as s, tenant_context(customer.tenant):
        return [line.id for line in invoices.lines_of(s, invoice_id)]


def test_another_customers_dispute_and_plan_are_not_found(page, live_server, db, demo, customer):
    other = make_customer(db)
    with db.session() as s, tenant_context(other.tenant):
        bill = s.execute(select(invoices.Invoice).where(invoices.Invoice.customer_id == other.id)).scalars().first()
        theirs = disputes.open_dispute(s, other.id, bill.id, [invoices.lines_of(s, bill.id)[0].id], "other",
                                       "Not mine.")
        plan = plans.request_plan(s, other.id, 2)
        s.commit()
        dispute_id, plan_id, invoice_id = theirs.id, plan.id, bill.id
    sign_in(page, live_server, customer.host, customer.portal_id)
    for path in (f"/portal/disputes/{dispute_id}", f"/portal/payment-plans/{plan_id}",
                 f"/portal/disputes/new?invoice={invoice_id}", f"/portal/disputes/{dispute_id}/documents/1"):
        assert page.goto(live_server.url(customer.host, path)).status == 404, path
    page.goto(live_server.url(customer.host, "/portal/disputes"))
    assert f"#{dispute_id}" not in page.get_by_role("region", name="Your disputes").inner_text()


def test_every_word_of_the_pages_is_in_swahili():
    from jinja2.ext import babel_extract

    from app.portals.customer import dispute_forms
    from app.portals.customer import disputes as views
    from app.services.branding import i18n

    words = i18n.translations("sw")
    untranslated = []
    for template in sorted((i18n.CATALOGUES.parent / "templates/portal/disputes").glob("*.html")):
        with template.open("rb") as source:
            for _line, _function, message, _comments in babel_extract(source, ("_",), [], {}):
                message = message[0] if isinstance(message, tuple) else message
                if message and words.gettext(message) == message:
                    untranslated.append(f"{template.name}: {message}")
    for template in sorted((i18n.CATALOGUES.parent / "templates/email/billing").glob("*")):
        if "dispute" in template.name or "payment_plan" in template.name or template.name == "_arrangements.txt":
            with template.open("rb") as source:
                for _line, _function, message, _comments in babel_extract(source, ("_", "gettext"), [],
                                                                           {"extensions": "jinja2.ext.i18n"}):
                    message = message[0] if isinstance(message, tuple) else message
                    if message and words.gettext(message) == message:
                        untranslated.append(f"{template.name}: {message}")
    said = [v for k, v in vars(views).items() if k.isupper() and isinstance(v, str) and k != "INVOICE_PAGE"]
    said += list(views.PLAN_REFUSALS.values()) + [label for _, label in dispute_forms.REASONS]
    said.append(dispute_forms.TOO_LONG)
    untranslated += [f"disputes.py: {m}" for m in said if words.gettext(m) == m]
    assert untranslated == []
