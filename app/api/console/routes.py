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
from sqlalchemy.orm import selectinload

from app.api.console import schemas as cs
from app.api.resellers.present import tenant_out
from app.models import Domain, PortalId
from app.models import Tenant as TenantRow
from app.services import resellers
from app.services import tenants as tenant_svc
from app.services.auth import impersonation, permissions, view_as
from app.services.auth.impersonation import TICKET_SECONDS
from app.services.auth.sessions import RequestMeta
from app.services.errors import Invalid
from app.web import db_session, state
from app.web.auth import requires
from tenants.registry import directory

blp = Blueprint("console", __name__, url_prefix="/console/api", description="Master ISP console")
STAFF = ("staff",)
SEARCH_LIMIT = 20


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


# -- tenants -------------------------------------------------------------------------------------------
def _all_tenants() -> tuple[list[TenantRow], dict[int, TenantRow]]:
    rows = db_session().execute(
        select(TenantRow).options(selectinload(TenantRow.domains)).order_by(TenantRow.id)
    ).scalars().all()
    return rows, {r.id: r for r in rows}


def _level(row: TenantRow, by_id: dict[int, TenantRow]) -> int:
    level, seen = 0, {row.id}
    while row.parent_id is not None and row.parent_id in by_id and row.parent_id not in seen:
        row = by_id[row.parent_id]
        seen.add(row.id)
        level += 1
    return level


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
    rows, by_id = _all_tenants()
    if query.get("status"):
        rows = [r for r in rows if r.status == query["status"]]
    if query.get("parent"):
        parent = next((r for r in by_id.values() if r.code == query["parent"]), None)
        rows = [r for r in rows if parent is not None and r.parent_id == parent.id]
    pagination_parameters.item_count = len(rows)
    first = pagination_parameters.first_item
    page = rows[first:first + pagination_parameters.page_size]
    db = state().db
    return [tenant_out(db, r, _level(r, by_id), parent_code=by_id[r.parent_id].code if r.parent_id in by_id else None)
            for r in page]


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
    """Suspend a reseller: its portal and API answer 403 and its users' tokens stop working (audited).

    Its sub-resellers are not suspended with it (see `children`): each is decided on its own.
    """
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
    session = db_session()
    wanted = query["portal_id"].strip().upper()
    if query["match"] == "prefix":
        escaped = wanted.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        entries = session.execute(select(PortalId).where(PortalId.portal_id.like(escaped + "%", escape="\\"))
                                  .order_by(PortalId.portal_id).limit(SEARCH_LIMIT)).scalars().all()
    else:
        entry = session.get(PortalId, wanted) if wanted else None
        entries = [entry] if entry is not None else []
    hits = []
    for entry in entries:
        tenant = directory().by_id(entry.tenant_id)
        customer = resellers.customer(state().db, tenant, entry.customer_id)
        hits.append({
            "portal_id": entry.portal_id,
            "tenant": {"id": tenant.id, "code": tenant.code, "name": tenant.name, "status": tenant.status},
            "customer": None if customer is None else {"id": customer.id, "name": customer.name,
                                                       "status": customer.status, "email": customer.email},
        })
    return hits


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
