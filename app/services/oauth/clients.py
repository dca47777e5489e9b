"""OAuth clients: registered by a reseller's admin, bound to that reseller, checked by Authlib's grants.

Client secrets are 256-bit random strings we generate, stored as a keyed HMAC-SHA256 digest
(`crypto.digest`), not argon2. A slow hash buys time against guessing *low-entropy* secrets; nobody can
guess 256 random bits however fast the hash, so argon2 would add nothing but ~25 ms of CPU to every
token request, an easy lever for a denial of service on the hottest endpoint. The HMAC key comes from
SECRET_KEY, so a stolen copy of the table cannot even be checked offline.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749 import ClientMixin
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import OAuthClient
from app.models.base import utcnow
from app.models.oauth import AUTH_METHODS, GRANT_TYPES
from app.services import audit
from app.services.auth import crypto, permissions
from app.services.auth.crypto import digest
from app.services.errors import Invalid, NotFound
from app.services.oauth import scopes as sc
from app.services.oauth import tokens

LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
MAX_REDIRECT_URIS = 10


def secret_digest(secret: str) -> str:
    return digest("oauth-client-secret:" + secret)


class Client(ClientMixin):
    """A client row as Authlib's grants and endpoints ask about it."""

    def __init__(self, row: OAuthClient):
        self.row = row

    @property
    def id(self) -> int:
        return self.row.id

    @property
    def tenant_id(self) -> int:
        return self.row.tenant_id

    @property
    def name(self) -> str:
        return self.row.name

    @property
    def allowed(self) -> frozenset[str]:
        return sc.known(self.row.scopes)

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self) -> None:
        """None: every authorization request must name its redirect URI, which must match exactly."""
        return None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """No scope asked: all the client may have (RFC 6749 §3.3 default). A scope beyond that is an
        error (None → invalid_scope), never silently dropped, so a misconfigured client finds out."""
        if not scope:
            return sc.render(self.allowed)
        requested = sc.parse(scope)
        return sc.render(requested) if requested <= self.allowed else None

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        """Character-for-character equality with a registered URI: no prefix, pattern or normalisation."""
        return redirect_uri in self.row.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        stored = self.row.secret_digest
        return stored is not None and crypto.same(secret_digest(client_secret), stored)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == self.row.token_endpoint_auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.row.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.row.grant_types


def find(session: Session, client_id: str | None, tenant_id: int | None) -> Client | None:
    """The live client `client_id` of this tenant; a client of another tenant does not exist here."""
    if not client_id or tenant_id is None or len(client_id) > 64:
        return None
    row = session.execute(
        select(OAuthClient).where(OAuthClient.client_id == client_id, OAuthClient.tenant_id == tenant_id,
                                  OAuthClient.revoked_at.is_(None))
    ).scalar()
    return Client(row) if row else None


def list_for(session: Session, tenant_id: int) -> list[OAuthClient]:
    return list(session.execute(
        select(OAuthClient).where(OAuthClient.tenant_id == tenant_id, OAuthClient.revoked_at.is_(None))
        .order_by(OAuthClient.id)
    ).scalars())


def create(session: Session, *, tenant_id: int, actor: str, actor_permissions: frozenset[str], name: str,
           grant_types: list[str], scopes: list[str], redirect_uris: list[str] = (),
           token_endpoint_auth_method: str = AUTH_METHODS[0]) -> tuple[OAuthClient, str | None]:
    """Register a client; returns it and its secret (None for a public client), which is shown this once.

    A client may be given only permissions its creator holds, or an admin of a custom role could mint
    a client more powerful than themselves.
    """
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise Invalid("a client needs a name of at most 200 characters", field="name")
    grants = _grant_types(grant_types)
    method = token_endpoint_auth_method
    if method not in AUTH_METHODS:
        raise Invalid(f"token_endpoint_auth_method must be one of {', '.join(AUTH_METHODS)}",
                      field="token_endpoint_auth_method")
    if method == "none" and "client_credentials" in grants:
        raise Invalid("a public client (no secret) cannot use client credentials", field="token_endpoint_auth_method")
    allowed = _scopes(scopes, actor_permissions)
    uris = [_redirect_uri(u) for u in redirect_uris or ()]
    if "authorization_code" in grants and not uris:
        raise Invalid("the authorization code grant needs at least one redirect URI", field="redirect_uris")
    if uris and "authorization_code" not in grants:
        raise Invalid("redirect URIs are only for the authorization code grant", field="redirect_uris")
    if len(uris) > MAX_REDIRECT_URIS:
        raise Invalid(f"at most {MAX_REDIRECT_URIS} redirect URIs", field="redirect_uris")

    secret = None if method == "none" else secrets.token_urlsafe(32)
    row = OAuthClient(client_id="bhc_" + secrets.token_urlsafe(18), tenant_id=tenant_id, name=name,
                      secret_digest=secret_digest(secret) if secret else None, grant_types=grants,
                      scopes=sorted(allowed), redirect_uris=list(dict.fromkeys(uris)),
                      token_endpoint_auth_method=method, created_by=actor[:300], created_at=utcnow())
    session.add(row)
    session.flush()
    audit.record(session, actor, "oauth.client.created", tenant_id, client_id=row.client_id, name=name,
                 grant_types=grants, scopes=sorted(allowed))
    return row, secret


def revoke(session: Session, *, tenant_id: int, client_id: str, actor: str) -> OAuthClient:
    """Retire a client and every token it holds, at once."""
    row = session.execute(
        select(OAuthClient).where(OAuthClient.client_id == client_id, OAuthClient.tenant_id == tenant_id,
                                  OAuthClient.revoked_at.is_(None)).with_for_update()
    ).scalar()
    if row is None:
        raise NotFound("no such OAuth client")
    row.revoked_at = utcnow()
    tokens.revoke_client(session, row.id, "client revoked")
    audit.record(session, actor, "oauth.client.revoked", tenant_id, client_id=row.client_id, name=row.name)
    return row


def _grant_types(values) -> list[str]:
    grants = sorted(set(values or ()))
    if not grants or not set(grants) <= set(GRANT_TYPES):
        raise Invalid(f"grant_types must be a non-empty subset of {', '.join(GRANT_TYPES)}", field="grant_types")
    if "refresh_token" in grants and "authorization_code" not in grants:
        raise Invalid("refresh_token only comes with authorization_code", field="grant_types")
    return grants


def _scopes(values, held: frozenset[str]) -> frozenset[str]:
    try:
        wanted = frozenset(permissions.validate(values or ()))
    except permissions.UnknownPermission as exc:
        raise Invalid(str(exc), field="scopes") from None
    if not wanted:
        raise Invalid("a client needs at least one scope", field="scopes")
    beyond = sorted(wanted - held)
    if beyond:
        raise Invalid(f"you cannot give a client permissions you do not hold: {', '.join(beyond)}", field="scopes")
    return wanted


def _redirect_uri(value) -> str:
    """An absolute https URI (http only to the loopback, for native apps, RFC 8252 §7.3), stored as given.

    Refused: fragments, credentials, wildcards, surrounding spaces; anything that would make "exact
    match" ambiguous later.
    """
    uri = value if isinstance(value, str) else ""
    bad = Invalid(f"{value!r} is not an acceptable redirect URI: an absolute https URL without fragment",
                  field="redirect_uris")
    if not uri or len(uri) > 2000 or uri != uri.strip() or any(c in uri for c in "#* \t\r\n\\"):
        raise bad
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise bad from None
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.username or parts.password:
        raise bad
    if parts.scheme == "http" and parts.hostname not in LOOPBACK:
        raise Invalid("http redirect URIs are only allowed to the loopback address (localhost)",
                      field="redirect_uris")
    return uri
