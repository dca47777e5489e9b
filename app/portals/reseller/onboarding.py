"""The reseller portal's onboarding wizard, `/reseller/customers/new`: a new customer in the four steps of the
reseller journey (001 §3.2) and a review, then created all at once.

1. Basic information (`/new`): a person or a company, how to reach them, where they live.
2. Service (`…/service`): a plan of the reseller's catalogue with today's retail price, or no service for now.
   Offered to who may provision services (the API's onboarding asks `services.provision` for services).
3. Installation and network (`…/installation`, with a plan): the site's address, a region, whether the service
   goes live now, with a static IP.
4. Billing and access (`…/billing`): billing day, payment method, M-PESA number, deposit, credit limit, and the
   welcome e-mail with the portal's sign-in details.

Each step is a form of its own (POST, then a redirect to the next step); a mistake gives the step back with the
message next to its field and what was typed. What the steps gave is kept on the server between pages
(app/services/onboarding_drafts.py says why not in hidden fields), under a wizard id in the address, so that
"Change" on the review page and the browser's Back both find it. The review's "Create the customer" makes one
call, `onboarding.onboard`, the one the API's `POST /reseller/api/onboarding` makes: the customer, their
service, network credentials, portal password and welcome e-mail in the request's one transaction; when any of
it fails, nothing is kept (the request's session is rolled back) and the review says why.

The result page shows the Portal ID, the generated portal password and each network password once: it is read
and removed in one step, and a reload says that they were shown.
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, request, url_for

from app.portals.forms import FORM_EXPIRED, expired
from app.portals.nav import may_open
from app.portals.reseller.onboarding_forms import (
    NO_SERVICE,
    PAYMENT_WORDS,
    BasicForm,
    BillingForm,
    ConfirmForm,
    InstallationForm,
    ServiceForm,
)
from app.portals.reseller.shell import TEAM_KINDS, guard, page
from app.services import catalogue, onboarding, onboarding_drafts, pricing
from app.services.auth import links
from app.services.auth.realms import CUSTOMER
from app.services.errors import ServiceError
from app.services.money import money
from app.web import db_session, state
from app.web.auth import requires

bp = Blueprint("reseller_onboarding", __name__, url_prefix="/reseller/customers/new")
guard(bp)

CREATE = "customers.create"  # the API's onboarding permission
PROVISION = "services.provision"  # and what it asks for services
STEPS = ("basic", "service", "installation", "billing")
TITLES = {"basic": "Basic information", "service": "Service", "installation": "Installation and network",
          "billing": "Billing and access", "review": "Check and create"}
GONE = "This onboarding has expired or was finished. Start again."
NOT_CREATED = "The customer was not created, and nothing was saved."


def _store() -> tuple:
    return state().redis, g.tenant, g.principal.id


def _load(wizard_id: str) -> dict | None:
    return onboarding_drafts.load(*_store(), wizard_id)


def _save(wizard_id: str, draft: dict) -> None:
    onboarding_drafts.save(*_store(), wizard_id, draft)


def may_add_services() -> bool:
    return g.principal.can(PROVISION)


def steps_of(draft: dict) -> list[str]:
    """The steps this wizard goes through: no service step for who may not add one, no installation without a
    plan."""
    steps = ["basic"]
    if may_add_services():
        steps.append("service")
        if (draft.get("service") or {}).get("plan_id", NO_SERVICE) != NO_SERVICE:
            steps.append("installation")
    steps.append("billing")
    return steps


def _next(draft: dict, step: str) -> str:
    steps = steps_of(draft)
    later = steps[steps.index(step) + 1:] if step in steps else []
    return next((s for s in later if s not in draft), "review") if later else "review"


def _missing(draft: dict) -> str | None:
    return next((s for s in steps_of(draft) if s not in draft), None)


def _to(wizard_id: str, step: str):
    if step == "review":
        return redirect(url_for(".review", wizard_id=wizard_id))
    return redirect(url_for(".step", wizard_id=wizard_id, step=step))


def _gone():
    flash(GONE, "error")
    return redirect(url_for(".start"))


def plans() -> list[dict]:
    """The plans this reseller may sell, with today's retail price: what the API's catalogue lists."""
    session = db_session()
    today = pricing.today(session)
    out = []
    for plan in catalogue.authorised_plans(session, g.tenant.id):
        grant = catalogue.authorisation_of(session, plan.id, g.tenant.id)
        quote = pricing.retail_price(session, plan, today)
        out.append({"id": plan.id, "code": plan.code, "name": plan.name, "kind": plan.kind,
                    "price": quote.price, "setup_fee": quote.setup_fee, "currency": plan.currency,
                    "billing_period": plan.billing_period, "regions": grant.regions if grant else None,
                    "download_kbps": plan.download_kbps, "upload_kbps": plan.upload_kbps,
                    "allowance_mb": plan.data_allowance_mb, "description": plan.description})
    return out


def _plan(draft: dict, offered: list[dict]) -> dict | None:
    chosen = (draft.get("service") or {}).get("plan_id", NO_SERVICE)
    return next((p for p in offered if str(p["id"]) == chosen), None)


def _frame(step: str, draft: dict, wizard_id: str | None, **context):
    """A step's page: the steps as a list (this one marked), its form."""
    back_url = url_for("reseller_customers.index") if may_open("reseller_customers.index") else None
    return page(f"onboarding/{step}", step=step, steps=steps_of(draft), titles=TITLES, draft=draft,
                wizard_id=wizard_id, back_url=back_url, not_created=NOT_CREATED, **context)


# -- step 1: basic information -------------------------------------------------------------------------------

@requires(CREATE, kinds=TEAM_KINDS)
def start():
    """The first step, before there is a wizard: sending it makes one."""
    form = BasicForm()
    if request.method == "POST":
        if form.validate_on_submit():
            draft = {"basic": form.values()}
            wizard_id = onboarding_drafts.start(*_store(), draft)
            return _to(wizard_id, _next(draft, "basic"))
        if expired(form):
            form.form_errors.append(FORM_EXPIRED)
        return _frame("basic", {}, None, form=form, status=422)
    return _frame("basic", {}, None, form=form)


_FORMS = {"basic": BasicForm, "service": ServiceForm, "installation": InstallationForm, "billing": BillingForm}


def _form_for(step: str, draft: dict, offered: list[dict]):
    kept = draft.get(step)
    form_class = _FORMS[step]
    if request.method == "POST":
        form = form_class()
    elif kept is not None:
        form = form_class(formdata=None, data=kept)
    else:
        form = form_class(formdata=None)
        if step == "installation":
            form.installation_address.data = ", ".join(
                v for v in (draft["basic"].get("address"), draft["basic"].get("city")) if v) or None
    if step == "service":
        form.offer([p["id"] for p in offered])
    return form


@requires(CREATE, kinds=TEAM_KINDS)
def step(wizard_id: str, step: str):
    draft = _load(wizard_id)
    if draft is None:
        return _gone()
    if step not in steps_of(draft):
        return _to(wizard_id, _missing(draft) or "review")
    offered = plans() if step in ("service", "installation") else []
    form = _form_for(step, draft, offered)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            values = form.values() if hasattr(form, "values") else {"plan_id": form.plan_id.data}
            changed_plan = step == "service" and (draft.get("service") or {}).get("plan_id") != values["plan_id"]
            draft[step] = values
            if changed_plan:
                draft.pop("installation", None)  # a region and an activation belong to the plan they were for
            _save(wizard_id, draft)
            return _to(wizard_id, _next(draft, step))
        if expired(form):
            form.form_errors.append(FORM_EXPIRED)
        status = 422
    return _frame(step, draft, wizard_id, form=form, plans=offered, plan=_plan(draft, offered), status=status,
                  payment_words=PAYMENT_WORDS)


# -- the review and the creation -----------------------------------------------------------------------------

def _clean(values: dict, names: tuple[str, ...]) -> dict:
    return {n: values[n] for n in names if values.get(n) not in (None, "")}


def request_of(draft: dict) -> dict:
    """What the wizard's steps gave, as `onboarding.onboard` takes it (the API's body, loaded)."""
    basic = _clean(draft["basic"], ("first_name", "last_name", "company_name", "email", "phone", "national_id",
                                    "address", "city", "county"))
    basic["kind"] = draft["basic"]["customer_type"]
    if basic["kind"] == "company":
        basic.pop("first_name", None)
        basic.pop("last_name", None)
    billing_in = draft["billing"]
    billing = _clean(billing_in, ("payment_method", "mpesa_number"))
    if billing_in.get("billing_day"):
        billing["billing_day"] = int(billing_in["billing_day"])
    for name in ("deposit", "credit_limit"):
        if billing_in.get(name):
            billing[name] = money(billing_in[name].replace(",", ""), name)
    services = []
    chosen = (draft.get("service") or {}).get("plan_id", NO_SERVICE)
    if chosen != NO_SERVICE and may_add_services():
        # the plan as chosen, even if it left the catalogue since: the service refuses it, and nothing is created
        place = draft.get("installation") or {}
        services.append({"plan_id": int(chosen), "installation_address": place.get("installation_address") or None,
                         "region": place.get("region") or None, "activate": bool(place.get("activate")),
                         "static_ip": bool(place.get("static_ip")), "ip_pool_id": None})
    access = {"generate_portal_password": True, "portal_password": None,
              "send_welcome": bool(billing_in.get("send_welcome"))}
    return {"basic": basic, "services": services, "billing": billing, "access": access}


def _review(wizard_id: str, draft: dict, form: ConfirmForm, *, failure: ServiceError | None = None,
            status: int = 200):
    offered = plans()
    return _frame("review", draft, wizard_id, form=form, plan=_plan(draft, offered), failure=failure,
                  payment_words=PAYMENT_WORDS, status=status)


def _finished(wizard_id: str):
    """A review sent again once the customer exists (a second click, Back then send): the result page, which
    knows whether the passwords were shown."""
    return redirect(url_for(".done", wizard_id=wizard_id))


@requires(CREATE, kinds=TEAM_KINDS)
def review(wizard_id: str):
    draft = _load(wizard_id)
    if draft is None:
        if request.method == "POST" and onboarding_drafts.valid_id(wizard_id):
            return _finished(wizard_id)
        return _gone()
    missing = _missing(draft)
    if missing:
        return _to(wizard_id, missing)
    form = ConfirmForm()
    if request.method == "GET":
        return _review(wizard_id, draft, form)
    if not form.validate_on_submit():
        form.form_errors.append(FORM_EXPIRED)
        return _review(wizard_id, draft, form, status=422)
    session = db_session()
    plan = _plan(draft, plans())
    asked = request_of(draft)
    try:
        made = onboarding.onboard(session, **asked, actor=g.principal, portal_url=links.page_url(
            session, CUSTOMER, "login", default_base=request.host_url))
        session.flush()
    except ServiceError as exc:
        session.rollback()  # all or nothing: not the customer without the service
        return _review(wizard_id, draft, form, failure=exc, status=exc.status if exc.status >= 400 else 409)
    customer = made.customer
    result = {"customer": {"id": customer.id, "portal_id": customer.portal_id, "name": customer.display_name,
                           "status": customer.status},
              "portal_password": made.portal_password, "welcome_queued": made.welcome_queued,
              "services": [{"plan": plan["name"] if plan else None, "status": s.service.status,
                            "username": s.service.network_username, "password": s.network_password,
                            "static_ip": str(s.service.static_ip) if s.service.static_ip else None}
                           for s in made.services]}
    onboarding_drafts.finish(*_store(), wizard_id, result)
    return redirect(url_for(".done", wizard_id=wizard_id))


@requires(CREATE, kinds=TEAM_KINDS)
def done(wizard_id: str):
    result, shown = onboarding_drafts.take_result(*_store(), wizard_id)
    if result is None and shown is None:
        return _gone()
    html, status, headers = page("onboarding/done", result=result, shown=shown)
    return html, status, {**headers, "Cache-Control": "no-store"}  # nor does the browser keep the passwords


bp.add_url_rule("", "start", start, methods=["GET", "POST"])
bp.add_url_rule("/<wizard_id>/review", "review", review, methods=["GET", "POST"])
bp.add_url_rule("/<wizard_id>/done", "done", done)
bp.add_url_rule("/<wizard_id>/<any(basic, service, installation, billing):step>", "step", step,
                methods=["GET", "POST"])
