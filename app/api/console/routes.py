"""The master ISP's console API (console host, staff only)."""

from __future__ import annotations

from flask import g
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.models import Domain
from app.services.auth import impersonation
from app.services.auth.impersonation import TICKET_SECONDS
from app.web import db_session, state
from app.web.auth import requires

blp = Blueprint("console", __name__, url_prefix="/console/api", description="Master ISP console")
STAFF = ("staff",)


class ImpersonationIn(Schema):
    portal_id = fields.String(required=True, validate=validate.Length(min=1, max=40))


class ImpersonationOut(Schema):
    tenant_code = fields.String(required=True)
    url = fields.String(required=True, metadata={"description": "open within a minute; works once"})
    ticket = fields.String(required=True)
    expires_in = fields.Integer(required=True)


@blp.route("/impersonations", methods=["POST"])
@requires(kinds=STAFF)
@blp.arguments(ImpersonationIn)
@blp.response(201, ImpersonationOut)
def impersonate(body):
    """"Login as customer": a single-use link to the customer's portal, signed in as them (audited)."""
    session = db_session()
    tenant, ticket = impersonation.issue_ticket(session, state().redis, g.principal, body["portal_id"])
    host = session.query(Domain.host).filter(Domain.tenant_id == tenant.id, Domain.is_primary).scalar()
    return {"tenant_code": tenant.code, "url": f"//{host}/portal/auth/impersonate?ticket={ticket}", "ticket": ticket,
            "expires_in": TICKET_SECONDS}
