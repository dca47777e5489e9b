"""One service of a customer changed from the Services tab, in a real browser: an admin limits, suspends,
restores and terminates services with a reason, each after a confirmation saying what will happen, and sees the
status and why on the tab and in the service's status history; a change the service's status no longer allows
is refused on the page with nothing changed; a member whose role lacks `services.suspend` and
`services.provision` sees none of the changes and a forged POST is refused; every word is in Swahili."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.models.provisioning import ServiceStatusChange
from tenants import tenant_context
from tests.portals.customers import make_customer
from tests.portals.rig import post_form
from tests.portals.signin import sign_in_team

ABC = "abc.test.example"
ADMIN = "admin@abc-internet.example"
SUPPORT = "support@abc-internet.example"  # the built-in User role: customers.edit, not services.suspend


@pytest.fixture
def customer(db, demo):
    return make_customer(db)


def _card(page, plan: str):
    return page.locator("section.card-panel", has=page.get_by_role("heading", name=plan))


def _service(db, customer, service_id: int):
    from app.services import services

    with db.session() as s, tenant_context(customer.tenant):
        service = services.get(s, service_id)
        history = s.execute(select(ServiceStatusChange.to_status, ServiceStatusChange.reason)
                            .where(ServiceStatusChange.service_id == service_id)
                            .order_by(ServiceStatusChange.id)).all()
        return service.status, service.status_reason, [tuple(h) for h in history]


def _change(page, plan: str, button: str, question: str, confirm: str, reason: str | None = None) -> None:
    _card(page, plan).get_by_role("link", name=button).click()
    expect(page.get_by_role("heading", name=question)).to_be_visible()
    if reason:
        page.get_by_label("Reason (optional)").fill(reason)
    page.get_by_role("button", name=confirm).click()


@pytest.mark.browser
def test_an_admin_limits_suspends_restores_and_terminates_a_service_with_a_reason(page, live_server, db, customer,
                                                                                 look):
    sign_in_team(page, live_server, ABC, ADMIN)
    page.goto(live_server.url(ABC, f"/reseller/customers/{customer.id}/services"))
    active, limited = _card(page, "Home 20 Mbps"), _card(page, "Home 10 Mbps")
    for card, offered in ((active, ("Limit", "Suspend", "Terminate")), (limited, ("Suspend", "Restore", "Terminate"))):
        for name in ("Limit", "Suspend", "Restore", "Terminate"):
            expect(card.get_by_role("link", name=name)).to_have_count(1 if name in offered else 0)

    active.get_by_role("link", name="Suspend").click()
    expect(page.get_by_role("heading", name="Suspend the service Home 20 Mbps?")).to_be_visible()
    expect(page.locator(".confirm")).to_contain_text("the router is told at once")
    look(page, "reseller-service-suspend")
    page.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(live_server.url(ABC, f"/reseller/customers/{customer.id}/services"))
    assert _service(db, customer, customer.active_id)[0] == "Active"

    _change(page, "Home 20 Mbps", "Suspend", "Suspend the service Home 20 Mbps?", "Suspend the service",
            "Router reported stolen")
    expect(page.get_by_role("status").filter(has_text="The service is suspended.")).to_be_visible()
    expect(active.locator(".tag").first).to_have_text("Suspended")
    expect(active.locator(".summary-list")).to_contain_text("Router reported stolen")
    expect(active.get_by_role("link", name="Restore")).to_be_visible()
    look(page, "reseller-customer-services-changed")

    _change(page, "Home 20 Mbps", "Restore", "Restore the service Home 20 Mbps?", "Restore the service")
    expect(page.get_by_role("status").filter(has_text="The service is active again.")).to_be_visible()
    expect(active.locator(".tag").first).to_have_text("Active")

    _change(page, "Home 20 Mbps", "Limit", "Limit the service Home 20 Mbps?", "Limit the service", "Abuse report")
    expect(page.get_by_role("status").filter(has_text="The service is limited to reduced speeds.")).to_be_visible()
    expect(active.locator(".tag").first).to_have_text("Limited")

    _change(page, "Home 10 Mbps", "Terminate", "Terminate the service Home 10 Mbps?", "Terminate the service",
            "Moved away")
    expect(page.get_by_role("status").filter(has_text="The service is terminated.")).to_be_visible()
    expect(limited.locator(".tag").first).to_have_text("Terminated")
    for name in ("Limit", "Suspend", "Restore", "Terminate", "Disconnect"):
        expect(limited.get_by_role("link", name=name)).to_have_count(0)

    status, reason, history = _service(db, customer, customer.active_id)
    assert (status, reason) == ("Limited", "Abuse report")
    assert history[-3:] == [("Suspended", "Router reported stolen"), ("Active", None), ("Limited", "Abuse report")]
    assert _service(db, customer, customer.limited_id)[:2] == ("Terminated", "Moved away")


@pytest.mark.browser
def test_a_change_the_status_no_longer_allows_is_refused_with_nothing_changed(page, live_server, db, customer):
    sign_in_team(page, live_server, ABC, ADMIN)
    page.goto(live_server.url(ABC, f"/reseller/customers/{customer.id}/services/{customer.active_id}/restore"))
    expect(page.get_by_role("heading", name="Restore the service Home 20 Mbps?")).to_be_visible()
    page.get_by_role("button", name="Restore the service").click()  # an Active service: nothing to restore
    expect(page.locator(".error-summary")).to_contain_text("This could not be done, and nothing was changed.")
    expect(page.locator(".error-summary")).to_contain_text("The service is Active now, so this change no longer")
    assert _service(db, customer, customer.active_id)[0] == "Active"


@pytest.mark.browser
def test_a_member_without_the_permissions_sees_no_change_and_a_forged_post_is_refused(page, live_server, db,
                                                                                     customer):
    sign_in_team(page, live_server, ABC, SUPPORT)
    page.goto(live_server.url(ABC, f"/reseller/customers/{customer.id}/services"))
    expect(_card(page, "Home 20 Mbps")).to_be_visible()
    for name in ("Limit", "Suspend", "Restore", "Terminate"):
        expect(page.locator("section.card-panel").get_by_role("link", name=name)).to_have_count(0)
    token = page.evaluate("() => document.querySelector('input[name=csrf_token]').value")
    base = f"/reseller/customers/{customer.id}/services"
    for action, service_id in (("suspend", customer.active_id), ("limit", customer.active_id),
                               ("restore", customer.limited_id), ("terminate", customer.active_id)):
        assert post_form(page, f"{base}/{service_id}/{action}", {"csrf_token": token, "reason": "forged"}) == 403
    assert _service(db, customer, customer.active_id)[0] == "Active"
    assert _service(db, customer, customer.limited_id)[0] == "Limited"


def test_every_word_of_a_service_change_is_in_swahili():
    from jinja2.ext import babel_extract

    from app.portals.reseller import service_actions
    from app.services.branding import i18n

    words = i18n.translations("sw")
    template = i18n.CATALOGUES.parent / "templates/reseller/customer/service_action.html"
    with template.open("rb") as source:
        said = [m[0] if isinstance(m, tuple) else m for _l, _f, m, _c in babel_extract(source, ("_",), [], {})]
    said += [w for c in service_actions.CHANGES for w in (c.label, c.done)] + [service_actions.MOVED]
    untranslated = [w for w in said if w and words.gettext(w) == w]
    assert len(said) > 20 and untranslated == []
