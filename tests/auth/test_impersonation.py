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
