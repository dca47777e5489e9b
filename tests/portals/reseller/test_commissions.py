"""The reseller portal's Commissions pages in a real browser: an admin of ABC Internet filters its commission lines,
downloads a statement as a PDF, disputes lines of it with a document and finds the dispute listed; a Readonly member
sees no dispute form and a forged POST is refused; XYZ Networks' admin never sees ABC's statement.

The lines are written as the engine writes them (tests/commissions/payout_fixtures.py), in a month of their own
long ago so that the payout built for it (app/services/commissions/payouts.py `build`) holds only them; the demo's
tenants are shared by the portal tests."""

from __future__ import annotations

import random
import re
import secrets
from datetime import date
from pathlib import Path

import pytest
from jinja2.ext import babel_extract
from playwright.sync_api import expect

from app.portals.reseller import account, commissions, reports
from app.portals.tables import TableSpec
from app.services import customers, periods
from app.services import demo as seed
from app.services.auth import users
from app.services.branding import i18n
from app.services.commissions import payouts
from app.services.reports import reports as report_service
from tenants import tenant_context
from tenants.registry import directory
from tests.commissions.payout_fixtures import add_line
from tests.portals.rig import fetch, post_form
from tests.portals.signin import sign_in_team
from tests.web.forms import csrf_of

pytestmark = pytest.mark.browser
ABC, XYZ = "abc.test.example", "xyz.test.example"


def customer_id(db, tenant, portal_id: str) -> int:
    with db.session() as s, tenant_context(tenant):
        return customers.list_page(s, customers.CustomerFilter(portal_id=portal_id), limit=1).items[0].id


@pytest.fixture
def statement(db, demo):
    """A payout of ABC's for a month of its own: two recurring lines of its first customer and a setup line."""
    tenant = directory().by_code("ABC_ISP")
    first = demo["ABC_ISP"]["customers"][0][0]
    customer = customer_id(db, tenant, first)
    with db.session() as s, tenant_context(tenant):
        taken = {p.period_start for p in payouts.list_payouts(s, per_page=100_000)[0]}
    month = next(m for m in (periods.Month.of(date(random.randrange(1950, 2015), random.randrange(1, 13), 1))
                             for _ in range(1000)) if m.first_day not in taken)  # a payout is built once a period
    lines = [add_line(db, tenant, "612.40", month.first_day, status="Approved", customer_id=customer),
             add_line(db, tenant, "187.60", month.first_day, status="Approved", customer_id=customer),
             add_line(db, tenant, "300.00", month.first_day, kind="setup", status="Approved", customer_id=customer)]
    with db.session() as s, tenant_context(tenant):
        made = payouts.build(s, month.first_day, month.last_day, actor="test")
        assert len(made) == 1
        payout_id, number = made[0].id, made[0].number
    return {"tenant": tenant, "month": month, "lines": lines, "payout_id": payout_id, "number": number,
            "portal_id": first}


def test_an_admin_filters_lines_downloads_the_statement_and_disputes_lines(page, live_server, demo, statement,
                                                                          look):
    sign_in_team(page, live_server, ABC, "admin@abc-internet.example")
    page.get_by_role("navigation", name="Sections").first.get_by_role("link", name="Commissions").click()
    expect(page.get_by_role("heading", name="Commissions", level=1)).to_be_visible()
    page.get_by_label("Month").fill(f"{statement['month'].first_day:%Y-%m}")
    page.get_by_label("Kind").select_option(label="Recurring commission")
    page.get_by_label("Customer's Portal ID").fill(statement["portal_id"])
    page.get_by_role("button", name="Show").click()
    rows = page.locator("table.table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="612.40")).to_have_count(1)
    expect(page.locator("table.table")).not_to_contain_text("300.00")  # the setup line is another kind
    expect(page.locator(".figure")).to_have_text("800.00 KES")  # net of the lines shown
    look(page, "reseller-commissions")

    page.get_by_role("link", name=statement["number"]).first.click()
    expect(page.get_by_role("heading", name=f"Statement {statement['number']}", level=1)).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the statement as a PDF").click()
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    look(page, "reseller-commissions-payout")

    page.get_by_label(f"Dispute line {statement['lines'][1]}").check()
    page.get_by_role("button", name="Open the dispute").click()  # no message: the form comes back
    expect(page.get_by_text("Say what is wrong with these lines.")).to_be_visible()
    expect(page.get_by_label(f"Dispute line {statement['lines'][1]}")).to_be_checked()  # what was chosen is kept
    page.get_by_label("What is wrong with these lines?").fill("The customer paid 2,000 KES, not 1,876 KES.")
    page.get_by_label("Supporting documents (optional)").set_input_files(
        {"name": "receipt.csv", "mimeType": "text/csv", "buffer": b"date,amount\n2026-03-02,2000.00\n"})
    page.get_by_role("button", name="Open the dispute").click()
    expect(page.get_by_text("Your dispute is open.")).to_be_visible()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("Dispute #")
    expect(page.get_by_role("link", name="receipt.csv")).to_be_visible()
    expect(page.locator("table.table tbody tr")).to_have_count(1)
    look(page, "reseller-commissions-dispute")
    number = heading.inner_text().split("#")[1].split()[0]

    page.get_by_role("link", name="Disputes").first.click()
    row = page.locator("table.table tbody tr").filter(has_text=f"Dispute #{number}")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Open")
    expect(row).to_contain_text(statement["number"])
    look(page, "reseller-commissions-disputes")

    page.get_by_role("link", name="Payouts and statements").first.click()
    expect(page.locator("table.table")).to_contain_text(statement["number"])
    look(page, "reseller-commissions-payouts")


def test_a_document_of_another_kind_is_refused_next_to_the_field(page, live_server, demo, statement):
    sign_in_team(page, live_server, ABC, "admin@abc-internet.example")
    page.goto(live_server.url(ABC, f"/reseller/commissions/payouts/{statement['payout_id']}"))
    page.get_by_label(f"Dispute line {statement['lines'][0]}").check()
    page.get_by_label("What is wrong with these lines?").fill("Wrong rate.")
    page.get_by_label("Supporting documents (optional)").set_input_files(
        {"name": "page.html", "mimeType": "text/html", "buffer": b"<html><script>alert(1)</script></html>"})
    page.get_by_role("button", name="Open the dispute").click()
    expect(page.get_by_text("Send PDF, PNG, JPEG, CSV or plain text files only.")).to_be_visible()
    expect(page.get_by_label("What is wrong with these lines?")).to_have_value("Wrong rate.")
    page.goto(live_server.url(ABC, "/reseller/commissions/disputes"))
    expect(page.locator("table.table")).not_to_contain_text(statement["number"])  # nothing was opened


def test_a_readonly_member_reads_but_cannot_dispute(page, live_server, demo, statement):
    sign_in_team(page, live_server, ABC, "viewer@abc-internet.example")
    page.goto(live_server.url(ABC, f"/reseller/commissions/payouts/{statement['payout_id']}"))
    expect(page.get_by_role("heading", name=f"Statement {statement['number']}", level=1)).to_be_visible()
    expect(page.get_by_role("button", name="Open the dispute")).to_have_count(0)
    expect(page.locator("input[type=checkbox]")).to_have_count(0)
    token = csrf_of(page.content())
    assert post_form(page, f"/reseller/commissions/payouts/{statement['payout_id']}/dispute",
                     {"csrf_token": token, "line_ids": str(statement["lines"][0]), "message": "forged"}) == 403


def test_a_member_limited_to_some_customers_sees_their_lines_only(page, live_server, db, demo, statement):
    tenant = statement["tenant"]
    other = customer_id(db, tenant, demo["ABC_ISP"]["customers"][1][0])
    username = f"limited-{secrets.token_hex(3)}@abc-internet.example"
    with db.session() as s, tenant_context(tenant):
        users.create_user(s, username=username, email=username, role="Manager", password=seed.DEMO_PASSWORD,
                          allowed_customer_ids=[other])
    sign_in_team(page, live_server, ABC, username)
    page.goto(live_server.url(ABC, f"/reseller/commissions?period={statement['month'].first_day:%Y-%m}"))
    expect(page.get_by_text("No commission lines")).to_be_visible()  # the lines are another customer's
    expect(page.get_by_role("link", name="Payouts and statements")).to_have_count(0)
    for path in ("/reseller/commissions/payouts", f"/reseller/commissions/payouts/{statement['payout_id']}",
                 "/reseller/commissions/disputes"):
        assert fetch(page, path)["status"] == 403, path


def test_another_reseller_never_sees_abcs_statement(page, live_server, demo, statement):
    sign_in_team(page, live_server, XYZ, "admin@xyz-networks.example")
    for path in (f"/reseller/commissions/payouts/{statement['payout_id']}",
                 f"/reseller/commissions/payouts/{statement['payout_id']}/statement.pdf"):
        found = fetch(page, path)
        assert found["status"] == 404 or statement["number"] not in found["text"], path
    page.goto(live_server.url(XYZ, "/reseller/commissions/payouts"))
    expect(page.locator("main")).not_to_contain_text(statement["number"])
    page.goto(live_server.url(XYZ, f"/reseller/commissions?period={statement['month'].first_day:%Y-%m}"))
    expect(page.locator("main")).not_to_contain_text("612.40")


def test_every_word_of_the_money_sections_is_in_swahili():
    """Commissions, the Master ISP account and Reports: every msgid of their templates and of their modules (the
    messages they flash or put next to a field, their tables' column titles, the reports' titles and columns)."""
    words = i18n.translations("sw")
    said = []
    for folder in ("commissions", "account", "reports"):
        for template in sorted((i18n.CATALOGUES.parent / "templates/reseller" / folder).glob("*.html")):
            with template.open("rb") as source:
                for _line, _function, message, _comments in babel_extract(source, ("_",), [], {}):
                    message = message[0] if isinstance(message, tuple) else message
                    if message:
                        said.append(message)
            said += [w for w in re.findall(r'"([A-Z][^"{}%]*[a-z.][^"{}%]*)"',
                                                                 template.read_text())
                     if " " in w or w.istitle()]
    for module in (commissions, account, reports):
        for name, value in vars(module).items():
            if name.isupper() and isinstance(value, str) and " " in value:
                said.append(value)
            elif name.isupper() and isinstance(value, dict):
                said += [v for v in value.values() if isinstance(v, str)]
            elif isinstance(value, TableSpec):
                said += [c.title for c in value.columns]
        said += re.findall(r'flash\("([^"]+)"', Path(module.__file__).read_text().replace('"\n', '').replace(
            '          "', ''))
    for report in report_service.REPORTS.values():
        said += [report.title, *(c.title.replace("%", "%%") for c in report.columns)]
    same = {"MRR", "PDF"}  # the same word in Swahili
    untranslated = sorted({m for m in said if words.gettext(m) == m and m not in same})
    assert len(said) > 250
    assert untranslated == []
