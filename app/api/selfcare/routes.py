"""The signed-in customer's own account: activity log, personal API keys, and staff impersonation entry."""

from __future__ import annotations

from flask import after_this_request, g, redirect, request
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.api.auth import schemas as auth_schemas
from app.api.auth.routes import principal_out, request_meta
from app.services import activity
from app.services.auth import api_keys, impersonation, links
from app.services.errors import NotFound
from app.web import db_session, state
from app.web.auth import Forbidden, requires, set_session_cookies

blp = Blueprint("selfcare", __name__, url_prefix="/portal", description="A customer's own account")
CUSTOMER = ("customer",)


class ActivityOut(Schema):
    at = fields.DateTime(required=True)
    actor = fields.String(required=True)
    impersonated = fields.Boolean(required=True)
    action = fields.String(required=True)
    detail = fields.Dict(required=True)


class ApiKeyIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    access = fields.String(required=True, validate=validate.OneOf(api_keys.ACCESS))
    expires_at = fields.AwareDateTime(load_default=None, default_timezone=None)


class ApiKeyOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    prefix = fields.String(required=True)
    access = fields.String(required=True)
    expires_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime(required=True)
    last_used_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)


class CreatedApiKeyOut(ApiKeyOut):
    key = fields.String(required=True, metadata={"description": "shown once: store it safely"})


class TicketIn(Schema):
    ticket = fields.String(required=True, validate=validate.Length(max=200))


def _key_out(key, raw: str | None = None) -> dict:
    out = {f: getattr(key, f) for f in ("id", "name", "prefix", "access", "expires_at", "created_at", "last_used_at",
                                        "revoked_at")}
    if raw:
        out["key"] = raw
    return out


def _own_credentials_only() -> None:
    if g.principal.impersonator or g.principal.via != "session":
        raise Forbidden("API keys are managed by the customer in their own signed-in session")


@blp.route("/api/activity")
@requires("self.view", kinds=CUSTOMER)
@blp.response(200, ActivityOut(many=True))
def my_activity():
    """What was done on this account, including by support staff signed in as you."""
    return [{"at": e.at, "actor": e.actor, "impersonated": e.impersonated, "action": e.action, "detail": e.detail}
            for e in activity.for_customer(db_session(), g.principal.id)]


@blp.route("/api/api-keys")
@requires("self.view", kinds=CUSTOMER)
@blp.response(200, ApiKeyOut(many=True))
def list_api_keys():
    """Your API keys (never the keys themselves)."""
    return [_key_out(k) for k in api_keys.list_keys(db_session(), g.principal.id)]


@blp.route("/api/api-keys", methods=["POST"])
@requires("self.edit", kinds=CUSTOMER)
@blp.arguments(ApiKeyIn)
@blp.response(201, CreatedApiKeyOut)
def create_api_key(body):
    """A new key, read-only or read-write, optionally expiring; the key is shown this once."""
    _own_credentials_only()
    raw, key = api_keys.create(db_session(), g.principal.id, **body, actor=g.principal)
    return _key_out(key, raw)


@blp.route("/api/api-keys/<int:key_id>", methods=["DELETE"])
@requires("self.edit", kinds=CUSTOMER)
@blp.response(204)
def revoke_api_key(key_id):
    """Revoke a key: it stops working at once."""
    _own_credentials_only()
    api_keys.revoke(db_session(), g.principal.id, key_id, actor=g.principal)


def _redeem(ticket: str):
    if g.tenant is None or g.realm != "tenant":
        raise NotFound("impersonation links open on the customer's portal host")
    token, row, principal = impersonation.redeem(db_session(), state().redis, g.tenant, ticket, request_meta())

    @after_this_request
    def cookies(response):
        set_session_cookies(response, token, None, support=True)
        return response

    return token, row, principal


@blp.route("/auth/impersonate", methods=["POST"])
@requires(public=True)
@blp.arguments(TicketIn)
@blp.response(200, auth_schemas.LoginOut)
def impersonate(body):
    """Redeem a staff impersonation ticket (single use, one minute) for a session as the customer."""
    token, row, principal = _redeem(body["ticket"])
    return {"token": token, "expires_at": row.expires_at, "principal": principal_out(principal)}


@blp.route("/auth/impersonate", methods=["GET"])
@requires(public=True)
@blp.response(302)
def impersonate_link():
    """The same, as a link a staff member's browser opens: sets the cookie and goes to the portal."""
    _redeem(request.args.get("ticket", ""))
    return redirect(links.HOME["customer"], code=302)  # the customer's dashboard, with the support banner
