"""A parent sees its descendants' customers and figures, read-only; a child never sees its parent or its
siblings, whichever way it asks."""

from tests.resellers.conftest import add_customer, sign_in


def _codes(reply) -> list[str]:
    assert reply.status_code == 200, reply.get_json()
    return [t["code"] for t in reply.get_json()]


def test_a_parent_sees_its_child_and_grandchild(app, db, tree):
    client = app.test_client()
    headers = sign_in(client, tree.root.host, tree.root.admin)
    add_customer(db, tree.grandchild.tenant, "Second", status="Active")
    for node in (tree.child, tree.grandchild, tree.sibling):
        detail = client.get(f"/reseller/api/sub-resellers/{node.code}", headers=headers)
        assert detail.status_code == 200 and detail.get_json()["code"] == node.code
        customers = client.get(f"/reseller/api/sub-resellers/{node.code}/customers", headers=headers)
        assert customers.status_code == 200
        assert [c["portal_id"] for c in customers.get_json()][0] == node.customers[0][1]

    grand = client.get(f"/reseller/api/sub-resellers/{tree.grandchild.code}/customers?page_size=1", headers=headers)
    assert len(grand.get_json()) == 1 and '"total": 2' in grand.headers["X-Pagination"]
    active = client.get(f"/reseller/api/sub-resellers/{tree.grandchild.code}/customers?status=Active", headers=headers)
    assert [c["status"] for c in active.get_json()] == ["Active"]

    child = client.get(f"/reseller/api/sub-resellers/{tree.child.code}", headers=headers).get_json()
    assert child["children"] == [tree.grandchild.code]
    assert child["figures"]["customers"] == 1 and child["consolidated"]["customers"] == 3  # child + grandchild's 2
    summary = client.get("/reseller/api/sub-resellers/summary", headers=headers).get_json()
    assert summary["own"]["customers"] == 1 and summary["sub_resellers"] == 3
    assert summary["consolidated"]["customers"] == 5 and summary["consolidated"]["active_customers"] == 1


def test_a_child_sees_down_never_up_or_sideways(app, tree):
    client = app.test_client()
    headers = sign_in(client, tree.child.host, tree.child.admin)
    assert _codes(client.get("/reseller/api/sub-resellers", headers=headers)) == [tree.grandchild.code]
    summary = client.get("/reseller/api/sub-resellers/summary", headers=headers).get_json()
    assert summary["sub_resellers"] == 1 and summary["consolidated"]["customers"] == 2
    for code in (tree.root.code, tree.sibling.code, tree.child.code, "NO_SUCH_CODE"):
        for path in (f"/reseller/api/sub-resellers/{code}", f"/reseller/api/sub-resellers/{code}/customers"):
            reply = client.get(path, headers=headers)
            assert reply.status_code == 404, (path, reply.get_json())
            assert reply.get_json()["detail"] == f"no sub-reseller with code {code!r}"  # the same whether it exists

    grand = sign_in(client, tree.grandchild.host, tree.grandchild.admin)
    assert _codes(client.get("/reseller/api/sub-resellers", headers=grand)) == []
    for code in (tree.root.code, tree.child.code, tree.sibling.code):
        assert client.get(f"/reseller/api/sub-resellers/{code}/customers", headers=grand).status_code == 404

    sibling = sign_in(client, tree.sibling.host, tree.sibling.admin)
    assert _codes(client.get("/reseller/api/sub-resellers", headers=sibling)) == []
    for code in (tree.child.code, tree.grandchild.code):
        assert client.get(f"/reseller/api/sub-resellers/{code}", headers=sibling).status_code == 404


def test_a_childs_token_never_reaches_its_parents_portal(app, tree):
    client = app.test_client()
    child = sign_in(client, tree.child.host, tree.child.admin)
    stolen = {**child, "Host": tree.root.host}
    assert client.get("/reseller/api/sub-resellers", headers=stolen).status_code == 401
    assert client.get(f"/reseller/api/sub-resellers/{tree.grandchild.code}", headers=stolen).status_code == 401


def test_read_permissions(app, db, tree):
    client = app.test_client()
    viewer = sign_in(client, tree.root.host, tree.root.viewer)  # Readonly: finance.reports and customers.view
    assert client.get("/reseller/api/sub-resellers", headers=viewer).status_code == 200
    assert client.get(f"/reseller/api/sub-resellers/{tree.child.code}/customers", headers=viewer).status_code == 200
    assert client.patch(f"/reseller/api/sub-resellers/{tree.child.code}", json={"name": "x"},
                        headers=viewer).status_code == 403
    agent = sign_in(client, tree.root.host, tree.root.agent)  # User: customers.view, not finance.reports
    assert client.get("/reseller/api/sub-resellers", headers=agent).status_code == 403
    assert client.get(f"/reseller/api/sub-resellers/{tree.child.code}/customers", headers=agent).status_code == 200

    # a user restricted to some of the parent's own customers sees none of a sub-reseller's
    from app.services.auth import users
    from tenants import tenant_context

    with db.session() as s, tenant_context(tree.root.tenant):
        restricted = users.create_user(s, username="restricted@abc.example", email="restricted@abc.example",
                                       role="User", password="Str0ng#Pass",
                                       allowed_customer_ids=[tree.root.customers[0][0]])[0]
    headers = sign_in(client, tree.root.host, restricted.username)
    assert client.get(f"/reseller/api/sub-resellers/{tree.child.code}/customers", headers=headers).status_code == 403


def test_a_parent_reads_one_of_its_descendants_customers_and_nobody_else_does(app, db, tree):
    """The customer read-only in the descendant's schema (profile, services, balance, latest invoices); the same
    customer id asked through a sibling's or the parent's code, or by the child about its parent, is not found."""
    client = app.test_client()
    headers = sign_in(client, tree.root.host, tree.root.admin)
    customer_id, portal_id = tree.grandchild.customers[0]
    reply = client.get(f"/reseller/api/sub-resellers/{tree.grandchild.code}/customers/{customer_id}", headers=headers)
    assert reply.status_code == 200, reply.get_json()
    body = reply.get_json()
    assert body["portal_id"] == portal_id and body["services"] == [] and body["invoices"] == []
    assert body["balance"]["balance"] == "0.00" and body["balance"]["currency"]
    assert client.get(f"/reseller/api/sub-resellers/{tree.grandchild.code}/customers/999999999",
                      headers=headers).status_code == 404
    child = sign_in(client, tree.child.host, tree.child.admin)
    for code in (tree.root.code, tree.sibling.code):
        assert client.get(f"/reseller/api/sub-resellers/{code}/customers/{customer_id}",
                          headers=child).status_code == 404
    assert client.get(f"/reseller/api/sub-resellers/{tree.grandchild.code}/customers/{customer_id}",
                      headers=child).status_code == 200  # the grandchild is the child's descendant too
