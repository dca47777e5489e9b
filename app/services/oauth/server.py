"""The authorization server, free of any web framework: a door subclasses it with its request and
response adapters and says which database session is the request's."""

from __future__ import annotations

from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from sqlalchemy.orm import Session

from app.models.oauth import AUTH_METHODS, GRANT_TYPES
from app.services.auth.permissions import PERMISSIONS
from app.services.oauth import clients, tokens
from app.services.oauth.grants import (
    CONFIDENTIAL,
    AuthorizationCodeGrant,
    ClientCredentialsGrant,
    Introspection,
    RefreshTokenGrant,
    Revocation,
    S256Only,
)
from tenants import current_tenant

PATHS = {"authorization": "/oauth/authorize", "token": "/oauth/token", "revocation": "/oauth/revoke",
         "introspection": "/oauth/introspect"}


def _access_token(client, grant_type, user, scope) -> str:
    return tokens.new_token(tokens.ACCESS_PREFIX, client.tenant_id)


def _refresh_token(client, grant_type, user, scope) -> str:
    return tokens.new_token(tokens.REFRESH_PREFIX, client.tenant_id)


def _expires_in(client, grant_type) -> int:
    return tokens.ACCESS_TTL


class Server(AuthorizationServer):
    def __init__(self):
        super().__init__(scopes_supported=sorted(PERMISSIONS))
        self.register_token_generator("default", BearerTokenGenerator(_access_token, _refresh_token, _expires_in))
        self.register_grant(AuthorizationCodeGrant, [S256Only()])
        self.register_grant(ClientCredentialsGrant)
        self.register_grant(RefreshTokenGrant)
        self.register_endpoint(Revocation)
        self.register_endpoint(Introspection)

    def session(self) -> Session:
        raise NotImplementedError("the door supplies the request's session")

    def tenant_id(self) -> int | None:
        tenant = current_tenant()
        return tenant.id if tenant else None

    def query_client(self, client_id):
        return clients.find(self.session(), client_id, self.tenant_id())

    def save_token(self, token, request):
        client, code, parent = request.client, request.authorization_code, request.refresh_token
        tokens.store(self.session(), token, client_id=client.id, tenant_id=client.tenant_id,
                     user_id=request.user.id if request.user is not None else None,
                     code_id=code.id if code is not None else None, parent=parent)


def metadata(issuer: str) -> dict:
    """RFC 8414 for one tenant's host: the issuer is that host, and so is every endpoint."""
    return {
        "issuer": issuer,
        **{f"{name}_endpoint": issuer + path for name, path in PATHS.items()},
        "scopes_supported": sorted(PERMISSIONS),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": list(GRANT_TYPES),
        "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "revocation_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "introspection_endpoint_auth_methods_supported": list(CONFIDENTIAL),
        "code_challenge_methods_supported": ["S256"],
        "service_documentation": issuer + "/api/docs",
    }
