"""Refresh tokens rotate on every use, and a replayed one revokes its whole family."""

from tests.oauth.conftest import add_user, bearer, introspect, register, register_app, sign_in, user_tokens


def refresh(client, app_client, refresh_token, **extra):
    return client.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": refresh_token, **extra},
                       headers=app_client.basic)


def test_each_refresh_rotates_the_refresh_token(client, reseller):
    owner = reseller()
    app_client = register_app(client, owner)
    first = user_tokens(client, owner, app_client)
    second = refresh(client, app_client, first["refresh_token"])
    assert second.status_code == 200
    second = second.get_json()
    assert second["refresh_token"] != first["refresh_token"] and second["access_token"] != first["access_token"]
    assert second["scope"] == first["scope"]
    assert client.get("/reseller/auth/me", headers=bearer(second["access_token"], owner.host)).status_code == 200
    third = refresh(client, app_client, second["refresh_token"])
    assert third.status_code == 200


def test_replaying_a_rotated_refresh_token_revokes_the_family(client, reseller):
    owner = reseller()
    app_client = register_app(client, owner)
    integration = register(client, owner)
    first = user_tokens(client, owner, app_client)
    second = refresh(client, app_client, first["refresh_token"]).get_json()
    third = refresh(client, app_client, second["refresh_token"]).get_json()

    replay = refresh(client, app_client, first["refresh_token"])  # the attacker's (or the victim's) copy
    assert replay.status_code == 400 and replay.get_json()["error"] == "invalid_grant"
    for pair in (first, second, third):
        assert client.get("/reseller/auth/me", headers=bearer(pair["access_token"], owner.host)).status_code == 401
        assert introspect(client, integration, pair["access_token"]).get_json() == {"active": False}
    # the newest refresh token, never used, died with its family
    assert refresh(client, app_client, third["refresh_token"]).get_json()["error"] == "invalid_grant"


def test_another_grant_of_the_same_user_is_untouched_by_a_replay(client, reseller):
    owner = reseller()
    app_client = register_app(client, owner)
    victim, bystander = user_tokens(client, owner, app_client), user_tokens(client, owner, app_client)
    refresh(client, app_client, victim["refresh_token"])
    refresh(client, app_client, victim["refresh_token"])
    assert client.get("/reseller/auth/me", headers=bearer(bystander["access_token"], owner.host)).status_code == 200


def test_refresh_token_belongs_to_its_client(client, reseller):
    owner = reseller()
    app_client, other_app = register_app(client, owner), register_app(client, owner, name="Other app")
    tokens = user_tokens(client, owner, app_client)
    assert refresh(client, other_app, tokens["refresh_token"]).get_json()["error"] == "invalid_grant"
    assert refresh(client, app_client, tokens["refresh_token"]).status_code == 200  # not burnt by the attempt


def test_refresh_may_narrow_but_never_widen(client, db, reseller):
    from app.services.auth import users
    from tenants import tenant_context

    owner = reseller()
    app_client = register_app(client, owner)
    user_id, username = add_user(db, owner.tenant, "Manager")
    tokens = user_tokens(client, owner, app_client, sign_in(client, owner.host, username),
                         scope="customers.view customers.create")
    wider = refresh(client, app_client, tokens["refresh_token"], scope="customers.view users.admin")
    assert wider.status_code == 400 and wider.get_json()["error"] == "invalid_scope"
    narrower = refresh(client, app_client, tokens["refresh_token"], scope="customers.view").get_json()
    assert narrower["scope"] == "customers.view"

    # the user was demoted: the next pair carries only what they still hold
    tokens = user_tokens(client, owner, app_client, sign_in(client, owner.host, username),
                         scope="customers.view customers.create")
    with db.session() as s, tenant_context(owner.tenant):
        users.update_user(s, user_id, role="Readonly")
    assert refresh(client, app_client, tokens["refresh_token"]).get_json()["scope"] == "customers.view"


def test_access_token_is_not_a_refresh_token(client, reseller):
    owner = reseller()
    app_client = register_app(client, owner)
    tokens = user_tokens(client, owner, app_client)
    assert refresh(client, app_client, tokens["access_token"]).get_json()["error"] == "invalid_grant"
    # and a refresh token is no bearer credential for the API
    assert client.get("/reseller/auth/me", headers=bearer(tokens["refresh_token"], owner.host)).status_code == 401
