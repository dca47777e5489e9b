"""NAS clients through the API. The console manages every NAS (the platform's and the tenants'); a reseller
manages its own tenant's only, and may not register an address another owner's NAS covers
(app/services/nas.py). The shared secret is write-only."""

from __future__ import annotations

from flask import g
from flask_smorest import Blueprint

from app.api.nas import schemas as s
from app.models.nas import NasClient
from app.services import audit
from app.services import nas as svc
from app.web import db_session
from app.web.auth import requires
from tenants import require_tenant

console = Blueprint("console_nas", __name__, url_prefix="/console/api", description="RADIUS NAS clients (all)")
reseller = Blueprint("reseller_nas", __name__, url_prefix="/reseller/api",
                     description="RADIUS NAS clients of this reseller")
BLUEPRINTS = [console, reseller]
STAFF = ("staff",)
USER = ("user",)


def nas_out(nas: NasClient) -> dict:
    return {"id": nas.id, "name": nas.name, "network": str(nas.network), "vendor": nas.vendor,
            "tenant_id": nas.tenant_id, "require_message_authenticator": nas.require_message_authenticator,
            "coa_port": nas.coa_port, "created_at": nas.created_at, "created_by": nas.created_by,
            "last_heard_at": nas.last_heard_at}


def _actor() -> str:
    return g.principal.actor


# -- console -----------------------------------------------------------------------------------------
@console.route("/nas")
@requires(kinds=STAFF)
@console.arguments(s.NasQuery, location="query")
@console.response(200, s.NasOut(many=True))
def console_list(args):
    """Every NAS, the platform's and the tenants' (`q`: the console's search)."""
    return [nas_out(n) for n in svc.list_nas(db_session(), q=args.get("q"))]


@console.route("/nas", methods=["POST"])
@requires(kinds=STAFF)
@console.arguments(s.ConsoleNasIn)
@console.response(201, s.NasOut)
def console_create(body):
    """Register a NAS for the platform (no tenant_id) or for a tenant (audited)."""
    session = db_session()
    nas = svc.create(session, actor=_actor(), **body)
    audit.record(session, _actor(), "nas.create", nas.tenant_id, nas_id=nas.id, network=str(nas.network))
    return nas_out(nas)


@console.route("/nas/<int:nas_id>")
@requires(kinds=STAFF)
@console.response(200, s.NasOut)
def console_get(nas_id):
    return nas_out(svc.get(db_session(), nas_id))


@console.route("/nas/<int:nas_id>", methods=["PATCH"])
@requires(kinds=STAFF)
@console.arguments(s.NasPatch)
@console.response(200, s.NasOut)
def console_update(body, nas_id):
    """Change a NAS; a new secret takes effect at once on every RADIUS process."""
    session = db_session()
    nas = svc.update(session, svc.get(session, nas_id), **body)
    audit.record(session, _actor(), "nas.update", nas.tenant_id, nas_id=nas.id, fields=sorted(body))
    return nas_out(nas)


@console.route("/nas/<int:nas_id>", methods=["DELETE"])
@requires(kinds=STAFF)
@console.response(204)
def console_delete(nas_id):
    session = db_session()
    nas = svc.get(session, nas_id)
    audit.record(session, _actor(), "nas.delete", nas.tenant_id, nas_id=nas.id, network=str(nas.network))
    svc.delete(session, nas)


# -- reseller ----------------------------------------------------------------------------------------
@reseller.route("/nas")
@requires("services.view", kinds=USER)
@reseller.response(200, s.NasOut(many=True))
def reseller_list():
    """This reseller's own NAS clients (the platform's serve it too, but are not listed)."""
    return [nas_out(n) for n in svc.list_nas(db_session(), tenant_id=require_tenant().id)]


@reseller.route("/nas", methods=["POST"])
@requires("settings.manage", kinds=USER)
@reseller.arguments(s.NasIn)
@reseller.response(201, s.NasOut)
def reseller_create(body):
    """Register a router of this reseller's; it serves this reseller's customers and its sub-resellers'."""
    return nas_out(svc.create(db_session(), tenant_id=require_tenant().id, actor=_actor(), **body))


@reseller.route("/nas/<int:nas_id>")
@requires("services.view", kinds=USER)
@reseller.response(200, s.NasOut)
def reseller_get(nas_id):
    return nas_out(svc.get(db_session(), nas_id, tenant_id=require_tenant().id, scoped=True))


@reseller.route("/nas/<int:nas_id>", methods=["PATCH"])
@requires("settings.manage", kinds=USER)
@reseller.arguments(s.NasPatch)
@reseller.response(200, s.NasOut)
def reseller_update(body, nas_id):
    session = db_session()
    return nas_out(svc.update(session, svc.get(session, nas_id, tenant_id=require_tenant().id, scoped=True), **body))


@reseller.route("/nas/<int:nas_id>", methods=["DELETE"])
@requires("settings.manage", kinds=USER)
@reseller.response(204)
def reseller_delete(nas_id):
    session = db_session()
    svc.delete(session, svc.get(session, nas_id, tenant_id=require_tenant().id, scoped=True))
