"""The master ISP's console API (console host, staff only).

Tenants are created, configured, suspended and reactivated here as with the CLI, each change in a
transaction of its own (provisioning must not run on the request's session, see
app/services/resellers.py) and audited; the process's tenant directory is refreshed at once, other
processes follow on the registry's NOTIFY. Key figures are read in each tenant's own schema.
"""

from __future__ import annotations

from flask import g, request
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from app.api.console import schemas as cs
from app.api.resellers.present import tenant_out
from app.models import Tenant as TenantRow
from app.services import portal_id_search, resellers
from app.services import tenants as tenant_svc
from app.services.auth import impersonation, permissions, view_as
from app.services.auth.impersonation import TICKET_SECONDS
from app.services.auth.sessions import RequestMeta
from app.services.errors import Invalid
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
    host = portal_id_search.primary_host(session, tenant.id)
    return {"tenant_code": tenant.code, "url": f"//{host}/portal/auth/impersonate?ticket={ticket}", "ticket": ticket,
            "expires_in": TICKET_SECONDS}


# -- tenants -------------------------------------------------------------------------------------------
def _detail(code: str) -> dict:
    session = db_session()
    row = tenant_svc.get(session, code)
    out = tenant_out(state().db, row, resellers.level(session, row.id))
    out.update(status_reason=row.status_reason, schema=row.schema_name,
               children=session.execute(select(TenantRow.code).where(TenantRow.parent_id == row.id)
                                        .order_by(TenantRow.code)).scalars().all())
    return out


def _refreshed(code: str) -> dict:
    """The tenant as it is now, after a change committed in another session."""
    state().directory.invalidate()
    db_session().expire_all()
    return _detail(code)


@blp.route("/tenants")
@requires(kinds=STAFF)
@blp.arguments(cs.ConsoleTenantsQuery, location="query")
@blp.response(200, cs.ResellerOut(many=True))
@blp.paginate()
def list_tenants(query, pagination_parameters):
    """Every reseller and sub-reseller with its parent, level, status and key figures (customers,
    Active services, MRR), paginated; the total is in the X-Pagination header.

    Figures are read in each tenant's own schema, for the tenants of the page only.
    """
    rows = resellers.tree(db_session())
    if query.get("status"):
        rows = [p for p in rows if p.row.status == query["status"]]
    if query.get("parent"):
        rows = [p for p in rows if p.parent_code == query["parent"]]
    pagination_parameters.item_count = len(rows)
    first = pagination_parameters.first_item
    page = rows[first:first + pagination_parameters.page_size]
    db = state().db
    return [tenant_out(db, p.row, p.level, parent_code=p.parent_code) for p in page]


@blp.route("/tenants", methods=["POST"])
@requires(kinds=STAFF)
@blp.arguments(cs.ConsoleTenantIn)
@blp.response(201, cs.ConsoleTenantCreatedOut)
def create_tenant(body):
    """Create a reseller, or (with `parent_code` or `parent_reseller_id`) a sub-reseller anywhere in the tree.

    Provisioned in one transaction of its own: registry row, schema, migrations, defaults, hosts, the
    optional first Admin (without a password one is generated, shown in this answer only), and, under
    a parent, the parent's plan authorisations of the allowed kinds.
    """
    parent_id = body["parent_reseller_id"]
    if body["parent_code"]:
        parent = tenant_svc.get(db_session(), body["parent_code"])
        if parent_id is not None and parent_id != parent.id:
            raise Invalid("parent_code and parent_reseller_id name different tenants", field="parent_code")
        parent_id = parent.id
    admin = body["admin"]
    created = resellers.create(
        state().db, code=body["code"], name=body["name"], base_domain=state().settings.base_domain,
        parent_id=parent_id, commission_percent=body["commission_percent"],
        inherited_branding=body["inherited_branding"], customer_limit=body["customer_limit"],
        allowed_services=body["allowed_services"], hosts=body["hosts"],
        admin=resellers.AdminSpec(admin["username"], admin["email"], admin.get("password")) if admin else None,
        actor=g.principal.actor)
    out = _refreshed(created.tenant.code)
    out["admin"] = None if created.admin_id is None else {
        "id": created.admin_id, "username": created.admin_username, "generated_password": created.generated_password}
    out["authorised_plans"] = created.authorised_plans
    return out


@blp.route("/tenants/<string:code>")
@requires(kinds=STAFF)
@blp.response(200, cs.ConsoleTenantOut)
def get_tenant(code):
    """One tenant: terms, hosts, status (and why), direct sub-resellers, key figures."""
    return _detail(code)


@blp.route("/tenants/<string:code>", methods=["PATCH"])
@requires(kinds=STAFF)
@blp.arguments(cs.ConsoleTenantPatch)
@blp.response(200, cs.ConsoleTenantOut)
def configure_tenant(body, code):
    """Configure a tenant: name, customer limit, commission, allowed services, inherited branding.

    Terms stay within the parent's; narrowing allowed services narrows every descendant's with it.
    """
    tenant_svc.get(db_session(), code)
    resellers.configure(state().db, code, actor=g.principal.actor, **body)
    return _refreshed(code)


@blp.route("/tenants/<string:code>/suspend", methods=["POST"])
@requires(kinds=STAFF)
@blp.arguments(cs.SuspendIn)
@blp.response(200, cs.ConsoleTenantOut)
def suspend_tenant(body, code):
    """Suspend a reseller: its portal and API answer 403, its users' tokens stop working, and RADIUS
    follows the platform's policy for its customers (audited). Its sub-resellers keep their own status
    but follow it while it is suspended (see `children`)."""
    tenant_svc.get(db_session(), code)
    resellers.set_status(state().db, code, "Suspended", reason=body["reason"], actor=g.principal.actor)
    return _refreshed(code)


@blp.route("/tenants/<string:code>/reactivate", methods=["POST"])
@requires(kinds=STAFF)
@blp.arguments(cs.ReactivateIn)
@blp.response(200, cs.ConsoleTenantOut)
def reactivate_tenant(body, code):
    """Make a suspended (or inactive) reseller active again (audited)."""
    tenant_svc.get(db_session(), code)
    resellers.set_status(state().db, code, "Active", reason=body["reason"], actor=g.principal.actor)
    return _refreshed(code)


# -- Portal ID search ----------------------------------------------------------------------------------
@blp.route("/search")
@requires(kinds=STAFF)
@blp.arguments(cs.PortalIdSearchQuery, location="query")
@blp.response(200, cs.PortalIdHit(many=True))
def search(query):
    """Find a customer by Portal ID across every tenant: the platform registry gives the tenant, and
    the customer is read in that tenant's own schema."""
    found = portal_id_search.search(db_session(), state().db, query["portal_id"], match=query["match"])
    return [{"portal_id": hit.portal_id,
             "tenant": {"id": hit.tenant.id, "code": hit.tenant.code, "name": hit.tenant.name,
                        "status": hit.tenant.status},
             "customer": None if hit.customer is None else {"id": hit.customer.id, "name": hit.customer.name,
                                                           "status": hit.customer.status,
                                                           "email": hit.customer.email}}
            for hit in found]


# -- view as reseller ----------------------------------------------------------------------------------
@blp.route("/tenants/<string:code>/view-as", methods=["POST"])
@requires(kinds=STAFF)
@blp.arguments(cs.ViewAsIn)
@blp.response(201, cs.ViewAsOut)
def view_as_reseller(body, code):
    """"View as reseller": a 30-minute, read-only Bearer token on the reseller's portal and API
    (GETs only, read permissions only), for staff with `can_impersonate`; its start and every request
    made with it are in the audit log."""
    if not g.principal.can_impersonate:
        raise view_as.NotAllowed("viewing as a reseller needs the can_impersonate permission")
    row = tenant_svc.get(db_session(), code)
    meta = RequestMeta(ip=request.remote_addr, user_agent=request.user_agent.string or None)
    token, expires_at = view_as.start(state().db, g.principal, tenant_svc.ref(row), meta, reason=body["reason"])
    hosts = [d.host for d in sorted(row.domains, key=lambda d: (not d.is_primary, d.id))]
    return {"tenant_code": row.code, "token": token, "expires_at": expires_at, "hosts": hosts,
            "permissions": sorted(permissions.READ)}
