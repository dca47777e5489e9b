"""The customer's Services pages in a real browser: a customer signs in, opens their services and one of them
(plan, speed, price, status and why, connection, equipment), reveals the network password with the portal
password (a wrong one first), asks for an upgrade after seeing what it costs, a downgrade that waits for approval
and is withdrawn, a hold and a relocation, and a cancellation through the confirmation page; by keyboard alone,
without JavaScript, at 360 px and 1280 px; another customer's service is not found on any of these pages."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from babel.dates import format_date
from playwright.sync_api import expect
from sqlalchemy import select

from app.models import ActivityEvent
from app.models.provisioning import EquipmentItem, EquipmentModel, Service, ServiceRequest
from app.services import network_credentials
from app.services.selfcare import plan_changes
from app.services.settings import get_setting, local_today, put_setting
from tenants import tenant_context
from tests.portals.customers import make_customer
from tests.portals.signin import sign_in

pytestmark = pytest.mark.browser
NETWORK_PASSWORD = "Router#Pass42"  # noqa: S105 (a test credential)
_models = itertools.count(1)


def with_router(db, customer):
    """The customer's active service gets a network password and a router on record."""
    with db.session() as s, tenant_context(customer.tenant):
        service = s.get(Service, customer.active_id)
        network_credentials.set_credentials(s, service, password=NETWORK_PASSWORD)
        model = EquipmentModel(vendor="MikroTik", name=f"hAP ax2 r{next(_models)}", device_type="router")
        s.add(model)
        s.flush()
        s.add(EquipmentItem(model_id=model.id, serial=f"SN-SELF-{customer.tenant.id}-{customer.id}",
                            status="assigned", customer_id=customer.id, service_id=customer.active_id))
        s.commit()
    return customer


@pytest.fixture
def customer(db, demo):
    return with_router(db, make_customer(db))


def _service(db, customer, service_id=None) -> Service:
    with db.session() as s, tenant_context(customer.tenant):
        found = s.get(Service, service_id or customer.active_id)
        s.expunge(found)
        return found


def _requests(db, customer, service_id=None) -> list[ServiceRequest]:
    with db.session() as s, tenant_context(customer.tenant):
        found = list(s.execute(select(ServiceRequest).where(
            ServiceRequest.service_id == (service_id or customer.active_id)).order_by(ServiceRequest.id)).scalars())
        s.expunge_all()
        return found


def _detail_url(live_server, customer, service_id=None) -> str:
    return live_server.url(customer.host, f"/portal/services/{service_id or customer.active_id}")


def _open_service(page, live_server, customer):
    sign_in(page, live_server, customer.host, customer.portal_id)
    page.get_by_role("navigation", name="Your account").get_by_role("link", name="Services").click()
    page.get_by_role("link", name="Home 20 Mbps", exact=True).click()
    page.wait_for_url(_detail_url(live_server, customer))


def post(page, path: str, fields: dict) -> int:
    """A form's POST from inside the page (its cookies, chromium's host mapping), not followed: its status."""
    return page.evaluate("""async ([path, fields]) => {
        const r = await fetch(path, {method: "POST", body: new URLSearchParams(fields), redirect: "manual",
                                     credentials: "same-origin"});
        return r.type === "opaqueredirect" ? 302 : r.status;
    }""", [path, fields])


def _day(value) -> str:
    return format_date(value, "d MMMM y", locale="en")


def test_a_customer_sees_their_services_and_everything_about_one(page, live_server, look, db, customer):
    sign_in(page, live_server, customer.host, customer.portal_id)
    page.get_by_role("navigation", name="Your account").get_by_role("link", name="Services").click()
    expect(page.get_by_role("heading", name="Your services", level=1)).to_be_visible()
    look(page, "services")
    listed = page.locator("main").inner_text()
    price = _service(db, customer).price
    assert "Home 10 Mbps" in listed and "Limited" in listed and "FUP" in listed  # the status and why
    assert "Home 20 Mbps" in listed and f"{price:,.2f} KES a month" in listed

    page.get_by_role("link", name="Home 20 Mbps", exact=True).click()
    look(page, "service-detail")
    plan = page.get_by_role("region", name="Plan and price").inner_text()
    assert "20 Mbps down" in plan and f"{price:,.2f} KES a month" in plan and "500,000 MB a cycle" in plan
    connection = page.get_by_role("region", name="Connection").inner_text()
    assert customer.portal_id in connection and "None" in connection  # the network username; no static IP
    assert "contact ABC Internet Services support" in connection  # where a new network password is asked for
    assert NETWORK_PASSWORD not in page.content()
    equipment = page.get_by_role("region", name="Equipment").inner_text()
    assert f"SN-SELF-{customer.tenant.id}-{customer.id}" in equipment and "MikroTik" in equipment
    assert "In use" in equipment
    assert "No requests yet" in page.get_by_role("region", name="Changes to this service").inner_text()


def test_the_network_password_is_shown_only_after_the_portal_password(page, live_server, look, db, customer):
    _open_service(page, live_server, customer)
    page.get_by_role("link", name="Show the network password").click()
    form_url = page.url
    page.get_by_label("Your portal password").fill("not-my-password")
    page.get_by_role("button", name="Show the password").click()
    error = page.locator("#password-error")
    expect(error).to_have_text("That password is not correct.")
    assert page.get_by_label("Your portal password").get_attribute("aria-describedby") == "password-error"
    assert NETWORK_PASSWORD not in page.content()
    look(page, "network-password-wrong")

    page.get_by_label("Your portal password").fill("Demo#Pass2026")
    with page.expect_response(lambda r: r.request.method == "POST") as answered:
        page.get_by_role("button", name="Show the password").click()
    response = answered.value
    assert response.status == 200 and response.headers["cache-control"] == "no-store"
    assert page.url == form_url and "Demo" not in page.url and NETWORK_PASSWORD not in page.url
    secret = page.get_by_role("region", name="Network sign-in")
    assert NETWORK_PASSWORD in secret.inner_text() and customer.portal_id in secret.inner_text()
    look(page, "network-password-shown")
    page.get_by_role("link", name="Hide the password").click()
    page.wait_for_url(_detail_url(live_server, customer))
    assert NETWORK_PASSWORD not in page.content()
    with db.session() as s, tenant_context(customer.tenant):
        logged = s.execute(select(ActivityEvent.action).where(ActivityEvent.customer_id == customer.id)
                           .where(ActivityEvent.action.like("service.network_password%"))
                           .order_by(ActivityEvent.id)).scalars().all()
    assert logged == ["service.network_password_refused", "service.network_password_revealed"]


def test_an_upgrade_shows_what_it_costs_before_it_is_asked_for(page, live_server, look, db, customer):
    with db.session() as s, tenant_context(customer.tenant):
        options = {o["plan"]["name"]: o for o in plan_changes.options(s, customer.id, customer.active_id)}
        biz = options["Business 50 Mbps"]
        expected = plan_changes.preview(s, customer.id, customer.active_id, biz["plan"]["id"])
    _open_service(page, live_server, customer)
    page.get_by_role("link", name="Change plan").click()
    choices = page.get_by_role("group", name="Choose a plan")
    assert "Upgrade" in choices.inner_text() and "Downgrade" in choices.inner_text()  # Home 10 is a downgrade
    assert f"+{biz['difference']:,.2f} KES a month on your price now" in choices.inner_text()
    look(page, "service-change-plan")
    page.get_by_label("Business 50 Mbps").check()
    page.get_by_role("button", name="Review the change").click()

    review = page.locator("main").inner_text()
    assert page.get_by_role("heading", name="Check your upgrade").is_visible()
    assert f"{expected['current_price']:,.2f} KES a month" in review
    assert f"{expected['new_price']:,.2f} KES a month" in review
    assert f"+{expected['difference']:,.2f} KES a month" in review
    proration = expected["proration"]
    assert proration is not None  # a change now: the rest of this cycle, worked out before it is asked for
    assert f"{proration['days']} of the cycle's {proration['cycle_days']} days are left" in review
    assert f"−{proration['credit']:,.2f} KES" in review and f"{proration['charge']:,.2f} KES" in review
    assert _service(db, customer).plan_id != biz["plan"]["id"]  # nothing is asked for by looking
    look(page, "service-change-review")

    page.get_by_role("button", name="Confirm the upgrade").click()
    answer = page.get_by_role("status").filter(has_text="We have your request")
    expect(answer).to_contain_text("Upgrade")
    expect(answer).to_contain_text("Applied")
    assert _service(db, customer).plan_id == biz["plan"]["id"]
    row = page.get_by_role("table", name="Your requests").inner_text()
    assert "Upgrade" in row and "To Business 50 Mbps" in row and "Applied" in row
    look(page, "service-upgraded")


def test_a_downgrade_waits_for_approval_and_can_be_withdrawn(page, live_server, db, demo):
    customer = make_customer(db, code="ABC_EAST", host="east.abc.test.example")
    with db.session() as s, tenant_context(customer.tenant):
        before = get_setting(s, "services")
        put_setting(s, "services", {**(before or {}), "approval_required": ["downgrade"]})
        s.commit()
    try:
        _open_service(page, live_server, customer)
        page.get_by_role("link", name="Change plan").click()
        page.get_by_label("Home 10 Mbps").check()
        page.get_by_label("At the start of the next billing cycle").check()
        page.get_by_role("button", name="Review the change").click()
        review = page.locator("main").inner_text()
        assert "Your provider approves a downgrade before it is done" in review and "−" in review
        page.get_by_role("button", name="Confirm the downgrade").click()
        expect(page.get_by_role("status").filter(has_text="We have your request")).to_contain_text(
            "Pending approval")
        [asked] = _requests(db, customer)
        assert (asked.kind, asked.status, asked.effective) == ("downgrade", "Pending", "next_cycle")

        page.get_by_role("button", name="Withdraw").click()
        expect(page.get_by_role("status").filter(has_text="Your request is withdrawn.")).to_be_visible()
        assert "Cancelled" in page.get_by_role("table", name="Your requests").inner_text()
        assert page.get_by_role("button", name="Withdraw").count() == 0
        assert _requests(db, customer)[0].status == "Cancelled"
    finally:
        with db.session() as s, tenant_context(customer.tenant):
            put_setting(s, "services", before or {})
            s.commit()


def test_a_hold_and_a_relocation_are_asked_for_and_bad_dates_are_said_next_to_the_field(page, live_server, look,
                                                                                        db, customer):
    with db.session() as s, tenant_context(customer.tenant):
        today = local_today(s)
    _open_service(page, live_server, customer)
    page.get_by_role("link", name="Put on hold").click()
    page.get_by_label("First day of the hold").fill((today + timedelta(days=10)).isoformat())
    page.get_by_label("Last day of the hold").fill((today + timedelta(days=3)).isoformat())
    page.get_by_role("button", name="Ask for the hold").click()
    expect(page.locator("#until-error")).to_have_text("The last day of the hold must be on or after its first day.")
    assert page.get_by_label("First day of the hold").input_value() == (today + timedelta(days=10)).isoformat()
    look(page, "service-hold-refused")
    page.get_by_label("Last day of the hold").fill((today + timedelta(days=20)).isoformat())
    page.get_by_role("button", name="Ask for the hold").click()
    expect(page.get_by_role("status").filter(has_text="We have your request")).to_contain_text("Vacation hold")
    held = _service(db, customer)
    assert (held.vacation_from, held.vacation_until) == (today + timedelta(days=10), today + timedelta(days=20))
    assert _day(today + timedelta(days=10)) in page.get_by_role("table", name="Your requests").inner_text()

    page.get_by_role("link", name="Move to a new address").click()
    page.get_by_role("button", name="Ask to move").click()
    expect(page.locator("#address-error")).to_have_text("Enter the new address.")
    page.get_by_label("New address").fill("Plot 12, Ngong Road, Nairobi")
    page.get_by_role("button", name="Ask to move").click()
    expect(page.get_by_role("status").filter(has_text="We have your request")).to_contain_text("Relocation")
    assert _service(db, customer).installation_address == "Plot 12, Ngong Road, Nairobi"
    assert "To Plot 12, Ngong Road, Nairobi" in page.get_by_role("table", name="Your requests").inner_text()


def test_a_cancellation_goes_through_the_confirmation_page(page, live_server, look, db, customer):
    _open_service(page, live_server, customer)
    page.get_by_role("link", name="Cancel the service").click()
    question = page.get_by_role("region", name="Are you sure you want to cancel Home 20 Mbps?")
    assert "cannot be undone here" in question.inner_text()
    assert page.get_by_label("At the end of this billing cycle").is_checked()
    look(page, "service-cancel")
    page.get_by_label("Why are you cancelling? (optional)").fill("Moving abroad")
    page.get_by_role("button", name="Yes, cancel the service").click()
    answer = page.get_by_role("status").filter(has_text="We have your request")
    expect(answer).to_contain_text("Cancellation")
    expect(answer).to_contain_text("Approved")
    [asked] = _requests(db, customer)
    assert (asked.kind, asked.status, asked.payload) == ("cancellation", "Approved", {"reason": "Moving abroad"})
    assert f"It will be done on {_day(asked.effective_on)}." in answer.inner_text()
    assert _service(db, customer).status == "Active"  # until the end of the cycle
    page.get_by_role("button", name="Withdraw").click()
    assert _requests(db, customer)[0].status == "Cancelled" and _service(db, customer).status == "Active"



def test_support_staff_signed_in_as_the_customer_are_told_they_cannot_see_the_network_password(page, live_server,
                                                                                               app, db, customer):
    from app.services.auth import impersonation
    from app.services.auth.principal import Principal

    staff = Principal(kind="staff", id=1, name="ops@backhaul.example", tenant_id=None, can_impersonate=True)
    with db.session() as s:
        _tenant, ticket = impersonation.issue_ticket(s, app.extensions["backhaul"].redis, staff, customer.portal_id)
        s.commit()
    page.goto(live_server.url(customer.host, f"/portal/auth/impersonate?ticket={ticket}"))
    page.goto(f"{_detail_url(live_server, customer)}/network-password")
    page.get_by_label("Your portal password").fill("Demo#Pass2026")
    with page.expect_response(lambda r: r.request.method == "POST") as answered:
        page.get_by_role("button", name="Show the password").click()
    assert answered.value.status == 403
    expect(page.get_by_role("alert")).to_contain_text("shown only when you are signed in yourself")
    assert NETWORK_PASSWORD not in page.content()

def test_the_network_password_by_keyboard_alone_at_phone_width(page, live_server, customer):
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, live_server, customer.host, customer.portal_id)
    page.goto(_detail_url(live_server, customer))

    def tab_to(test: str, most: int = 40) -> None:
        for _ in range(most):
            page.keyboard.press("Tab")
            if page.evaluate(test):
                return
        raise AssertionError(f"never reached by Tab: {test}")

    tab_to("document.activeElement.textContent === 'Show the network password'")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{_detail_url(live_server, customer)}/network-password")
    tab_to("document.activeElement.id === 'password'")
    page.keyboard.type("Demo#Pass2026")
    page.keyboard.press("Enter")
    expect(page.get_by_role("region", name="Network sign-in")).to_contain_text(NETWORK_PASSWORD)
    tab_to("document.activeElement.textContent === 'Hide the password'")
    page.keyboard.press("Enter")
    page.wait_for_url(_detail_url(live_server, customer))
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_the_forms_work_without_javascript(browser, live_server, db, customer):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        _open_service(page, live_server, customer)
        page.get_by_role("link", name="Show the network password").click()
        page.get_by_label("Your portal password").fill("Demo#Pass2026")
        page.get_by_role("button", name="Show the password").click()
        assert NETWORK_PASSWORD in page.get_by_role("region", name="Network sign-in").inner_text()
        page.get_by_role("link", name="Hide the password").click()
        page.get_by_role("link", name="Change plan").click()
        page.get_by_role("button", name="Review the change").click()  # nothing chosen: said next to the field
        assert page.locator("#plan_id-error").inner_text().strip() == "Choose the plan to change to."
        page.get_by_label("Business 50 Mbps").check()
        page.get_by_role("button", name="Review the change").click()
        page.get_by_role("button", name="Confirm the upgrade").click()
        assert "Applied" in page.get_by_role("status").filter(has_text="We have your request").inner_text()
        page.get_by_role("link", name="Cancel the service").click()
        page.get_by_role("button", name="Yes, cancel the service").click()
        assert "Approved" in page.get_by_role("status").filter(has_text="We have your request").inner_text()
        assert [r.kind for r in _requests(db, customer)] == ["upgrade", "cancellation"]
    finally:
        context.close()


def test_another_customers_service_is_not_found_on_any_page(app, page, live_server, db, customer):
    other = with_router(db, make_customer(db))
    with db.session() as s, tenant_context(other.tenant):
        theirs = plan_changes.request_change(s, other.id, other.active_id, "cancellation", {},
                                             effective="next_cycle", principal=None)
        s.commit()
    sign_in(page, live_server, customer.host, customer.portal_id)
    rules = [r for r in app.url_map.iter_rules()
             if r.endpoint.startswith("customer_services.") and "<int:service_id>" in r.rule]
    assert len(rules) >= 9  # every page of one service, the later ones too
    for rule in rules:
        path = rule.rule.replace("<int:service_id>", str(other.active_id)).replace("<int:request_id>", str(theirs.id))
        if "GET" in rule.methods:
            assert page.goto(live_server.url(customer.host, path)).status == 404, path
        if "POST" in rule.methods:
            assert post(page, path, {"password": "Demo#Pass2026"}) == 404, path
    # their request, through one of the customer's own services, with a good form: still not found
    page.goto(_detail_url(live_server, customer))
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    assert post(page, f"/portal/services/{customer.active_id}/requests/{theirs.id}/withdraw",
                {"csrf_token": token}) == 404
    assert _requests(db, other, other.active_id)[0].status == "Approved"
    page.goto(live_server.url(customer.host, "/portal/services"))
    shown = page.locator("body").inner_text()
    assert other.portal_id not in shown and other.name not in shown


def test_the_pages_speak_the_resellers_language_and_every_word_is_in_swahili(client, db, demo):
    from jinja2.ext import babel_extract

    from app.services.branding import i18n
    from app.services.settings import put_setting as put
    from tests.web.forms import submit

    words = i18n.translations("sw")
    templates = [*sorted((i18n.CATALOGUES.parent / "templates/portal/services").glob("*.html")),
                 *sorted((i18n.CATALOGUES.parent / "templates/portal/usage").glob("*.html"))]
    untranslated = []
    for template in templates:
        with template.open("rb") as source:
            for _line, _function, message, _comments in babel_extract(source, ("_",), [], {}):
                message = message[0] if isinstance(message, tuple) else message
                if message and words.gettext(message) == message and message not in ("MB", "SMS", "Data"):
                    untranslated.append(f"{template.name}: {message}")
    assert untranslated == []

    customer = with_router(db, make_customer(db, code="ABC_EAST", host="east.abc.test.example"))
    with db.session() as s, tenant_context(customer.tenant):
        put(s, "language", "sw")
        s.commit()
    try:
        submit(client, "/login", customer.host, identifier=customer.portal_id, password="Demo#Pass2026")
        html = client.get(f"/portal/services/{customer.active_id}", headers={"Host": customer.host}).get_data(
            as_text=True)
        assert "Kifurushi na bei" in html and "Mabadiliko ya huduma hii" in html and 'lang="sw"' in html
        html = client.get(f"/portal/usage/{customer.active_id}", headers={"Host": customer.host}).get_data(
            as_text=True)
        assert "Kipindi hiki cha malipo" in html and "Arifa za matumizi" in html
    finally:
        with db.session() as s, tenant_context(customer.tenant):
            put(s, "language", "en")
            s.commit()
