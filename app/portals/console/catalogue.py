"""The console's Master catalogue, `/console/catalogue`: the wholesale plans (filtered by kind), one plan with the
resellers that may sell it and where, adding and changing a plan, authorising a reseller to sell it (in some
regions, or everywhere) and stopping it (through the kit's confirmation). As the console API does it
(app/api/catalogue), audited (app/services/catalogue_admin.py)."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, request, url_for

from app.models.catalogue import PLAN_KINDS
from app.portals import tables
from app.portals.console.catalogue_forms import KIND_WORDS, PERIOD_WORDS, ActionForm, AuthoriseForm, PlanForm
from app.portals.console.shell import STAFF_KINDS, guard, page
from app.portals.forms import FORM_EXPIRED, expired
from app.portals.tables import Column, TableSpec
from app.services import catalogue, catalogue_admin, resellers
from app.services.errors import Conflict, Invalid, NotFound
from app.web import db_session
from app.web.auth import requires

bp = Blueprint("console_catalogue", __name__, url_prefix="/console/catalogue")
guard(bp)

PLANS = TableSpec("plans", "Wholesale plans", (
    Column("code", "Code"), Column("name", "Name"), Column("kind", "Kind"), Column("speed", "Speed"),
    Column("wholesale_price", "Wholesale price", type="money"), Column("is_active", "On sale")),
    exportable=False, per_page=1000)
GRANTS = TableSpec("plan_authorisations", "Resellers that may sell it", (
    Column("reseller", "Reseller"), Column("regions", "Where"), Column("actions", "Actions")), exportable=False,
    per_page=1000)


def _field_error(form, exc) -> None:
    field = getattr(form, str(exc.extra.get("field") or ""), None)
    if field is not None and hasattr(field, "errors"):
        field.errors = [*list(field.errors or []), exc.detail]
    else:
        form.form_errors.append(exc.detail)


def _failed(form) -> None:
    if expired(form):
        form.form_errors.append(FORM_EXPIRED)


@requires(kinds=STAFF_KINDS)
def index():
    kind = request.args.get("kind") if request.args.get("kind") in PLAN_KINDS else None
    rows = [{"id": p.id, "code": p.code, "name": p.name, "kind": p.kind, "download_kbps": p.download_kbps,
             "upload_kbps": p.upload_kbps, "wholesale_price": p.wholesale_price, "currency": p.currency,
             "billing_period": p.billing_period, "is_active": p.is_active}
            for p in catalogue.list_plans(db_session(), kind=kind)]
    return page("catalogue/index", table=tables.view(PLANS, tables.state(PLANS), rows, len(rows)), kind=kind,
                kinds=KIND_WORDS)


def _names() -> dict[int, tuple[str, str]]:
    return {p.row.id: (p.row.code, p.row.name) for p in resellers.tree(db_session())}


def _plan_page(plan_id: int, form=None, status: int = 200):
    session = db_session()
    plan = catalogue.get_plan(session, plan_id)
    names = _names()
    grants = [{"tenant_id": a.tenant_id, "code": names.get(a.tenant_id, ("", ""))[0],
               "reseller": names.get(a.tenant_id, ("", str(a.tenant_id)))[1], "regions": a.regions}
              for a in catalogue.authorisations(session, plan_id)]
    granted = {a["tenant_id"] for a in grants}
    form = form or AuthoriseForm(formdata=None)
    form.offer([(i, f"{name} ({code})") for i, (code, name) in names.items()])
    return page("catalogue/plan", plan=plan, grants=tables.view(GRANTS, tables.state(GRANTS), grants, len(grants)),
                form=form, granted=granted, kinds=KIND_WORDS, periods=PERIOD_WORDS, status=status)


@requires(kinds=STAFF_KINDS)
def plan(plan_id: int):
    return _plan_page(plan_id)


@requires(kinds=STAFF_KINDS)
def new_plan():
    if request.method == "GET":
        return page("catalogue/edit", form=PlanForm(formdata=None, currency="KES"), plan=None)
    form = PlanForm()
    if not form.validate_on_submit():
        _failed(form)
        return page("catalogue/edit", form=form, plan=None, status=422)
    try:
        made = catalogue_admin.create_plan(db_session(), actor=g.principal.actor, **form.fields())
    except (Invalid, Conflict) as exc:
        db_session().rollback()
        if exc.extra.get("field") is None and "code" in exc.detail:
            exc.extra["field"] = "code"
        _field_error(form, exc)
        return page("catalogue/edit", form=form, plan=None, status=422)
    flash("The plan is added.", "success")
    return redirect(url_for(".plan", plan_id=made.id))


@requires(kinds=STAFF_KINDS)
def edit_plan(plan_id: int):
    found = catalogue.get_plan(db_session(), plan_id)
    if request.method == "GET":
        form = PlanForm(formdata=None, obj=found).editing()
        return page("catalogue/edit", form=form, plan=found)
    form = PlanForm().editing()
    if not form.validate_on_submit():
        _failed(form)
        return page("catalogue/edit", form=form, plan=found, status=422)
    try:
        catalogue_admin.update_plan(db_session(), plan_id, actor=g.principal.actor, **form.fields())
    except (Invalid, Conflict) as exc:
        db_session().rollback()
        _field_error(form, exc)
        return page("catalogue/edit", form=form, plan=catalogue.get_plan(db_session(), plan_id), status=422)
    flash("The plan is saved.", "success")
    return redirect(url_for(".plan", plan_id=plan_id))


@requires(kinds=STAFF_KINDS)
def authorise(plan_id: int):
    catalogue.get_plan(db_session(), plan_id)
    form = AuthoriseForm().offer([(i, name) for i, (_code, name) in _names().items()])
    if not form.validate_on_submit():
        _failed(form)
        return _plan_page(plan_id, form, status=422)
    try:
        catalogue_admin.authorise(db_session(), plan_id, int(form.tenant_id.data), form.region_list(),
                                  actor=g.principal.actor)
    except (Invalid, Conflict, NotFound) as exc:
        db_session().rollback()
        if exc.extra.get("field") == "plan_id":
            exc.extra["field"] = "tenant_id"
        _field_error(form, exc)
        return _plan_page(plan_id, form, status=422)
    flash("The reseller may sell this plan.", "success")
    return redirect(url_for(".plan", plan_id=plan_id))


@requires(kinds=STAFF_KINDS)
def deauthorise(plan_id: int, tenant_id: int):
    found = catalogue.get_plan(db_session(), plan_id)
    names = _names()
    if tenant_id not in {a.tenant_id for a in catalogue.authorisations(db_session(), plan_id)}:
        raise NotFound("this reseller is not authorised for this plan")
    form = ActionForm()
    reseller = names.get(tenant_id, ("", str(tenant_id)))[1]
    if request.method == "GET":
        return page("catalogue/deauthorise", plan=found, reseller=reseller, tenant_id=tenant_id, form=form)
    if not form.validate_on_submit():
        form.form_errors.append(FORM_EXPIRED)
        return page("catalogue/deauthorise", plan=found, reseller=reseller, tenant_id=tenant_id, form=form,
                    status=422)
    catalogue_admin.deauthorise(db_session(), plan_id, tenant_id, actor=g.principal.actor)
    flash("The reseller no longer sells this plan.", "success")
    return redirect(url_for(".plan", plan_id=plan_id))


bp.add_url_rule("", "index", index)
bp.add_url_rule("/new", "new_plan", new_plan, methods=["GET", "POST"])
bp.add_url_rule("/<int:plan_id>", "plan", plan)
bp.add_url_rule("/<int:plan_id>/edit", "edit_plan", edit_plan, methods=["GET", "POST"])
bp.add_url_rule("/<int:plan_id>/authorisations", "authorise", authorise, methods=["POST"])
bp.add_url_rule("/<int:plan_id>/authorisations/<int:tenant_id>/remove", "deauthorise", deauthorise,
                methods=["GET", "POST"])
