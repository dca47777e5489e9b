"""RFC 7009 revocation and RFC 7662 introspection, each confined to the client's own tenant."""

import base64

from tests.oauth.conftest import bearer, client_token, introspect, register, register_app, user_tokens


def revoke(client, by, token, **extra):
    return client.post("/oauth/revoke", data={"token": token, **extra}, headers=by.basic)


def test_revoked_access_token_stops_working(client, reseller):
    owner = reseller()
    app_client = register_app(client, owner)
    tokens = user_tokens(client, owner, app_client)
    headers = bearer(tokens["access_token"], owner.host)
    assert client.get("/reseller/auth/me", headers=headers).status_code == 200
    response = revoke(client, app_client, tokens["access_token"], token_type_hint="access_token")
    assert response.status_code == 200
    assert client.get("/reseller/auth/me", headers=headers).status_code == 401
    # revoking an access token leaves the grant itself alive
    again = client.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                        headers=app_client.basic)
    assert again.status_code == 200


def test_revoking_the_refresh_token_ends_the_grant(client, reseller):
    owner = reseller()
    app_client = register_app(client, owner)
    tokens = user_tokens(client, owner, app_client)
    assert revoke(client, app_client, tokens["refresh_token"]).status_code == 200
    assert client.get("/reseller/auth/me", headers=bearer(tokens["access_token"], owner.host)).status_code == 401
    refreshed = client.post("/oauth/token", data={"grant_type": "refresh_token",
                                                  "refresh_token": tokens["refresh_token"]}, headers=app_client.basic)
    assert refreshed.get_json()["error"] == "invalid_grant"


def test_unknown_tokens_get_the_same_answer(client, reseller):
    integration = register(client, reseller())
    response = revoke(client, integration, "bho.1.never-issued-never-issued-never-issued")
    assert response.status_code == 200


def test_a_client_cannot_revoke_another_clients_token(client, reseller):
    owner = reseller()
    integration, other = register(client, owner), register(client, owner, name="Other")
    token = client_token(client, integration).get_json()["access_token"]
    assert revoke(client, other, token).status_code == 400
    assert client.post("/oauth/introspect", data={"token": token}, headers=integration.basic).get_json()["active"]


def test_revocation_needs_client_authentication(client, reseller):
    owner = reseller()
    integration = register(client, owner)
    token = client_token(client, integration).get_json()["access_token"]
    response = client.post("/oauth/revoke", data={"token": token}, headers={"Host": owner.host})
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"
    assert introspect(client, integration, token).get_json()["active"] is True


def test_introspection_of_client_and_user_tokens(client, reseller):
    owner = reseller()
    integration = register(client, owner, scopes=["customers.view", "finance.view"])
    app_client = register_app(client, owner)
    own = client_token(client, integration, scope="finance.view").get_json()["access_token"]
    body = introspect(client, integration, own).get_json()
    assert body["active"] is True and body["scope"] == "finance.view" and body["token_type"] == "Bearer"
    assert body["client_id"] == integration.client_id and body["sub"] == f"client:{integration.client_id}"
    assert body["tenant_id"] == owner.tenant.id and body["exp"] - body["iat"] == 3600

    tokens = user_tokens(client, owner, app_client)
    body = introspect(client, integration, tokens["access_token"]).get_json()  # same tenant, other client
    assert body["active"] is True and body["sub"] == f"user:{owner.user_id}" and body["username"] == owner.username
    refresh = introspect(client, integration, tokens["refresh_token"], token_type_hint="refresh_token").get_json()
    assert refresh["active"] is True and refresh["token_type"] == "refresh_token"

    revoke(client, app_client, tokens["access_token"])
    assert introspect(client, integration, tokens["access_token"]).get_json() == {"active": False}
    assert introspect(client, integration, "bho.1.garbage-garbage-garbage-garbage").get_json() == {"active": False}


def test_introspection_is_refused_to_another_tenants_client(client, reseller):
    owner, other = reseller(), reseller()
    integration, stranger = register(client, owner), register(client, other)
    token = client_token(client, integration).get_json()["access_token"]
    # on the token's host the stranger does not exist; on its own host the token does not
    on_owner = client.post("/oauth/introspect", data={"token": token}, headers={**stranger.basic, "Host": owner.host})
    assert on_owner.status_code == 401 and on_owner.get_json()["error"] == "invalid_client"
    assert introspect(client, stranger, token).get_json() == {"active": False}


def test_introspection_needs_a_confidential_client(client, reseller):
    owner = reseller()
    integration = register(client, owner)
    public_app = register_app(client, owner, token_endpoint_auth_method="none")
    token = client_token(client, integration).get_json()["access_token"]
    anonymous = client.post("/oauth/introspect", data={"token": token, "client_id": public_app.client_id},
                            headers={"Host": owner.host})
    assert anonymous.status_code == 401 and anonymous.get_json()["error"] == "invalid_client"
    assert client.post("/oauth/introspect", data={"token": token}, headers={"Host": owner.host}).status_code == 401
    wrong = base64.b64encode(f"{integration.client_id}:wrong".encode()).decode()
    response = client.post("/oauth/introspect", data={"token": token},
                           headers={"Host": owner.host, "Authorization": f"Basic {wrong}"})
    assert response.status_code == 401
