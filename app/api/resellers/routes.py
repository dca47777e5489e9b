"""Sub-resellers, as their parent reseller manages and watches them.

Who may do what, and why:
- creating and configuring (`POST`, `PATCH`): `resellers.manage` (the Admin role's "Sub-reseller creation");
- the list, detail and figures (customers, active services, MRR): `finance.reports`, because the
  figures are revenue; the Readonly and Manager roles hold it, a plain User does not;
- a sub-reseller's customers: `customers.view`, as for one's own customers, but refused to a user
  restricted to some customers (`allowed_customer_ids` are ids of the parent's own customers, so they
  cannot be mapped onto a descendant's).
All of it is read-only towards the descendants' data, which is read in each descendant's own schema
(app/services/resellers.py). A descendant is anything below the caller's tenant, at any depth; the
parent, siblings and their subtrees are never visible: any code that is not a descendant is a 404,
exactly like a code that does not exist.
"""

from __future__ import annotations

from flask import g
from flask_smorest import Blueprint

from app.api.resellers import schemas as s
from app.api.resellers.present import customer_out, figures_out, tenant_out
from app.models import Tenant as TenantRow
from app.services import descendant_customers, resellers
from app.services.errors import NotFound
from app.services.tenants import ref
from app.web import db_session, state
from app.web.auth import requires

blp = Blueprint("resellers", __name__, url_prefix="/reseller/api", description="Sub-resellers")
USER_KIND = ("user",)


def _own() -> TenantRow:
    row = db_session().get(TenantRow, g.tenant.id)
    if row is None:  # the tenant was deleted under a live session
        raise NotFound("this reseller no longer exists")
    return row


def _descendant(code: str) -> tuple[TenantRow, int]:
    session = db_session()
    row = resellers.descendant_by_code(session, g.tenant.id, code)
    return row, resellers.level(session, row.id)


@blp.route("/sub-resellers")
@requires("finance.reports", kinds=USER_KIND)
@blp.response(200, s.ResellerOut(many=True))
def list_sub_resellers():
    """Every sub-reseller below yours (at any depth, depth-first), with its level and key figures."""
    session = db_session()
    base = resellers.level(session, g.tenant.id)
    db = state().db
    return [tenant_out(db, row, base + depth) for row, depth in resellers.descendants(session, g.tenant.id)]


@blp.route("/sub-resellers", methods=["POST"])
@requires("resellers.manage", kinds=USER_KIND)
@blp.arguments(s.SubResellerIn)
@blp.response(201, s.SubResellerCreatedOut)
def create_sub_reseller(body):
    """Create a sub-reseller (the JSON of "Sub-Reseller Creation", with a code and its first Admin).

    Provisioned in a transaction of its own (never the request's: provisioning moves its transaction's
    search_path to the new schema). Terms never exceed the parent's: see app/services/resellers.py.
    """
    admin = body["admin"]
    created = resellers.create(
        state().db, code=body["code"], name=body["name"], base_domain=state().settings.base_domain,
        parent_id=body["parent_reseller_id"] or g.tenant.id, within=g.tenant.id, level_=body["level"],
        commission_percent=body["commission_percent"], inherited_branding=body["inherited_branding"],
        customer_limit=body["customer_limit"], allowed_services=body["allowed_services"], hosts=body["hosts"],
        hosts_verified=False, admin=resellers.AdminSpec(admin["username"], admin["email"], admin.get("password")),
        actor=g.principal.actor)
    state().directory.invalidate()  # this process sees the new hosts at once; others on NOTIFY
    row = db_session().get(TenantRow, created.tenant.id)
    out = tenant_out(state().db, row, created.level)
    out["admin"] = {"id": created.admin_id, "username": created.admin_username,
                    "generated_password": created.generated_password}
    out["authorised_plans"] = created.authorised_plans
    return out


@blp.route("/sub-resellers/summary")
@requires("finance.reports", kinds=USER_KIND)
@blp.response(200, s.SubResellerSummaryOut)
def summary():
    """Consolidated figures: yours, and yours with every sub-reseller's below you."""
    tree = [ref(row) for row, _ in resellers.subtree(db_session(), g.tenant.id)]
    db = state().db
    own = resellers.figures(db, tree[0]) if tree else resellers.Figures()
    rest = resellers.consolidated(db, tree[1:])
    return {"own": figures_out(own), "sub_resellers": len(tree[1:]), "consolidated": figures_out(own + rest)}


@blp.route("/sub-resellers/<string:code>")
@requires("finance.reports", kinds=USER_KIND)
@blp.response(200, s.SubResellerDetail)
def get_sub_reseller(code):
    """One sub-reseller below yours: terms, figures, and figures consolidated over its own subtree."""
    row, depth = _descendant(code)
    db = state().db
    out = tenant_out(db, row, depth)
    tree = resellers.subtree(db_session(), row.id)
    out["children"] = [r.code for r, d in tree if d == 1]
    out["consolidated"] = figures_out(resellers.consolidated(db, [ref(r) for r, _ in tree]))
    return out


@blp.route("/sub-resellers/<string:code>", methods=["PATCH"])
@requires("resellers.manage", kinds=USER_KIND)
@blp.arguments(s.ResellerTermsPatch)
@blp.response(200, s.ResellerOut)
def configure_sub_reseller(body, code):
    """Change a sub-reseller's name or terms (never beyond its parent's, nor below what its own
    sub-resellers already have)."""
    _descendant(code)
    resellers.configure(state().db, code, within=g.tenant.id, actor=g.principal.actor, **body)
    state().directory.invalidate()
    session = db_session()
    session.expire_all()
    row, depth = _descendant(code)
    return tenant_out(state().db, row, depth)


@blp.route("/sub-resellers/<string:code>/customers")
@requires("customers.view", kinds=USER_KIND)
@blp.arguments(s.SubResellerCustomersQuery, location="query")
@blp.response(200, s.DescendantCustomerOut(many=True))
@blp.paginate()
def sub_reseller_customers(query, code, pagination_parameters):
    """A sub-reseller's customers, read-only (paginated; the total is in the X-Pagination header)."""
    _row, total, rows = descendant_customers.page(
        state().db, db_session(), g.principal, g.tenant.id, code, offset=pagination_parameters.first_item,
        limit=pagination_parameters.page_size, status=query.get("status"))
    pagination_parameters.item_count = total
    return [customer_out(c) for c in rows]


@blp.route("/sub-resellers/<string:code>/customers/<int:customer_id>")
@requires("customers.view", kinds=USER_KIND)
@blp.response(200, s.DescendantCustomerDetailOut)
def sub_reseller_customer(code, customer_id):
    """One of a sub-reseller's customers, read-only: the profile, services, balance and latest invoices."""
    _row, found = descendant_customers.customer(state().db, db_session(), g.principal, g.tenant.id, code,
                                                customer_id)
    return {**found["customer"], "services": found["services"], "balance": found["balance"],
            "invoices": found["invoices"]}
