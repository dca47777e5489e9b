"""Staff "view as reseller": a short, read-only session on the reseller's portal; GETs work, every write is
refused whatever its permission, every request is audited, and only staff with can_impersonate get one."""

from datetime import datetime, timedelta

from sqlalchemy import select, update

from app import clock
from app.models import AuditEvent, StaffUser
from app.services.auth.permissions import READ
from tests.auth.conftest import bearer
from tests.resellers.conftest import CONSOLE, sign_in, staff_headers


def _view_as(client, staff_email, code, reason="ticket 4711"):
    return client.post(f"/console/api/tenants/{code}/view-as", json={"reason": reason},
                       headers=staff_headers(client, staff_email))


def test_view_as_is_read_only_and_audited(app, db, staff, tree):
    client = app.test_client()
    reply = _view_as(client, staff, tree.child.code)
    assert reply.status_code == 201, reply.get_json()
    out = reply.get_json()
    assert out["tenant_code"] == tree.child.code and out["hosts"] == [tree.child.host]
    assert sorted(out["permissions"]) == sorted(READ)
    expires = datetime.fromisoformat(out["expires_at"])
    assert timedelta(minutes=25) < expires - clock.now() <= timedelta(minutes=30)
    headers = bearer(out["token"], tree.child.host)

    me = client.get("/reseller/auth/me", headers=headers).get_json()
    assert me["kind"] == "user" and me["tenant_id"] == tree.child.id and me["id"] < 0
    assert staff in me["impersonator"] and sorted(me["permissions"]) == sorted(READ)
    # reads work: the team, the sub-resellers and their customers, with the reseller's own read permissions
    assert client.get("/reseller/api/users", headers=headers).status_code == 200
    assert [t["code"] for t in client.get("/reseller/api/sub-resellers", headers=headers).get_json()] == [
        tree.grandchild.code]
    assert client.get(f"/reseller/api/sub-resellers/{tree.grandchild.code}/customers",
                      headers=headers).status_code == 200
    # it sees what the reseller sees, nothing more: not the parent, not a sibling
    assert client.get(f"/reseller/api/sub-resellers/{tree.sibling.code}", headers=headers).status_code == 404
    # the same token works on the console host (it enters its reseller), never on another reseller's host
    assert client.get("/reseller/api/users", headers={**headers, "Host": CONSOLE}).status_code == 200
    assert client.get("/reseller/api/users", headers={**headers, "Host": tree.root.host}).status_code == 401

    # writes are refused, whatever permission they need (even one a read-only role would hold)
    writes = [
        ("POST", "/reseller/api/users", {"username": "x@x.example", "email": "x@x.example", "role": "Admin"}),
        ("PATCH", f"/reseller/api/sub-resellers/{tree.grandchild.code}", {"name": "Mine"}),
        ("POST", "/reseller/api/sub-resellers", {}),
        ("POST", "/reseller/api/roles", {"name": "Sneaky", "permissions": ["customers.view"]}),
        ("PUT", "/reseller/auth/password", {"current_password": "x", "new_password": "Str0ng#Pass2"}),
        ("POST", "/reseller/auth/2fa/enrol", {}),
        ("DELETE", "/reseller/auth/sessions/whatever", None),
        ("POST", "/reseller/auth/logout", {}),
    ]
    for method, path, body in writes:
        reply = client.open(path, method=method, json=body, headers=headers)
        assert reply.status_code == 403, (method, path, reply.get_json())
    # a GET that needs more than reading is refused too
    assert client.get("/reseller/api/oauth-clients", headers=headers).status_code == 403
    assert client.get("/reseller/auth/me", headers=headers).status_code == 200  # and the session still works

    with db.session() as s:
        started = s.execute(select(AuditEvent).where(AuditEvent.action == "tenant.view_as",
                                                     AuditEvent.tenant_id == tree.child.id)).scalars().one()
        requests = s.execute(select(AuditEvent).where(AuditEvent.action == "tenant.view_as.request",
                                                      AuditEvent.tenant_id == tree.child.id)
                             .order_by(AuditEvent.id)).scalars().all()
    assert staff in started.actor and started.detail["reason"] == "ticket 4711"
    seen = [(e.detail["method"], e.detail["path"], e.detail["status"]) for e in requests]
    assert ("GET", "/reseller/api/users", 200) in seen
    assert ("POST", "/reseller/api/users", 403) in seen  # refused attempts are recorded too
    assert all(staff in e.actor for e in requests)
    assert len(requests) == 8 + len(writes)  # every request above but the one refused on another host


def test_view_as_needs_can_impersonate(app, db, staff, plain_staff, tree):
    client = app.test_client()
    assert _view_as(client, plain_staff, tree.child.code).status_code == 403
    assert _view_as(client, staff, "NO_SUCH_TENANT").status_code == 404

    # taking the right away ends the sessions it gave at once
    token = _view_as(client, staff, tree.child.code).get_json()["token"]
    headers = bearer(token, tree.child.host)
    assert client.get("/reseller/api/users", headers=headers).status_code == 200
    with db.session() as s:
        s.execute(update(StaffUser).where(StaffUser.email == staff).values(can_impersonate=False))
    assert client.get("/reseller/api/users", headers=headers).status_code == 401


def test_a_view_as_session_is_nobody_in_the_team(app, db, staff, tree):
    """The reseller's own users never see it among their sessions, and it does not borrow their identity."""
    client = app.test_client()
    token = _view_as(client, staff, tree.child.code).get_json()["token"]
    own = sign_in(client, tree.child.host, tree.child.admin)
    sessions = client.get("/reseller/auth/sessions", headers=own).get_json()
    assert all(not s["impersonator"] for s in sessions)
    headers = bearer(token, tree.child.host)
    assert client.get("/reseller/auth/sessions", headers=headers).get_json()[0]["impersonator"]
    assert client.get("/reseller/auth/2fa", headers=headers).status_code == 404  # no account behind it


def test_view_as_a_suspended_reseller_is_refused(app, staff, tree):
    client = app.test_client()
    headers = staff_headers(client, staff)
    client.post(f"/console/api/tenants/{tree.sibling.code}/suspend", json={"reason": "fraud"}, headers=headers)
    assert _view_as(client, staff, tree.sibling.code).status_code == 409
