"""The customer's Services pages, `/portal/services`: the list, a page per service (plan, speed, price, status
and why, static IP, network username, equipment, its change requests), the network password after the portal
password, and the change requests themselves: a plan change (choose, review the price difference and the
proration, confirm), a vacation hold, a relocation, a cancellation (the kit's confirmation), withdrawing one
not yet done.

Every page calls the customer's own services (app/services/selfcare: `my_services`, `plan_changes`,
`network_password`), which answer only about the signed-in customer: another customer's service or request is
not found (404) on every address, as the API's are. A request is answered on the service's page (`?asked=`),
with its status as the service left it: Pending approval, Approved (for a date) or Applied.

The network password is the one page answered without POST → redirect → GET: the password is shown in the
answer to the form that asked for it and kept nowhere else (not in a URL, a flash message or the session), on a
page no cache may keep (`Cache-Control: no-store`).
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, request, url_for

from app.api.selfcare.access import own_session_only
from app.portals.customer.gate import CUSTOMER, guard
from app.portals.customer.service_forms import (
    CancelForm,
    HoldForm,
    PlanChoiceForm,
    PlanConfirmForm,
    RelocationForm,
    RevealForm,
    WithdrawForm,
)
from app.portals.customer.shell import page
from app.portals.forms import FORM_EXPIRED, expired
from app.services import service_requests
from app.services.auth import lockout
from app.services.errors import Conflict, Invalid, NotFound, ServiceError
from app.services.selfcare import my_services, network_password, plan_changes
from app.services.selfcare.profile import NotAllowed
from app.web import db_session, state
from app.web.auth import Forbidden, requires

bp = Blueprint("customer_services", __name__, url_prefix="/portal/services")
guard(bp)

WITHDRAWABLE = service_requests.OPEN  # what cancel_request still takes back
SECRET_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}

# What a refusal of the services says on the page (msgids); the service's own words are for the API.
OPEN_ALREADY = "This service already has an open request of this kind. Withdraw it, or wait for your provider's answer."
TERMINATED = "This service is terminated."
NOT_HELD = "Only a working service can be put on hold."
HOLD_DATES = "A hold starts today or later."
NOT_SOLD_THERE = "Your plan is not sold in this region. Check the region, or ask support."
PLAN_GONE = "This plan is not one you can change to. Choose one from the list."
KIND_CHANGED = "The prices have changed since you looked. Check the change again before you confirm it."
NOT_SENT = "Your request could not be sent. Please try again, or contact support."
WRONG_PASSWORD = "That password is not correct."  # noqa: S105 (a message, not a password)
TOO_MANY = "Too many wrong passwords. Try again in 30 minutes."
OWN_SESSION = ("The network password is shown only when you are signed in yourself (not to support staff signed "
               "in as you).")
NO_PASSWORD = "Your provider has not set a network password for this service yet."  # noqa: S105


def me() -> int:
    return g.principal.id


def _detail(service_id: int) -> dict:
    return my_services.service_detail(db_session(), me(), service_id)


def _plan_names(service: dict, options: list[dict]) -> dict[int, str]:
    """Names of the plans a request may name: the service's own and those it can move to."""
    names = {o["plan"]["id"]: o["plan"]["name"] for o in options}
    if service["plan"]:
        names[service["plan"]["id"]] = service["plan"]["name"]
    return names


def _refusal(exc: ServiceError, service_id: int, kind: str) -> str:
    """The page's words for a request the service refused (the form is shown again with them)."""
    requests = plan_changes.list_requests(db_session(), me(), service_id)
    if any(r.kind == kind and r.status in service_requests.OPEN for r in requests):
        return OPEN_ALREADY
    if _detail(service_id)["status"] == "Terminated":
        return TERMINATED
    if kind == "suspension" and isinstance(exc, Conflict):
        return NOT_HELD
    return NOT_SENT


def _answered(service_id: int, made) -> object:
    return redirect(url_for(".detail", service_id=service_id, asked=made.id, _anchor="answer"))


# -- the list and a service ------------------------------------------------------------------------------

@requires("self.view", kinds=CUSTOMER)
def index():
    return page("services/index", services=my_services.list_services(db_session(), me()))


@requires("self.view", kinds=CUSTOMER)
def detail(service_id: int):
    service = _detail(service_id)
    session = db_session()
    requests = plan_changes.list_requests(session, me(), service_id)
    options = plan_changes.options(session, me(), service_id)
    asked = request.args.get("asked", "")
    answer = next((r for r in requests if asked.isdigit() and r.id == int(asked)), None)
    return page("services/detail", service=service, requests=requests, answer=answer,
                plan_names=_plan_names(service, options), can_change_plan=bool(options),
                withdrawable=WITHDRAWABLE, withdraw=WithdrawForm())


# -- the network password ----------------------------------------------------------------------------------

@requires("self.edit", kinds=CUSTOMER)
def reveal(service_id: int):
    service = _detail(service_id)
    form = RevealForm()
    if request.method == "GET":
        return _secret_page("services/network_password", service=service, form=form)
    if not form.validate_on_submit():
        if expired(form):
            form.form_errors.append(FORM_EXPIRED)
        return _secret_page("services/network_password", service=service, form=form, status=422)
    try:
        own_session_only("revealing the network password")
        shown = network_password.reveal(db_session(), state().redis, me(), service_id, form.password.data,
                                        principal=g.principal, ip=request.remote_addr)
    except Invalid:
        form.password.errors = [WRONG_PASSWORD]
        return _secret_page("services/network_password", service=service, form=form, status=422)
    except lockout.TooManyAttempts:
        return _secret_page("services/network_password", service=service, form=form, refusal=TOO_MANY,
                            status=429)
    except (Forbidden, NotAllowed):
        return _secret_page("services/network_password", service=service, form=form, refusal=OWN_SESSION,
                            status=403)
    except Conflict:
        refusal = TERMINATED if service["status"] == "Terminated" else NO_PASSWORD
        return _secret_page("services/network_password", service=service, form=form, refusal=refusal,
                            status=409)
    return _secret_page("services/network_password_shown", service=service, shown=shown)


def _secret_page(name: str, *, status: int = 200, **context):
    html, status, headers = page(name, status=status, **context)
    return html, status, {**headers, **SECRET_HEADERS}


# -- a plan change: choose, review, confirm ----------------------------------------------------------------

def _choose_page(service: dict, form: PlanChoiceForm, *, status: int = 200):
    options = plan_changes.options(db_session(), me(), service["id"])
    return page("services/change_plan", service=service, form=form, options=options, status=status)


@requires("self.view", kinds=CUSTOMER)
def change_plan(service_id: int):
    service = _detail(service_id)
    form = PlanChoiceForm(formdata=request.args if request.args else None)
    return _choose_page(service, form)


@requires("self.view", kinds=CUSTOMER)
def review(service_id: int):
    service = _detail(service_id)
    choice = PlanChoiceForm(formdata=request.args)
    if not choice.validate():
        return _choose_page(service, choice, status=422)
    try:
        preview = plan_changes.preview(db_session(), me(), service_id, int(choice.plan_id.data),
                                       choice.effective.data)
    except (NotFound, Invalid):
        choice.plan_id.errors = [PLAN_GONE]
        return _choose_page(service, choice, status=422)
    except Conflict:  # the one conflict of a preview: the service is terminated
        choice.form_errors.append(TERMINATED)
        return _choose_page(service, choice, status=409)
    confirm = PlanConfirmForm(plan_id=str(preview["to_plan"]["id"]), effective=preview["effective"],
                              kind=preview["kind"])
    return page("services/review", service=service, preview=preview, form=confirm, choice=choice)


@requires("self.edit", kinds=CUSTOMER)
def confirm_plan(service_id: int):
    service = _detail(service_id)
    form = PlanConfirmForm()
    if not form.validate_on_submit() or not form.plan_id.data.isdigit():
        flash(FORM_EXPIRED, "error")
        return redirect(url_for(".change_plan", service_id=service_id))
    plan_id, effective, kind = int(form.plan_id.data), form.effective.data, form.kind.data
    try:
        made = plan_changes.request_change(db_session(), me(), service_id, kind, {"plan_id": plan_id},
                                           effective=effective, principal=g.principal)
    except ServiceError as exc:
        db_session().rollback()
        return _review_again(service, plan_id, effective, kind, exc)
    return _answered(service_id, made)


def _review_again(service: dict, plan_id: int, effective: str, kind: str, exc: ServiceError):
    """The review page again, with what went wrong: the preview as it is now (the prices may have moved)."""
    choice = PlanChoiceForm(formdata=None, plan_id=str(plan_id), effective=effective)
    try:
        preview = plan_changes.preview(db_session(), me(), service["id"], plan_id, effective)
    except ServiceError:
        choice.plan_id.errors = [PLAN_GONE]
        return _choose_page(service, choice, status=422)
    message = KIND_CHANGED if preview["kind"] != kind else _refusal(exc, service["id"], kind)
    confirm = PlanConfirmForm(formdata=None, plan_id=str(plan_id), effective=effective, kind=preview["kind"])
    confirm.form_errors.append(message)
    return page("services/review", service=service, preview=preview, form=confirm, choice=choice,
                status=exc.status if exc.status != 404 else 422)


# -- a vacation hold, a relocation, a cancellation ----------------------------------------------------------

@requires("self.edit", kinds=CUSTOMER)
def hold(service_id: int):
    service = _detail(service_id)
    form = HoldForm()
    if request.method == "GET":
        return page("services/hold", service=service, form=form)
    if not form.validate_on_submit():
        if expired(form):
            form.form_errors.append(FORM_EXPIRED)
        return page("services/hold", service=service, form=form, status=422)
    payload = {"from": form.start.data.isoformat(), "until": form.until.data.isoformat()}
    try:
        made = plan_changes.request_change(db_session(), me(), service_id, "suspension", payload,
                                           principal=g.principal)
    except Invalid as exc:
        db_session().rollback()
        form.start.errors = [HOLD_DATES]
        return page("services/hold", service=service, form=form, status=exc.status)
    except ServiceError as exc:
        db_session().rollback()
        form.form_errors.append(_refusal(exc, service_id, "suspension"))
        return page("services/hold", service=service, form=form, status=exc.status)
    return _answered(service_id, made)


@requires("self.edit", kinds=CUSTOMER)
def relocate(service_id: int):
    service = _detail(service_id)
    form = RelocationForm()
    if request.method == "GET":
        return page("services/relocate", service=service, form=form)
    if not form.validate_on_submit():
        if expired(form):
            form.form_errors.append(FORM_EXPIRED)
        return page("services/relocate", service=service, form=form, status=422)
    payload = {"installation_address": form.address.data, "region": form.region.data or None}
    try:
        made = plan_changes.request_change(db_session(), me(), service_id, "relocation", payload,
                                           principal=g.principal)
    except (Invalid, NotFound) as exc:
        db_session().rollback()
        form.region.errors = [NOT_SOLD_THERE]
        return page("services/relocate", service=service, form=form, status=422 if exc.status == 404 else exc.status)
    except ServiceError as exc:
        db_session().rollback()
        form.form_errors.append(_refusal(exc, service_id, "relocation"))
        return page("services/relocate", service=service, form=form, status=exc.status)
    return _answered(service_id, made)


@requires("self.edit", kinds=CUSTOMER)
def cancel(service_id: int):
    """The kit's confirmation of a destructive act: the GET page asks, says what happens and when, and only its
    POST (with the reason and the CSRF token) asks for the cancellation."""
    service = _detail(service_id)
    form = CancelForm()
    if request.method == "GET":
        return page("services/cancel", service=service, form=form)
    if not form.validate_on_submit():
        if expired(form):
            form.form_errors.append(FORM_EXPIRED)
        return page("services/cancel", service=service, form=form, status=422)
    try:
        made = plan_changes.request_change(db_session(), me(), service_id, "cancellation",
                                           {"reason": form.reason.data or None}, effective=form.effective.data,
                                           principal=g.principal)
    except ServiceError as exc:
        db_session().rollback()
        form.form_errors.append(_refusal(exc, service_id, "cancellation"))
        return page("services/cancel", service=service, form=form, status=exc.status)
    return _answered(service_id, made)


@requires("self.edit", kinds=CUSTOMER)
def withdraw(service_id: int, request_id: int):
    _detail(service_id)
    if not WithdrawForm().validate_on_submit():
        flash(FORM_EXPIRED, "error")
        return redirect(url_for(".detail", service_id=service_id, _anchor="requests"))
    try:
        plan_changes.cancel_request(db_session(), me(), request_id, principal=g.principal)
    except Conflict:
        db_session().rollback()
        flash("This request is already done or closed: it can no longer be withdrawn.", "error")
    else:
        flash("Your request is withdrawn.", "success")
    return redirect(url_for(".detail", service_id=service_id, _anchor="requests"))


bp.add_url_rule("", "index", index)
bp.add_url_rule("/<int:service_id>", "detail", detail)
bp.add_url_rule("/<int:service_id>/network-password", "reveal", reveal, methods=["GET", "POST"])
bp.add_url_rule("/<int:service_id>/change-plan", "change_plan", change_plan)
bp.add_url_rule("/<int:service_id>/change-plan/review", "review", review)
bp.add_url_rule("/<int:service_id>/change-plan", "confirm_plan", confirm_plan, methods=["POST"])
bp.add_url_rule("/<int:service_id>/hold", "hold", hold, methods=["GET", "POST"])
bp.add_url_rule("/<int:service_id>/relocate", "relocate", relocate, methods=["GET", "POST"])
bp.add_url_rule("/<int:service_id>/cancel", "cancel", cancel, methods=["GET", "POST"])
bp.add_url_rule("/<int:service_id>/requests/<int:request_id>/withdraw", "withdraw", withdraw, methods=["POST"])
