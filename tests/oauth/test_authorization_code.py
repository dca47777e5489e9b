"""Third-party apps acting for a reseller user: authorization code with PKCE (S256 only), exact redirect
URIs, single-use codes, and a grant that never exceeds the user."""

import pytest

from tests.oauth.conftest import (
    REDIRECT,
    add_user,
    approve,
    authorize_params,
    bearer,
    exchange,
    get_code,
    introspect,
    pkce,
    redirect_params,
    register,
    register_app,
    sign_in,
    user_tokens,
)


def test_signed_out_visitor_is_told_where_to_sign_in(client, reseller):
    owner = reseller()
    app_client = register_app(client, owner)
    response = client.get("/oauth/authorize", query_string=authorize_params(app_client, pkce()[1]),
                          headers={"Host": owner.host})
    assert response.status_code == 401 and response.content_type == "application/problem+json"
    body = response.get_json()
    assert body["sign_in"] == "/reseller/auth/login" and body["return_to"].startswith("/oauth/authorize?")


def test_consent_shows_the_app_and_what_it_asks_for(client, reseller):
    owner = reseller()
    app_client = register_app(client, owner)
    params = authorize_params(app_client, pkce()[1])
    response = client.get("/oauth/authorize", query_string=params, headers=owner.admin)
    assert response.status_code == 200
    body = response.get_json()
    assert body["client"] == {"client_id": app_client.client_id, "name": "Field app"}
    assert [s["scope"] for s in body["requested"]] == ["customers.view", "users.view"]
    assert body["granted"] == ["customers.view", "users.view"] and body["withheld"] == []
    assert body["redirect_uri"] == REDIRECT and body["state"] == "xyz-123"


def test_the_consent_cookie_of_the_portal_is_enough(client, reseller):
    owner = reseller()
    app_client = register_app(client, owner)
    browser = client.application.test_client()
    sign_in(browser, owner.host, owner.username)  # sets the session cookie
    response = browser.post("/oauth/authorize", query_string=authorize_params(app_client, pkce()[1]),
                            json={"confirm": True}, headers={"Host": owner.host})
    assert "code" in redirect_params(response)


def test_code_flow_gives_a_user_token_for_its_own_host_only(client, reseller):
    owner, other = reseller(), reseller()
    app_client = register_app(client, owner)
    verifier, challenge = pkce()
    got = redirect_params(approve(client, owner.host, owner.token, authorize_params(app_client, challenge)))
    assert got["_base"] == REDIRECT and got["state"] == "xyz-123"
    response = exchange(client, app_client, got["code"], verifier)
    assert response.status_code == 200, response.get_json()
    tokens = response.get_json()
    assert tokens["scope"] == "customers.view users.view" and tokens["expires_in"] == 3600
    assert tokens["refresh_token"].startswith(f"bhrt.{owner.tenant.id}.")

    me = client.get("/reseller/auth/me", headers=bearer(tokens["access_token"], owner.host))
    assert me.status_code == 200
    assert me.get_json()["id"] == owner.user_id
    assert me.get_json()["permissions"] == ["customers.view", "users.view"]  # the token's scope, not Admin's
    assert client.get("/reseller/api/users", headers=bearer(tokens["access_token"], owner.host)).status_code == 200
    assert client.get("/reseller/auth/me", headers=bearer(tokens["access_token"], other.host)).status_code == 401
    console = client.get("/reseller/auth/me", headers=bearer(tokens["access_token"], "console.test.example"))
    assert console.status_code == 200 and console.get_json()["tenant_id"] == owner.tenant.id


def test_a_token_cannot_do_what_its_scope_leaves_out(client, reseller):
    owner = reseller()
    tokens = user_tokens(client, owner, register_app(client, owner), scope="customers.view")
    assert client.get("/reseller/api/users", headers=bearer(tokens["access_token"], owner.host)).status_code == 403


def test_denial_goes_back_to_the_app(client, reseller):
    owner = reseller()
    app_client = register_app(client, owner)
    got = redirect_params(approve(client, owner.host, owner.token, authorize_params(app_client, pkce()[1]),
                                  confirm=False))
    assert got["error"] == "access_denied" and got["state"] == "xyz-123" and "code" not in got


# -- PKCE -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("extra", [
    {"code_challenge": None, "code_challenge_method": None},        # no PKCE at all
    {"code_challenge_method": None},                                # challenge without a method (means plain)
    {"code_challenge_method": "plain"},
    {"code_challenge_method": "s256"},
    {"code_challenge": "too-short"},
])
def test_authorization_without_s256_pkce_is_refused(client, reseller, extra):
    owner = reseller()
    app_client = register_app(client, owner)
    params = {**authorize_params(app_client, pkce()[1]), **extra}
    params = {k: v for k, v in params.items() if v is not None}
    for response in (client.get("/oauth/authorize", query_string=params, headers=owner.admin),
                     approve(client, owner.host, owner.token, params)):
        got = redirect_params(response)
        assert got["error"] == "invalid_request" and "code" not in got and got["state"] == "xyz-123"


def test_verifier_must_match_the_challenge(client, reseller):
    owner = reseller()
    app_client = register_app(client, owner)
    verifier, challenge = pkce()
    code = get_code(client, owner, app_client, (verifier, challenge))

    missing = exchange(client, app_client, code, None)
    assert missing.status_code == 400 and missing.get_json()["error"] == "invalid_request"
    wrong = exchange(client, app_client, code, pkce()[0])
    assert wrong.status_code == 400 and wrong.get_json()["error"] == "invalid_grant"
    plain = exchange(client, app_client, code, challenge)  # the challenge itself, as `plain` would accept
    assert plain.status_code == 400
    right = exchange(client, app_client, code, verifier)
    assert right.status_code == 200 and right.get_json()["access_token"].startswith("bho.")


def test_public_client_uses_pkce_without_a_secret(client, reseller):
    owner = reseller()
    app_client = register_app(client, owner, token_endpoint_auth_method="none")
    assert app_client.secret is None
    verifier, challenge = pkce()
    code = get_code(client, owner, app_client, (verifier, challenge))
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "client_id": app_client.client_id}
    assert client.post("/oauth/token", data=form, headers={"Host": owner.host}).status_code == 400
    response = client.post("/oauth/token", data={**form, "code_verifier": verifier}, headers={"Host": owner.host})
    assert response.status_code == 200


# -- codes ----------------------------------------------------------------------------------------------
def test_code_reuse_revokes_what_the_first_use_issued(client, reseller):
    owner = reseller()
    app_client = register_app(client, owner)
    integration = register(client, owner)  # a confidential client of the tenant, to introspect with
    verifier, challenge = pkce()
    code = get_code(client, owner, app_client, (verifier, challenge))
    first = exchange(client, app_client, code, verifier).get_json()
    assert client.get("/reseller/auth/me", headers=bearer(first["access_token"], owner.host)).status_code == 200

    again = exchange(client, app_client, code, verifier)
    assert again.status_code == 400 and again.get_json()["error"] == "invalid_grant"
    assert client.get("/reseller/auth/me", headers=bearer(first["access_token"], owner.host)).status_code == 401
    assert introspect(client, integration, first["access_token"]).get_json() == {"active": False}
    refreshed = client.post("/oauth/token", data={"grant_type": "refresh_token",
                                                  "refresh_token": first["refresh_token"]},
                            headers=app_client.basic)
    assert refreshed.status_code == 400 and refreshed.get_json()["error"] == "invalid_grant"


def test_code_is_bound_to_its_client(client, reseller):
    owner = reseller()
    app_client, other_app = register_app(client, owner), register_app(client, owner, name="Other app")
    verifier, challenge = pkce()
    code = get_code(client, owner, app_client, (verifier, challenge))
    stolen = exchange(client, other_app, code, verifier)
    assert stolen.status_code == 400 and stolen.get_json()["error"] == "invalid_grant"
    assert exchange(client, app_client, code, verifier).status_code == 200


def test_expired_code_is_refused(client, db, reseller):
    from datetime import timedelta

    from sqlalchemy import update

    from app.models import OAuthCode
    from app.models.base import utcnow

    owner = reseller()
    app_client = register_app(client, owner)
    verifier, challenge = pkce()
    code = get_code(client, owner, app_client, (verifier, challenge))
    with db.session() as s:
        s.execute(update(OAuthCode).where(OAuthCode.tenant_id == owner.tenant.id)
                  .values(expires_at=utcnow() - timedelta(seconds=1)))
    response = exchange(client, app_client, code, verifier)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"


# -- redirect URIs --------------------------------------------------------------------------------------
@pytest.mark.parametrize("uri", [
    "https://app.example.com/callback/",             # trailing slash
    "https://app.example.com/callbackx",             # registered one is a prefix of it
    "https://app.example.com/callback/../callback",  # normalises to the registered one
    "https://app.example.com/callback?next=/admin",  # extra query
    "https://app.example.com/other",                 # different path
    "http://app.example.com/callback",               # different scheme
    "https://app.example.com:8443/callback",         # different port
    "https://evil.example.com/callback",             # different host
    "https://app.example.com.evil.example/callback", # registered host as a prefix
    "https://APP.example.com/callback",              # case
    "https://app.example.com",                       # prefix of the registered one
])
def test_redirect_uri_must_match_exactly(client, reseller, uri):
    owner = reseller()
    app_client = register_app(client, owner)
    params = authorize_params(app_client, pkce()[1], redirect_uri=uri)
    for response in (client.get("/oauth/authorize", query_string=params, headers=owner.admin),
                     approve(client, owner.host, owner.token, params)):
        assert response.status_code == 400, uri  # told to the user, never redirected to the unknown URI
        assert "Location" not in response.headers
        assert response.get_json()["error"] == "invalid_request"


def test_redirect_uri_is_required_and_must_be_repeated_identically(client, reseller):
    owner = reseller()
    app_client = register_app(client, owner)
    missing = client.get("/oauth/authorize", query_string=authorize_params(app_client, pkce()[1], redirect_uri=None),
                         headers=owner.admin)
    assert missing.status_code == 400 and "Location" not in missing.headers
    verifier, challenge = pkce()
    code = get_code(client, owner, app_client, (verifier, challenge))
    other = exchange(client, app_client, code, verifier, redirect_uri=REDIRECT + "/")
    assert other.status_code == 400 and other.get_json()["error"] == "invalid_grant"


def test_unknown_client_is_not_redirected_to(client, reseller):
    owner, other = reseller(), reseller()
    app_client = register_app(client, other)  # registered with another reseller
    response = client.get("/oauth/authorize", query_string=authorize_params(app_client, pkce()[1]),
                          headers=owner.admin)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_client"


# -- scopes ---------------------------------------------------------------------------------------------
def test_scope_the_app_may_not_have_is_invalid_scope(client, reseller):
    owner = reseller()
    app_client = register_app(client, owner)
    got = redirect_params(approve(client, owner.host, owner.token,
                                  authorize_params(app_client, pkce()[1], scope="customers.view finance.billing")))
    assert got["error"] == "invalid_scope" and "code" not in got


def test_readonly_user_grants_only_what_they_hold(client, db, reseller):
    """Chosen behaviour: the app gets requested ∩ the user's permissions (shown as `withheld` at consent);
    holding none of it is refused with invalid_scope."""
    owner = reseller()
    app_client = register_app(client, owner)
    user_id, username = add_user(db, owner.tenant, "Readonly")
    session_token = sign_in(client, owner.host, username)
    params = authorize_params(app_client, pkce()[1], scope="customers.view customers.create")
    consent = client.get("/oauth/authorize", query_string=params, headers=bearer(session_token, owner.host))
    assert consent.get_json()["granted"] == ["customers.view"]
    assert consent.get_json()["withheld"] == ["customers.create"]

    tokens = user_tokens(client, owner, app_client, session_token, scope="customers.view customers.create")
    assert tokens["scope"] == "customers.view"
    me = client.get("/reseller/auth/me", headers=bearer(tokens["access_token"], owner.host)).get_json()
    assert me["id"] == user_id and me["permissions"] == ["customers.view"]

    nothing = approve(client, owner.host, session_token,
                      authorize_params(app_client, pkce()[1], scope="customers.create"))
    assert redirect_params(nothing)["error"] == "invalid_scope"


def test_a_demoted_users_token_shrinks_at_once(client, db, reseller):
    from app.services.auth import users
    from tenants import tenant_context

    owner = reseller()
    app_client = register_app(client, owner)
    user_id, username = add_user(db, owner.tenant, "Manager")
    tokens = user_tokens(client, owner, app_client, sign_in(client, owner.host, username),
                         scope="customers.view customers.create users.view")
    headers = bearer(tokens["access_token"], owner.host)
    assert client.get("/reseller/auth/me", headers=headers).get_json()["permissions"] == [
        "customers.create", "customers.view", "users.view"]
    with db.session() as s, tenant_context(owner.tenant):
        users.update_user(s, user_id, role="Readonly")
    assert client.get("/reseller/auth/me", headers=headers).get_json()["permissions"] == [
        "customers.view", "users.view"]
    with db.session() as s, tenant_context(owner.tenant):
        users.update_user(s, user_id, is_active=False)
    assert client.get("/reseller/auth/me", headers=headers).status_code == 401


def test_only_a_signed_in_user_session_may_authorise(client, reseller):
    owner = reseller()
    app_client = register_app(client, owner)
    tokens = user_tokens(client, owner, app_client, scope="customers.view")
    # an app's own token must not be able to mint codes for (other) apps
    response = client.get("/oauth/authorize", query_string=authorize_params(app_client, pkce()[1]),
                          headers=bearer(tokens["access_token"], owner.host))
    assert response.status_code == 403
