"""Every API route × every kind of caller: allowed, or refused with 401/403 — as each view declares.

A view declares its access with `@requires(...)`; this test checks (1) that every route has such a
declaration (nothing is open by omission), (2) that no route changing state is let through by a read
permission (or Readonly users and read-only tokens could write), and (3) that the declaration is what
really happens, for each built-in role, a custom role, a customer, a signed-out caller and a staff token
on a tenant host.
"""

import pytest

from app.services.auth.permissions import BUILTIN_ROLES, CUSTOMER_READ, PERMISSIONS, READ
from tests.auth.conftest import PASSWORD, bearer, reseller_login
from tests.url_rules import sample_path

FRAMEWORK = {"static", "api-docs.openapi_json"}
CUSTOM_ROLE = frozenset({"customers.view", "support.tickets"})
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
READ_PERMISSIONS = READ | CUSTOMER_READ  # a reseller's read permissions, and a read-only customer API key's
# State-changing methods on routes that only read, so a read permission is right for them; one line of why
# each. (/reseller/api/prices/preview is a GET, /reseller/api/branding/preview needs settings.manage.)
WRITES_THAT_READ: dict[tuple[str, str], str] = {
    ("POST", "/reseller/api/reports/<string:name>/exports"):
        "asks for a report's file as a worker's job: reading the report, as GET …/reports/<name>?format=csv does",
}


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in FRAMEWORK:
            continue
        view = app.view_functions[rule.endpoint]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method, view


def test_every_route_declares_its_access(app):
    undeclared = [f"{m} {r.rule}" for r, m, view in _routes(app) if not hasattr(view, "backhaul_access")]
    assert undeclared == []


def test_no_write_is_allowed_by_a_read_permission(app):
    wrong = [f"{m} {r.rule} declares {view.backhaul_access['permission']}" for r, m, view in _routes(app)
             if m in WRITES and view.backhaul_access["permission"] in READ_PERMISSIONS
             and (m, r.rule) not in WRITES_THAT_READ]
    assert wrong == []


def test_the_writes_that_read_are_still_routes_with_a_read_permission(app):
    declared = {(m, r.rule): view.backhaul_access["permission"] for r, m, view in _routes(app)}
    stale = [f"{m} {rule}" for m, rule in WRITES_THAT_READ if declared.get((m, rule)) not in READ_PERMISSIONS]
    assert stale == []


def _call(client, method, path, headers):
    return client.open(path, method=method, json={}, headers=headers)


def _expected(access, kind, granted) -> str:
    if access["public"]:
        return "open"
    if kind is None:
        return "401"
    if access["kinds"] and kind not in access["kinds"]:
        return "403"
    if access["permission"] and access["permission"] not in granted:
        return "403"
    return "allowed"


def _elsewhere(rule, host: str | None) -> bool:
    """A page of the console on a reseller's host, or of a reseller's portal on the console host: to somebody
    not signed in there that door does not exist (app/portals/gate.py), which is a 404, not a 401."""
    page = not rule.rule.startswith(("/console/api", "/console/auth", "/reseller/api", "/reseller/auth",
                                     "/portal/api", "/portal/auth"))
    console_page = page and rule.rule.startswith("/console/")
    tenant_page = page and rule.rule.startswith(("/reseller/", "/portal/"))
    on_console = host == "console.test.example"
    return (console_page and not on_console) or (tenant_page and on_console)


def _check(app, client, headers, kind, granted):
    wrong = []
    for rule, method, view in _routes(app):
        access = view.backhaul_access
        if access["public"] or rule.rule.endswith("/logout"):
            continue  # open by design; logout would end the session under test (checked elsewhere)
        expected = _expected(access, kind, granted)
        if kind is None and _elsewhere(rule, headers.get("Host")):
            expected = "404"
        status = _call(client, method, sample_path(rule), headers).status_code
        ok = {"401": status == 401, "403": status == 403, "404": status == 404,
              "allowed": status not in (401, 403)}[expected]
        if not ok:
            wrong.append(f"{method} {rule.rule}: expected {expected}, got {status}")
    return wrong


@pytest.mark.parametrize("role", [*BUILTIN_ROLES, "custom"])
def test_reseller_roles(app, db, accounts, role):
    from app.services.auth import users
    from tenants import tenant_context

    if role == "custom":
        acc = accounts(role="Readonly")
        with db.session() as s, tenant_context(acc.tenant):
            users.create_role(s, name="Helpdesk", permissions_=sorted(CUSTOM_ROLE))
            users.update_user(s, acc.user_id, role="Helpdesk")
        granted = CUSTOM_ROLE
    else:
        acc = accounts(role=role)
        granted = BUILTIN_ROLES[role]
    client = app.test_client()
    token = reseller_login(client, acc).get_json()["token"]
    assert _check(app, client, bearer(token, acc.host), "user", granted) == []


def test_readonly_holds_read_permissions_only():
    assert all(p.endswith((".view", ".reports")) for p in BUILTIN_ROLES["Readonly"])
    assert BUILTIN_ROLES["Admin"] == frozenset(PERMISSIONS)


def test_customer_and_signed_out(app, accounts):
    acc = accounts()
    client = app.test_client()
    token = client.post("/portal/auth/login", json={"portal_id": acc.portal_id, "password": PASSWORD},
                        headers={"Host": acc.host}).get_json()["token"]
    assert _check(app, client, bearer(token, acc.host), "customer", frozenset({"self.view", "self.edit"})) == []
    wrong = _check(app, app.test_client(), {"Host": acc.host}, None, frozenset())
    assert wrong == [], "\n".join(wrong)


def test_staff_on_the_console(app, staff):
    client = app.test_client()
    console = "console.test.example"
    token = client.post("/console/auth/login", json={"email": staff, "password": PASSWORD},
                        headers={"Host": console}).get_json()["token"]
    assert _check(app, client, bearer(token, console), "staff", frozenset(PERMISSIONS)) == []
