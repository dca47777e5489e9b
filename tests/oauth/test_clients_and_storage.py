"""Client management by a reseller's admin, server metadata, and what ends up in the database."""

from sqlalchemy import text

from tests.oauth.conftest import (
    add_user,
    bearer,
    client_token,
    exchange,
    get_code,
    pkce,
    register,
    register_app,
    sign_in,
    user_tokens,
)


def test_secret_is_shown_once_and_the_list_never_has_it(client, reseller):
    owner = reseller()
    created = client.post("/reseller/api/oauth-clients", json={
        "name": "Billing sync", "grant_types": ["client_credentials"], "scopes": ["customers.view"]},
        headers=owner.admin)
    assert created.status_code == 201
    body = created.get_json()
    assert body["client_secret"] and body["client_id"].startswith("bhc_")
    assert body["created_by"] == f"user {owner.user_id} ({owner.username})"
    listed = client.get("/reseller/api/oauth-clients", headers=owner.admin).get_json()
    assert [c["client_id"] for c in listed] == [body["client_id"]]
    assert "client_secret" not in listed[0]


def test_only_admins_manage_clients_and_only_their_own(client, db, reseller):
    owner, other = reseller(), reseller()
    integration = register(client, owner)
    _, username = add_user(db, owner.tenant, "Manager")
    manager = bearer(sign_in(client, owner.host, username), owner.host)
    assert client.get("/reseller/api/oauth-clients", headers=manager).status_code == 403
    assert client.get("/reseller/api/oauth-clients", headers=other.admin).get_json() == []
    assert client.delete(f"/reseller/api/oauth-clients/{integration.client_id}", headers=other.admin).status_code == 404
    assert client_token(client, integration).status_code == 200


def test_a_client_never_gets_more_than_its_creator_holds(client, db, reseller):
    from app.services.auth import users
    from tenants import tenant_context

    owner = reseller()
    user_id, username = add_user(db, owner.tenant, "Readonly")
    with db.session() as s, tenant_context(owner.tenant):
        users.update_user(s, user_id, permissions=["users.admin"])
    limited = bearer(sign_in(client, owner.host, username), owner.host)
    body = {"name": "Escalator", "grant_types": ["client_credentials"], "scopes": ["finance.billing"]}
    response = client.post("/reseller/api/oauth-clients", json=body, headers=limited)
    assert response.status_code == 422 and response.content_type == "application/problem+json"
    body["scopes"] = ["finance.view"]
    assert client.post("/reseller/api/oauth-clients", json=body, headers=limited).status_code == 201


def test_bad_registrations_are_refused(client, reseller):
    owner = reseller()
    base = {"name": "App", "grant_types": ["authorization_code"], "scopes": ["customers.view"]}
    for uris in ([], ["https://app.example.com/*"], ["https://*.example.com/cb"], ["http://app.example.com/cb"],
                 ["https://app.example.com/cb#frag"], ["app.example.com/cb"], ["https://user:pw@app.example.com/"],
                 [" https://app.example.com/cb"], ["javascript:alert(1)"]):
        response = client.post("/reseller/api/oauth-clients", json={**base, "redirect_uris": uris}, headers=owner.admin)
        assert response.status_code == 422, uris
    for extra in ({"scopes": ["no.such"]}, {"scopes": []}, {"grant_types": ["refresh_token"]},
                  {"grant_types": ["implicit"]},
                  {"grant_types": ["client_credentials"], "token_endpoint_auth_method": "none"}):
        response = client.post("/reseller/api/oauth-clients", json={**base, "redirect_uris": [], **extra},
                               headers=owner.admin)
        assert response.status_code == 422, extra
    loopback = {**base, "redirect_uris": ["http://localhost:8765/cb", "http://127.0.0.1/cb"]}
    assert client.post("/reseller/api/oauth-clients", json=loopback, headers=owner.admin).status_code == 201


def test_deleting_a_client_ends_its_tokens(client, reseller):
    owner = reseller()
    app_client = register_app(client, owner)
    tokens = user_tokens(client, owner, app_client)
    response = client.delete(f"/reseller/api/oauth-clients/{app_client.client_id}", headers=owner.admin)
    assert response.status_code == 204
    assert client.get("/reseller/auth/me", headers=bearer(tokens["access_token"], owner.host)).status_code == 401
    refreshed = client.post("/oauth/token", data={"grant_type": "refresh_token",
                                                  "refresh_token": tokens["refresh_token"]}, headers=app_client.basic)
    assert refreshed.status_code == 401 and refreshed.get_json()["error"] == "invalid_client"
    assert client.get("/reseller/api/oauth-clients", headers=owner.admin).get_json() == []


def test_metadata_describes_this_hosts_server(client, reseller):
    owner = reseller()
    response = client.get("/.well-known/oauth-authorization-server", headers={"Host": owner.host})
    assert response.status_code == 200
    body = response.get_json()
    issuer = f"http://{owner.host}"
    assert body["issuer"] == issuer
    assert body["authorization_endpoint"] == issuer + "/oauth/authorize"
    assert body["token_endpoint"] == issuer + "/oauth/token"
    assert body["revocation_endpoint"] == issuer + "/oauth/revoke"
    assert body["introspection_endpoint"] == issuer + "/oauth/introspect"
    assert body["code_challenge_methods_supported"] == ["S256"]
    assert set(body["grant_types_supported"]) == {"authorization_code", "client_credentials", "refresh_token"}
    assert body["response_types_supported"] == ["code"] and "customers.view" in body["scopes_supported"]
    assert client.get("/.well-known/oauth-authorization-server",
                      headers={"Host": "console.test.example"}).status_code == 404


def test_tokens_codes_and_secrets_are_stored_hashed(client, db, reseller):
    owner = reseller()
    integration = register(client, owner)
    app_client = register_app(client, owner)
    secrets = [integration.secret, app_client.secret]
    tokens = user_tokens(client, owner, app_client)
    refreshed = client.post("/oauth/token", data={"grant_type": "refresh_token",
                                                  "refresh_token": tokens["refresh_token"]},
                            headers=app_client.basic).get_json()
    own = client_token(client, integration).get_json()
    verifier, challenge = pkce()
    code = get_code(client, owner, app_client, (verifier, challenge))
    assert exchange(client, app_client, code, verifier).status_code == 200
    raw = [*secrets, code, tokens["access_token"], tokens["refresh_token"], refreshed["access_token"],
           refreshed["refresh_token"], own["access_token"]]
    with db.engine.connect() as conn:
        dump = "\n".join(
            str(row) for table in ("oauth_clients", "oauth_codes", "oauth_tokens")
            for row in conn.execute(text(f"SELECT * FROM public.{table} WHERE tenant_id = :t"), {"t": owner.tenant.id})
        )
    assert dump.count("\n") >= 5
    for value in raw:
        assert value not in dump and value.rsplit(".", 1)[-1] not in dump
