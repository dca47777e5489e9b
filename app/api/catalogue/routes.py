"""The wholesale catalogue (master ISP staff, console host) and a reseller's catalogue and prices."""

from __future__ import annotations

from flask import g
from flask_smorest import Blueprint
from sqlalchemy import select

from app.api.catalogue import schemas as s
from app.models import Customer, Tenant
from app.services import catalogue, catalogue_admin, price_rules, pricing
from app.services.errors import Invalid, NotFound
from app.web import db_session
from app.web.auth import requires

console_blp = Blueprint("catalogue_console", __name__, url_prefix="/console/api",
                        description="The wholesale catalogue: plans and which resellers may sell them")
reseller_blp = Blueprint("catalogue", __name__, url_prefix="/reseller/api",
                         description="A reseller's catalogue, price rules and price preview")
BLUEPRINTS = [console_blp, reseller_blp]
STAFF = ("staff",)
USER = ("user",)


def _authorisation_out(session, grant) -> dict:
    code = session.execute(select(Tenant.code).where(Tenant.id == grant.tenant_id)).scalar()
    return {"plan_id": grant.plan_id, "tenant_id": grant.tenant_id, "tenant_code": code, "regions": grant.regions,
            "created_at": grant.created_at, "created_by": grant.created_by}


# -- master ISP staff ---------------------------------------------------------------------------------

@console_blp.route("/plans")
@requires(kinds=STAFF)
@console_blp.arguments(s.PlanListArgs, location="query")
@console_blp.response(200, s.PlanOut(many=True))
def list_plans(args):
    """Every wholesale plan (filter by kind, active)."""
    return catalogue.list_plans(db_session(), kind=args.get("kind"), active=args.get("active"))


@console_blp.route("/plans", methods=["POST"])
@requires(kinds=STAFF)
@console_blp.arguments(s.PlanIn)
@console_blp.response(201, s.PlanOut)
def create_plan(body):
    """A new wholesale plan (speeds in kbit/s; money as decimal strings or numbers)."""
    return catalogue_admin.create_plan(db_session(), actor=g.principal.actor, **body)


@console_blp.route("/plans/<int:plan_id>")
@requires(kinds=STAFF)
@console_blp.response(200, s.PlanOut)
def get_plan(plan_id):
    """One wholesale plan."""
    return catalogue.get_plan(db_session(), plan_id)


@console_blp.route("/plans/<int:plan_id>", methods=["PATCH"])
@requires(kinds=STAFF)
@console_blp.arguments(s.PlanPatch)
@console_blp.response(200, s.PlanOut)
def update_plan(body, plan_id):
    """Change a plan; services already sold keep the price they were sold at."""
    return catalogue_admin.update_plan(db_session(), plan_id, actor=g.principal.actor, **body)


@console_blp.route("/plans/<int:plan_id>/authorisations")
@requires(kinds=STAFF)
@console_blp.response(200, s.PlanAuthorisationOut(many=True))
def list_authorisations(plan_id):
    """The resellers that may sell this plan, and where."""
    session = db_session()
    return [_authorisation_out(session, grant) for grant in catalogue.authorisations(session, plan_id)]


@console_blp.route("/plans/<int:plan_id>/authorisations", methods=["POST"])
@requires(kinds=STAFF)
@console_blp.arguments(s.PlanAuthorisationIn)
@console_blp.response(201, s.PlanAuthorisationOut)
def authorise(body, plan_id):
    """Let a reseller sell this plan (in `regions`; none: everywhere). Again: changes the regions."""
    session = db_session()
    tenant_id = body.get("tenant_id")
    if tenant_id is None and body.get("tenant_code"):
        tenant_id = session.execute(select(Tenant.id).where(Tenant.code == body["tenant_code"])).scalar()
        if tenant_id is None:
            raise NotFound("no such reseller", field="tenant_code")
    if tenant_id is None:
        raise Invalid("tenant_id or tenant_code is needed", field="tenant_id")
    grant = catalogue_admin.authorise(session, plan_id, tenant_id, body.get("regions"), actor=g.principal.actor)
    return _authorisation_out(session, grant)


@console_blp.route("/plans/<int:plan_id>/authorisations/<int:tenant_id>", methods=["DELETE"])
@requires(kinds=STAFF)
@console_blp.response(204)
def deauthorise(plan_id, tenant_id):
    """Stop a reseller selling this plan (its services already sold keep running)."""
    catalogue_admin.deauthorise(db_session(), plan_id, tenant_id, actor=g.principal.actor)


# -- the reseller ---------------------------------------------------------------------------------------

@reseller_blp.route("/catalogue")
@requires("services.view", kinds=USER)
@reseller_blp.response(200, s.CatalogueItemOut(many=True))
def my_catalogue():
    """The plans this reseller may sell, each with its wholesale price and today's retail price."""
    session = db_session()
    today = pricing.today(session)
    out = []
    for plan in catalogue.authorised_plans(session, g.tenant.id):
        grant = catalogue.authorisation_of(session, plan.id, g.tenant.id)
        item = s.PlanOut().dump(plan)
        item.update(regions=grant.regions, retail=pricing.retail_price(session, plan, today).as_dict())
        out.append(item)
    return out


@reseller_blp.route("/prices")
@requires("settings.manage", kinds=USER)
@reseller_blp.arguments(s.PriceRuleListArgs, location="query")
@reseller_blp.response(200, s.PriceRuleOut(many=True))
def list_prices(args):
    """Every price rule of this reseller, past, current and future (rules are history: never rewritten)."""
    return [price_rules.rule_out(r) for r in price_rules.list_rules(db_session(), args.get("tariff_id"))]


@reseller_blp.route("/prices", methods=["POST"])
@requires("settings.manage", kinds=USER)
@reseller_blp.arguments(s.PriceRuleIn)
@reseller_blp.response(201, s.PriceRuleOut)
def create_price(body):
    """A price rule, as "Pricing Configuration" in the reseller journey (`tariff_id` is a plan id)."""
    return price_rules.rule_out(price_rules.create_rule(db_session(), body, actor=g.principal.actor))


@reseller_blp.route("/prices/<int:rule_id>", methods=["PATCH"])
@requires("settings.manage", kinds=USER)
@reseller_blp.arguments(s.PriceRulePatch)
@reseller_blp.response(200, s.PriceRuleOut)
def update_price(body, rule_id):
    """Change a rule not yet in effect (409 for one in effect: add a newer rule to end it)."""
    return price_rules.rule_out(price_rules.update_rule(db_session(), rule_id, body))


@reseller_blp.route("/prices/<int:rule_id>", methods=["DELETE"])
@requires("settings.manage", kinds=USER)
@reseller_blp.response(204)
def delete_price(rule_id):
    """Withdraw a rule not yet in effect."""
    price_rules.delete_rule(db_session(), rule_id)


@reseller_blp.route("/prices/preview")
@requires("services.view", kinds=USER)
@reseller_blp.arguments(s.PricePreviewArgs, location="query")
@reseller_blp.response(200, s.PricePreviewOut)
def preview(args):
    """The retail price of a plan on a date (default today) for a customer, with its breakdown and the steps
    that reached it."""
    session = db_session()
    plan = catalogue.sellable_plan(session, args["plan_id"], g.tenant.id, check_region=False)
    customer = None
    if args.get("customer_id") is not None:
        customer = session.get(Customer, args["customer_id"])
        if customer is None or not g.principal.may_see_customer(customer.id):
            raise NotFound("no such customer", field="customer_id")
    on = args.get("date") or pricing.today(session)
    quote = pricing.retail_price(session, plan, on, customer, category=args.get("category"), volume=args.get("volume"))
    return {**quote.as_dict(), "steps": pricing.steps(quote)}
