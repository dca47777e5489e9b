"""Staff signed in as a customer ("Login as User") see, on every page, that support is viewing the account,
and end the session from the banner; the customer's own sign-in is untouched by it."""

from __future__ import annotations

import pytest

from app.services.auth import impersonation
from app.services.auth.principal import Principal
from tests.portals.customers import make_customer

pytestmark = pytest.mark.browser


def test_support_sees_the_banner_and_ends_the_session(page, live_server, look, app, db, demo):
    customer = make_customer(db)
    staff = Principal(kind="staff", id=1, name="ops@backhaul.example", tenant_id=None, can_impersonate=True)
    with db.session() as s:
        _tenant, ticket = impersonation.issue_ticket(s, app.extensions["backhaul"].redis, staff, customer.portal_id)
        s.commit()
    page.goto(live_server.url(customer.host, f"/portal/auth/impersonate?ticket={ticket}"))
    page.goto(live_server.url(customer.host, "/portal"))
    banner = page.get_by_role("region", name="Support session")
    assert "Support is viewing your account." in banner.inner_text() and "ops@backhaul.example" in banner.inner_text()
    look(page, "dashboard-support-session")
    banner.get_by_role("button", name="End the support session").click()
    page.wait_for_url(live_server.url(customer.host, "/login"))
    assert page.goto(live_server.url(customer.host, "/portal")).url.endswith("/login?next=/portal")
