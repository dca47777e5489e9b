"""The reseller portal's Team in a real browser: an admin adds a member with the User role and finds them
listed, their password shown once; makes a custom role by ticking the permission matrix, then changes it;
makes an API key whose secret is shown once and never again; ends a session of a member. A Readonly member
reads the lists but finds no button that changes anything, and a forged POST is refused; another reseller's
member is not found. What a test adds to the shared demo is taken away when it ends."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import delete, select

from app.models import OAuthClient, Role, User
from app.services.auth.realms import USER
from app.services.oauth import clients
from tenants import tenant_context
from tenants.registry import directory
from tests.portals.rig import fetch, post_form
from tests.portals.signin import sign_in_team

pytestmark = pytest.mark.browser
ABC, XYZ = "abc.test.example", "xyz.test.example"
ADMIN, VIEWER = "admin@abc-internet.example", "viewer@abc-internet.example"


@pytest.fixture
def cleanup(db, demo):
    """Names the test will make in ABC: members, roles and OAuth clients, removed at the end."""
    made = {"users": [], "roles": [], "clients": []}
    yield made
    tenant = directory().by_code("ABC_ISP")
    with db.session() as s, tenant_context(tenant):
        for name in made["users"]:
            s.execute(delete(User).where(User.username == name))
        for name in made["roles"]:
            s.execute(delete(Role).where(Role.name == name))
        for name in made["clients"]:
            for row in s.execute(select(OAuthClient).where(OAuthClient.name == name,
                                                           OAuthClient.revoked_at.is_(None))).scalars():
                clients.revoke(s, tenant_id=tenant.id, client_id=row.client_id, actor="test")


def _open_team(page, live_server):
    sign_in_team(page, live_server, ABC, ADMIN)
    page.get_by_role("navigation", name="Sections").first.get_by_role("link", name="Team").click()
    expect(page.get_by_role("heading", name="Team", level=1)).to_be_visible()


def test_an_admin_adds_a_member_with_the_user_role(page, live_server, cleanup, look):
    name = f"amina.{uuid.uuid4().hex[:6]}@abc-internet.example"
    cleanup["users"].append(name)
    _open_team(page, live_server)
    look(page, "reseller-team")
    page.get_by_role("link", name="Add a team member").click()
    look(page, "reseller-team-new")
    page.get_by_label("Username").fill(name)
    page.get_by_label("E-mail address").fill(name)
    page.get_by_label("First name (optional)").fill("Amina")
    page.get_by_label("Role").select_option("User")
    page.get_by_role("button", name="Add them").click()
    expect(page.get_by_role("heading", name="Team member added")).to_be_visible()
    password = page.get_by_label("Password").input_value()
    assert len(password) >= 12
    look(page, "reseller-team-added")
    page.get_by_role("link", name="Open their page").click()
    expect(page.get_by_role("heading", name="Amina", level=1)).to_be_visible()
    assert password not in page.content()
    look(page, "reseller-team-member")
    page.get_by_role("navigation", name="Team").get_by_role("link", name="Members").click()
    row = page.locator("tbody tr", has=page.get_by_text(name, exact=True))
    expect(row.locator("td").nth(2)).to_have_text("User")
    expect(row.get_by_text("Active")).to_be_visible()

    # the same username again is refused next to its field, what was typed kept
    page.goto(live_server.url(ABC, "/reseller/team/members/new"))
    page.get_by_label("Username").fill(name)
    page.get_by_label("E-mail address").fill("other@abc-internet.example")
    page.get_by_role("button", name="Add them").click()
    field = page.locator(".field", has=page.get_by_label("Username"))
    expect(field.locator(".error")).to_contain_text("is taken")
    expect(page.get_by_label("E-mail address")).to_have_value("other@abc-internet.example")

    # a customer the reseller does not have is refused by its Portal ID
    page.get_by_label("Username").fill("x" + name)
    page.get_by_label("Only these customers (optional)").fill("XYZ000001")
    page.get_by_role("button", name="Add them").click()
    expect(page.locator(".field", has=page.get_by_label("Only these customers (optional)"))
           .locator(".error")).to_contain_text("XYZ000001")


def test_a_custom_role_is_made_and_changed_by_ticking_the_matrix(page, live_server, db, cleanup, look):
    role = f"Billing clerk {uuid.uuid4().hex[:4]}"
    cleanup["roles"].append(role)
    _open_team(page, live_server)
    page.get_by_role("link", name="Roles and permissions").click()
    matrix = page.locator("table.matrix")
    expect(matrix.get_by_role("columnheader", name=re.compile("^Admin"))).to_be_visible()
    look(page, "reseller-team-roles")
    for permission in ("customers.view", "finance.view", "finance.payments"):
        page.get_by_label(f"New role: {permission}").check()
    page.get_by_label("Name of the role").fill(role)
    page.get_by_role("button", name="Make the role").click()
    expect(page.get_by_text("The role is made.")).to_be_visible()
    expect(matrix.get_by_role("columnheader", name=role)).to_be_visible()
    expect(page.get_by_label(f"{role}: finance.payments")).to_be_checked()
    expect(page.get_by_label(f"{role}: finance.billing")).not_to_be_checked()
    # built-in roles have no checkboxes to tick
    assert page.get_by_label("Admin: customers.view").count() == 0

    page.get_by_label(f"{role}: finance.billing").check()
    page.get_by_label(f"{role}: customers.view").uncheck()
    page.get_by_role("button", name=f"Save {role}").click()
    expect(page.get_by_text("The role's permissions are saved.")).to_be_visible()
    with db.session() as s, tenant_context(directory().by_code("ABC_ISP")):
        stored = s.execute(select(Role.permissions).where(Role.name == role)).scalar_one()
    assert sorted(stored) == ["finance.billing", "finance.payments", "finance.view"]

    page.get_by_role("link", name=f"Delete {role}").click()
    page.get_by_role("button", name="Delete the role").click()
    expect(page.get_by_text("The role is deleted.")).to_be_visible()
    expect(matrix.get_by_role("columnheader", name=role)).to_have_count(0)


def test_an_api_key_is_shown_once(page, live_server, cleanup, look):
    name = f"Accounting export {uuid.uuid4().hex[:4]}"
    cleanup["clients"].append(name)
    _open_team(page, live_server)
    page.get_by_role("link", name="Apps and API keys").click()
    look(page, "reseller-team-api")
    keys = page.locator("section", has=page.get_by_role("heading", name="API keys", level=2))
    keys.get_by_label("Name").fill(name)
    keys.get_by_label(re.compile("See customers, their contacts")).check()
    keys.get_by_role("button", name="Make the key").click()
    expect(page.get_by_role("heading", name="Your new API key")).to_be_visible()
    secret = page.get_by_label("Secret").input_value()
    client_id = page.get_by_label("Client ID").input_value()
    assert len(secret) >= 40 and client_id.startswith("bhc_")
    look(page, "reseller-team-key")
    # the secret works: a token for the key's permission
    token = page.evaluate("""async ([id, secret]) => {
        const r = await fetch("/oauth/token", {method: "POST",
                                               headers: {Authorization: "Basic " + btoa(id + ":" + secret)},
                                               body: new URLSearchParams({grant_type: "client_credentials"})});
        return [r.status, (await r.json()).scope];
    }""", [client_id, secret])
    assert token == [200, "customers.view"]
    page.get_by_role("link", name="I have copied it").click()
    row = page.locator("tbody tr", has=page.get_by_text(name, exact=True))
    expect(row.get_by_text(client_id)).to_be_visible()
    assert secret not in page.content()  # never shown again

    row.get_by_role("link", name=f"Revoke {name}").click()
    page.get_by_role("button", name="Revoke it").click()
    expect(page.get_by_text("The key is revoked: it stopped working at once.")).to_be_visible()
    expect(page.locator("tbody tr", has=page.get_by_text(name, exact=True))).to_have_count(0)


def test_an_admin_ends_a_members_session(page, live_server, browser, demo, look):
    other = browser.new_context()
    try:
        theirs = other.new_page()
        sign_in_team(theirs, live_server, ABC, "support@abc-internet.example")
        _open_team(page, live_server)
        page.get_by_role("link", name="Sessions and IP allow-lists").click()
        look(page, "reseller-team-sessions")
        row = page.locator("tbody tr", has=page.get_by_role("link", name="support@abc-internet.example")).first
        row.get_by_role("button", name=re.compile("^End")).click()
        expect(page.get_by_text("The session is ended: that device is signed out.")).to_be_visible()
        theirs.goto(live_server.url(ABC, "/reseller/"))
        expect(theirs.get_by_role("heading", name="Team sign-in")).to_be_visible()
    finally:
        other.close()


def test_a_readonly_member_reads_the_team_but_changes_nothing(page, live_server, db, demo):
    sign_in_team(page, live_server, ABC, VIEWER)
    page.goto(live_server.url(ABC, "/reseller/team"))
    expect(page.get_by_role("heading", name="Team", level=1)).to_be_visible()
    expect(page.get_by_text("admin@abc-internet.example", exact=True).first).to_be_visible()
    expect(page.get_by_role("link", name="Add a team member")).to_have_count(0)
    page.get_by_role("link", name="Roles and permissions").click()
    expect(page.locator("table.matrix")).to_be_visible()
    expect(page.locator("main input[type=checkbox]")).to_have_count(0)
    expect(page.get_by_role("button", name="Make the role")).to_have_count(0)
    page.get_by_role("link", name="Sessions and IP allow-lists").click()
    expect(page.get_by_role("button", name=re.compile("^End"))).to_have_count(0)
    expect(page.get_by_role("link", name="Apps and API keys")).to_have_count(0)
    with db.session() as s, tenant_context(directory().by_code("ABC_ISP")):
        support = s.execute(select(User).where(User.username == "support@abc-internet.example")).scalar_one()
        support_id = support.id
        live = s.execute(select(USER.session.id).where(USER.session.principal_id == support_id)).scalars().first()
    page.get_by_role("link", name="support@abc-internet.example").first.click()
    expect(page.get_by_role("button", name="Send a password reset e-mail")).to_have_count(0)
    expect(page.get_by_role("button", name="Save the changes")).to_have_count(0)

    token = page.locator("input[name=csrf_token]").first.get_attribute("value")  # the sign-out form's, a real one
    for path, fields in [("/reseller/team/members/new", {"username": "forged@x.example", "email": "forged@x.example",
                                                        "role": "Admin"}),
                         (f"/reseller/team/members/{support_id}", {"role": "Admin"}),
                         (f"/reseller/team/members/{support_id}/disable", {}),
                         (f"/reseller/team/members/{support_id}/password-reset", {}),
                         (f"/reseller/team/members/{support_id}/sessions/{live or 'x'}/end", {}),
                         ("/reseller/team/roles", {"name": "Forged", "permissions": "users.admin"}),
                         ("/reseller/team/api/keys", {"name": "Forged", "scopes": "customers.view"})]:
        assert post_form(page, path, {"csrf_token": token, **fields}) == 403, path
    assert fetch(page, "/reseller/team/api")["status"] == 403
    with db.session() as s, tenant_context(directory().by_code("ABC_ISP")):
        assert s.get(User, support_id).role.name == "User" and s.get(User, support_id).is_active
        assert s.execute(select(User).where(User.username == "forged@x.example")).first() is None
        assert s.execute(select(Role).where(Role.name == "Forged")).first() is None


def test_another_resellers_member_is_not_found(page, live_server, db, demo):
    with db.session() as s, tenant_context(directory().by_code("XYZ_NET")):
        theirs = s.execute(select(User.id).where(User.username == "admin@xyz-networks.example")).scalar_one()
    with db.session() as s, tenant_context(directory().by_code("ABC_ISP")):
        ours = set(s.execute(select(User.id)).scalars())
    sign_in_team(page, live_server, ABC, ADMIN)
    missing = theirs if theirs not in ours else max(ours) + 1000
    assert fetch(page, f"/reseller/team/members/{missing}")["status"] == 404
    assert fetch(page, "/reseller/team/members/99999999999999999999")["status"] == 404


def test_a_members_role_customers_and_allow_list_are_changed_on_their_page(page, live_server, db, demo, cleanup):
    name = f"otieno.{uuid.uuid4().hex[:6]}@abc-internet.example"
    cleanup["users"].append(name)
    customer = demo["ABC_ISP"]["customers"][0][0]
    _open_team(page, live_server)
    page.get_by_role("link", name="Add a team member").click()
    page.get_by_label("Username").fill(name)
    page.get_by_label("E-mail address").fill(name)
    page.get_by_label("Role").select_option("User")
    page.get_by_role("button", name="Add them").click()
    page.get_by_role("link", name="Open their page").click()

    page.get_by_label("IP allow-list (optional)").fill("10.0.0.0/8\nnot-a-network")
    page.get_by_role("button", name="Save the changes").click()
    field = page.locator(".field", has=page.get_by_label("IP allow-list (optional)"))
    expect(field.locator(".error")).to_contain_text("not-a-network")
    expect(page.get_by_label("IP allow-list (optional)")).to_have_value("10.0.0.0/8\nnot-a-network")

    page.get_by_label("IP allow-list (optional)").fill("10.0.0.0/8")
    page.get_by_label("Role").select_option("Manager")
    page.get_by_label("Only these customers (optional)").fill(customer.lower())
    page.get_by_role("button", name="Save the changes").click()
    expect(page.get_by_text("The changes are saved.")).to_be_visible()
    who = page.locator(".summary-list")
    expect(who.locator(".summary-row", has_text="Role").locator("dd")).to_have_text("Manager")
    expect(who.locator(".summary-row", has_text="IP allow-list").locator("dd")).to_have_text("10.0.0.0/8")
    expect(who.locator(".summary-row", has_text="Customers").locator("dd")).to_have_text(customer)

    page.get_by_role("link", name=re.compile("^Disable")).click()
    page.get_by_role("button", name="Disable them").click()
    expect(page.get_by_text("They are disabled and signed out everywhere.")).to_be_visible()
    with db.session() as s, tenant_context(directory().by_code("ABC_ISP")):
        user = s.execute(select(User).where(User.username == name)).scalar_one()
        assert not user.is_active and user.role.name == "Manager" and len(user.allowed_customer_ids) == 1
    page.get_by_role("button", name="Enable").click()
    expect(page.get_by_text("They can sign in again.")).to_be_visible()
