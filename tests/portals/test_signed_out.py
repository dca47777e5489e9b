"""The pages before signing in, in a real browser under the security policy: the front page, signing in, a
forgotten password, the reset page (a live link and a dead one), the team's and the staff's sign-in, the API
reference; each axe clean at 1280 px and 360 px, with nothing refused by the policy."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import PortalAccount
from app.models.base import utcnow
from app.services.auth.crypto import digest
from app.services.auth.realms import CUSTOMER
from tenants import tenant_context
from tenants.registry import directory

pytestmark = pytest.mark.browser
ABC = "abc.test.example"


def _reset_link(db) -> str:
    """A live reset link for a demo customer, as the reset e-mail carries one."""
    tenant = directory().by_code("ABC_ISP")
    token = f"bhr.{tenant.id}.{secrets.token_urlsafe(32)}"
    with db.session() as s, tenant_context(tenant):
        account = s.execute(select(PortalAccount).limit(1)).scalar_one()
        s.add(CUSTOMER.reset_token(token_hash=digest(token), principal_kind="customer",
                                   principal_id=account.customer_id, expires_at=utcnow() + timedelta(minutes=30)))
        s.commit()
    return f"/password/reset?token={token}"


@pytest.mark.parametrize(("name", "host", "path"), [
    ("front-page", ABC, "/"), ("sign-in", ABC, "/login"), ("forgot-password", ABC, "/password/forgot"),
    ("reset-link-dead", ABC, "/password/reset?token=bhr.1.nothing"), ("team-sign-in", ABC, "/reseller/login"),
    ("staff-sign-in", "console.test.example", "/console/login"), ("savanna-sign-in", "xyz.test.example", "/login"),
    ("savanna-front-page", "xyz.test.example", "/"), ("not-found", ABC, "/no-such-page"),
])
def test_each_page_before_signing_in_is_accessible(page, live_server, look, demo, name, host, path):
    shown = page.goto(live_server.url(host, path))
    assert shown.status in (200, 404, 410), shown.status
    look(page, name)


def test_the_reset_page_and_a_refused_sign_in_are_accessible(page, live_server, look, db, demo):
    page.goto(live_server.url(ABC, _reset_link(db)))
    assert page.get_by_label("Choose a new password", exact=False).count() + page.locator("#password").count() >= 1
    look(page, "reset-password")
    page.goto(live_server.url(ABC, "/login"))
    page.get_by_label("Portal ID").fill(demo["ABC_ISP"]["customers"][0][0])
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    assert "The sign-in name or password is not correct." in page.locator("main").inner_text()
    assert page.get_by_label("Portal ID").input_value() == demo["ABC_ISP"]["customers"][0][0]  # kept as typed
    look(page, "sign-in-refused")


def test_the_api_reference_runs_under_the_policy(page, live_server, demo):
    page.goto(live_server.url(ABC, "/api/docs"))
    page.locator(".swagger-ui .info").wait_for(timeout=20_000)
    assert "Backhaul API" in page.locator(".swagger-ui .info").inner_text()
