"""A reseller integration acting as the reseller: client credentials, bound to its tenant's hosts."""

import base64

from tests.oauth.conftest import bearer, client_token, register


def test_client_credentials_token_is_bound_to_its_tenant(client, reseller):
    mine, other = reseller(), reseller()
    integration = register(client, mine, scopes=["customers.view", "finance.view"])
    response = client_token(client, integration, scope="customers.view")
    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600 and body["scope"] == "customers.view"
    assert "refresh_token" not in body  # RFC 6749 §4.4.3: none for client credentials
    assert body["access_token"].startswith(f"bho.{mine.tenant.id}.")
    assert response.headers["Cache-Control"] == "no-store"

    # a client acting for itself is not a signed-in user: authenticated, but refused by a user-only view
    me = client.get("/reseller/auth/me", headers=bearer(body["access_token"], mine.host))
    assert me.status_code == 403 and me.content_type == "application/problem+json"
    # on another reseller's host the token is refused before anything is looked up
    elsewhere = client.get("/reseller/auth/me", headers=bearer(body["access_token"], other.host))
    assert elsewhere.status_code == 401
    # on the master ISP's console host the token enters its own tenant: still the client, still 403
    console = client.get("/reseller/auth/me", headers=bearer(body["access_token"], "console.test.example"))
    assert console.status_code == 403


def test_omitted_scope_means_everything_the_client_may_have(client, reseller):
    integration = register(client, reseller(), scopes=["customers.view", "finance.view"])
    assert client_token(client, integration).get_json()["scope"] == "customers.view finance.view"


def test_scope_beyond_the_client_is_invalid_scope(client, reseller):
    integration = register(client, reseller(), scopes=["customers.view"])
    for scope in ("customers.view finance.billing", "finance.billing", "no.such.permission"):
        response = client_token(client, integration, scope=scope)
        assert response.status_code == 400, scope
        assert response.get_json()["error"] == "invalid_scope"


def test_wrong_or_foreign_credentials_are_invalid_client(client, reseller):
    mine, other = reseller(), reseller()
    integration = register(client, mine)
    wrong = base64.b64encode(f"{integration.client_id}:not-the-secret".encode()).decode()
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           headers={"Host": mine.host, "Authorization": f"Basic {wrong}"})
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"
    # the right credentials on another reseller's host: that client does not exist there
    foreign = {**integration.basic, "Host": other.host}
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=foreign)
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"


def test_client_secret_post_when_registered_so(client, reseller):
    owner = reseller()
    integration = register(client, owner, token_endpoint_auth_method="client_secret_post")
    form = {"grant_type": "client_credentials", "client_id": integration.client_id,
            "client_secret": integration.secret}
    assert client.post("/oauth/token", data=form, headers={"Host": owner.host}).status_code == 200
    # the registered method is the only one accepted
    assert client_token(client, integration).status_code == 401


def test_grant_the_client_was_not_registered_for(client, reseller):
    integration = register(client, reseller())
    response = client.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": "x" * 40},
                           headers=integration.basic)
    assert response.status_code == 400 and response.get_json()["error"] == "unauthorized_client"
    response = client.post("/oauth/token", data={"grant_type": "password", "username": "a", "password": "b"},
                           headers=integration.basic)
    assert response.get_json()["error"] == "unsupported_grant_type"


def test_not_on_the_console_host(client, reseller):
    integration = register(client, reseller())
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           headers={**integration.basic, "Host": "console.test.example"})
    assert response.status_code == 404
