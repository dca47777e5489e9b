"""A customer's page in the reseller portal, in a real browser: an admin opens a customer with two services (one
Limited by fair use), an overdue invoice part-paid by M-PESA and a month's usage, and reads each tab (the
services with their status and why, the invoice, the payment, the ledger, the usage chart with its figures); a
customer is suspended with a reason, then restored, and the status history shows both; a Readonly member sees no
action and a forged POST is refused; another reseller's admin, and a member limited to other customers, find
nothing at the customer's addresses; the admin signs in to the customer's portal as them and comes back still
signed in; every word is in Swahili."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tenants import tenant_context
from tests.portals.customers import make_customer
from tests.portals.rig import drawn, fetch, post_form
from tests.portals.signin import sign_in_team

ABC = "abc.test.example"
XYZ = "xyz.test.example"
ADMIN = "admin@abc-internet.example"
VIEWER = "viewer@abc-internet.example"
TABS = ("", "/contacts", "/contacts/new", "/services", "/invoices", "/payments", "/ledger", "/usage", "/sessions",
        "/coa", "/status-history", "/activity", "/edit", "/suspend")


@pytest.fixture
def customer(db, demo):
    return make_customer(db)


def _add_contact(db, customer) -> None:
    from app.services import contacts

    with db.session() as s, tenant_context(customer.tenant):
        contacts.create(s, customer.id, {"name": "Baraka Mwangi", "phone": "+254711000999", "is_primary": True})
        s.commit()


def _open(page, live_server, customer, tab: str = ""):
    page.goto(live_server.url(ABC, f"/reseller/customers/{customer.id}{tab}"))


def _tab(page, name: str):
    page.get_by_role("navigation", name="About this customer").get_by_role("link", name=name, exact=True).click()


def _status_of(db, customer) -> str:
    from app.services import customers

    with db.session() as s, tenant_context(customer.tenant):
        return customers.get(s, customer.id).status


@pytest.mark.browser
def test_the_tabs_show_the_customers_services_invoices_payments_and_usage(page, live_server, db, customer, look):
    _add_contact(db, customer)
    sign_in_team(page, live_server, ABC, ADMIN)
    _open(page, live_server, customer)
    expect(page.get_by_role("heading", name=customer.name, level=1)).to_be_visible()
    expect(page.locator(".customer-id")).to_contain_text(customer.portal_id)
    expect(page.get_by_role("link", name="Suspend")).to_be_visible()
    expect(page.get_by_role("region", name="Primary contact")).to_contain_text("Baraka Mwangi")
    side = page.get_by_role("navigation", name="Sections").first
    expect(side.get_by_role("link", name="Customers")).to_have_attribute("aria-current", "page")
    look(page, "reseller-customer-profile")

    _tab(page, "Services")
    expect(page.get_by_role("link", name="Services", exact=True)).to_have_attribute("aria-current", "page")
    cards = page.locator("section.card-panel")
    expect(cards).to_have_count(2)
    limited = cards.filter(has=page.locator(".tag", has_text="Limited"))
    expect(limited).to_have_count(1)
    expect(limited.locator(".summary-list")).to_contain_text("Limited:")  # the status and why
    expect(page.get_by_role("link", name="Disconnect")).to_have_count(2)
    look(page, "reseller-customer-services")

    _tab(page, "Invoices")
    row = page.locator("tbody tr", has_text=customer.invoice_number)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("2,000.00 KES")
    expect(row).to_contain_text("1,500.00 KES")  # the balance due after the M-PESA payment
    expect(row.locator(".tag")).to_have_text("Overdue")
    look(page, "reseller-customer-invoices")

    _tab(page, "Payments")
    expect(page.locator("tbody tr", has_text=customer.receipt_number)).to_contain_text("500.00 KES")
    expect(page.locator(".summary-list")).to_contain_text("1,500.00 KES")

    _tab(page, "Ledger")
    expect(page.locator("tbody tr")).to_have_count(2)  # the invoice, the payment

    _tab(page, "Usage")
    chart = page.locator("figure.chart")
    expect(chart).to_have_count(1)
    assert drawn(chart.locator("img"))
    chart.locator("summary").click()
    expect(chart.locator("tbody tr").first).to_be_visible()
    assert "195.31" in chart.locator("table").inner_text()  # the Limited one first: past its allowance, in GB
    look(page, "reseller-customer-usage")
    page.get_by_role("navigation", name="Service").get_by_role("link", name="Home 20 Mbps (Active)").click()
    chart = page.locator("figure.chart")
    assert drawn(chart.locator("img"))
    chart.locator("summary").click()
    assert "1500.0" in chart.locator("table").inner_text()  # today's 1,500 MB of the other one

    for name in ("Sessions", "CoA history", "Status history", "Activity", "Contacts"):
        _tab(page, name)
        expect(page.get_by_role("link", name=name, exact=True)).to_have_attribute("aria-current", "page")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody tr")).to_contain_text("Baraka Mwangi")


@pytest.mark.browser
def test_a_customer_is_suspended_with_a_reason_then_restored_and_the_history_shows_both(page, live_server, db,
                                                                                       customer, look):
    sign_in_team(page, live_server, ABC, ADMIN)
    _open(page, live_server, customer)
    page.get_by_role("link", name="Suspend").click()
    expect(page.get_by_role("heading", name=f"Suspend {customer.name}?")).to_be_visible()
    look(page, "reseller-customer-suspend")
    page.get_by_role("button", name="Suspend the customer").click()
    expect(page.locator("#reason-error")).to_have_text("Say why: the reason is kept in the status history.")
    assert _status_of(db, customer) == "Active"
    page.get_by_label("Reason").fill("Unpaid installation invoice")
    page.get_by_role("button", name="Suspend the customer").click()
    expect(page.get_by_role("status").filter(has_text="The customer is suspended.")).to_be_visible()
    expect(page.locator(".customer-id .tag")).to_have_text("Suspended")
    assert _status_of(db, customer) == "Suspended"

    page.get_by_role("link", name="Restore").click()
    page.get_by_label("Reason").fill("Paid at the office")
    page.get_by_role("button", name="Restore the customer").click()
    expect(page.get_by_role("status").filter(has_text="The customer is active again.")).to_be_visible()
    rows = page.locator("table.status-history tbody tr")
    expect(rows.first).to_contain_text("Paid at the office")
    expect(rows.nth(1)).to_contain_text("Unpaid installation invoice")
    expect(rows.nth(1).locator(".tag").last).to_have_text("Suspended")
    look(page, "reseller-customer-history")
    assert _status_of(db, customer) == "Active"


@pytest.mark.browser
def test_a_readonly_member_sees_no_action_and_a_forged_post_is_refused(page, live_server, db, customer):
    sign_in_team(page, live_server, ABC, VIEWER)
    _open(page, live_server, customer)
    expect(page.get_by_role("heading", name=customer.name, level=1)).to_be_visible()
    expect(page.locator(".page-actions")).to_have_count(0)
    _tab(page, "Services")
    expect(page.get_by_role("link", name="Disconnect")).to_have_count(0)
    _tab(page, "Contacts")
    expect(page.get_by_role("link", name="Add a contact")).to_have_count(0)
    token = page.evaluate("() => document.querySelector('input[name=csrf_token]').value")
    base = f"/reseller/customers/{customer.id}"
    assert post_form(page, f"{base}/suspend", {"csrf_token": token, "reason": "forged"}) == 403
    assert post_form(page, f"{base}/edit", {"csrf_token": token, "customer_type": "person", "first_name": "X",
                                            "last_name": "Y"}) == 403
    assert post_form(page, f"{base}/services/{customer.active_id}/disconnect", {"csrf_token": token}) == 403
    assert post_form(page, f"{base}/impersonate", {"csrf_token": token}) == 403
    assert fetch(page, f"{base}/suspend")["status"] == 403
    assert _status_of(db, customer) == "Active"


@pytest.mark.browser
def test_another_resellers_admin_finds_no_abc_customer(page, live_server, customer):
    sign_in_team(page, live_server, XYZ, "admin@xyz-networks.example")
    for tab in TABS:
        got = fetch(page, f"/reseller/customers/{customer.id}{tab}")
        assert got["status"] == 404, (tab, got["status"])
        assert customer.portal_id not in got["text"]
    assert fetch(page, f"/reseller/customers/{customer.id}/usage/{customer.active_id}.svg")["status"] == 404
    token = page.evaluate("() => document.querySelector('input[name=csrf_token]').value")
    assert post_form(page, f"/reseller/customers/{customer.id}/suspend", {"csrf_token": token, "reason": "x"}) == 404


def test_a_member_limited_to_other_customers_finds_nothing_at_this_ones_addresses(client, db, customer):
    from app.services.auth import users
    from tests.web.forms import submit

    other = make_customer(db)
    with db.session() as s, tenant_context(customer.tenant):
        name = f"limited{customer.id}@abc-internet.example"
        users.create_user(s, username=name, email=name, role="User", password="Demo#Pass2026",
                          allowed_customer_ids=[other.id])
        s.commit()
    submit(client, "/reseller/login", ABC, identifier=name, password="Demo#Pass2026")
    assert client.get(f"/reseller/customers/{other.id}", headers={"Host": ABC}).status_code == 200
    for tab in TABS[:-2]:
        got = client.get(f"/reseller/customers/{customer.id}{tab}", headers={"Host": ABC})
        assert got.status_code == 404, (tab, got.status_code)


def test_every_word_of_the_customer_page_is_in_swahili():
    from jinja2.ext import babel_extract

    from app.portals.reseller import customer_actions, customer_common, customer_forms, customer_tabs
    from app.services.branding import i18n

    words = i18n.translations("sw")
    untranslated = []
    for template in sorted((i18n.CATALOGUES.parent / "templates/reseller/customer").glob("*.html")):
        with template.open("rb") as source:
            for _line, _function, message, _comments in babel_extract(source, ("_",), [], {}):
                message = message[0] if isinstance(message, tuple) else message
                if message and words.gettext(message) == message:
                    untranslated.append(f"{template.name}: {message}")
    said = [v for module in (customer_actions, customer_forms) for k, v in vars(module).items()
            if k.isupper() and isinstance(v, str) and " " in v]
    for template in (i18n.CATALOGUES.parent / "templates/reseller/customer").glob("*.html"):
        said += re.findall(r'"([^"]+)"', " ".join(re.findall(r"set tab_title = ([^%]+)", template.read_text())))
    said += [t.label for t in customer_common.TABS]
    said += ["Approve", "Suspend", "Restore", "Edit profile", "Edit profile", "Disconnect", "Profile",
             "Sign in as the customer", "The support session is ended."]
    said += [c.title for spec in (customer_tabs.INVOICES, customer_tabs.PAYMENTS, customer_tabs.SESSIONS,
                                  customer_tabs.COA) for c in spec.columns]
    untranslated += [m for m in said if words.gettext(m) == m]
    assert untranslated == []


@pytest.mark.browser
def test_the_profile_is_edited_with_a_mistake_fixed_next_to_its_field(page, live_server, db, customer, look):
    sign_in_team(page, live_server, ABC, ADMIN)
    _open(page, live_server, customer)
    page.get_by_role("link", name="Edit profile").click()
    expect(page.get_by_label("First name")).to_have_value("Zawadi")
    page.get_by_label("M-PESA number (optional)").fill("12345")
    page.get_by_label("Town or city (optional)").fill("Kisumu")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#mpesa_number-error")).to_have_text(
        "Enter a Kenyan mobile number, like 0712 345 678 or 254712345678.")
    expect(page.get_by_label("Town or city (optional)")).to_have_value("Kisumu")
    look(page, "reseller-customer-edit")
    page.get_by_label("M-PESA number (optional)").fill("0712 000 555")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="The customer's details are saved.")).to_be_visible()
    expect(page.locator(".summary-list").first).to_contain_text("254712000555")
    expect(page.locator(".summary-list").first).to_contain_text("Kisumu")


def _signed_in(client, username: str = ADMIN):
    from tests.web.forms import submit

    assert submit(client, "/reseller/login", ABC, identifier=username, password="Demo#Pass2026").status_code == 302


def test_a_pending_customer_is_approved_and_a_disconnect_without_a_session_is_refused(client, db, customer):
    from app.services import activity, customers
    from tests.web.forms import submit

    with db.session() as s, tenant_context(customer.tenant):
        pending = customers.create(s, first_name="Amani", last_name=f"Pending{customer.id}", status="Pending")
        s.commit()
        pending_id = pending.id
    _signed_in(client)
    page = client.get(f"/reseller/customers/{pending_id}", headers={"Host": ABC}).get_data(as_text=True)
    assert "/approve" in page and "/suspend" not in page
    done = submit(client, f"/reseller/customers/{pending_id}/approve", ABC, reason="documents checked")
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/{pending_id}/status-history")
    with db.session() as s, tenant_context(customer.tenant):
        assert customers.get(s, pending_id).status == "New"
        before = len(activity.for_customer(s, customer.id))

    refused = submit(client, f"/reseller/customers/{customer.id}/services/{customer.active_id}/disconnect", ABC,
                     reason="stuck")
    assert refused.status_code == 409
    html = refused.get_data(as_text=True)
    assert "This could not be done, and nothing was changed." in html and "no live session" in html
    with db.session() as s, tenant_context(customer.tenant):
        assert len(activity.for_customer(s, customer.id)) == before
    other = make_customer(db)
    wrong = client.get(f"/reseller/customers/{customer.id}/services/{other.active_id}/disconnect",
                       headers={"Host": ABC})
    assert wrong.status_code == 404  # another customer's service under this customer's address


def _open_session(db, customer) -> None:
    """A live accounting session of the customer's active service, as a router's Accounting-Start leaves it."""
    import uuid

    from app.models.usage import RadiusSession

    with db.session() as s, tenant_context(customer.tenant):
        s.add(RadiusSession(session_key=uuid.uuid4(), nas_id=990001, nas_ip="10.9.0.1", acct_session_id="S-1",
                            username=f"{customer.portal_id}.live", customer_id=customer.id,
                            service_id=customer.active_id, framed_ip="100.64.0.9", status="Open",
                            output_octets=50 * 2**20))
        s.commit()


@pytest.mark.browser
def test_a_live_session_is_disconnected_and_followed_in_the_coa_history(page, live_server, db, customer, look):
    _open_session(db, customer)
    sign_in_team(page, live_server, ABC, ADMIN)
    _open(page, live_server, customer, f"/sessions?service={customer.active_id}")
    row = page.locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("100.64.0.9")
    expect(row).to_contain_text("50.0 MB")
    look(page, "reseller-customer-sessions")

    _tab(page, "Services")
    page.locator("section.card-panel", has_text="Home 20 Mbps").get_by_role("link", name="Disconnect").click()
    expect(page.get_by_role("heading", name="Disconnect this service's sessions?")).to_be_visible()
    look(page, "reseller-customer-disconnect")
    page.get_by_label("Reason (optional)").fill("stuck session")
    page.get_by_role("button", name="Disconnect").click()
    expect(page.get_by_role("status").filter(has_text="The Disconnect was sent to the router.")).to_be_visible()
    expect(page.get_by_role("link", name="CoA history", exact=True)).to_have_attribute("aria-current", "page")
    sent = page.locator("tbody tr")
    expect(sent).to_have_count(1)
    expect(sent).to_contain_text("Disconnect")
    expect(sent).to_contain_text("stuck session")
    look(page, "reseller-customer-coa")
    _tab(page, "Activity")
    expect(page.locator("tbody tr", has_text="service.disconnect")).to_contain_text(ADMIN)


def test_the_customer_page_and_the_wizard_speak_the_resellers_language(client, db, demo):
    from app.services.settings import put_setting
    from tests.web.forms import submit

    east_host = "east.abc.test.example"
    east = make_customer(db, "ABC_EAST", east_host)
    with db.session() as s, tenant_context(east.tenant):
        put_setting(s, "language", "sw")
        s.commit()
    try:
        submit(client, "/reseller/login", east_host, identifier="admin@abc-east.example", password="Demo#Pass2026")
        html = client.get(f"/reseller/customers/{east.id}/status-history", headers={"Host": east_host}).get_data(
            as_text=True)
        assert 'lang="sw"' in html and "Kuhusu mteja huyu" in html and "Historia ya hali" in html
        html = client.get("/reseller/customers/new", headers={"Host": east_host}).get_data(as_text=True)
        assert "Mteja mpya" in html and "Taarifa za msingi" in html and "Jina la kwanza" in html
    finally:
        with db.session() as s, tenant_context(east.tenant):
            put_setting(s, "language", "en")
            s.commit()


@pytest.mark.browser
def test_a_contact_is_added_with_a_mistake_fixed_then_removed_after_confirming(page, live_server, db, customer, look):
    sign_in_team(page, live_server, ABC, ADMIN)
    _open(page, live_server, customer, "/contacts")
    page.get_by_role("link", name="Add a contact").click()
    page.get_by_label("Name").fill("Imani Otieno")
    page.get_by_label("E-mail address (optional)").fill("imani@")
    page.get_by_label("The primary contact").check()
    page.get_by_role("button", name="Add the contact").click()
    expect(page.locator("#email-error")).to_have_text("Enter an e-mail address like name@example.com.")
    expect(page.get_by_label("Name")).to_have_value("Imani Otieno")
    look(page, "reseller-customer-contact-new")
    page.get_by_label("E-mail address (optional)").fill("imani@example.com")
    page.get_by_role("button", name="Add the contact").click()
    expect(page.get_by_role("status").filter(has_text="The contact is added.")).to_be_visible()
    row = page.locator("tbody tr", has_text="Imani Otieno")
    expect(row).to_contain_text("imani@example.com")
    expect(row).to_contain_text("Yes")
    look(page, "reseller-customer-contacts")
    row.get_by_role("link", name="Remove Imani Otieno").click()
    expect(page.get_by_role("heading", name="Remove Imani Otieno from the contacts?")).to_be_visible()
    page.get_by_role("button", name="Remove the contact").click()
    expect(page.get_by_role("status").filter(has_text="The contact is removed.")).to_be_visible()
    expect(page.locator("tbody tr", has_text="Imani Otieno")).to_have_count(0)


@pytest.mark.browser
def test_an_admin_signs_in_as_the_customer_and_comes_back_still_signed_in(page, live_server, db, customer, look):
    """"Login as customer": the confirmation says what it means; the customer's portal opens with the support banner;
    ending the support session comes back to the customer's activity, where the session's requests are, and the
    team member never signed out."""
    sign_in_team(page, live_server, ABC, ADMIN)
    _open(page, live_server, customer)
    page.get_by_role("link", name="Sign in as the customer").click()
    expect(page.get_by_role("heading", name=f"Sign in to {customer.name}'s portal as them?")).to_be_visible()
    look(page, "reseller-customer-impersonate")
    page.get_by_role("button", name="Open the customer's portal").click()
    banner = page.get_by_role("region", name="Support session")
    expect(banner).to_contain_text("Support is viewing your account.")
    assert page.url.endswith("/portal")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.get_by_role("button", name="End the support session").click()
    expect(page.get_by_text("The support session is ended.")).to_be_visible()
    assert page.url.endswith(f"/reseller/customers/{customer.id}/activity")
    expect(page.locator("tbody").first).to_contain_text("signed in as the customer")
    _tab(page, "Services")  # still the team member
    expect(page.get_by_role("link", name="Disconnect").first).to_be_visible()
    assert "Support is viewing" not in fetch(page, "/portal")["text"]  # the support session is gone


@pytest.mark.browser
def test_only_the_customers_own_reseller_signs_in_as_them(page, live_server, customer):
    sign_in_team(page, live_server, XYZ, "admin@xyz-networks.example")
    assert fetch(page, f"/reseller/customers/{customer.id}/impersonate")["status"] == 404
    token = page.evaluate("() => document.querySelector('input[name=csrf_token]').value")
    assert post_form(page, f"/reseller/customers/{customer.id}/impersonate", {"csrf_token": token}) == 404
