"""Deleting customers in the reseller portal, in a real browser (`customers.delete`): an admin deletes a fresh
customer from its page with a reason and finds it gone; a customer with live services, invoices and payments
is kept as Inactive, and the page said so beforehand, naming the services still running; customers' deletion
requests (made as the customer portal makes them) are listed waiting first, and each answer is a confirmation
page of its own: one declined with the reason the customer is e-mailed, another that cannot be approved while
its services live (the page names them; a forged POST is refused) and is approved once they are terminated,
the page having said what is erased and kept and that the account stays Inactive; a fresh customer's page says
they are deleted outright, and a request withdrawn while the page was open is refused there, with nothing
changed; a User or Readonly member sees neither the actions nor the section, and the pages and forged POSTs
are refused; the words are in Swahili."""

from __future__ import annotations

import itertools
import re
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from tenants import tenant_context
from tenants.registry import directory
from tests.portals.customers import make_customer
from tests.portals.rig import fetch, post_form
from tests.portals.signin import sign_in_team

ABC = "abc.test.example"
ADMIN = "admin@abc-internet.example"
LACKING = {"User": "support@abc-internet.example", "Readonly": "viewer@abc-internet.example"}
_n = itertools.count(1)


def _fresh(db, code: str = "ABC_ISP"):
    """A customer with nothing financial about them: the one a deletion removes outright."""
    from app.services import customers

    tenant = directory().by_code(code)
    n = next(_n)
    with db.session() as s, tenant_context(tenant):
        made = customers.create(s, first_name="Juma", last_name=f"Futwa{n}", email=f"juma.futwa{n}@example.com",
                                phone=f"+25472200{n:04d}")
        s.commit()
        return tenant, made.id, made.display_name


def _fresh_asking(db, code: str = "ABC_ISP"):
    """A fresh customer with a portal password, so that they may ask for their account to be deleted."""
    from app.services import customers, demo
    from app.services.auth import users

    tenant, customer_id, name = _fresh(db, code)
    with db.session() as s, tenant_context(tenant):
        users.set_portal_password(s, customer_id, demo.DEMO_PASSWORD)
        portal_id = customers.get(s, customer_id).portal_id
        s.commit()
    return SimpleNamespace(tenant=tenant, id=customer_id, name=name, portal_id=portal_id)


def _as_customer(customer):
    from app.services.auth.principal import CUSTOMER, Principal

    return Principal(kind=CUSTOMER, id=customer.id, name=customer.portal_id, tenant_id=customer.tenant.id,
                     permissions=frozenset({"self.view", "self.edit"}))


def _withdraw(db, customer) -> None:
    """The customer takes the request back from their portal, while the team's page is open."""
    from app.services.privacy import deletion

    with db.session() as s, tenant_context(customer.tenant):
        deletion.withdraw(s, customer.id, actor=_as_customer(customer))
        s.commit()


def _status_of(db, tenant, customer_id: int) -> str | None:
    from app.services import customers
    from app.services.errors import NotFound

    with db.session() as s, tenant_context(tenant):
        try:
            return customers.get(s, customer_id).status
        except NotFound:
            return None


def _ask_deletion(db, redis_url, customer, reason: str) -> int:
    """The request as the customer portal makes it: the customer's own session, their password typed again."""
    import redis

    from app.services import demo
    from app.services.privacy import deletion

    who = _as_customer(customer)
    client = redis.Redis.from_url(redis_url)
    try:
        with db.session() as s, tenant_context(customer.tenant):
            made = deletion.request_deletion(s, client, customer.id, demo.DEMO_PASSWORD, reason, actor=who)
            s.commit()
            return made.id
    finally:
        client.close()


def _terminate_services(db, customer) -> None:
    from app.services import services

    with db.session() as s, tenant_context(customer.tenant):
        for service_id in (customer.limited_id, customer.active_id):
            services.terminate(s, service_id, reason="the customer is leaving")
        s.commit()


def _open_requests(page):
    page.get_by_role("navigation", name="Sections").first.get_by_role("link", name="Deletion requests").click()
    expect(page.get_by_role("heading", name="Deletion requests", level=1)).to_be_visible()


@pytest.mark.browser
def test_an_admin_deletes_a_fresh_customer_with_a_reason_and_it_is_gone(page, live_server, db, demo, look):
    tenant, customer_id, name = _fresh(db)
    sign_in_team(page, live_server, ABC, ADMIN)
    page.goto(live_server.url(ABC, f"/reseller/customers/{customer_id}"))
    action = page.get_by_role("link", name="Delete customer")
    expect(action).to_have_class(re.compile(r"button-warning"))
    action.click()
    expect(page.get_by_role("heading", name=f"Delete {name}?")).to_be_visible()
    expect(page.get_by_role("region", name=f"Delete {name}?")).to_contain_text("they are deleted outright")
    look(page, "reseller-customer-delete")
    page.get_by_label("Reason (optional)").fill("Entered twice by mistake")
    page.get_by_role("button", name="Delete the customer").click()
    expect(page.get_by_role("status").filter(has_text="The customer is deleted.")).to_be_visible()
    assert page.url.endswith("/reseller/customers")
    expect(page.locator("tbody tr", has_text=name)).to_have_count(0)
    assert _status_of(db, tenant, customer_id) is None
    assert fetch(page, f"/reseller/customers/{customer_id}")["status"] == 404


@pytest.mark.browser
def test_a_customer_with_live_services_and_invoices_is_kept_as_inactive_as_the_page_said(page, live_server, db,
                                                                                        demo, look):
    customer = make_customer(db)
    sign_in_team(page, live_server, ABC, ADMIN)
    page.goto(live_server.url(ABC, f"/reseller/customers/{customer.id}"))
    page.get_by_role("link", name="Delete customer").click()
    question = page.get_by_role("region", name=f"Delete {customer.name}?")
    expect(question).to_contain_text("they are kept as Inactive")
    expect(question).to_contain_text("services, invoices, payments, ledger entries")
    running = question.get_by_role("note")
    expect(running).to_contain_text("Deleting the customer does not end them")
    expect(running.locator("li")).to_have_count(2)
    expect(running.get_by_role("link", name="Open the customer's services")).to_have_attribute(
        "href", f"/reseller/customers/{customer.id}/services")
    look(page, "reseller-customer-delete-kept")
    page.get_by_role("button", name="Delete the customer").click()
    expect(page.get_by_role("status").filter(has_text="The customer is kept as Inactive")).to_be_visible()
    assert _status_of(db, customer.tenant, customer.id) == "Inactive"
    page.goto(live_server.url(ABC, f"/reseller/customers/{customer.id}/status-history"))
    expect(page.locator(".customer-id .tag")).to_have_text("Inactive")
    expect(page.locator("table.status-history tbody tr").first).to_contain_text("kept because of services")


@pytest.mark.browser
def test_deletion_requests_are_declined_with_a_reason_and_approved_once_the_services_end(page, live_server, db,
                                                                                       demo, redis_url, look):
    declined, approved = make_customer(db), make_customer(db)
    first = _ask_deletion(db, redis_url, declined, "Moving to Mombasa")
    second = _ask_deletion(db, redis_url, approved, None)
    sign_in_team(page, live_server, ABC, ADMIN)
    _open_requests(page)
    for customer in (declined, approved):
        row = page.locator("tbody tr", has_text=customer.portal_id)
        expect(row).to_contain_text(customer.name)
        expect(row.locator(".tag")).to_have_text("Waiting")
    look(page, "reseller-privacy-requests")
    page.get_by_label("Status").select_option(label="Declined")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("tbody tr", has_text=declined.portal_id)).to_have_count(0)
    page.get_by_label("Status").select_option(label="Waiting")
    page.get_by_role("button", name="Show").click()
    page.get_by_role("link", name=f"Request #{first}", exact=True).click()

    about = page.get_by_role("region", name="About this request")
    expect(about).to_contain_text(declined.name)
    expect(about).to_contain_text("Moving to Mombasa")
    live = page.get_by_role("region", name="Services to terminate first")
    expect(live.locator("li")).to_have_count(2)
    expect(live.get_by_role("link", name="Open the customer's services")).to_have_attribute(
        "href", f"/reseller/customers/{declined.id}/services")
    expect(page.get_by_role("region", name="What an approval erases and keeps")).to_contain_text("Tax law requires")
    for answer in ("Approve and erase the customer's data", "Decline the request"):  # pages of their own now
        expect(page.get_by_role("button", name=answer)).to_have_count(0)
    look(page, "reseller-privacy-request-waiting")

    page.get_by_role("link", name="Decline", exact=True).click()
    question = page.get_by_role("region", name=f"Decline the deletion request of {declined.name}?")
    expect(question).to_contain_text("The customer's account and data stay as they are")
    expect(question).to_contain_text("Moving to Mombasa")
    page.get_by_role("button", name="Decline the request").click()
    expect(page.locator("#reason-error")).to_have_text("Say why: the customer is e-mailed your reason.")
    look(page, "reseller-privacy-decline")
    page.get_by_label("Reason").fill("An unpaid invoice must be settled first")
    page.get_by_role("button", name="Decline the request").click()
    expect(page.get_by_role("status").filter(has_text="The request is declined.")).to_be_visible()
    assert page.url.endswith(f"/reseller/privacy/deletion-requests/{first}")
    expect(page.get_by_role("heading", level=1).locator(".tag")).to_have_text("Declined")
    history = page.get_by_role("region", name="History").locator("tbody tr")
    expect(history).to_have_count(2)
    expect(history.last).to_contain_text("An unpaid invoice must be settled first")
    expect(page.get_by_role("link", name="Approve", exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="Decline", exact=True)).to_have_count(0)

    page.goto(live_server.url(ABC, f"/reseller/privacy/deletion-requests/{second}"))
    page.get_by_role("link", name="Approve", exact=True).click()
    blocked = page.get_by_role("region", name=f"Request #{second} cannot be approved yet")
    expect(blocked.get_by_role("note").locator("li")).to_have_count(2)
    expect(blocked.get_by_role("link", name="Open the customer's services")).to_have_attribute(
        "href", f"/reseller/customers/{approved.id}/services")
    expect(page.get_by_role("button", name="Approve and erase the customer's data")).to_have_count(0)
    look(page, "reseller-privacy-approve-blocked")
    token = page.evaluate("() => document.querySelector('input[name=csrf_token]').value")
    assert post_form(page, f"/reseller/privacy/deletion-requests/{second}/approve", {"csrf_token": token}) == 409
    assert _status_of(db, approved.tenant, approved.id) == "Active"

    _terminate_services(db, approved)
    page.reload()
    question = page.get_by_role("region", name=f"Approve the deletion request of {approved.name}?")
    expect(question).to_contain_text(f"the account is kept as Inactive, under its Portal ID {approved.portal_id}")
    expect(question).to_contain_text("This cannot be undone.")
    expect(question).to_contain_text("What keeps the account: services, invoices, payments")
    expect(question).to_contain_text("sessions (they are signed out at once)")
    expect(question).to_contain_text("Tax law requires")
    look(page, "reseller-privacy-approve")
    page.get_by_label("Note (optional)").fill("Services ended at the office")
    page.get_by_role("button", name="Approve and erase the customer's data").click()
    expect(page.get_by_role("status").filter(has_text="The request is carried out")).to_be_visible()
    expect(page.get_by_role("heading", level=1).locator(".tag")).to_have_text("Carried out")
    expect(page.get_by_role("region", name="About this request")).to_contain_text("personal data was erased")
    expect(page.get_by_role("region", name="History").locator("tbody tr").last).to_contain_text(
        "Services ended at the office")
    look(page, "reseller-privacy-request")
    assert _status_of(db, approved.tenant, approved.id) == "Inactive"  # invoices refer to them: kept, anonymised
    _open_requests(page)
    page.get_by_label("Status").select_option(label="Carried out")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("tbody tr", has_text=approved.portal_id).locator(".tag")).to_have_text("Carried out")


@pytest.mark.browser
def test_a_request_withdrawn_while_its_page_is_open_is_refused_there_and_a_fresh_one_deletes_outright(
        page, live_server, db, demo, redis_url, look):
    customer = _fresh_asking(db)
    first = _ask_deletion(db, redis_url, customer, None)
    sign_in_team(page, live_server, ABC, ADMIN)
    page.goto(live_server.url(ABC, f"/reseller/privacy/deletion-requests/{first}"))
    page.get_by_role("link", name="Approve", exact=True).click()
    question = page.get_by_role("region", name=f"Approve the deletion request of {customer.name}?")
    expect(question).to_contain_text("the customer is deleted outright: nothing financial refers to them")
    expect(question).not_to_contain_text("What keeps the account")

    _withdraw(db, customer)
    page.get_by_role("button", name="Approve and erase the customer's data").click()
    expect(page.get_by_role("alert")).to_contain_text("The request was answered or withdrawn meanwhile.")
    expect(page.get_by_role("alert")).to_contain_text("nothing was changed")
    expect(page.get_by_role("heading", level=1).locator(".tag")).to_have_text("Withdrawn by the customer")
    expect(page.get_by_role("button", name="Approve and erase the customer's data")).to_have_count(0)
    look(page, "reseller-privacy-approve-refused")
    assert _status_of(db, customer.tenant, customer.id) == "New"
    page.goto(live_server.url(ABC, f"/reseller/privacy/deletion-requests/{first}/decline"))
    expect(page.get_by_role("heading", name=f"Request #{first} is no longer waiting")).to_be_visible()

    again = _ask_deletion(db, redis_url, customer, "I really am leaving")
    page.goto(live_server.url(ABC, f"/reseller/privacy/deletion-requests/{again}"))
    page.get_by_role("link", name="Approve", exact=True).click()
    page.get_by_role("button", name="Approve and erase the customer's data").click()
    expect(page.get_by_role("status").filter(has_text="The request is carried out")).to_be_visible()
    about = page.get_by_role("region", name="About this request")
    expect(about).to_contain_text("The customer was deleted outright.")
    expect(about).to_contain_text("Deleted")
    assert _status_of(db, customer.tenant, customer.id) is None


@pytest.mark.browser
@pytest.mark.parametrize("role", list(LACKING))
def test_a_member_without_customers_delete_sees_no_action_and_a_forged_post_is_refused(page, live_server, db,
                                                                                      demo, redis_url, role):
    tenant, customer_id, name = _fresh(db)
    asking = make_customer(db)
    request_id = _ask_deletion(db, redis_url, asking, None)
    _terminate_services(db, asking)
    sign_in_team(page, live_server, ABC, LACKING[role])
    page.goto(live_server.url(ABC, f"/reseller/customers/{customer_id}"))
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Delete customer")).to_have_count(0)
    expect(page.get_by_role("link", name="Deletion requests")).to_have_count(0)
    token = page.evaluate("() => document.querySelector('input[name=csrf_token]').value")
    assert fetch(page, f"/reseller/customers/{customer_id}/delete")["status"] == 403
    assert post_form(page, f"/reseller/customers/{customer_id}/delete", {"csrf_token": token, "reason": "x"}) == 403
    assert fetch(page, "/reseller/privacy/deletion-requests")["status"] == 403
    assert fetch(page, f"/reseller/privacy/deletion-requests/{request_id}")["status"] == 403
    base = f"/reseller/privacy/deletion-requests/{request_id}"
    assert fetch(page, f"{base}/approve")["status"] == 403
    assert fetch(page, f"{base}/decline")["status"] == 403
    assert post_form(page, f"{base}/approve", {"csrf_token": token}) == 403
    assert post_form(page, f"{base}/decline", {"csrf_token": token, "reason": "forged"}) == 403
    assert _status_of(db, tenant, customer_id) == "New"
    assert _status_of(db, asking.tenant, asking.id) == "Active"


def test_the_pages_speak_the_resellers_language(client, db, demo, redis_url):
    from app.services.settings import put_setting
    from tests.web.forms import submit

    east_host = "east.abc.test.example"
    tenant, customer_id, _ = _fresh(db, "ABC_EAST")
    asking = _fresh_asking(db, "ABC_EAST")
    request_id = _ask_deletion(db, redis_url, asking, None)
    with db.session() as s, tenant_context(tenant):
        put_setting(s, "language", "sw")
        s.commit()
    try:
        submit(client, "/reseller/login", east_host, identifier="admin@abc-east.example", password="Demo#Pass2026")
        html = client.get(f"/reseller/customers/{customer_id}", headers={"Host": east_host}).get_data(as_text=True)
        assert 'lang="sw"' in html and "Futa mteja" in html
        html = client.get(f"/reseller/customers/{customer_id}/delete", headers={"Host": east_host}).get_data(
            as_text=True)
        assert "Futa mteja" in html and "anafutwa kabisa" in html
        html = client.get("/reseller/privacy/deletion-requests", headers={"Host": east_host}).get_data(as_text=True)
        assert "Maombi ya kufuta akaunti" in html
        base = f"/reseller/privacy/deletion-requests/{request_id}"
        html = client.get(f"{base}/approve", headers={"Host": east_host}).get_data(as_text=True)
        assert "Idhinisha ombi la" in html and "mteja anafutwa kabisa" in html and "Hili haliwezi kutenduliwa" in html
        html = client.get(f"{base}/decline", headers={"Host": east_host}).get_data(as_text=True)
        assert "Kataa ombi la" in html and "Akaunti na data ya mteja zinabaki" in html
    finally:
        with db.session() as s, tenant_context(tenant):
            put_setting(s, "language", "en")
            s.commit()


def test_every_word_of_the_pages_is_in_swahili():
    from app.portals.reseller import customer_delete, privacy_forms, privacy_requests
    from tests.portals.words import TEMPLATES, untranslated

    said = [v for module in (customer_delete, privacy_forms, privacy_requests) for k, v in vars(module).items()
            if k.isupper() and isinstance(v, str) and " " in v]
    said += list(customer_delete.REFERENCES.values()) + [c.title for c in privacy_requests.REQUESTS.columns]
    said += [label for _, label, _ in privacy_requests.ANSWERS]
    said += ["Delete customer", "Deletion requests", "Waiting", "Carried out", "Declined",
             "Withdrawn by the customer", "Every status", "The customer was deleted outright.",
             "The customer's personal data was erased; the account is kept as Inactive, under its Portal ID, for "
             "the financial records."]
    templates = [TEMPLATES / "reseller/customer/delete.html", *sorted((TEMPLATES / "reseller/privacy").glob("*.html"))]
    assert untranslated(templates, said) == []
