"""A sub-reseller's customers as its parent sees them, read-only: `/reseller/sub-resellers/<code>/customers`, a page
of them with a status filter, and one customer's profile, services, balance and latest invoices.

Each page calls what the sub-resellers API's routes call (app/services/descendant_customers.py) with their
permission, `customers.view`: only descendants exist (any other code is not found, as in the API), a member limited
to some customers is refused, and nothing here offers a change. The customer is drawn by the macro the console's
Portal ID search uses (kit/customer_summary.html), from the same service.
"""

from __future__ import annotations

from flask import Blueprint, g, request
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice

from app.portals import customer_summary, tables
from app.portals.nav import may_open
from app.portals.reseller.shell import TEAM_KINDS, guard, page
from app.portals.tables import Column, TableSpec
from app.services import descendant_customers
from app.web import db_session, state
from app.web.auth import requires

bp = Blueprint("reseller_subreseller_customers", __name__, url_prefix="/reseller/sub-resellers/<code>/customers")
guard(bp)

STATUSES = ("Pending", "New", "Active", "Suspended", "Inactive")
CUSTOMERS = TableSpec("customers", "Customers", (
    Column("portal_id", "Portal ID"), Column("name", "Name"), Column("kind", "Kind"), Column("status", "Status"),
    Column("created_at", "Customer since", type="date")), exportable=False, per_page=50)


class StatusFilter(FlaskForm):
    """The list's one filter, a GET form (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    status = SelectField(choices=[SelectChoice("", "Every status")] + [SelectChoice(s, s) for s in STATUSES],
                         validate_choice=False)


@requires("customers.view", kinds=TEAM_KINDS)
def index(code: str):
    form = StatusFilter(formdata=request.args)
    status = form.status.data if form.status.data in STATUSES else None
    table_state = tables.state(CUSTOMERS)
    row, total, found = descendant_customers.page(state().db, db_session(), g.principal, g.tenant.id, code,
                                                  offset=table_state.offset, limit=table_state.per_page,
                                                  status=status)
    rows = [{"id": c.id, "portal_id": c.portal_id, "name": c.name, "kind": c.kind, "status": c.status,
             "created_at": c.created_at} for c in found]
    return page("subresellers/customers", reseller=row, form=form, status=status,
                table=tables.view(CUSTOMERS, table_state, rows, total),
                back=may_open("reseller_subresellers.detail"))


@requires("customers.view", kinds=TEAM_KINDS)
def customer(code: str, customer_id: int):
    row, found = descendant_customers.customer(state().db, db_session(), g.principal, g.tenant.id, code,
                                               customer_id)
    return page("subresellers/customer", reseller=row, found=found, **customer_summary.views(found))


bp.add_url_rule("", "index", index)
bp.add_url_rule("/<int:customer_id>", "customer", customer)
