"""The customer's Profile pages in a real browser: the phone edited (a bad one said next to its field, what was
typed kept), the fields the reseller keeps shown as text and never changed, the e-mail address changed by the
link of the caught e-mail (the page it opens confirms, once), sites and contacts as the reseller allows, the
reseller's company information; support staff signed in as the customer cannot change the e-mail address;
another customer's contact is not found; the pages in Swahili; 360 px and axe-core on every page looked at."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.models import Customer, Outbox
from app.models.provisioning import Service
from app.services import contacts
from app.services import demo as seed
from app.services.auth import impersonation
from app.services.auth.principal import Principal
from app.services.selfcare import email_change, portal_rules
from app.services.settings import put_setting
from tenants import tenant_context
from tests.portals.customers import make_customer
from tests.portals.rig import post_form
from tests.portals.signin import sign_in
from tests.web.forms import csrf_of, path_of, submit


@pytest.fixture
def customer(db, demo):
    return make_customer(db)


@pytest.fixture
def reseller_rules(db, customer):
    """The reseller's self-service rules changed for one test, and put back after it."""
    with db.session() as s, tenant_context(customer.tenant):
        before = portal_rules.rules(s)

    def change(**rules):
        with db.session() as s, tenant_context(customer.tenant):
            portal_rules.set_rules(s, actor="test", **rules)
            s.commit()

    yield change
    change(**before)


def _go(page, live_server, customer, path: str):
    return page.goto(live_server.url(customer.host, path))


def _main(page) -> str:
    return page.locator("main").inner_text()


def _stored(db, customer) -> Customer:
    with db.session() as s, tenant_context(customer.tenant):
        found = s.get(Customer, customer.id)
        s.expunge(found)
        return found


@pytest.mark.browser
def test_a_customer_edits_their_phone_and_a_bad_one_is_said_next_to_it(page, live_server, look, db, customer):
    sign_in(page, live_server, customer.host, customer.portal_id)
    _go(page, live_server, customer, "/portal/profile")
    look(page, "profile")
    details = page.get_by_role("region", name="Your details").inner_text()
    assert customer.portal_id in details and customer.name in details
    assert page.locator("input[name=first_name], input[name=national_id], input[name=email]").count() == 0

    page.get_by_label("Phone", exact=True).fill("12ab")
    page.get_by_role("button", name="Save my details").click()
    assert "Not a phone number" in page.locator("#phone-error").inner_text()
    assert page.get_by_label("Phone", exact=True).input_value() == "12ab"  # what was typed is kept
    assert page.locator("#phone").get_attribute("aria-invalid") == "true"
    look(page, "profile-phone-refused")
    assert _stored(db, customer).phone != "12ab"

    page.get_by_label("Phone", exact=True).fill("0712 345 678")
    page.get_by_label("Preferred way to contact you").select_option(label="SMS")
    page.get_by_role("button", name="Save my details").click()
    page.wait_for_url(live_server.url(customer.host, "/portal/profile"))
    assert "Your details are saved." in _main(page)
    assert page.get_by_label("Phone", exact=True).input_value() == "0712345678"
    stored = _stored(db, customer)
    assert stored.phone == "0712345678" and stored.extra["communication"]["preferred_channel"] == "sms"


@pytest.mark.browser
def test_the_fields_the_reseller_keeps_are_text_and_stay_as_they_are(page, live_server, db, customer,
                                                                     reseller_rules):
    with db.session() as s, tenant_context(customer.tenant):
        s.get(Customer, customer.id).address = "Moi Avenue 40, Nairobi"
        s.commit()
    reseller_rules(editable_fields=["phone"])
    sign_in(page, live_server, customer.host, customer.portal_id)
    _go(page, live_server, customer, "/portal/profile")
    assert page.locator("#address").count() == 0 and page.locator("#preferred_channel").count() == 0
    assert "Moi Avenue 40, Nairobi" in page.get_by_role("region", name="Your details").inner_text()
    token = csrf_of(page.content())
    assert post_form(page, "/portal/profile", {"csrf_token": token, "phone": "0722000111",
                                               "address": "Somewhere else"}) == 0  # a redirect, not followed
    stored = _stored(db, customer)
    assert stored.phone == "0722000111" and stored.address == "Moi Avenue 40, Nairobi"


def _link_of(db, customer, to: str) -> str:
    with db.session() as s, tenant_context(customer.tenant):
        [mail] = s.execute(select(Outbox).where(Outbox.template == "customer/email_change",
                                                Outbox.to_address == to)).scalars().all()
        return re.search(r"https?://\S+", mail.body_text).group(0)


@pytest.mark.browser
def test_a_customer_changes_their_e_mail_address_by_the_link_sent_to_it(browser, page, live_server, look, db,
                                                                        customer):
    old = _stored(db, customer).email
    sign_in(page, live_server, customer.host, customer.portal_id)
    _go(page, live_server, customer, "/portal/profile")
    page.get_by_role("region", name="Your details").get_by_role("link", name="Change").click()
    look(page, "profile-email")
    page.get_by_label("New e-mail address").fill("zawadi at example")
    page.get_by_role("button", name="Send the link").click()
    assert "Not a valid e-mail address" in page.locator("#email-error").inner_text()
    assert page.get_by_label("New e-mail address").input_value() == "zawadi at example"

    new = f"new.{customer.portal_id.lower()}@example.com"
    page.get_by_label("New e-mail address").fill(new)
    page.get_by_role("button", name="Send the link").click()
    page.wait_for_url(live_server.url(customer.host, "/portal/profile/email/sent"))
    assert "Check your inbox" in _main(page) and new in _main(page)
    look(page, "profile-email-sent")
    assert _stored(db, customer).email == old  # nothing changes before the link is opened

    link = _link_of(db, customer, new)
    assert urlsplit(link).hostname == customer.host and urlsplit(link).path == email_change.CONFIRM_PATH
    with db.session() as s, tenant_context(customer.tenant):  # the current address is told
        assert s.execute(select(Outbox).where(Outbox.template == "customer/email_change_notice",
                                              Outbox.to_address == old)).first() is not None
    inbox = browser.new_context()  # the link opened where the mail is read: no sign-in there
    try:
        reader = inbox.new_page()
        reader.goto(live_server.url(customer.host, path_of(link)))
        assert "Confirm your new e-mail address" in reader.locator("main").inner_text()
        look(reader, "profile-email-confirm")
        assert _stored(db, customer).email == old  # opening the link alone changes nothing (mail scanners)
        reader.get_by_role("button", name="Confirm my new e-mail address").click()
        reader.wait_for_url(re.compile(r"/login\?next=/portal/profile$"))
        assert "Your e-mail address is changed." in reader.locator("main").inner_text()
        assert _stored(db, customer).email == new

        reader.goto(live_server.url(customer.host, path_of(link)))
        reader.get_by_role("button", name="Confirm my new e-mail address").click()
        assert "This link cannot be used" in reader.locator("main").inner_text()
        look(reader, "profile-email-link-used")
    finally:
        inbox.close()
    _go(page, live_server, customer, "/portal/profile")
    assert new in page.get_by_role("region", name="Your details").inner_text()


@pytest.mark.browser
def test_sites_and_contacts_as_the_reseller_allows(page, live_server, look, db, customer, reseller_rules):
    with db.session() as s, tenant_context(customer.tenant):
        s.get(Service, customer.active_id).installation_address = "Ngong Road 7, Nairobi"
        contacts.create(s, customer.id, {"name": "Baraka Mwangi", "phone": "0733000111"})
        s.commit()
    sign_in(page, live_server, customer.host, customer.portal_id)
    _go(page, live_server, customer, "/portal/profile")
    sites = page.get_by_role("region", name="Where you are served").inner_text()
    assert "Ngong Road 7, Nairobi" in sites and "Home 20 Mbps" in sites
    listed = page.get_by_role("region", name="Contacts")
    assert "Baraka Mwangi" in listed.inner_text() and "keeps your contacts" in listed.inner_text()
    assert listed.get_by_role("link", name=re.compile("Change|Remove|Add")).count() == 0

    reseller_rules(contacts_editable=True)
    _go(page, live_server, customer, "/portal/profile")
    page.get_by_role("link", name="Add a contact").click()
    look(page, "profile-contact")
    page.get_by_label("Name").fill("Amani Otieno")
    page.get_by_label("E-mail address").fill("amani@")
    page.get_by_role("button", name="Save the contact").click()
    assert "Not a valid e-mail address" in page.locator("#email-error").inner_text()
    assert page.get_by_label("Name").input_value() == "Amani Otieno"
    page.get_by_label("E-mail address").fill("amani@example.com")
    page.get_by_label("The main contact").check()
    page.get_by_role("button", name="Save the contact").click()
    page.wait_for_url(re.compile(r"/portal/profile#contacts$"))
    row = page.locator("#contacts tbody tr", has_text="Amani Otieno")
    assert "Primary" in row.inner_text() and "amani@example.com" in row.inner_text()
    look(page, "profile-contacts")

    row.get_by_role("link", name=re.compile("Remove")).click()
    assert "Remove Amani Otieno from your contacts?" in _main(page)
    page.get_by_role("button", name="Remove the contact").click()
    page.wait_for_url(re.compile(r"/portal/profile#contacts$"))
    assert page.locator("#contacts tbody tr", has_text="Amani Otieno").count() == 0


@pytest.mark.browser
def test_about_shows_the_resellers_company_information(page, live_server, look, customer):
    sign_in(page, live_server, customer.host, customer.portal_id)
    _go(page, live_server, customer, "/portal/profile")
    page.get_by_role("link", name="About ABC Internet Services").click()
    text = _main(page)
    for shown in ("ABC Internet Services", "Moi Avenue 12, Nairobi", "P051234567X", "support@abc-internet.example",
                  "+254 700 000 100", "standard terms of service"):
        assert shown in text, shown
    assert page.locator("main").get_by_role("link", name="support@abc-internet.example").get_attribute("href") == \
        "mailto:support@abc-internet.example"
    look(page, "profile-about")


@pytest.mark.browser
def test_the_pages_are_in_the_savanna_theme_of_xyz_networks(page, live_server, look, demo):
    portal_id = demo["XYZ_NET"]["customers"][0][0]
    sign_in(page, live_server, "xyz.test.example", portal_id)
    for path, name in (("/portal/profile", "profile-XYZ_NET"), ("/portal/security", "security-XYZ_NET"),
                       ("/portal/profile/about", "profile-about-XYZ_NET")):
        page.goto(live_server.url("xyz.test.example", path))
        assert page.locator("link[href$='/savanna.css']").count() == 1 and page.title().endswith("XYZ Networks")
        look(page, name)
    assert "Kenyatta Avenue 3, Nakuru" in _main(page) and "help@xyz-networks.example" in _main(page)


@pytest.mark.browser
def test_the_profile_is_edited_by_keyboard_alone(page, live_server, db, customer):
    sign_in(page, live_server, customer.host, customer.portal_id)
    _go(page, live_server, customer, "/portal/profile")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "phone":
            break
    assert page.evaluate("document.activeElement.id") == "phone"
    page.keyboard.press("Control+A")
    page.keyboard.type("0799 111 222")
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url(customer.host, "/portal/profile"))
    assert "Your details are saved." in _main(page) and _stored(db, customer).phone == "0799111222"


@pytest.mark.browser
def test_support_staff_signed_in_as_the_customer_cannot_change_the_e_mail_address(app, db, page, live_server,
                                                                                   look, customer):
    staff = Principal(kind="staff", id=1, name="ops@backhaul.example", tenant_id=None, can_impersonate=True)
    with db.session() as s:
        _tenant, ticket = impersonation.issue_ticket(s, app.extensions["backhaul"].redis, staff, customer.portal_id)
        s.commit()
    _go(page, live_server, customer, f"/portal/auth/impersonate?ticket={ticket}")
    _go(page, live_server, customer, "/portal/profile")
    assert page.get_by_role("region", name="Your details").get_by_role("link", name="Change").count() == 0
    _go(page, live_server, customer, "/portal/profile/email")
    assert page.locator("#email").count() == 0 and "Support staff signed in as the customer cannot." in _main(page)
    look(page, "profile-support-session")
    assert post_form(page, "/portal/profile/email", {"csrf_token": csrf_of(page.content()),
                                                     "email": "support@example.com"}) == 403
    with db.session() as s, tenant_context(customer.tenant):
        assert s.execute(select(Outbox).where(Outbox.template == "customer/email_change")
                         .where(Outbox.to_address == "support@example.com")).first() is None


def test_another_customers_contact_is_not_found(client, db, demo, customer, reseller_rules):
    other = make_customer(db)
    with db.session() as s, tenant_context(other.tenant):
        theirs = contacts.create(s, other.id, {"name": "Not yours"}).id
        s.commit()
    reseller_rules(contacts_editable=True)
    submit(client, "/login", customer.host, identifier=customer.portal_id, password=seed.DEMO_PASSWORD)
    host = {"Host": customer.host}
    token = csrf_of(client.get("/portal/profile", headers=host).get_data(as_text=True))
    for path in (f"/portal/profile/contacts/{theirs}/edit", f"/portal/profile/contacts/{theirs}/remove"):
        assert client.get(path, headers=host).status_code == 404, path
        assert client.post(path, headers=host, data={"csrf_token": token, "name": "Mine now"}).status_code == 404
    with db.session() as s, tenant_context(other.tenant):
        assert contacts.get(s, theirs).name == "Not yours"


def test_an_e_mail_link_is_good_on_its_own_resellers_host_only(client, db, demo, customer):
    submit(client, "/login", customer.host, identifier=customer.portal_id, password=seed.DEMO_PASSWORD)
    submit(client, "/portal/profile/email", customer.host, email="elsewhere@example.com")
    link = _link_of(db, customer, "elsewhere@example.com")
    signed_out = client.application.test_client()
    for host in ("xyz.test.example", "console.test.example"):
        shown = signed_out.get(path_of(link), headers={"Host": host})
        if shown.status_code == 200:  # another reseller's portal draws the page; its click is refused
            confirmed = signed_out.post(email_change.CONFIRM_PATH, headers={"Host": host}, data={
                "csrf_token": csrf_of(shown.get_data(as_text=True)), "token": urlsplit(link).query[6:]})
            assert confirmed.status_code == 410, host
        else:
            assert shown.status_code == 404, host
    assert _stored(db, customer).email != "elsewhere@example.com"
    assert signed_out.get(email_change.CONFIRM_PATH, headers={"Host": customer.host}).status_code == 410


def test_the_profile_and_security_pages_speak_the_resellers_language(client, db, demo):
    customer = make_customer(db, code="ABC_EAST", host="east.abc.test.example")
    with db.session() as s, tenant_context(customer.tenant):
        put_setting(s, "language", "sw")
        s.commit()
    try:
        submit(client, "/login", customer.host, identifier=customer.portal_id, password=seed.DEMO_PASSWORD)
        host = {"Host": customer.host}
        profile = client.get("/portal/profile", headers=host).get_data(as_text=True)
        assert "Maelezo yako" in profile and "Hifadhi maelezo yangu" in profile
        security = client.get("/portal/security", headers=host).get_data(as_text=True)
        assert "Badilisha nenosiri" in security and "Umeingia wapi" in security
        keys = client.get("/portal/security/api-keys", headers=host).get_data(as_text=True)
        assert "Tengeneza ufunguo" in keys and "Kusoma tu" in keys
    finally:
        with db.session() as s, tenant_context(customer.tenant):
            put_setting(s, "language", "en")
            s.commit()
