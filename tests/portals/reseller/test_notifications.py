"""The reseller portal's notification centre in a real browser: a change request waiting for approval and an IP
pool that ran out, both made through the services, show newest first with a link to where they are dealt
with; the kind filter keeps one kind; "Mark all as read" (a time kept in Redis per tenant and user) makes them
old, "New only" then shows nothing, and the next request is new again; XYZ's admin sees none of ABC's."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.portals.reseller.catalogue_rig import new_service, tenant, waiting_request
from tests.portals.signin import sign_in_team

pytestmark = pytest.mark.browser
ABC = "abc.test.example"
XYZ = "xyz.test.example"
ADMIN = "admin@abc-internet.example"


def forget_read_mark(db, settings, code: str, username: str) -> None:
    import redis

    from app.models import User
    from app.services import notification_centre
    from tenants import tenant_context

    with db.session() as s, tenant_context(tenant(code)):
        user_id = s.execute(select(User.id).where(User.username == username)).scalar_one()
    redis.Redis.from_url(settings.redis_url).delete(notification_centre.seen_key(tenant(code).schema, user_id))


def exhausted_pool(db, demo, name: str, cidr: str) -> None:
    """A pool of two addresses, both handed out; a third activation finds none, and the service alerts."""
    from app.services import ip_pools, services
    from tenants import tenant_context

    customers = demo["ABC_ISP"]["customers"]
    wanted = [new_service(db, "ABC_ISP", customers[i][0]) for i in (0, 1, 2)]
    with db.session() as s, tenant_context(tenant("ABC_ISP")):
        pool = ip_pools.create_pool(s, name=name, cidr=cidr)
        pool_id = pool.id
    with db.session() as s, tenant_context(tenant("ABC_ISP")):
        for service_id in wanted[:2]:
            ip_pools.allocate(s, services.get(s, service_id), pool_id)
    with db.session() as s, tenant_context(tenant("ABC_ISP")):
        with pytest.raises(ip_pools.PoolExhausted):
            ip_pools.allocate(s, services.get(s, wanted[2]), pool_id)
        s.rollback()


def test_events_show_in_the_centre_and_the_filters_work(page, live_server, demo, db, settings, look):
    forget_read_mark(db, settings, "ABC_ISP", ADMIN)
    portal_id, name = demo["ABC_ISP"]["customers"][2][0], demo["ABC_ISP"]["customers"][2][1]
    request_id = waiting_request(db, "ABC_ISP", new_service(db, "ABC_ISP", portal_id), "relocation",
                                 {"installation_address": "Mombasa Road 9", "region": None})
    exhausted_pool(db, demo, "Industrial area", "100.64.50.0/30")

    sign_in_team(page, live_server, ABC, ADMIN)
    page.get_by_role("navigation", name="Sections").first.get_by_role("link", name="Notifications").click()
    expect(page.get_by_role("heading", name="Notifications", level=1)).to_be_visible()
    notices = page.locator(".notice-list > li")
    request_notice = notices.filter(has_text=f"request {request_id}.")
    expect(request_notice).to_contain_text(f"{name} ({portal_id}) asks for a change that waits for your approval")
    expect(request_notice.get_by_text("New", exact=True)).to_be_visible()
    full = notices.filter(has_text="IP pool Industrial area (100.64.50.0/30) is 100% full: 2 of 2 addresses in use.")
    expect(full).to_have_count(1)
    exhausted = notices.filter(has_text="IP pool Industrial area (100.64.50.0/30) had no free address")
    expect(exhausted).to_have_count(1)
    # standing states first, then newest first: the pool's alert came after the request
    texts = notices.all_inner_texts()
    assert texts.index(next(t for t in texts if "is 100% full" in t)) < texts.index(
        next(t for t in texts if "had no free address" in t)) < texts.index(
        next(t for t in texts if f"request {request_id}." in t))
    look(page, "reseller-notifications")

    page.get_by_label("Kind").select_option(label="Requests to approve")
    page.get_by_role("button", name="Filter").click()
    expect(notices.filter(has_text=f"request {request_id}.")).to_have_count(1)
    expect(notices.filter(has_text="Industrial area")).to_have_count(0)
    page.get_by_label("Kind").select_option(label="IP pool exhausted")
    page.get_by_role("button", name="Filter").click()
    expect(exhausted).to_have_count(1)
    expect(notices.filter(has_text="asks for a change")).to_have_count(0)
    exhausted.get_by_role("link", name="Open").click()
    expect(page.get_by_role("heading", name="IP pool Industrial area", level=1)).to_be_visible()
    expect(page.get_by_text("2 of 2 addresses in use (100%), 0 free")).to_be_visible()
    expect(page.get_by_text("Running out")).to_be_visible()

    page.goto(live_server.url(ABC, "/reseller/notifications"))
    page.get_by_role("button", name="Mark all as read").click()
    expect(page.get_by_text("Everything up to now is marked as read.")).to_be_visible()
    expect(page.locator(".notice-new")).to_have_count(0)
    expect(page.get_by_role("button", name="Mark all as read")).to_have_count(0)
    page.get_by_label("Show").select_option(label="New only")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("Nothing new")).to_be_visible()

    later = waiting_request(db, "ABC_ISP", new_service(db, "ABC_ISP", portal_id), "relocation",
                            {"installation_address": "Thika Road 2", "region": None})
    page.reload()
    expect(notices).to_have_count(1)
    expect(notices.first).to_contain_text(f"request {later}.")
    expect(notices.first.get_by_text("New", exact=True)).to_be_visible()
    notices.first.get_by_role("link", name="Open").click()
    expect(page.locator(f"#request-{later}")).to_contain_text("Thika Road 2")


def test_another_resellers_admin_sees_none_of_abcs_notices(page, live_server, demo, db):
    waiting_request(db, "ABC_ISP", new_service(db, "ABC_ISP", demo["ABC_ISP"]["customers"][0][0]), "relocation",
                    {"installation_address": "ABC secret street", "region": None})
    sign_in_team(page, live_server, XYZ, "admin@xyz-networks.example")
    page.goto(live_server.url(XYZ, "/reseller/notifications"))
    expect(page.get_by_role("heading", name="Notifications", level=1)).to_be_visible()
    expect(page.get_by_text("ABC secret street")).to_have_count(0)
    for portal_id, _name, _status in demo["ABC_ISP"]["customers"]:
        expect(page.get_by_text(portal_id)).to_have_count(0)
