"""OAuth 2 on a reseller's host: the protocol endpoints (RFC 6749, 7009, 7662, 8414) and client management.

The protocol endpoints answer in RFC 6749's JSON error format, because that is what OAuth clients
parse; they authenticate clients themselves, hence `public=True`. Client management answers
problem+json like the rest of the API. Importing this module registers the `bho.` token resolver.
"""

from __future__ import annotations

import json

from authlib.integrations.flask_oauth2.requests import FlaskJsonRequest, FlaskOAuth2Payload, FlaskOAuth2Request
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import OAuth2Request
from flask import Response, g, request
from flask_smorest import Blueprint

from app.api.oauth import schemas as s
from app.services.auth.permissions import PERMISSIONS
from app.services.auth.principal import USER
from app.services.errors import NotFound
from app.services.oauth import clients as svc
from app.services.oauth import scopes as sc
from app.services.oauth import tokens
from app.services.oauth.server import PATHS, Server, metadata
from app.web import db_session
from app.web.auth import Forbidden, Unauthenticated, current_principal, register_resolver, requires
from app.web.openapi import PROBLEM, ProblemSchema

SIGN_IN = "/reseller/auth/login"

register_resolver(tokens.ACCESS_PREFIX, tokens.resolve_access_token)


class _Request(FlaskOAuth2Request):
    """Authlib refuses plain-http URLs; TLS ends at the ingress in front of us, so we always see http.
    The transport is the ingress's to enforce, not a check we can make from here."""

    def __init__(self, req):
        OAuth2Request.__init__(self, method=req.method, uri="https://" + req.url.partition("://")[2],
                               headers=req.headers)
        self._request = req
        self.payload = FlaskOAuth2Payload(req)


class FlaskServer(Server):
    def session(self):
        return db_session()

    def create_oauth2_request(self, req):
        return req if isinstance(req, OAuth2Request) else _Request(request)

    def create_json_request(self, req):
        return FlaskJsonRequest(request)

    def handle_response(self, status, body, headers):
        return Response(json.dumps(body) if isinstance(body, dict) else body, status=status, headers=headers)

    def send_signal(self, name, *args, **kwargs):
        pass


server = FlaskServer()
protocol = Blueprint("oauth", __name__, description="OAuth 2 authorization server (a reseller's host)")
clients = Blueprint("oauth_clients", __name__, url_prefix="/reseller/api/oauth-clients",
                    description="OAuth clients of a reseller: integrations and third-party apps")


# -- protocol -----------------------------------------------------------------------------------------
def _on_tenant_host() -> None:
    """Clients belong to one reseller: its hosts are the only place they exist (never the console)."""
    if g.get("realm") != "tenant" or g.get("tenant") is None:
        raise NotFound("OAuth is served on the reseller's own host")


def _resource_owner():
    """The reseller user signed in to this portal (by its session), who approves or denies."""
    _on_tenant_host()
    principal = current_principal()
    if principal is None:
        raise Unauthenticated("sign in to this portal first, then come back to this page", sign_in=SIGN_IN,
                              return_to=request.full_path)
    if principal.kind != USER or principal.via != "session":
        raise Forbidden("only a signed-in team member of this reseller can authorise an app")
    return principal


def _grant(owner):
    try:
        return server.get_consent_grant(end_user=owner), None
    except OAuth2Error as error:
        return None, server.handle_error_response(None, error)


@protocol.route(PATHS["authorization"], methods=["GET"])
@requires(public=True)
@protocol.response(200, s.ConsentOut)
@protocol.alt_response(302, description="an invalid request is sent back to the client's redirect URI")
@protocol.alt_response(400, schema=s.OAuthErrorOut, description="unknown client or redirect URI")
def consent():
    """What the app asks for: the consent screen's content. Needs a reseller user's sign-in on this host."""
    owner = _resource_owner()
    grant, refused = _grant(owner)
    if refused is not None:
        return refused
    requested = sc.parse(grant.request.scope)
    return {"client": {"client_id": grant.client.get_client_id(), "name": grant.client.name},
            "redirect_uri": grant.redirect_uri, "state": grant.request.payload.state,
            "requested": [{"scope": p, "description": PERMISSIONS[p]} for p in sorted(requested)],
            "granted": sorted(requested & owner.permissions), "withheld": sorted(requested - owner.permissions)}


@protocol.route(PATHS["authorization"], methods=["POST"], endpoint="authorize_decision")
@requires(public=True)
@protocol.arguments(s.DecisionIn)
@protocol.alt_response(302, description="back to the client: `code` and `state`, or `error=access_denied`")
@protocol.alt_response(400, schema=ProblemSchema, content_type=PROBLEM)
@protocol.alt_response(400, schema=s.OAuthErrorOut,
                       description="unknown client or redirect URI: RFC 6749's JSON error; a body that is not "
                                   "JSON at all: a problem, like any other malformed request")
def decide(body):
    """Approve (`{"confirm": true}`) or deny, with the authorization request's query parameters repeated.

    The decision is a JSON body so that no cross-site form can post it (and the Lax session cookie is not
    sent cross-site either): another site cannot approve an app in the user's name.
    """
    owner = _resource_owner()
    grant, refused = _grant(owner)
    if refused is not None:
        return refused
    return server.create_authorization_response(request=grant.request, grant=grant,
                                                grant_user=owner if body["confirm"] else None)


@protocol.route(PATHS["token"], methods=["POST"])
@requires(public=True)
@protocol.response(200, s.TokenOut)
@protocol.alt_response(400, schema=s.OAuthErrorOut, description="RFC 6749 §5.2 error")
@protocol.alt_response(401, schema=s.OAuthErrorOut,
                       description="the client did not authenticate (RFC 6749 §5.2 invalid_client, when it tried "
                                   "with the Authorization header)")
def token():
    """Exchange a code (with its PKCE verifier), a refresh token, or client credentials for tokens."""
    _on_tenant_host()
    return server.create_token_response()


@protocol.route(PATHS["revocation"], methods=["POST"])
@requires(public=True)
@protocol.response(200, description="revoked, or unknown to us (RFC 7009 §2.2: the same answer)")
@protocol.alt_response(400, schema=s.OAuthErrorOut, description="RFC 6749 §5.2 error")
@protocol.alt_response(401, schema=s.OAuthErrorOut,
                       description="the client did not authenticate (RFC 6749 §5.2 invalid_client)")
def revoke():
    """RFC 7009: revoke an access token, or a refresh token with every token of its grant."""
    _on_tenant_host()
    return server.create_endpoint_response("revocation")


@protocol.route(PATHS["introspection"], methods=["POST"])
@requires(public=True)
@protocol.response(200, s.IntrospectionOut)
@protocol.alt_response(401, schema=s.OAuthErrorOut, description="the client did not authenticate")
def introspect():
    """RFC 7662, for confidential clients of this reseller: is a token active, and what may it do now."""
    _on_tenant_host()
    return server.create_endpoint_response("introspection")


@protocol.route("/.well-known/oauth-authorization-server")
@requires(public=True)
@protocol.response(200, s.MetadataOut)
def server_metadata():
    """RFC 8414: where this reseller's authorization server is and what it supports."""
    _on_tenant_host()
    return metadata(f"{request.scheme}://{request.host}")


# -- client management ----------------------------------------------------------------------------------
def _client_out(row) -> dict:
    return {k: getattr(row, k) for k in ("client_id", "name", "grant_types", "scopes", "redirect_uris",
                                         "token_endpoint_auth_method", "created_by", "created_at")}


@clients.route("", methods=["GET"])
@requires("users.admin", kinds=(USER,))
@clients.response(200, s.ClientOut(many=True))
def list_clients():
    """This reseller's active OAuth clients (never their secrets)."""
    return [_client_out(row) for row in svc.list_for(db_session(), g.principal.tenant_id)]


@clients.route("", methods=["POST"])
@requires("users.admin", kinds=(USER,))
@clients.arguments(s.ClientIn)
@clients.response(201, s.ClientCreatedOut)
def create_client(body):
    """Register a client; its secret is in this response and nowhere else, ever."""
    principal = g.principal
    row, secret = svc.create(db_session(), tenant_id=principal.tenant_id, actor=principal.actor,
                             actor_permissions=principal.permissions, **body)
    return {**_client_out(row), "client_secret": secret}


@clients.route("/<string:client_id>", methods=["DELETE"])
@requires("users.admin", kinds=(USER,))
@clients.response(204)
def delete_client(client_id):
    """Revoke a client: it can no longer authenticate, and every token it holds stops working now."""
    svc.revoke(db_session(), tenant_id=g.principal.tenant_id, client_id=client_id, actor=g.principal.actor)


BLUEPRINTS = [protocol, clients]
