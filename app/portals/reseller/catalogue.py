"""The reseller's Services and pricing pages, `/reseller/catalogue`: the plans it may sell with today's retail
price, a live preview of how a price is reached through its rules (every step), the price rules themselves
(add one; change or withdraw one not yet in effect), and the change requests waiting for a decision (approve,
or decline with the reason). IP pools, equipment and NAS are catalogue_network.py's pages on this blueprint.

Each page calls what the API's route calls (app/api/catalogue, app/api/services) and declares the same
permission: `services.view` to read, `settings.manage` for price rules, `services.modify` to decide a request.
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, request, url_for

from app.portals import tables
from app.portals.forms import FORM_EXPIRED, expired
from app.portals.reseller import catalogue_network
from app.portals.reseller.catalogue_forms import RULE_FIELDS, ActionForm, DecisionForm, PreviewForm, PriceRuleForm
from app.portals.reseller.catalogue_network import show
from app.portals.reseller.shell import TEAM_KINDS, guard
from app.portals.tables import Column, TableSpec
from app.services import catalogue, customers, price_rules, pricing, request_queue, service_requests
from app.services.errors import Invalid, NotFound, ServiceError
from app.web import db_session
from app.web.auth import requires

bp = Blueprint("reseller_catalogue", __name__, url_prefix="/reseller/catalogue")
guard(bp)

NO_CUSTOMER = "No customer of yours has this Portal ID."
RULE_ADDED = "The price rule is added."
RULE_CHANGED = "The price rule is changed."
RULE_WITHDRAWN = "The price rule is withdrawn."
RULE_IN_EFFECT = "This rule is in effect already: add a newer rule to end it."
APPROVED = "The request is approved."
DECLINED = "The request is declined."
REASON_NEEDED = "Say why the request is declined: the customer reads it."
DECIDED_ALREADY = "This request was decided already."

PLANS = TableSpec("catalogue", "Plans you may sell", (
    Column("code", "Code"), Column("name", "Plan"), Column("kind", "Kind"), Column("speed", "Speed"),
    Column("wholesale", "Wholesale", type="money"), Column("retail", "Retail today", type="money"),
    Column("setup_fee", "Setup fee", type="money"), Column("regions", "Sold in")), exportable=False)


def _mbps(kbps: int | None) -> str:
    if kbps is None:
        return "–"
    value = kbps / 1000
    return f"{value:g}"


def plan_rows(session) -> list[dict]:
    """The API's catalogue (GET /reseller/api/catalogue) as the table's rows."""
    today = pricing.today(session)
    rows = []
    for plan in catalogue.authorised_plans(session, g.tenant.id):
        grant = catalogue.authorisation_of(session, plan.id, g.tenant.id)
        quote = pricing.retail_price(session, plan, today)
        speed = (f"{_mbps(plan.download_kbps)}/{_mbps(plan.upload_kbps)} Mbit/s"
                 if plan.download_kbps or plan.upload_kbps else "–")
        rows.append({"id": plan.id, "code": plan.code, "name": plan.name, "kind": plan.kind, "speed": speed,
                     "wholesale": plan.wholesale_price, "retail": quote.price, "setup_fee": quote.setup_fee,
                     "currency": plan.currency, "period": plan.billing_period, "regions": grant.regions,
                     "promo": quote.promo_applied, "rule_id": quote.rule_id})
    return rows


# -- the catalogue ---------------------------------------------------------------------------------------------

@requires("services.view", kinds=TEAM_KINDS)
def index():
    session = db_session()
    rows = plan_rows(session)
    waiting = len(request_queue.pending(session, g.principal.allowed_customer_ids))
    return show("catalogue/index", plans_table=tables.view(PLANS, tables.state(PLANS), rows, len(rows)),
                waiting=waiting)


# -- the price preview -----------------------------------------------------------------------------------------

def _customer_id(session, portal_id: str) -> int | None:
    """The customer of this Portal ID that the signed-in member may see (as the API's preview checks)."""
    found = customers.matching_ids(session, customers.CustomerFilter(portal_id=portal_id),
                                   g.principal.allowed_customer_ids, cap=1)
    return found[0] if found else None


@requires("services.view", kinds=TEAM_KINDS)
def preview():
    """A GET form: the plan, and a customer (Portal ID) or a category and a volume, and a date; the answer is
    the API's preview (GET /reseller/api/prices/preview) with its steps."""
    session = db_session()
    plans = catalogue.authorised_plans(session, g.tenant.id)
    asked = "plan" in request.args
    form = PreviewForm(formdata=request.args if asked else None).offer(plans)
    if not asked:
        return show("catalogue/preview", form=form, quote=None, steps=None, plans=plans)
    if not form.validate():
        return show("catalogue/preview", form=form, quote=None, steps=None, plans=plans, status=422)
    customer = None
    if form.customer.data and form.customer.data.strip():
        customer_id = _customer_id(session, form.customer.data)
        if customer_id is None:
            form.customer.errors = [NO_CUSTOMER]
            return show("catalogue/preview", form=form, quote=None, steps=None, plans=plans, status=422)
        customer = customers.get(session, customer_id, g.principal.allowed_customer_ids)
    try:
        plan = catalogue.sellable_plan(session, form.plan.data, g.tenant.id, check_region=False)
    except NotFound:
        form.plan.errors = ["Choose a plan."]
        return show("catalogue/preview", form=form, quote=None, steps=None, plans=plans, status=422)
    quote = pricing.retail_price(session, plan, form.day.data or pricing.today(session), customer,
                                 category=form.category.data or None, volume=form.volume.data)
    rule = price_rules.get_rule(session, quote.rule_id) if quote.rule_id else None
    return show("catalogue/preview", form=form, quote=quote, steps=pricing.steps(quote), plans=plans, plan=plan,
                rule=rule, customer=customer)


# -- price rules -----------------------------------------------------------------------------------------------

RULES = TableSpec("price_rules", "Price rules", (
    Column("id", "Rule"), Column("applies", "Applies to"), Column("markup", "Price"),
    Column("limits", "Floor and ceiling"), Column("tier", "For"), Column("promotion", "Promotion"),
    Column("effective_from", "From", type="date"),
    Column("actions", "Actions")), exportable=False, per_page=200)


def rule_rows(session) -> list[dict]:
    plans = {p.id: p for p in catalogue.authorised_plans(session, g.tenant.id)}
    today = pricing.today(session)
    rows = []
    for rule in price_rules.list_rules(session):
        out = price_rules.rule_out(rule)
        plan = plans.get(rule.plan_id)
        rows.append({**out, "plan": plan, "future": rule.effective_from > today})
    return rows


@requires("settings.manage", kinds=TEAM_KINDS)
def prices():
    session = db_session()
    rows = rule_rows(session)
    return show("catalogue/prices", rules_table=tables.view(RULES, tables.state(RULES), rows, len(rows)), rows=rows)


def _rule_refused(form: PriceRuleForm, exc: ServiceError) -> None:
    field = RULE_FIELDS.get(exc.extra.get("field") or "")
    if field and field in form:
        form[field].errors = [*form[field].errors, exc.detail]
    else:
        form.form_errors.append(exc.detail)


def _rule_form_page(form: PriceRuleForm, rule_id: int | None = None, status: int = 200):
    return show("catalogue/rule_form", form=form, rule_id=rule_id, status=status)


@requires("settings.manage", kinds=TEAM_KINDS)
def new_rule():
    session = db_session()
    plans = catalogue.authorised_plans(session, g.tenant.id)
    if request.method == "GET":
        form = PriceRuleForm(formdata=None, effective_from=pricing.today(session),
                             plan=request.args.get("plan", type=int)).offer(plans)
        chosen = next((p for p in plans if p.id == form.plan.data), None)
        if chosen is not None:
            form.service_type.data = chosen.kind
        return _rule_form_page(form)
    form = PriceRuleForm().offer(plans)
    if not form.validate_on_submit():
        if expired(form):
            form.form_errors.append(FORM_EXPIRED)
        return _rule_form_page(form, status=422)
    try:
        price_rules.create_rule(session, form.values(), actor=g.principal.actor)
    except (Invalid, NotFound) as exc:
        session.rollback()
        _rule_refused(form, exc)
        return _rule_form_page(form, status=422)
    flash(RULE_ADDED, "success")
    return redirect(url_for(".prices"), code=303)


def _rule_form_data(rule) -> dict:
    return {"service_type": rule.service_type, "plan": rule.plan_id, "markup_type": rule.markup_type,
            "markup_value": rule.markup_value, "min_price": rule.min_price, "max_price": rule.max_price,
            "setup_fee": rule.setup_fee, "customer_category": rule.customer_category, "min_volume": rule.min_volume,
            "effective_from": rule.effective_from, "promo_enabled": rule.promo_enabled,
            "promo_discount_percent": rule.promo_discount_percent, "promo_valid_from": rule.promo_valid_from,
            "promo_valid_until": rule.promo_valid_until}


@requires("settings.manage", kinds=TEAM_KINDS)
def edit_rule(rule_id: int):
    """Only a rule not yet in effect may change (PATCH /reseller/api/prices/<id>: 409 otherwise)."""
    session = db_session()
    rule = price_rules.get_rule(session, rule_id)
    plans = catalogue.authorised_plans(session, g.tenant.id)
    if request.method == "GET":
        if rule.effective_from <= pricing.today(session):
            flash(RULE_IN_EFFECT, "error")
            return redirect(url_for(".prices"), code=303)
        return _rule_form_page(PriceRuleForm(formdata=None, **_rule_form_data(rule)).offer(plans), rule_id)
    form = PriceRuleForm().offer(plans)
    if not form.validate_on_submit():
        if expired(form):
            form.form_errors.append(FORM_EXPIRED)
        return _rule_form_page(form, rule_id, status=422)
    try:
        price_rules.update_rule(session, rule_id, form.values())
    except ServiceError as exc:
        session.rollback()
        if isinstance(exc, NotFound) and not exc.extra.get("field"):
            raise
        if exc.status == 409:
            flash(RULE_IN_EFFECT, "error")
            return redirect(url_for(".prices"), code=303)
        _rule_refused(form, exc)
        return _rule_form_page(form, rule_id, status=422)
    flash(RULE_CHANGED, "success")
    return redirect(url_for(".prices"), code=303)


@requires("settings.manage", kinds=TEAM_KINDS)
def withdraw_rule(rule_id: int):
    session = db_session()
    rule = price_rules.get_rule(session, rule_id)
    form = ActionForm()
    if request.method == "GET":
        return show("catalogue/withdraw_rule", rule=price_rules.rule_out(rule), form=form)
    if not form.validate_on_submit():
        form.form_errors.append(FORM_EXPIRED)
        return show("catalogue/withdraw_rule", rule=price_rules.rule_out(rule), form=form, status=422)
    try:
        price_rules.delete_rule(session, rule_id)
    except ServiceError as exc:
        if exc.status != 409:
            raise
        session.rollback()
        flash(RULE_IN_EFFECT, "error")
        return redirect(url_for(".prices"), code=303)
    flash(RULE_WITHDRAWN, "success")
    return redirect(url_for(".prices"), code=303)


# -- change requests waiting for approval ----------------------------------------------------------------------

@requires("services.view", kinds=TEAM_KINDS)
def requests():
    session = db_session()
    waiting = request_queue.pending(session, g.principal.allowed_customer_ids)
    return show("catalogue/requests", waiting=waiting, form=DecisionForm())


def _waiting(request_id: int):
    return request_queue.waiting(db_session(), request_id, g.principal.allowed_customer_ids)


@requires("services.modify", kinds=TEAM_KINDS)
def approve(request_id: int):
    session = db_session()
    if _waiting(request_id) is None:
        flash(DECIDED_ALREADY, "error")
        return redirect(url_for(".requests"), code=303)
    form = DecisionForm()
    if not form.validate_on_submit():
        flash(FORM_EXPIRED if expired(form) else DECIDED_ALREADY, "error")
        return redirect(url_for(".requests"), code=303)
    try:
        service_requests.approve(session, request_id, principal=g.principal, note=form.note.data or None)
    except ServiceError as exc:
        session.rollback()
        if exc.status == 404 and not exc.extra.get("field"):
            raise
        flash(exc.detail, "error")
        return redirect(url_for(".requests"), code=303)
    flash(APPROVED, "success")
    return redirect(url_for(".requests"), code=303)


@requires("services.modify", kinds=TEAM_KINDS)
def decline(request_id: int):
    """A confirmation page with the reason to give; its POST rejects the request (…/reject in the API)."""
    session = db_session()
    waiting = _waiting(request_id)
    if waiting is None:
        flash(DECIDED_ALREADY, "error")
        return redirect(url_for(".requests"), code=303)
    form = DecisionForm()
    if request.method == "GET":
        return show("catalogue/decline", waiting=waiting, form=form)
    if not form.validate_on_submit() or not (form.note.data or "").strip():
        if expired(form):
            form.form_errors.append(FORM_EXPIRED)
        elif not (form.note.data or "").strip():
            form.note.errors = [*form.note.errors, REASON_NEEDED]
        return show("catalogue/decline", waiting=waiting, form=form, status=422)
    try:
        service_requests.reject(session, request_id, principal=g.principal, note=form.note.data.strip())
    except ServiceError as exc:
        session.rollback()
        flash(exc.detail, "error")
        return redirect(url_for(".requests"), code=303)
    flash(DECLINED, "success")
    return redirect(url_for(".requests"), code=303)


bp.add_url_rule("", "index", index)
bp.add_url_rule("/preview", "preview", preview)
bp.add_url_rule("/prices", "prices", prices)
bp.add_url_rule("/prices/new", "new_rule", new_rule, methods=["GET", "POST"])
bp.add_url_rule("/prices/<int:rule_id>/edit", "edit_rule", edit_rule, methods=["GET", "POST"])
bp.add_url_rule("/prices/<int:rule_id>/withdraw", "withdraw_rule", withdraw_rule, methods=["GET", "POST"])
bp.add_url_rule("/requests", "requests", requests)
bp.add_url_rule("/requests/<int:request_id>/approve", "approve", approve, methods=["POST"])
bp.add_url_rule("/requests/<int:request_id>/decline", "decline", decline, methods=["GET", "POST"])
catalogue_network.register(bp)
