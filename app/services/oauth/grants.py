"""Our rules on top of Authlib's grants and endpoints.

- Authorization code: PKCE on every request, S256 only; the code is single use, and a second use
  revokes every token the first one produced (RFC 6749 §4.1.2, RFC 9700 §4.5.3).
- Refresh: every refresh returns a new refresh token and retires the old one; presenting a retired
  one again means two parties hold it, so the whole family is revoked (RFC 9700 §4.14.2).
- A user's grant never exceeds what that user holds: narrowed at consent, at each refresh, and again
  on every use (app/services/oauth/tokens.py).

Revocations made while refusing a request are committed before the error is raised: the request's
transaction is otherwise rolled back with the error response, and the revocation with it.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestError, InvalidScopeError
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge, create_s256_code_challenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint

from app.models import User
from app.models.base import utcnow
from app.models.oauth import AUTH_METHODS
from app.services.auth import crypto
from app.services.oauth import codes, tokens
from app.services.oauth import scopes as sc

CONFIDENTIAL = ["client_secret_basic", "client_secret_post"]


def _s256_matches(verifier: str, challenge: str) -> bool:
    return crypto.same(create_s256_code_challenge(verifier), challenge)


def _active_user(session, user_id: int | None) -> User | None:
    user = session.get(User, user_id) if user_id is not None else None
    return user if user is not None and user.is_active else None


class S256Only(CodeChallenge):
    """PKCE for every client, confidential ones too (RFC 9700 §2.1.1); `plain` protects nothing against
    an attacker who can read the authorization request, so it is refused."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    CODE_CHALLENGE_METHODS = {"S256": _s256_matches}

    def __init__(self):
        super().__init__(required=True)

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge with code_challenge_method=S256")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256 ('plain' is not accepted)")
        super().validate_code_challenge(grant, redirect_uri)


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = list(AUTH_METHODS)  # public clients too: PKCE binds the code to them

    def create_authorization_response(self, redirect_uri, grant_user):
        """Grant only what the signing-in user holds: a Readonly user approving `customers.create` gives
        the app a token without it. Holding none of the requested scopes is an error, not an empty token."""
        if grant_user is not None:
            held = sc.parse(self.request.scope) & grant_user.permissions
            if not held:
                raise InvalidScopeError("you hold none of the permissions this app asks for",
                                        redirect_uri=redirect_uri)
            self.request.scope = sc.render(held)
        return super().create_authorization_response(redirect_uri, grant_user)

    def save_authorization_code(self, code, request):
        client = request.client
        codes.save(self.server.session(), code, client_id=client.id, tenant_id=client.tenant_id,
                   user_id=request.user.id, redirect_uri=request.payload.redirect_uri, scope=request.scope,
                   challenge=request.payload.data["code_challenge"], method="S256")

    def query_authorization_code(self, code, client):
        session = self.server.session()
        row = codes.find_for_update(session, code, client.tenant_id)
        if row is None:
            return None
        if row.used_at is not None:
            tokens.revoke_from_code(session, row.id, "authorization code reused")
            session.commit()
            raise InvalidGrantError("this code was already used: the tokens issued from it are now revoked")
        if row.client_id != client.id or codes.expired(row):
            return None
        return row

    def delete_authorization_code(self, authorization_code):
        codes.mark_used(authorization_code)  # kept, not deleted: a second use must be recognised

    def authenticate_user(self, authorization_code):
        return _active_user(self.server.session(), authorization_code.user_id)


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CONFIDENTIAL


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = list(AUTH_METHODS)
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token):
        session = self.server.session()
        found = tokens.lookup(session, refresh_token, tokens.REFRESH, self.request.client.tenant_id, lock=True)
        if found is None or found.kind != tokens.REFRESH or not found.check_client(self.request.client):
            return None
        row = found.row
        if row.rotated_at is not None:
            tokens.revoke_family(session, row.family, "refresh token replayed")
            session.commit()
            raise InvalidGrantError("this refresh token was already used: every token of this grant is now revoked")
        return row if tokens.refresh_live(row) else None

    def authenticate_user(self, refresh_token):
        return _active_user(self.server.session(), refresh_token.user_id)

    def issue_token(self, user, refresh_token):
        """The new pair carries no more than the old, the client's current allowance and the user's
        current permissions allow."""
        requested = sc.parse(self.request.payload.scope) or sc.parse(refresh_token.scope)
        scope = requested & self.request.client.allowed & tokens.user_permissions(self.server.session(), user)
        if not scope:
            raise InvalidScopeError("nothing of this grant's scope is still allowed")
        return self.generate_token(user=user, scope=sc.render(scope), include_refresh_token=True)

    def revoke_old_credential(self, refresh_token):
        refresh_token.rotated_at = utcnow()


class _TokenQuery:
    def query_token(self, token_string, token_type_hint):
        return tokens.lookup(self.server.session(), token_string, token_type_hint, self.server.tenant_id())


class Revocation(_TokenQuery, RevocationEndpoint):
    """RFC 7009. Revoking a refresh token ends its whole family; an access token, just itself."""

    CLIENT_AUTH_METHODS = list(AUTH_METHODS)

    def revoke_token(self, token, request):
        if token.kind == tokens.REFRESH:
            tokens.revoke_family(self.server.session(), token.row.family, "revoked by the client")
        else:
            tokens.revoke_access(token.row, "revoked by the client")


class Introspection(_TokenQuery, IntrospectionEndpoint):
    """RFC 7662, for authenticated (confidential) clients, about tokens of their own tenant only."""

    CLIENT_AUTH_METHODS = CONFIDENTIAL

    def check_permission(self, token, client, request):
        return token.row.tenant_id == client.tenant_id

    def create_introspection_payload(self, token):
        return tokens.introspect(self.server.session(), token)
