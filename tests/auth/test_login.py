"""Signing in as each kind of principal, on the right host and only there."""

from app.models import PortalAccount, User
from tenants import tenant_context
from tests.auth.conftest import PASSWORD, bearer, reseller_login

CONSOLE = "console.test.example"


def test_reseller_user_signs_in_on_their_host(client, accounts):
    acc = accounts()
    response = reseller_login(client, acc)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["token"].startswith(f"bhs.{acc.tenant.id}.")
    assert body["principal"]["kind"] == "user" and "users.admin" in body["principal"]["permissions"]
    assert "bh_session=" in response.headers["Set-Cookie"] and "HttpOnly" in response.headers["Set-Cookie"]
    me = client.get("/reseller/auth/me", headers={"Host": acc.host})  # the cookie alone is enough
    assert me.status_code == 200 and me.get_json()["name"] == acc.username


def test_reseller_code_on_the_console_host_or_must_match_the_domain(client, accounts):
    acc = accounts()
    on_console = reseller_login(client, acc, host=CONSOLE, reseller_code=acc.tenant.code)
    assert on_console.status_code == 200
    token = on_console.get_json()["token"]
    assert client.get("/reseller/auth/me", headers=bearer(token, CONSOLE)).status_code == 200
    assert reseller_login(client, acc, host=CONSOLE).status_code == 401  # no code on the console host
    other = accounts()
    wrong = reseller_login(client, acc, reseller_code=other.tenant.code)
    assert wrong.status_code == 401


def test_a_token_of_tenant_a_is_refused_on_tenant_b(client, accounts):
    a, b = accounts(), accounts()
    token = reseller_login(client, a).get_json()["token"]
    refused = client.get("/reseller/auth/me", headers=bearer(token, b.host))
    assert refused.status_code == 401
    assert refused.get_json()["type"] == "/problems/unauthenticated"
    # and a's user cannot sign in on b's host either
    assert reseller_login(client, a, host=b.host).status_code == 401


def test_customer_signs_in_with_portal_id_only_at_their_reseller(client, accounts):
    a, b = accounts(), accounts()
    body = {"portal_id": a.portal_id.lower(), "password": PASSWORD}
    response = client.post("/portal/auth/login", json=body, headers={"Host": a.host})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["principal"] == {**response.get_json()["principal"], "kind": "customer",
                                                "id": a.customer_id}
    assert client.post("/portal/auth/login", json=body, headers={"Host": b.host}).status_code == 401
    assert client.post("/portal/auth/login", json=body, headers={"Host": CONSOLE}).status_code == 404


def test_customer_may_use_email_only_where_the_reseller_enables_it(client, db, accounts):
    from app.services.settings import put_setting

    acc = accounts()
    body = {"portal_id": acc.customer_email, "password": PASSWORD}
    assert client.post("/portal/auth/login", json=body, headers={"Host": acc.host}).status_code == 401
    with db.session() as s, tenant_context(acc.tenant):
        put_setting(s, "customers", {"require_approval": False, "login_with_email": True})
    assert client.post("/portal/auth/login", json=body, headers={"Host": acc.host}).status_code == 200


def test_staff_sign_in_on_the_console_host_only(client, staff, accounts):
    body = {"email": staff, "password": PASSWORD}
    response = client.post("/console/auth/login", json=body, headers={"Host": CONSOLE})
    assert response.status_code == 200
    assert response.get_json()["token"].startswith("bhs.0.")
    assert client.get("/console/auth/me", headers=bearer(response.get_json()["token"], CONSOLE)).status_code == 200
    acc = accounts()
    assert client.post("/console/auth/login", json=body, headers={"Host": acc.host}).status_code == 404


def test_wrong_password_unknown_user_and_bad_input(client, accounts):
    acc = accounts()
    wrong = reseller_login(client, acc, password="Wrong#Pass1")
    assert wrong.status_code == 401 and wrong.get_json()["type"] == "/problems/invalid-credentials"
    unknown = client.post("/reseller/auth/login", json={"username": "nobody", "password": "x"},
                          headers={"Host": acc.host})
    assert unknown.status_code == 401 and unknown.get_json()["detail"] == wrong.get_json()["detail"]
    missing = client.post("/reseller/auth/login", json={"username": "x"}, headers={"Host": acc.host})
    assert missing.status_code == 422 and "password" in missing.get_json()["errors"]["json"]


def test_argon2id_parameters_read_back_from_the_stored_hash(db, accounts):
    acc = accounts()
    with db.session() as s, tenant_context(acc.tenant):
        stored = s.get(User, acc.user_id).password_hash
        portal = s.get(PortalAccount, acc.customer_id).password_hash
    for hashed in (stored, portal):
        head = hashed.split("$")
        assert head[1] == "argon2id"
        settings = dict(kv.split("=") for kv in head[3].split(","))
        assert int(settings["m"]) >= 19 * 1024 and int(settings["t"]) >= 2 and int(settings["p"]) >= 1


def test_ip_allowlist_of_a_reseller_user(client, accounts):
    acc = accounts(ip_whitelist=["10.0.0.0/8"])
    refused = reseller_login(client, acc)
    assert refused.status_code == 403 and refused.get_json()["type"] == "/problems/address-not-allowed"
    inside = client.post("/reseller/auth/login", json={"username": acc.username, "password": PASSWORD},
                         headers={"Host": acc.host}, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert inside.status_code == 200
    token = inside.get_json()["token"]
    # the token is no good from an address outside the list either
    assert client.get("/reseller/auth/me", headers=bearer(token, acc.host)).status_code == 403


def test_a_closed_customer_cannot_sign_in_a_suspended_one_can(client, db, accounts):
    from app.services import customers

    acc = accounts()
    body = {"portal_id": acc.portal_id, "password": PASSWORD}
    with db.session() as s, tenant_context(acc.tenant):
        customers.change_status(s, acc.customer_id, "Active", "installed")
        customers.change_status(s, acc.customer_id, "Suspended", "unpaid")
    assert client.post("/portal/auth/login", json=body, headers={"Host": acc.host}).status_code == 200
    with db.session() as s, tenant_context(acc.tenant):
        customers.change_status(s, acc.customer_id, "Inactive", "moved away")
    assert client.post("/portal/auth/login", json=body, headers={"Host": acc.host}).status_code == 401
