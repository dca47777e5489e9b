"""The customer's Top-ups pages, `/portal/topups`: the credit on the account, the bundles the reseller offers, and
each service that can take one; a page per service to buy a bundle (paid from the balance, or by M-PESA), to see
what it draws on in the order it is used, and to ask for emergency credit where the reseller allows it; the
"check your phone" page of a bundle paid by M-PESA.

Every page calls the customer's own services (app/services/selfcare: `topup_overview` reads, `bundles` buys from
the balance and grants emergency credit, `mpesa_bundles` starts an M-PESA payment for a bundle and follows it),
which answer only about the signed-in customer: another customer's service or payment is not found (404).

A double-submitted form buys once: each form drawn carries a token of its own (a hidden field), which is the
purchase's reference (from the balance: the second submission finds the bundle bought and charges nothing) or
the payment's idempotency key (by M-PESA: the second finds the push already sent).

"Check your phone" is the Billing pages' page (app/portals/customer/pay.py `progress`, its template
portal/billing/progress.html), drawn here for a bundle: once paid it goes on to the service's page, where the
bundle bought is shown, and its "Try again" comes back to the same bundle rather than to a top-up of the balance.
"""

from __future__ import annotations

import re
import secrets

from flask import Blueprint, current_app, flash, g, redirect, request, url_for
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Regexp

from app.portals.customer.gate import CUSTOMER, guard
from app.portals.customer.shell import page
from app.portals.forms import FORM_EXPIRED, expired
from app.services.billing import idempotency, payments
from app.services.billing.gateways.events import NotConfigured
from app.services.billing.gateways.initiation import GatewayRefused, GatewayUnavailable
from app.services.errors import Conflict, Invalid, NotFound, ServiceError
from app.services.selfcare import bundles, mpesa_bundles, topup_overview
from app.web import db_session, state
from app.web.auth import requires

bp = Blueprint("customer_topups", __name__, url_prefix="/portal/topups")
guard(bp)

TOP_UP_ENDPOINT = "customer_billing.top_up"  # the Billing pages' "top up the balance", once it exists
PAY_WITH = (SelectChoice("balance", "From my balance"), SelectChoice("mpesa", "By M-PESA"))
EMERGENCY_KINDS = (SelectChoice("data", "Data"), SelectChoice("voice", "Voice"), SelectChoice("sms", "SMS"),
                   SelectChoice("money", "Prepaid credit"))
POLL_SECONDS = 3  # the "check your phone" page: htmx asks this often
REFRESH_SECONDS = 5  # a page without JavaScript reloads this often

# What a refusal says on the page (msgids); the services' own words are for the API.
CHOOSE_BUNDLE = "Choose a bundle."
CHOOSE_PAYMENT = "Choose how to pay."
CHOOSE_KIND = "Choose what you need."
BUNDLE_GONE = "This bundle is no longer on offer. Choose another one."
NOT_COVERED = "Your balance does not cover this bundle."
CANNOT_TAKE = "This service cannot take a top-up now."
NO_MPESA = "Your provider does not take M-PESA payments online. Pay from your balance."
NOT_WHOLE = "M-PESA takes whole shillings only. Pay this bundle from your balance."
BAD_PHONE = "Enter the M-PESA number to pay from, like 0712 345 678."
MPESA_DOWN = "M-PESA could not be reached. Nothing was charged: please try again in a minute."
MPESA_REFUSED = "M-PESA did not accept the payment request. Nothing was charged: please try again."
WAITING = "A payment is already waiting for your M-PESA PIN. Finish or cancel it on your phone, then try again."
NO_EMERGENCY = "Your provider does not offer emergency credit here."
EMERGENCY_HELD = "This service has emergency credit already. It is repaid by your next top-up of its kind."
EMERGENCY_NOT_NOW = "Emergency credit is only for a service that is working. Contact support."
EMERGENCY_GIVEN = "Your emergency credit is ready to use."
PAID_NOT_BOUGHT = ("Your M-PESA payment was received, but the bundle could not be added to this service. The money is "
                   "on your balance as credit.")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class BuyForm(FlaskForm):
    """A bundle for one service, and how to pay it. `token` makes a second submission of this form the same
    purchase."""

    bundle = RadioField(choices=[], validate_choice=False, validators=[InputRequired(CHOOSE_BUNDLE),
                                                                         Length(max=40)])
    pay_with = RadioField(choices=PAY_WITH, validators=[InputRequired(CHOOSE_PAYMENT)])
    phone = StringField(validators=[Length(max=20, message=BAD_PHONE)])
    token = HiddenField(validators=[InputRequired(FORM_EXPIRED), Regexp(_TOKEN, message=FORM_EXPIRED)])


class EmergencyForm(FlaskForm):
    kind = RadioField(choices=EMERGENCY_KINDS, validators=[InputRequired(CHOOSE_KIND)])
    token = HiddenField(validators=[InputRequired(FORM_EXPIRED), Regexp(_TOKEN, message=FORM_EXPIRED)])


def me() -> int:
    return g.principal.id


def _token() -> str:
    return secrets.token_urlsafe(18)


def _reference(kind: str, token: str) -> str:
    """The purchase's reference: the form's token, kept apart per customer (references are unique per reseller)."""
    return f"{kind}:form:customer:{me()}:{token}"


def top_up_url() -> str | None:
    """Where the balance is topped up, if the portal has that page; no link otherwise (never a dead one)."""
    return url_for(TOP_UP_ENDPOINT) if TOP_UP_ENDPOINT in current_app.view_functions else None


# -- the overview --------------------------------------------------------------------------------------------

@requires("self.view", kinds=CUSTOMER)
def index():
    return page("topups/index", o=topup_overview.overview(db_session(), me()), top_up_url=top_up_url())


# -- one service: buy a bundle, its buckets, emergency credit -------------------------------------------------

def _service_page(service_id: int, *, buy: BuyForm | None = None, emergency: EmergencyForm | None = None,
                  status: int = 200, **context):
    found = topup_overview.service_page(db_session(), me(), service_id)
    if buy is None:
        wanted = request.args.get("bundle", "")
        buy = BuyForm(formdata=None, bundle=wanted if wanted in {b["code"] for b in found["bundles"]} else None,
                      pay_with="balance", phone=found["mpesa"]["phone"] or "", token=_token())
    emergency = emergency or EmergencyForm(formdata=None, token=_token())
    bought = topup_overview.bought(db_session(), me(), service_id, request.args.get("bought"))
    return page("topups/service", s=found, form=buy, emergency_form=emergency, bought=bought,
                again=bool(bought) and request.args.get("again") == "1", top_up_url=top_up_url(), status=status,
                **context)


@requires("self.view", kinds=CUSTOMER)
def service(service_id: int):
    return _service_page(service_id)


def _refused(form: BuyForm, exc: ServiceError) -> dict:
    """Where the page says what went wrong: next to the field it concerns, or above the form."""
    if isinstance(exc, bundles.InsufficientBalance):
        form.pay_with.errors = [NOT_COVERED]
        return {"short": exc.extra}
    if isinstance(exc, mpesa_bundles.PaymentPending):
        form.form_errors.append(WAITING)
        return {"waiting_url": url_for(".payment", payment_id=exc.extra["payment_id"])}
    if isinstance(exc, NotConfigured):
        form.pay_with.errors = [NO_MPESA]
    elif isinstance(exc, GatewayUnavailable):
        form.form_errors.append(MPESA_DOWN)
    elif isinstance(exc, GatewayRefused):
        form.form_errors.append(MPESA_REFUSED)
    elif isinstance(exc, idempotency.KeyReused):
        form.form_errors.append(FORM_EXPIRED)
    elif isinstance(exc, NotFound) and exc.extra.get("field") == "bundle":
        form.bundle.errors = [BUNDLE_GONE]
    elif isinstance(exc, Invalid) and exc.extra.get("field") == "phone":
        form.phone.errors = [BAD_PHONE]
    elif isinstance(exc, Invalid) and exc.extra.get("field") == "pay_with":
        form.pay_with.errors = [NOT_WHOLE]
    elif isinstance(exc, Conflict):
        form.form_errors.append(CANNOT_TAKE)
    else:
        form.form_errors.append(MPESA_REFUSED if form.pay_with.data == "mpesa" else CANNOT_TAKE)
    return {}


@requires("self.edit", kinds=CUSTOMER)
def buy(service_id: int):
    """Another customer's service is not found whatever the form holds: the page drawn again for a refusal asks
    the same services, which know only this customer's."""
    form = BuyForm()
    if not form.validate_on_submit():
        if expired(form) or form.token.errors:
            form.form_errors.append(FORM_EXPIRED)
            form.token.data = _token()
        return _service_page(service_id, buy=form, status=422)
    session = db_session()
    try:
        if form.pay_with.data == "mpesa":
            started = mpesa_bundles.start(session, me(), service_id, form.bundle.data, form.phone.data or None,
                                          key=f"topups:{form.token.data}", redis=state().redis, principal=g.principal)
            return redirect(url_for(".payment", payment_id=started.payment_id), code=303)
        bought = bundles.buy_bundle(session, me(), service_id, form.bundle.data, pay_with="balance",
                                    reference=_reference("topup", form.token.data), principal=g.principal)
    except ServiceError as exc:
        session.rollback()
        if isinstance(exc, NotFound) and not exc.extra.get("field"):
            raise  # the service is not this customer's
        context = _refused(form, exc)
        status = exc.status if exc.status != 404 else 409 if isinstance(exc, NotConfigured) else 422
        return _service_page(service_id, buy=form, status=status, **context)
    again = {} if bought.created else {"again": 1}  # the same form sent twice: the first purchase, nothing more
    return redirect(url_for(".service", service_id=service_id, bought=bought.bucket.id, **again, _anchor="bought"),
                    code=303)


@requires("self.edit", kinds=CUSTOMER)
def emergency(service_id: int):
    form = EmergencyForm()
    if not form.validate_on_submit():
        if expired(form) or form.token.errors:
            form.form_errors.append(FORM_EXPIRED)
            form.token.data = _token()
        return _service_page(service_id, emergency=form, status=422)
    session = db_session()
    try:
        bundles.request_emergency(session, me(), service_id, form.kind.data,
                                  reference=_reference("emergency", form.token.data), principal=g.principal)
    except ServiceError as exc:
        session.rollback()
        if exc.status == 404:
            raise
        found = topup_overview.service_page(session, me(), service_id)["emergency"]
        form.form_errors.append(NO_EMERGENCY if not found["available"] else
                                EMERGENCY_HELD if found["outstanding"] else EMERGENCY_NOT_NOW)
        return _service_page(service_id, emergency=form, status=exc.status)
    flash(EMERGENCY_GIVEN, "success")
    return redirect(url_for(".service", service_id=service_id, _anchor="emergency"), code=303)


# -- a bundle paid by M-PESA: "check your phone" -----------------------------------------------------------

@requires("self.view", kinds=CUSTOMER)
def payment(payment_id: int):
    """The Billing pages' "check your phone" (portal/billing/progress.html), so that a customer waits for every
    M-PESA payment on the same page; only where it leads differs: paid, to the service's page and the bundle
    bought (or, when it could not be, word that the money is on the balance); failed, back to the same bundle."""
    found = mpesa_bundles.status(db_session(), me(), payment_id)
    by_htmx = request.headers.get("HX-Request") == "true"
    headers = {"Vary": "HX-Request", "Cache-Control": "no-store"}
    if found.payment.status in payments.KEPT:
        if found.bucket is None:
            flash(PAID_NOT_BOUGHT, "error")
        target = url_for(".service", service_id=found.service_id, bought=found.bucket.id if found.bucket else None,
                         _anchor="bought" if found.bucket else "buy")
        if by_htmx:
            return "", 200, {**headers, "HX-Redirect": target}
        return redirect(target, code=303)
    waiting = found.payment.status == "pending"
    if by_htmx and waiting:
        return "", 204, headers  # nothing new: nothing swapped, nothing announced
    html, status, own = page("billing/progress", payment=found.payment, left=False, waiting=waiting, poll=POLL_SECONDS,
                             refresh=REFRESH_SECONDS if waiting and request.args.get("refresh") != "off" else None,
                             again=url_for(".service", service_id=found.service_id, bundle=found.bundle["code"],
                                           _anchor="buy"))
    return html, status, {**own, **headers}


bp.add_url_rule("", "index", index)
bp.add_url_rule("/services/<int:service_id>", "service", service)
bp.add_url_rule("/services/<int:service_id>/buy", "buy", buy, methods=["POST"])
bp.add_url_rule("/services/<int:service_id>/emergency", "emergency", emergency, methods=["POST"])
bp.add_url_rule("/payments/<int:payment_id>", "payment", payment)
