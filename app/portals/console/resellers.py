"""The console's Resellers pages, `/console/resellers`: every reseller and sub-reseller with its key figures
(customers, Active services, MRR, read in each tenant's own schema for the rows of the page only) and a
search; one reseller with its terms, hosts, figures and sub-resellers; creating one (the console API's
`create_tenant`: a generated password for the first admin is shown once, in the answer to the form, and
kept nowhere), configuring
its terms, and suspending or reactivating it through the kit's confirmation, with a reason.

Every change is the API's: app/services/resellers.py in a transaction of its own, audited, and this
process's tenant directory refreshed at once (other processes follow on the registry's NOTIFY), so that a
suspended reseller's portals and API answer "unavailable" from the next request on, its sub-resellers' too.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, flash, g, redirect, request, url_for

from app import clock
from app.portals import tables
from app.portals.console.resellers_forms import CreateForm, FilterForm, ReasonForm, TermsForm, hosts_of
from app.portals.console.shell import STAFF_KINDS, guard, page
from app.portals.forms import FORM_EXPIRED, expired
from app.portals.tables import Column, TableSpec
from app.services import resellers
from app.services import tenants as tenant_svc
from app.services.commissions import of_reseller
from app.services.errors import Conflict, Invalid
from app.web import db_session, state
from app.web.auth import requires

bp = Blueprint("console_resellers", __name__, url_prefix="/console/resellers")
guard(bp)

EVERY_ROW = 10_000
CURRENCY = "KES"  # the master ISP's; a tenant's MRR in another currency is shown in that one
UTC = ZoneInfo("UTC")

RESELLERS = TableSpec("resellers", "Resellers", (
    Column("code", "Code"), Column("name", "Name"), Column("parent_code", "Parent"),
    Column("level", "Level", type="int"), Column("status", "Status"),
    Column("customers", "Customers", type="int"), Column("active_services", "Active services", type="int"),
    Column("mrr", "MRR", type="money")))
CHILDREN = TableSpec("sub_resellers", "Sub-resellers", (
    Column("code", "Code"), Column("name", "Name"), Column("status", "Status"),
    Column("customers", "Customers", type="int"), Column("mrr", "MRR", type="money")), exportable=False)


def _main_mrr(figures: resellers.Figures) -> tuple[object, str]:
    if CURRENCY in figures.mrr or not figures.mrr:
        return figures.mrr.get(CURRENCY), CURRENCY
    currency = next(iter(figures.mrr))
    return figures.mrr[currency], currency


def _figure_row(row, level: int, parent_code: str | None) -> dict:
    figures = resellers.figures(state().db, tenant_svc.ref(row))
    mrr, currency = _main_mrr(figures)
    return {"code": row.code, "name": row.name, "parent_code": parent_code, "level": level, "status": row.status,
            "customers": figures.customers, "active_services": figures.active_services, "mrr": mrr,
            "currency": currency}


def _refreshed() -> None:
    """The change was committed in another session: this process sees it from the next lookup on."""
    state().directory.invalidate()
    db_session().expire_all()


def _field_error(form, exc: Invalid | Conflict) -> None:
    """A service's refusal next to the field it names (its own words), else above the form."""
    field = getattr(form, str(exc.extra.get("field") or ""), None)
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, exc.detail] if isinstance(field.errors, list) else [exc.detail]
    else:
        form.form_errors.append(exc.detail)


# -- the list ------------------------------------------------------------------------------------------------

@requires(kinds=STAFF_KINDS)
def index():
    form = FilterForm(formdata=request.args)
    if not form.validate():
        form = FilterForm(formdata=None)
    wanted = (form.q.data or "").strip().lower()
    placed = resellers.matching(resellers.tree(db_session()), wanted, form.status.data)
    shown = tables.state(RESELLERS)
    fmt = tables.wanted_format()
    chosen = placed if fmt else placed[shown.offset:shown.offset + shown.per_page]
    rows = [_figure_row(p.row, p.level, p.parent_code) for p in chosen]
    if fmt:
        today = clock.today()
        return tables.export_response(RESELLERS, rows, fmt, scope="platform", start=today, end=today, zone=UTC,
                                      filters={k: v for k, v in (("q", wanted), ("status", form.status.data)) if v})
    return page("resellers/index", form=form, searched=bool(wanted or form.status.data),
                table=tables.view(RESELLERS, shown, rows, len(placed)), currency=CURRENCY)


# -- one reseller --------------------------------------------------------------------------------------------

@requires(kinds=STAFF_KINDS)
def show(code: str):
    session = db_session()
    row = tenant_svc.get(session, code)
    figures = resellers.figures(state().db, tenant_svc.ref(row))
    children = [_figure_row(child, depth, row.code) for child, depth in resellers.descendants(session, row.id)
                if depth == 1]
    return page("resellers/show", reseller=row, level=resellers.level(session, row.id), figures=figures,
                parent=row.parent, children=tables.view(CHILDREN, tables.state(CHILDREN), children, len(children)),
                hosts=sorted(row.domains, key=lambda d: (not d.is_primary, d.id)),
                currency=CURRENCY, blocked_by=_blocked_by(row),
                commission=of_reseller.of(state().db, row, clock.today()))


def _blocked_by(row):
    """A reseller above this one that is not active: this one's portals are unavailable with it."""
    blocker = state().directory.blocking(tenant_svc.ref(row))
    return blocker if blocker is not None and blocker.id != row.id else None


# -- creating ------------------------------------------------------------------------------------------------

def _parents() -> list[tuple[str, str]]:
    return [(p.row.code, p.row.name) for p in resellers.tree(db_session()) if p.row.status == "Active"]


@requires(kinds=STAFF_KINDS)
def create():
    form = CreateForm().offer_parents(_parents())
    if request.method == "GET":
        form.parent_code.data = request.args.get("parent", "") if request.args.get("parent") in dict(
            _parents()) else ""
        return page("resellers/create", form=form)
    if not form.validate_on_submit():
        if expired(form):
            form.form_errors.append(FORM_EXPIRED)
        return page("resellers/create", form=form, status=422)
    parent_id = tenant_svc.get(db_session(), form.parent_code.data).id if form.parent_code.data else None
    admin = None
    if form.admin_username.data:
        admin = resellers.AdminSpec(form.admin_username.data.strip(), form.admin_email.data.strip(),
                                    form.admin_password.data or None)
    terms = form.terms()
    try:
        made = resellers.create(
            state().db, code=form.code.data, name=terms["name"], base_domain=state().settings.base_domain,
            parent_id=parent_id, commission_percent=terms["commission_percent"],
            inherited_branding=terms["inherited_branding"], customer_limit=terms["customer_limit"],
            allowed_services=terms["allowed_services"], hosts=hosts_of(form.hosts.data), admin=admin,
            actor=g.principal.actor)
    except (Invalid, Conflict) as exc:
        if exc.extra.get("field") == "parent_reseller_id":
            exc.extra["field"] = "parent_code"
        elif exc.extra.get("field") is None and "host" in exc.detail:
            exc.extra["field"] = "hosts"
        elif exc.extra.get("field") is None and "code" in exc.detail:
            exc.extra["field"] = "code"
        _field_error(form, exc)
        return page("resellers/create", form=form, status=422)
    _refreshed()
    if made.generated_password is None:
        flash("The reseller is created.", "success")
        return redirect(url_for(".show", code=made.tenant.code))
    # The generated password is drawn in this answer only (as the API gives it), never kept anywhere.
    html, status, headers = page("resellers/created", reseller=tenant_svc.get(db_session(), made.tenant.code),
                                 username=made.admin_username, password=made.generated_password, status=201)
    return html, status, {**headers, "Cache-Control": "no-store"}


# -- configuring ---------------------------------------------------------------------------------------------

def _current_terms(row) -> dict:
    return {"name": row.name, "commission_percent": row.commission_percent, "customer_limit": row.customer_limit,
            "allowed_services": sorted(row.allowed_services) if row.allowed_services is not None else None,
            "inherited_branding": row.inherited_branding}


@requires(kinds=STAFF_KINDS)
def configure(code: str):
    row = tenant_svc.get(db_session(), code)
    current = _current_terms(row)
    if request.method == "GET":
        form = TermsForm(formdata=None, data={**current, "allowed_services": current["allowed_services"] or []})
        return page("resellers/configure", form=form, reseller=row)
    form = TermsForm()
    if not form.validate_on_submit():
        if expired(form):
            form.form_errors.append(FORM_EXPIRED)
        return page("resellers/configure", form=form, reseller=row, status=422)
    wanted = form.terms()
    if wanted["allowed_services"] is not None:
        wanted["allowed_services"] = sorted(wanted["allowed_services"])
    changes = {k: v for k, v in wanted.items() if v != current[k]}  # unchanged terms are not checked again
    if changes:
        try:
            resellers.configure(state().db, code, actor=g.principal.actor, **changes)
        except (Invalid, Conflict) as exc:
            _field_error(form, exc)
            return page("resellers/configure", form=form, reseller=row, status=422)
        _refreshed()
    flash("The reseller's terms are saved." if changes else "Nothing was changed.", "success")
    return redirect(url_for(".show", code=code))


# -- suspending and reactivating -----------------------------------------------------------------------------

def _status_change(code: str, target: str):
    row = tenant_svc.get(db_session(), code)
    suspending = target == "Suspended"
    form = ReasonForm()
    if suspending:
        form.require()
    name = "resellers/suspend" if suspending else "resellers/reactivate"
    children = [child for child, depth in resellers.descendants(db_session(), row.id)]
    if (row.status == "Suspended") == suspending:  # already so: nothing to confirm
        flash("The reseller is already suspended." if suspending else "The reseller is already active.", "error")
        return redirect(url_for(".show", code=code))
    if request.method == "GET":
        return page(name, reseller=row, form=form, descendants=children)
    if not form.validate_on_submit():
        if expired(form):
            form.form_errors.append(FORM_EXPIRED)
        return page(name, reseller=row, form=form, descendants=children, status=422)
    try:
        resellers.set_status(state().db, code, target, reason=(form.reason.data or "").strip() or None,
                             actor=g.principal.actor)
    except Conflict as exc:
        form.form_errors.append(exc.detail)
        return page(name, reseller=row, form=form, descendants=children, status=409)
    _refreshed()
    flash("The reseller is suspended." if suspending else "The reseller is active again.", "success")
    return redirect(url_for(".show", code=code))


@requires(kinds=STAFF_KINDS)
def suspend(code: str):
    return _status_change(code, "Suspended")


@requires(kinds=STAFF_KINDS)
def reactivate(code: str):
    return _status_change(code, "Active")


bp.add_url_rule("", "index", index)
bp.add_url_rule("/new", "create", create, methods=["GET", "POST"])
bp.add_url_rule("/<string:code>", "show", show)
bp.add_url_rule("/<string:code>/configure", "configure", configure, methods=["GET", "POST"])
bp.add_url_rule("/<string:code>/suspend", "suspend", suspend, methods=["GET", "POST"])
bp.add_url_rule("/<string:code>/reactivate", "reactivate", reactivate, methods=["GET", "POST"])
