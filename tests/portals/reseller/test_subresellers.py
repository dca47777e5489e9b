"""The reseller's Sub-resellers pages in a real browser: ABC's admin finds ABC East in the tree with its figures,
creates a sub-reseller with its terms and first admin, sees the generated password once, and the new tenant's
host answers its team's sign-in page, where that password works. A Readonly member finds no Sub-resellers section,
its pages are refused, and so is a forged POST. ABC East's admin, on its own host, sees neither its parent nor its
siblings: their codes are not found."""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.models import Tenant
from app.services import resellers
from app.services import tenants as tenant_svc
from tenants import tenant_context
from tests.portals.rig import fetch, post_form
from tests.portals.signin import sign_in_team

pytestmark = pytest.mark.browser
ABC = "abc.test.example"
EAST = "east.abc.test.example"
ADMIN = "admin@abc-internet.example"


def _drop(db, code: str) -> None:
    with tenant_context(None), db.session() as s:
        if s.execute(select(Tenant.id).where(Tenant.code == code)).first():
            tenant_svc.delete(s, code)
            s.commit()


@pytest.fixture
def new_code(db, demo):
    """A code no tenant has; the tenant made with it is deleted after the test."""
    code = f"ABC_T{secrets.token_hex(3).upper()}"
    yield code
    _drop(db, code)


@pytest.fixture
def sibling(app, db, demo):
    """A second sub-reseller of ABC, beside ABC East."""
    code = f"ABC_S{secrets.token_hex(3).upper()}"
    with tenant_context(None), db.session() as s:
        abc = tenant_svc.get(s, "ABC_ISP").id
    resellers.create(db, code=code, name="ABC Sibling", base_domain="test.example", parent_id=abc, within=abc,
                     customer_limit=5, actor="test")
    app.extensions["backhaul"].directory.invalidate()
    yield code
    _drop(db, code)


def _open(page, live_server, host=ABC, user=ADMIN):
    sign_in_team(page, live_server, host, user)
    page.get_by_role("navigation", name="Sections").first.get_by_role("link", name="Sub-resellers").click()
    expect(page.get_by_role("heading", name="Sub-resellers", level=1)).to_be_visible()


def test_the_admin_creates_a_sub_reseller_sees_its_password_once_and_its_host_answers(page, live_server, new_code,
                                                                                     look):
    _open(page, live_server)
    tree = page.locator("table.subreseller-tree")
    east = tree.locator("tr").filter(has_text="ABC_EAST")
    expect(east).to_have_count(1)
    assert int(east.locator("td[data-label=Customers]").inner_text()) >= 1  # its figures, read in its schema
    look(page, "reseller-subresellers")

    page.get_by_role("link", name="Create a sub-reseller").click()
    page.get_by_label("Name", exact=True).fill("ABC North Test")
    page.get_by_label("Code").fill("1bad")
    page.get_by_label("Commission percent").fill("five")
    page.get_by_label("Username").fill(f"admin@{new_code.lower()}.example")
    page.get_by_label("E-mail address").fill(f"admin@{new_code.lower()}.example")
    page.get_by_role("button", name="Create the sub-reseller").click()
    expect(page.locator("#code-error")).to_contain_text("capital letters")
    expect(page.locator("#commission_percent-error")).to_contain_text("percentage from 0 to 100")
    assert page.get_by_label("Name", exact=True).input_value() == "ABC North Test"  # what was typed is kept
    look(page, "reseller-subresellers-new")

    page.get_by_label("Code").fill(new_code)
    page.get_by_label("Commission percent").fill("5.50")
    page.get_by_role("button", name="Create the sub-reseller").click()
    # ABC has a limit of its own: the service wants the room handed out said, and says so next to the field
    expect(page.locator("#customer_limit-error")).to_be_visible()
    page.get_by_label("Customer limit").fill("10")
    page.get_by_label("Internet").check()
    page.get_by_role("button", name="Create the sub-reseller").click()
    expect(page.get_by_role("heading", name="ABC North Test is created")).to_be_visible()
    credentials = page.locator("section[aria-labelledby=credentials-title]")
    expect(credentials).to_contain_text("shown only once")
    password = credentials.locator(".summary-row").filter(has_text="Password").locator("dd").inner_text().strip()
    sign_in_url = credentials.locator(".summary-row").filter(has_text="Sign-in page").locator("dd").inner_text()
    assert len(password) >= 12 and sign_in_url.endswith("/reseller/login")
    look(page, "reseller-subresellers-created")

    page.get_by_role("link", name="Open ABC North Test").click()
    expect(page.get_by_role("heading", name="ABC North Test", level=1)).to_be_visible()
    look(page, "reseller-subresellers-detail")
    expect(page.locator(".summary-list").first).to_contain_text("5.50 %")
    expect(page.locator(".summary-list").first).to_contain_text("Internet")
    assert password not in page.content()
    page.get_by_role("link", name="Sub-resellers").first.click()
    expect(page.locator("table.subreseller-tree tr").filter(has_text=new_code)).to_have_count(1)
    assert password not in page.content()

    host = sign_in_url.split("://", 1)[1].split("/", 1)[0].split(":", 1)[0]
    other = page.context.browser.new_context()
    team = other.new_page()
    sign_in_team(team, live_server, host, f"admin@{new_code.lower()}.example", password)
    expect(team.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    other.close()


def test_a_readonly_member_has_no_sub_resellers_and_a_forged_post_is_refused(page, live_server, demo):
    sign_in_team(page, live_server, ABC, "viewer@abc-internet.example")
    side = page.locator(".workspace-nav")
    assert "Sub-resellers" not in [t.strip() for t in side.locator(".nav-list a").all_inner_texts()]
    for path in ("/reseller/sub-resellers", "/reseller/sub-resellers/new", "/reseller/sub-resellers/ABC_EAST"):
        assert fetch(page, path)["status"] == 403, path
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    assert post_form(page, "/reseller/sub-resellers", {"csrf_token": token, "name": "Forged", "code": "ABC_FORGED",
                                                       "admin_username": "x", "admin_email": "x@example.com"}) == 403


def test_a_sub_resellers_admin_sees_neither_its_parent_nor_a_sibling(page, live_server, sibling):
    _open(page, live_server, host=EAST, user="admin@abc-east.example")
    shown = page.locator("main").inner_text()
    assert "ABC_ISP" not in shown and sibling not in shown and "ABC Sibling" not in shown
    for code in ("ABC_ISP", sibling, "XYZ_NET", "ABC_EAST"):
        assert fetch(page, f"/reseller/sub-resellers/{code}")["status"] == 404, code

    other = page.context.browser.new_context()
    abc = other.new_page()
    sign_in_team(abc, live_server, ABC, ADMIN)
    assert fetch(abc, f"/reseller/sub-resellers/{sibling}")["status"] == 200  # a parent sees its children
    assert fetch(abc, "/reseller/sub-resellers/XYZ_NET")["status"] == 404
    other.close()


def test_every_word_of_the_sub_reseller_pages_is_in_swahili():
    from jinja2.ext import babel_extract

    from app.portals.reseller import subresellers
    from app.services.branding import i18n

    words = i18n.translations("sw")
    untranslated = []
    for template in sorted((i18n.CATALOGUES.parent / "templates/reseller/subresellers").glob("*.html")):
        with template.open("rb") as source:
            for _line, _function, message, _comments in babel_extract(source, ("_",), [], {}):
                message = message[0] if isinstance(message, tuple) else message
                if message and words.gettext(message) == message and message != "MRR":  # the same in Swahili
                    untranslated.append(f"{template.name}: {message}")
    said = [v for k, v in vars(subresellers).items() if k.isupper() and isinstance(v, str) and " " in v]
    said += list(subresellers.KIND_LABELS.values())
    untranslated += [m for m in said if words.gettext(m) == m]
    assert untranslated == []


def test_the_parent_reads_its_sub_resellers_customers_and_changes_nothing(page, live_server, db, demo, look):
    """ABC's admin goes from ABC East's page to its customers, filters them, and opens one: the profile, balance,
    services and invoices, with no button nor form that changes anything; ABC East's admin, and XYZ's, find
    nothing of the kind about ABC."""
    _open(page, live_server)
    page.get_by_role("link", name="ABC East Connect").first.click()
    page.get_by_role("link", name="See its customers").click()
    expect(page.get_by_role("heading", name="Customers of ABC East Connect", level=1)).to_be_visible()
    table = page.get_by_role("table", name="Customers of ABC East Connect")
    expect(table).to_contain_text("Mutua Musyoka")
    side = page.locator(".workspace-nav")
    expect(side.get_by_role("link", name="Sub-resellers")).to_have_attribute("aria-current", "page")
    look(page, "reseller-subreseller-customers")
    page.get_by_label("Status").select_option("New")
    page.get_by_role("button", name="Show").click()
    # only New customers (other tests may add some to the shared demo reseller): Halima, not the Active Mutua
    expect(page.get_by_role("table", name="Customers of ABC East Connect")).to_contain_text("Halima Abdi")
    expect(page.get_by_role("table", name="Customers of ABC East Connect")).not_to_contain_text("Mutua Musyoka")
    page.get_by_label("Status").select_option("")
    page.get_by_role("button", name="Show").click()
    page.get_by_role("table", name="Customers of ABC East Connect").get_by_role("row", name=re.compile("Mutua")) \
        .get_by_role("link").click()
    expect(page.get_by_role("heading", name="Mutua Musyoka", level=1)).to_be_visible()
    expect(page.get_by_role("region", name="Balance")).to_be_visible()
    expect(page.get_by_role("table", name="Services of Mutua Musyoka")).to_contain_text("Active")
    assert page.locator("main form[method=post]").count() == 0 and page.locator("main .page-actions").count() == 0
    look(page, "reseller-subreseller-customer")

    east = page.context.browser.new_context()
    other = east.new_page()
    sign_in_team(other, live_server, EAST, "admin@abc-east.example")
    for code in ("ABC_ISP", "XYZ_NET", "ABC_EAST"):
        assert fetch(other, f"/reseller/sub-resellers/{code}/customers")["status"] == 404, code
    east.close()


def test_the_read_only_customer_pages_speak_swahili():
    from tests.portals.words import TEMPLATES, untranslated

    templates = [TEMPLATES / "reseller/subresellers/customers.html", TEMPLATES / "reseller/subresellers/customer.html",
                 TEMPLATES / "kit/customer_summary.html"]
    from app.portals import customer_summary
    from app.portals.reseller import subreseller_customers

    said = [subreseller_customers.CUSTOMERS.title, *(c.title for c in subreseller_customers.CUSTOMERS.columns),
            *(c.title for spec in (customer_summary.SERVICES, customer_summary.INVOICES) for c in spec.columns),
            "Every status"]
    assert untranslated(templates, said) == []
