"""The master ISP's console: tenants created, configured, suspended and reactivated through the API,
every reseller with its key figures, and the Portal ID search across tenants."""

import json

from sqlalchemy import select

from app.models import AuditEvent
from tests.conftest import host_of
from tests.resellers.conftest import CONSOLE, add_customer, sign_in, staff_headers, unique_code


def _audit(db, action, tenant_id):
    with db.session() as s:
        return s.execute(select(AuditEvent).where(AuditEvent.action == action, AuditEvent.tenant_id == tenant_id)
                         .order_by(AuditEvent.id)).scalars().all()


def test_tenants_are_created_and_configured_through_the_api(app, db, staff):
    client = app.test_client()
    headers = staff_headers(client, staff)
    code = unique_code("ACME")
    created = client.post("/console/api/tenants", headers=headers, json={
        "code": code, "name": "Acme Net", "hosts": [f"portal.{code.lower().replace('_', '-')}.example"],
        "customer_limit": 1000, "commission_percent": "12.50",
        "admin": {"username": "boss@acme.example", "email": "boss@acme.example", "password": "Str0ng#Pass"}})
    assert created.status_code == 201, created.get_json()
    acme = created.get_json()
    assert acme["code"] == code and acme["level"] == 0 and acme["parent_code"] is None and acme["status"] == "Active"
    assert acme["commission_percent"] == "12.50" and acme["customer_limit"] == 1000
    assert acme["hosts"][0].startswith("portal.") and acme["allowed_services"] is None
    assert acme["figures"] == {"customers": 0, "active_customers": 0, "active_services": 0, "mrr": {}}
    assert acme["admin"]["username"] == "boss@acme.example" and acme["admin"]["generated_password"] is None
    sign_in(client, acme["hosts"][0], "boss@acme.example")  # its Admin works on its own domain at once

    west = client.post("/console/api/tenants", headers=headers, json={
        "code": code + "_W", "name": "Acme West", "parent_code": code, "customer_limit": 100,
        "commission_percent": 10, "allowed_services": ["internet"]})
    assert west.status_code == 201, west.get_json()
    assert west.get_json()["level"] == 1 and west.get_json()["parent_code"] == code
    assert west.get_json()["admin"] is None
    assert client.get(f"/console/api/tenants/{code}", headers=headers).get_json()["children"] == [code + "_W"]
    refused = client.post("/console/api/tenants", headers=headers, json={
        "code": code + "_X", "name": "Too much", "parent_code": code, "customer_limit": 10, "commission_percent": 13})
    assert refused.status_code == 422 and refused.get_json()["field"] == "commission_percent"

    patched = client.patch(f"/console/api/tenants/{code}", headers=headers, json={
        "name": "Acme Networks", "customer_limit": 2000, "allowed_services": ["internet", "voice"],
        "inherited_branding": False})
    assert patched.status_code == 200, patched.get_json()
    body = patched.get_json()
    assert body["name"] == "Acme Networks" and body["customer_limit"] == 2000 and body["inherited_branding"] is False
    assert body["allowed_services"] == ["internet", "voice"]
    assert client.patch(f"/console/api/tenants/{code}", headers=headers,
                        json={"customer_limit": 50}).status_code == 409  # below its sub-reseller's 100
    assert client.patch(f"/console/api/tenants/{code}_W", headers=headers,
                        json={"allowed_services": ["bundle"]}).status_code == 422
    assert client.patch(f"/console/api/tenants/{code}", headers=headers,
                        json={"commission_percent": None}).status_code == 200
    assert client.get("/console/api/tenants/NOPE_NOPE", headers=headers).status_code == 404

    configured = _audit(db, "tenant.configure", acme["id"])
    assert configured[0].detail["after"]["name"] == "Acme Networks" and staff in configured[0].actor
    assert _audit(db, "reseller.create", acme["id"]) and _audit(db, "subreseller.create", west.get_json()["id"])


def test_every_reseller_with_its_figures(app, db, staff, tree):
    client = app.test_client()
    headers = staff_headers(client, staff)
    listed, page = {}, 1
    while True:  # every tenant of the platform, page by page (the total is in X-Pagination)
        reply = client.get(f"/console/api/tenants?page={page}&page_size=50", headers=headers)
        assert reply.status_code == 200, reply.get_json()
        listed.update({t["code"]: t for t in reply.get_json()})
        pagination = json.loads(reply.headers["X-Pagination"])
        if page >= pagination["last_page"] or not reply.get_json():
            break
        page += 1
    assert pagination["total"] == len(listed)
    grand = listed[tree.grandchild.code]
    assert grand["level"] == 2 and grand["parent_code"] == tree.child.code and grand["status"] == "Active"
    assert listed[tree.root.code]["level"] == 0 and listed[tree.root.code]["figures"]["customers"] == 1
    assert grand["figures"] == {"customers": 1, "active_customers": 0, "active_services": 0, "mrr": {}}
    children = client.get(f"/console/api/tenants?parent={tree.root.code}", headers=headers).get_json()
    assert sorted(t["code"] for t in children) == sorted([tree.child.code, tree.sibling.code])


def test_suspend_and_reactivate(app, db, staff, tree):
    client = app.test_client()
    headers = staff_headers(client, staff)
    user = sign_in(client, tree.child.host, tree.child.admin)
    below = sign_in(client, tree.grandchild.host, tree.grandchild.admin)
    assert client.get("/reseller/auth/me", headers=user).status_code == 200
    assert client.post(f"/console/api/tenants/{tree.child.code}/suspend", json={},
                       headers=headers).status_code == 422  # a reason is required

    suspended = client.post(f"/console/api/tenants/{tree.child.code}/suspend", json={"reason": "unpaid invoices"},
                            headers=headers)
    assert suspended.status_code == 200
    assert suspended.get_json()["status"] == "Suspended" and suspended.get_json()["status_reason"] == "unpaid invoices"
    refused = client.get("/reseller/auth/me", headers=user)
    assert refused.status_code == 403 and refused.get_json()["type"] == "/problems/tenant-suspended"
    on_console = client.get("/reseller/auth/me", headers={**user, "Host": CONSOLE})
    assert on_console.status_code == 401  # its token does not work on the console host either
    held = client.get("/reseller/auth/me", headers=below)  # its sub-reseller follows it, its own status unchanged
    assert held.status_code == 403 and held.get_json()["tenant_status"] == "Suspended"
    assert client.get(f"/console/api/tenants/{tree.grandchild.code}", headers=headers).get_json()["status"] == "Active"
    assert client.post(f"/console/api/tenants/{tree.child.code}/suspend", json={"reason": "again"},
                       headers=headers).status_code == 409

    back = client.post(f"/console/api/tenants/{tree.child.code}/reactivate", json={"reason": "paid"}, headers=headers)
    assert back.status_code == 200 and back.get_json()["status"] == "Active"
    assert client.get("/reseller/auth/me", headers=user).status_code == 200
    assert client.get("/reseller/auth/me", headers=below).status_code == 200
    changes = [(e.detail["before"], e.detail["after"], e.detail["reason"])
               for e in _audit(db, "tenant.status", tree.child.id)]
    assert changes == [("Active", "Suspended", "unpaid invoices"), ("Suspended", "Active", "paid")]


def test_portal_id_search_across_tenants(app, db, staff, tree):
    client = app.test_client()
    headers = staff_headers(client, staff)
    for node in (tree.root, tree.grandchild, tree.sibling):
        customer_id, portal_id = node.customers[0]
        hits = client.get(f"/console/api/search?portal_id={portal_id.lower()}", headers=headers)
        assert hits.status_code == 200, hits.get_json()
        [hit] = hits.get_json()
        assert hit["portal_id"] == portal_id
        assert hit["tenant"]["code"] == node.code and hit["tenant"]["name"] == node.tenant.name
        assert hit["customer"]["id"] == customer_id and hit["customer"]["status"] == "New"
        assert hit["customer"]["name"].endswith("Otieno")
    assert client.get("/console/api/search?portal_id=NOPE0000001", headers=headers).get_json() == []
    second = add_customer(db, tree.sibling.tenant, "Zawadi")[1]
    prefix = client.get(f"/console/api/search?portal_id={second[:-1]}&match=prefix", headers=headers).get_json()
    assert second in [h["portal_id"] for h in prefix]
    assert client.get("/console/api/search?portal_id=%25&match=prefix", headers=headers).get_json() == []
    assert client.get("/console/api/search", headers=headers).status_code == 422


def test_the_console_is_for_staff_only(app, tree):
    client = app.test_client()
    user = sign_in(client, tree.root.host, tree.root.admin)
    for method, path in (("GET", "/console/api/tenants"), ("POST", f"/console/api/tenants/{tree.child.code}/suspend"),
                         ("GET", f"/console/api/search?portal_id={tree.root.customers[0][1]}"),
                         ("POST", f"/console/api/tenants/{tree.child.code}/view-as")):
        assert client.open(path, method=method, json={"reason": "x"}, headers=user).status_code == 403
        assert client.open(path, method=method, json={"reason": "x"},
                           headers={**user, "Host": CONSOLE}).status_code == 403
        assert client.open(path, method=method, json={}, headers={"Host": CONSOLE}).status_code == 401
    assert host_of(tree.root.tenant) == tree.root.host
