"""Sub-resellers created by their parent reseller: the 001 JSON, a three-level tree, the rules that keep a
child within its parent's terms, and the first Admin."""

from sqlalchemy import select, text

from app.models import AuditEvent
from app.models import Tenant as TenantRow
from tests.resellers.conftest import sign_in, sub_reseller_json, unique_code


def test_the_001_json_builds_a_three_level_tree(app, db, tree):
    root, child, grand = tree.root, tree.child, tree.grandchild
    with db.session() as s:
        rows = {r.code: r for r in s.execute(select(TenantRow).where(
            TenantRow.code.in_([child.code, grand.code, tree.sibling.code]))).scalars()}
        schemas = set(s.execute(text("SELECT nspname FROM pg_namespace")).scalars())
    assert rows[child.code].parent_id == root.id and rows[grand.code].parent_id == child.id
    assert rows[tree.sibling.code].parent_id == root.id
    assert str(rows[child.code].commission_percent) == "8.00" and rows[child.code].customer_limit == 500
    assert rows[child.code].allowed_services == ["internet", "voice"] and rows[child.code].inherited_branding
    assert str(rows[grand.code].commission_percent) == "5.00" and rows[grand.code].allowed_services == ["internet"]
    assert {r.schema_name for r in rows.values()} <= schemas

    # each sub-reseller's first Admin signs in on its own host, with the Admin role
    client = app.test_client()
    me = client.get("/reseller/auth/me", headers=sign_in(client, grand.host, grand.admin)).get_json()
    assert me["tenant_id"] == grand.id and "resellers.manage" in me["permissions"]

    listed = client.get("/reseller/api/sub-resellers", headers=sign_in(client, root.host, root.admin)).get_json()
    assert [(t["code"], t["level"], t["parent_code"]) for t in listed] == [
        (child.code, 1, root.code), (grand.code, 2, child.code), (tree.sibling.code, 1, root.code)]
    first = listed[0]
    assert first["commission_percent"] == "8.00" and first["customer_limit"] == 500
    assert first["allowed_services"] == ["internet", "voice"] and first["inherited_branding"] is True
    assert first["hosts"] == [child.host] and first["figures"]["customers"] == 1

    with db.session() as s:
        events = s.execute(select(AuditEvent).where(AuditEvent.action == "subreseller.create",
                                                    AuditEvent.tenant_id == grand.id)).scalars().all()
    assert len(events) == 1 and events[0].detail["parent"] == child.code and events[0].detail["level"] == 2
    assert root.admin in events[0].actor


def test_a_sub_reseller_creates_its_own_and_a_password_is_generated_once(app, db, tree):
    client = app.test_client()
    headers = sign_in(client, tree.child.host, tree.child.admin)
    code = unique_code("OWN")
    own_domain = f"portal.{code.lower().replace('_', '-')}.example"
    body = sub_reseller_json(tree.child.id, code, level=2, commission_percent="8", customer_limit=10,
                             allowed_services=None, hosts=[own_domain])
    del body["admin"]["password"]
    reply = client.post("/reseller/api/sub-resellers", json=body, headers=headers)
    assert reply.status_code == 201, reply.get_json()
    out = reply.get_json()
    assert out["level"] == 2 and out["parent_code"] == tree.child.code and out["commission_percent"] == "8.00"
    assert out["allowed_services"] == ["internet", "voice"]  # none given: the parent's, copied
    generated = out["admin"]["generated_password"]
    assert generated and out["admin"]["username"] == body["admin"]["username"]
    assert sign_in(client, out["hosts"][0], body["admin"]["username"], generated)
    # a reseller's own domain waits for DNS verification: it leads nowhere yet (no reseller claims another's)
    assert out["pending_hosts"] == [own_domain] and own_domain not in out["hosts"]
    assert client.get("/reseller/auth/me", headers={"Host": own_domain}).status_code == 404
    again = client.get(f"/reseller/api/sub-resellers/{code}", headers=headers).get_json()
    assert "admin" not in again and "generated_password" not in str(again)


def _refused(client, headers, body, field):
    reply = client.post("/reseller/api/sub-resellers", json=body, headers=headers)
    assert reply.status_code == 422, reply.get_json()
    problem = reply.get_json()
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert problem.get("field") == field or field in problem.get("errors", {}).get("json", {}), problem
    return problem


def test_terms_never_exceed_the_parents(app, db, tree):
    client = app.test_client()
    root_headers = sign_in(client, tree.root.host, tree.root.admin)
    child_headers = sign_in(client, tree.child.host, tree.child.admin)
    child = tree.child.id
    codes = [unique_code("BAD") for _ in range(9)]

    # allowed services beyond the parent's (the child sells internet and voice only)
    _refused(client, root_headers, sub_reseller_json(child, codes[0], level=2, allowed_services=["internet", "bundle"],
                                                     customer_limit=10), "allowed_services")
    _refused(client, root_headers, sub_reseller_json(child, codes[1], level=2, allowed_services=["television"],
                                                     customer_limit=10), "allowed_services")
    # a commission above the parent's own 8.00, or out of range, or with more than two decimals
    _refused(client, root_headers, sub_reseller_json(child, codes[2], level=2, commission_percent="8.01",
                                                     customer_limit=10), "commission_percent")
    _refused(client, root_headers, sub_reseller_json(tree.root.id, codes[3], commission_percent=101),
             "commission_percent")
    _refused(client, root_headers, sub_reseller_json(tree.root.id, codes[3], commission_percent="5.005"),
             "commission_percent")
    # the wrong parent: the caller's parent, a sibling, a stranger, or one that does not exist
    _refused(client, child_headers, sub_reseller_json(tree.root.id, codes[4]), "parent_reseller_id")
    _refused(client, child_headers, sub_reseller_json(tree.sibling.id, codes[4], level=2, customer_limit=10,
                                                      allowed_services=["internet"], commission_percent=1),
             "parent_reseller_id")
    _refused(client, child_headers, sub_reseller_json(999_999_999, codes[4]), "parent_reseller_id")
    # a level that does not match the tree
    _refused(client, root_headers, sub_reseller_json(child, codes[5], level=1, customer_limit=10), "level")
    # more customers than the parent has room for: 500 - 1 own customer - 100 for the grandchild = 399
    _refused(client, root_headers, sub_reseller_json(child, codes[6], level=2, customer_limit=400), "customer_limit")
    _refused(client, root_headers, sub_reseller_json(child, codes[6], level=2, customer_limit=None), "customer_limit")
    ok = client.post("/reseller/api/sub-resellers", headers=root_headers,
                     json=sub_reseller_json(child, codes[7], level=2, customer_limit=399, commission_percent=0))
    assert ok.status_code == 201, ok.get_json()
    _refused(client, root_headers, sub_reseller_json(child, codes[8], level=2, customer_limit=1), "customer_limit")

    with db.session() as s:  # nothing of the refused ones is left behind
        left = s.execute(select(TenantRow.code).where(TenantRow.code.in_(codes))).scalars().all()
        schemas = s.execute(text("SELECT nspname FROM pg_namespace WHERE nspname = ANY(:names) ORDER BY nspname"),
                            {"names": [f"t_{code.lower()}" for code in codes]}).scalars().all()
    assert left == [codes[7]] and schemas == [f"t_{codes[7].lower()}"]


def test_a_bad_admin_rolls_the_whole_tenant_back(app, db, tree):
    client = app.test_client()
    headers = sign_in(client, tree.root.host, tree.root.admin)
    code = unique_code("WEAK")
    body = sub_reseller_json(tree.root.id, code)
    body["admin"]["password"] = "weak"
    reply = client.post("/reseller/api/sub-resellers", json=body, headers=headers)
    assert reply.status_code == 422
    with db.session() as s:
        assert s.execute(select(TenantRow.id).where(TenantRow.code == code)).first() is None
    taken = client.post("/reseller/api/sub-resellers", headers=headers,
                        json=sub_reseller_json(tree.root.id, tree.child.code))
    assert taken.status_code == 409


def test_only_resellers_manage_may_create(app, tree):
    client = app.test_client()
    for username in (tree.root.viewer, tree.root.agent):
        headers = sign_in(client, tree.root.host, username)
        reply = client.post("/reseller/api/sub-resellers", headers=headers,
                            json=sub_reseller_json(tree.root.id, unique_code("NOPE")))
        assert reply.status_code == 403


def test_a_parent_configures_its_descendants_within_its_terms(app, db, tree):
    client = app.test_client()
    root_headers = sign_in(client, tree.root.host, tree.root.admin)
    child_headers = sign_in(client, tree.child.host, tree.child.admin)
    grand = tree.grandchild.code
    ok = client.patch(f"/reseller/api/sub-resellers/{grand}", json={"commission_percent": "6.50", "name": "Grand"},
                      headers=child_headers)
    assert ok.status_code == 200, ok.get_json()
    assert ok.get_json()["commission_percent"] == "6.50" and ok.get_json()["name"] == "Grand"
    assert client.patch(f"/reseller/api/sub-resellers/{grand}", json={"commission_percent": 9},
                        headers=child_headers).status_code == 422
    # lowering the child's commission below its own sub-reseller's is refused, not silently inconsistent
    assert client.patch(f"/reseller/api/sub-resellers/{tree.child.code}", json={"commission_percent": 6},
                        headers=root_headers).status_code == 409
    # narrowing the child's services narrows the grandchild's with it
    narrowed = client.patch(f"/reseller/api/sub-resellers/{tree.child.code}", json={"allowed_services": ["voice"]},
                            headers=root_headers)
    assert narrowed.status_code == 200 and narrowed.get_json()["allowed_services"] == ["voice"]
    assert client.get(f"/reseller/api/sub-resellers/{grand}", headers=root_headers).get_json()["allowed_services"] == []
    # a child cannot configure itself, its parent or its sibling
    for code in (tree.child.code, tree.root.code, tree.sibling.code):
        assert client.patch(f"/reseller/api/sub-resellers/{code}", json={"name": "Mine"},
                            headers=child_headers).status_code == 404


def test_the_parents_plans_of_the_allowed_kinds_are_copied(app, db, root):
    """A new sub-reseller may sell what its parent sells, of the kinds it is allowed, in the same regions."""
    from app.services import catalogue

    with db.session() as s:
        plans = {kind: catalogue.create_plan(s, code=unique_code(f"P{kind[:3].upper()}"), name=f"{kind} plan",
                                             kind=kind, wholesale_price="10.00", currency="KES").id
                 for kind in ("internet", "voice", "bundle")}
        catalogue.create_plan(s, code=unique_code("PUNAUTH"), name="not authorised", kind="internet",
                              wholesale_price="5.00", currency="KES")
        catalogue.authorise(s, plans["internet"], root.id, regions=["Nairobi", "Mombasa"])
        catalogue.authorise(s, plans["voice"], root.id)
        catalogue.authorise(s, plans["bundle"], root.id)
    client = app.test_client()
    headers = sign_in(client, root.host, root.admin)
    child = client.post("/reseller/api/sub-resellers", headers=headers,
                        json=sub_reseller_json(root.id, unique_code("PLANS"))).get_json()
    assert sorted(child["authorised_plans"]) == sorted([plans["internet"], plans["voice"]])
    grand = client.post("/reseller/api/sub-resellers", headers=headers, json=sub_reseller_json(
        child["id"], unique_code("PLANG"), level=2, customer_limit=10, allowed_services=["internet"])).get_json()
    assert grand["authorised_plans"] == [plans["internet"]]
    with db.session() as s:
        assert [p.id for p in catalogue.authorised_plans(s, grand["id"])] == [plans["internet"]]
        assert catalogue.authorisation_of(s, plans["internet"], grand["id"]).regions == ["Mombasa", "Nairobi"]
