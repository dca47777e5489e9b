"""A reseller with a signed-in Admin, OAuth clients registered through the API, and the flows' steps."""

from __future__ import annotations

import base64
import hashlib
import itertools
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest

from app.services.auth import users
from tenants import tenant_context
from tests.conftest import host_of

PASSWORD = "Str0ng#Pass"
REDIRECT = "https://app.example.com/callback"
_n = itertools.count(1)


@dataclass
class Reseller:
    tenant: object
    host: str
    user_id: int
    username: str
    token: str  # the Admin's session token

    @property
    def admin(self) -> dict:
        return {"Host": self.host, "Authorization": f"Bearer {self.token}"}


@dataclass
class Client:
    client_id: str
    secret: str | None
    host: str

    @property
    def basic(self) -> dict:
        raw = base64.b64encode(f"{self.client_id}:{self.secret}".encode()).decode()
        return {"Host": self.host, "Authorization": f"Basic {raw}"}


def add_user(db, tenant, role: str) -> tuple[int, str]:
    n = next(_n)
    with db.session() as s, tenant_context(tenant):
        user, _ = users.create_user(s, username=f"oauth{n}@reseller.example", email=f"oauth{n}@reseller.example",
                                    role=role, password=PASSWORD)
        return user.id, user.username


def sign_in(client, host: str, username: str) -> str:
    response = client.post("/reseller/auth/login", json={"username": username, "password": PASSWORD},
                           headers={"Host": host})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["token"]


@pytest.fixture
def reseller(app, db, make_tenant):
    """A fresh tenant whose Admin is signed in (session token in `.token`)."""

    def make() -> Reseller:
        tenant = make_tenant("OAUTH")
        host = host_of(tenant)
        user_id, username = add_user(db, tenant, "Admin")
        return Reseller(tenant, host, user_id, username, sign_in(app.test_client(), host, username))

    return make


def register(client, reseller: Reseller, **fields) -> Client:
    body = {"name": "Billing sync", "grant_types": ["client_credentials"], "scopes": ["customers.view"], **fields}
    response = client.post("/reseller/api/oauth-clients", json=body, headers=reseller.admin)
    assert response.status_code == 201, response.get_json()
    out = response.get_json()
    return Client(out["client_id"], out["client_secret"], reseller.host)


def register_app(client, reseller: Reseller, **fields) -> Client:
    """A third-party app: authorization code (+ refresh), one redirect URI."""
    return register(client, reseller, **{"name": "Field app", "grant_types": ["authorization_code", "refresh_token"],
                                         "redirect_uris": [REDIRECT],
                                         "scopes": ["customers.view", "customers.create", "users.view"], **fields})


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_params(app_client: Client, challenge: str | None, **extra) -> dict:
    params = {"response_type": "code", "client_id": app_client.client_id, "redirect_uri": REDIRECT,
              "scope": "customers.view users.view", "state": "xyz-123"}
    if challenge is not None:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    params.update(extra)
    return {k: v for k, v in params.items() if v is not None}


def approve(client, host: str, session_token: str, params: dict, confirm: bool = True):
    """The signed-in user's POST to the authorization endpoint (query repeated, decision as JSON)."""
    return client.post("/oauth/authorize", query_string=params, json={"confirm": confirm},
                       headers={"Host": host, "Authorization": f"Bearer {session_token}"})


def redirect_params(response) -> dict:
    assert response.status_code == 302, (response.status_code, response.get_data(as_text=True))
    location = urlsplit(response.headers["Location"])
    return {k: v[0] for k, v in parse_qs(location.query).items()} | {"_base": location._replace(query="").geturl()}


def get_code(client, reseller: Reseller, app_client: Client, verifier_challenge: tuple[str, str],
             session_token: str | None = None, **extra) -> str:
    params = authorize_params(app_client, verifier_challenge[1], **extra)
    got = redirect_params(approve(client, reseller.host, session_token or reseller.token, params))
    assert "code" in got, got
    return got["code"]


def exchange(client, app_client: Client, code: str, verifier: str | None, redirect_uri: str = REDIRECT):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if verifier is not None:
        data["code_verifier"] = verifier
    return client.post("/oauth/token", data=data, headers=app_client.basic)


def user_tokens(client, reseller: Reseller, app_client: Client, session_token: str | None = None,
                **extra) -> dict:
    verifier, challenge = pkce()
    code = get_code(client, reseller, app_client, (verifier, challenge), session_token, **extra)
    response = exchange(client, app_client, code, verifier)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def client_token(client, app_client: Client, **data):
    return client.post("/oauth/token", data={"grant_type": "client_credentials", **data}, headers=app_client.basic)


def bearer(token: str, host: str) -> dict:
    return {"Authorization": f"Bearer {token}", "Host": host}


def introspect(client, by: Client, token: str, **extra):
    return client.post("/oauth/introspect", data={"token": token, **extra}, headers=by.basic)
