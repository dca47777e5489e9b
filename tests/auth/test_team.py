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


def test_an_admin_sees_where_the_team_is_signed_in_and_ends_a_members_session(client, accounts):
    acc, headers = _admin(client, accounts)
    made = client.post("/reseller/api/users", json={"username": "field-agent", "email": "agent@x.example",
                                                     "role": "Readonly", "password": "Fi3ld#Agent22"}, headers=headers)
    agent_id = made.get_json()["id"]
    agent_login = client.post("/reseller/auth/login", json={"username": "field-agent", "password": "Fi3ld#Agent22"},
                              headers={"Host": acc.host, "User-Agent": "AgentPhone/1.0"})
    agent = bearer(agent_login.get_json()["token"], acc.host)

    listed = client.get("/reseller/api/users/sessions", headers=headers)
    assert listed.status_code == 200
    rows = {(r["username"], r["current"]): r for r in listed.get_json()}
    assert (acc.username, True) in rows  # the caller's own session, marked
    theirs = rows[("field-agent", False)]
    assert theirs["user_id"] == agent_id and theirs["user_agent"] == "AgentPhone/1.0"

    # a Readonly member reads the list but may not end anyone's session
    assert client.get("/reseller/api/users/sessions", headers=agent).status_code == 200
    mine = next(r for r in listed.get_json() if r["username"] == acc.username)
    refused = client.delete(f"/reseller/api/users/{acc.user_id}/sessions/{mine['id']}", headers=agent)
    assert refused.status_code == 403 and "users.admin" in refused.get_json()["detail"]

    ended = client.delete(f"/reseller/api/users/{agent_id}/sessions/{theirs['id']}", headers=headers)
    assert ended.status_code == 204
    assert client.get("/reseller/api/users", headers=agent).status_code == 401  # that device is signed out
    again = client.delete(f"/reseller/api/users/{agent_id}/sessions/{theirs['id']}", headers=headers)
    assert again.status_code == 404 and again.content_type == "application/problem+json"
    left = [r["username"] for r in client.get("/reseller/api/users/sessions", headers=headers).get_json()]
    assert "field-agent" not in left


def test_a_session_of_another_resellers_team_is_not_found(client, accounts):
    a, headers_a = _admin(client, accounts)
    b, headers_b = _admin(client, accounts)
    b_session = client.get("/reseller/api/users/sessions", headers=headers_b).get_json()[0]
    assert client.delete(f"/reseller/api/users/{b.user_id}/sessions/{b_session['id']}",
                         headers=headers_a).status_code == 404
    assert [r["username"] for r in client.get("/reseller/api/users/sessions", headers=headers_a).get_json()] == [
        a.username]
    assert client.get("/reseller/api/users", headers=headers_b).status_code == 200  # b is still signed in
