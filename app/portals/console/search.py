"""The console's Portal ID search, `/console/search`: a customer found by Portal ID across every tenant (the
console API's `search`), and that customer in the console, read-only, in its own tenant: the profile, the
services, the balance and the latest invoices, with its reseller and that reseller's commission. Staff
holding `can_impersonate` open the customer's own portal from here ("impersonate"): the API's audited,
single-use, one-minute ticket, which the browser takes to the customer's portal host.
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, request, url_for

from app import clock
from app.portals import customer_summary, tables
from app.portals.console.search_forms import ImpersonateForm, SearchForm
from app.portals.console.shell import STAFF_KINDS, guard, page
from app.portals.customer_summary import INVOICES, SERVICES  # noqa: F401  (the words test reads the tables here)
from app.portals.forms import FORM_EXPIRED
from app.portals.tables import Column, TableSpec
from app.services import portal_id_search
from app.services import tenants as tenant_svc
from app.services.auth import impersonation
from app.services.commissions import of_reseller
from app.web import db_session, state
from app.web.auth import requires

bp = Blueprint("console_search", __name__, url_prefix="/console/search")
guard(bp)

HITS = TableSpec("portal_ids", "Customers found", (
    Column("portal_id", "Portal ID"), Column("name", "Customer"), Column("status", "Status"),
    Column("reseller", "Reseller")), exportable=False, per_page=portal_id_search.SEARCH_LIMIT)


@requires(kinds=STAFF_KINDS)
def index():
    if "portal_id" not in request.args:
        return page("search/index", form=SearchForm(formdata=None), table=None)
    form = SearchForm(formdata=request.args)
    if not form.validate():
        return page("search/index", form=form, table=None, status=422)
    hits = portal_id_search.search(db_session(), state().db, form.portal_id.data, match=form.match.data)
    rows = [{"portal_id": h.portal_id, "name": h.customer.name if h.customer else None,
             "status": h.customer.status if h.customer else None, "reseller": h.tenant.name,
             "reseller_code": h.tenant.code, "reseller_status": h.tenant.status} for h in hits]
    return page("search/index", form=form, table=tables.view(HITS, tables.state(HITS), rows, len(rows)))


@requires(kinds=STAFF_KINDS)
def customer(portal_id: str):
    session = db_session()
    found = portal_id_search.customer_view(session, state().db, portal_id)
    reseller = tenant_svc.get(session, found["tenant"].code)
    return page("search/customer", found=found, reseller=reseller,
                commission=of_reseller.of(state().db, reseller, clock.today()), **customer_summary.views(found),
                may_impersonate=g.principal.can_impersonate, form=ImpersonateForm())


def _portal_origin(host: str) -> str:
    """The customer's portal on the same scheme and port as this console (one front door serves both)."""
    port = request.host.rpartition(":")[2] if ":" in request.host else ""
    return f"{request.scheme}://{host}{':' + port if port.isdigit() else ''}"


@requires(kinds=STAFF_KINDS)
def impersonate(portal_id: str):
    form = ImpersonateForm()
    if not form.validate_on_submit():
        flash(FORM_EXPIRED, "error")
        return redirect(url_for(".customer", portal_id=portal_id))
    session = db_session()
    tenant, ticket = impersonation.issue_ticket(session, state().redis, g.principal, portal_id)
    host = portal_id_search.primary_host(session, tenant.id)
    return redirect(f"{_portal_origin(host)}/portal/auth/impersonate?ticket={ticket}", code=303)


bp.add_url_rule("", "index", index)
bp.add_url_rule("/customers/<string:portal_id>", "customer", customer)
bp.add_url_rule("/customers/<string:portal_id>/impersonate", "impersonate", impersonate, methods=["POST"])
