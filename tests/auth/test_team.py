"""A reseller's team: users and roles through the API, within the permissions of the caller."""

from tests.auth.conftest import bearer, reseller_login


def _admin(client, accounts):
    acc = accounts()
    return acc, bearer(reseller_login(client, acc).get_json()["token"], acc.host)


def test_admin_creates_a_manager_as_in_the_reseller_journey(client, accounts):
    acc, headers = _admin(client, accounts)
    body = {"username": "manager1", "email": "manager@abc-internet.com", "first_name": "Jane", "last_name": "Smith",
            "role": "Manager", "permissions": ["customers.delete"], "allowed_customer_ids": [],
            "ip_whitelist": ["192.168.1.0/24"], "department": "Customer Service"}
    created = client.post("/reseller/api/users", json=body, headers=headers)
    assert created.status_code == 201, created.get_json()
    out = created.get_json()
    assert out["role"] == "Manager" and out["ip_whitelist"] == ["192.168.1.0/24"]
    assert "customers.delete" in out["effective_permissions"] and "users.admin" not in out["effective_permissions"]
    generated = out["generated_password"]
    assert generated and len(generated) >= 12
    login = client.post("/reseller/auth/login", json={"username": "manager1", "password": generated},
                        headers={"Host": acc.host}, environ_base={"REMOTE_ADDR": "192.168.1.20"})
    assert login.status_code == 200
    listed = client.get("/reseller/api/users", headers=headers).get_json()
    assert "generated_password" not in listed[1] and [u["username"] for u in listed][1] == "manager1"


def test_custom_role_and_its_limits(client, accounts):
    acc, headers = _admin(client, accounts)
    role = client.post("/reseller/api/roles", json={"name": "Collections", "permissions": ["finance.view",
                                                                                         "finance.payments"]},
                       headers=headers)
    assert role.status_code == 201
    bad = client.post("/reseller/api/roles", json={"name": "X", "permissions": ["root.everything"]}, headers=headers)
    assert bad.status_code == 422
    roles = client.get("/reseller/api/roles", headers=headers).get_json()
    assert [r["name"] for r in roles] == ["Admin", "Manager", "User", "Readonly", "Collections"]
    builtin = roles[0]["id"]
    assert client.patch(f"/reseller/api/roles/{builtin}", json={"permissions": []}, headers=headers).status_code == 409
    user = client.post("/reseller/api/users", json={"username": "cash", "email": "cash@x.example",
                                                    "role": "Collections", "password": "C0llect#ions"},
                       headers=headers)
    assert user.get_json()["effective_permissions"] == ["finance.payments", "finance.view"]
    in_use = client.delete(f"/reseller/api/roles/{role.get_json()['id']}", headers=headers)
    assert in_use.status_code == 409


def test_readonly_can_read_the_team_and_nothing_else(client, accounts):
    acc = accounts(role="Readonly")
    headers = bearer(reseller_login(client, acc).get_json()["token"], acc.host)
    assert client.get("/reseller/api/users", headers=headers).status_code == 200
    refused = client.post("/reseller/api/users", json={"username": "x", "email": "x@x.example", "role": "Admin"},
                          headers=headers)
    assert refused.status_code == 403 and "users.admin" in refused.get_json()["detail"]


def test_team_is_per_tenant(client, accounts):
    a, headers_a = _admin(client, accounts)
    b, headers_b = _admin(client, accounts)
    client.post("/reseller/api/users", json={"username": "only-in-a", "email": "a@x.example", "role": "User"},
                headers=headers_a)
    names_b = [u["username"] for u in client.get("/reseller/api/users", headers=headers_b).get_json()]
    assert "only-in-a" not in names_b and names_b == [b.username]
