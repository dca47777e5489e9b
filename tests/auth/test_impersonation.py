"""Staff "login as customer": needs the permission, is audited, shows in the customer's activity log,
and cannot touch the customer's own credentials."""

from sqlalchemy import select

from app.models import AuditEvent
from app.services.auth import users
from tests.auth.conftest import PASSWORD, bearer

CONSOLE = "console.test.example"


def _staff_token(client, email):
    return client.post("/console/auth/login", json={"email": email, "password": PASSWORD},
                       headers={"Host": CONSOLE}).get_json()["token"]


def test_login_as_customer_is_audited_and_visible_to_the_customer(app, client, db, staff, accounts):
    acc = accounts()
    ticket = client.post("/console/api/impersonations", json={"portal_id": acc.portal_id},
                         headers=bearer(_staff_token(client, staff), CONSOLE))
    assert ticket.status_code == 201, ticket.get_json()
    body = ticket.get_json()
    assert body["tenant_code"] == acc.tenant.code and body["ticket"] in body["url"]

    support = app.test_client()
    entered = support.post("/portal/auth/impersonate", json={"ticket": body["ticket"]}, headers={"Host": acc.host})
    assert entered.status_code == 200
    principal = entered.get_json()["principal"]
    assert principal["kind"] == "customer" and principal["id"] == acc.customer_id
    assert principal["impersonator"].startswith("staff ") and staff in principal["impersonator"]
    again = app.test_client().post("/portal/auth/impersonate", json={"ticket": body["ticket"]},
                                   headers={"Host": acc.host})
    assert again.status_code == 422  # single use

    assert support.get("/portal/auth/me", headers={"Host": acc.host}).status_code == 200
    refused = support.put("/portal/auth/password", json={"current_password": PASSWORD, "new_password": "N3w#Pass"},
                          headers={"Host": acc.host})
    assert refused.status_code == 403
    assert support.post("/portal/auth/2fa/enrol", headers={"Host": acc.host}).status_code == 403
    assert support.post("/portal/api/api-keys", json={"name": "x", "access": "read"},
                        headers={"Host": acc.host}).status_code == 403

    own = client.post("/portal/auth/login", json={"portal_id": acc.portal_id, "password": PASSWORD},
                      headers={"Host": acc.host}).get_json()["token"]
    log = client.get("/portal/api/activity", headers=bearer(own, acc.host)).get_json()
    impersonated = [e for e in log if e["impersonated"]]
    actions = [e["action"] for e in impersonated]
    assert "impersonation.start" in actions and "GET /portal/auth/me" in actions
    assert "PUT /portal/auth/password" in actions  # refused attempts are recorded too
    assert all(e["actor"].startswith("staff ") and f"as customer {acc.customer_id}" in e["actor"] for e in impersonated)
    with db.session() as s:
        audit = s.execute(select(AuditEvent).where(AuditEvent.action == "customer.impersonate",
                                                   AuditEvent.tenant_id == acc.tenant.id)).scalars().one()
    assert audit.detail["portal_id"] == acc.portal_id and staff in audit.actor


def test_impersonation_needs_the_permission(client, db, accounts):
    acc = accounts()
    with db.session() as s:
        users.create_staff(s, email="plain@isp.example", name="Plain", password=PASSWORD, can_impersonate=False)
    refused = client.post("/console/api/impersonations", json={"portal_id": acc.portal_id},
                          headers=bearer(_staff_token(client, "plain@isp.example"), CONSOLE))
    assert refused.status_code == 403


def test_a_ticket_only_opens_on_its_own_tenant(app, client, staff, accounts):
    a, b = accounts(), accounts()
    ticket = client.post("/console/api/impersonations", json={"portal_id": a.portal_id},
                         headers=bearer(_staff_token(client, staff), CONSOLE)).get_json()["ticket"]
    assert app.test_client().post("/portal/auth/impersonate", json={"ticket": ticket},
                                  headers={"Host": b.host}).status_code == 422
    assert app.test_client().post("/portal/auth/impersonate", json={"ticket": ticket},
                                  headers={"Host": a.host}).status_code == 200


def _team_token(client, acc) -> str:
    from tests.auth.conftest import reseller_login

    signed = reseller_login(client, acc)
    assert signed.status_code == 200, signed.get_json()
    return signed.get_json()["token"]


def test_a_team_member_with_the_permission_signs_in_as_their_own_customer(app, client, db, accounts):
    """The reseller's Admin opens the customer's portal as them: audited as the member, every request in the
    customer's activity log as "user N (...) as customer M", the credentials out of reach as for staff; and the
    team's own session, in the browser's other cookie, is still signed in beside the support one."""
    acc = accounts()
    token = _team_token(client, acc)
    issued = client.post(f"/reseller/api/customers/{acc.customer_id}/impersonation", headers=bearer(token, acc.host))
    assert issued.status_code == 201, issued.get_json()
    body = issued.get_json()
    assert body["url"] == f"/portal/auth/impersonate?ticket={body['ticket']}" and body["expires_in"] == 60

    browser = app.test_client()
    signed_in = browser.post("/reseller/auth/login", json={"username": acc.username, "password": PASSWORD},
                             headers={"Host": acc.host})
    assert signed_in.status_code == 200
    opened = browser.get(body["url"], headers={"Host": acc.host})
    assert opened.status_code == 302 and opened.headers["Location"].endswith("/portal")
    me = browser.get("/portal/auth/me", headers={"Host": acc.host}).get_json()
    assert me["kind"] == "customer" and me["impersonator"] == f"user {acc.user_id} ({acc.username})"
    assert browser.get("/reseller/auth/me", headers={"Host": acc.host}).get_json()["kind"] == "user"  # still the team
    assert browser.put("/portal/auth/password", json={"current_password": PASSWORD, "new_password": "N3w#Pass9"},
                       headers={"Host": acc.host}).status_code == 403

    own = client.post("/portal/auth/login", json={"portal_id": acc.portal_id, "password": PASSWORD},
                      headers={"Host": acc.host}).get_json()["token"]
    log = [e for e in client.get("/portal/api/activity", headers=bearer(own, acc.host)).get_json() if e["impersonated"]]
    assert "impersonation.start" in [e["action"] for e in log]
    assert all(e["actor"].startswith(f"user {acc.user_id} (") for e in log)
    with db.session() as s:
        audit = s.execute(select(AuditEvent).where(AuditEvent.action == "customer.impersonate",
                                                   AuditEvent.tenant_id == acc.tenant.id)).scalars().one()
    assert audit.actor == f"user {acc.user_id} ({acc.username})" and audit.detail["customer_id"] == acc.customer_id


def test_signing_in_as_a_customer_needs_the_permission_and_a_customer_the_member_may_see(client, db, accounts):
    manager = accounts("Manager")
    refused = client.post(f"/reseller/api/customers/{manager.customer_id}/impersonation",
                          headers=bearer(_team_token(client, manager), manager.host))
    assert refused.status_code == 403 and "customers.impersonate" in refused.get_json()["detail"]

    limited = accounts(allowed_customer_ids=[987654321])
    hidden = client.post(f"/reseller/api/customers/{limited.customer_id}/impersonation",
                         headers=bearer(_team_token(client, limited), limited.host))
    assert hidden.status_code == 404  # a customer the member may not see does not exist for them

    other = accounts()
    elsewhere = client.post(f"/reseller/api/customers/{other.customer_id}/impersonation",
                            headers=bearer(_team_token(client, manager), other.host))
    assert elsewhere.status_code == 401  # another reseller's host refuses this reseller's token
