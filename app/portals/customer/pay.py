"""Paying from the customer portal: an invoice (`customer_billing.pay`, the page the dashboard's Pay button opens)
or a top-up of the balance, by M-PESA or by card, whichever the reseller takes (`finance.ways_to_pay`).

- **M-PESA.** The form's POST sends the STK push (`stk_push.initiate_mpesa`) and answers with "Check your phone"
  (`progress`), which follows the payment until the callback settles it: with JavaScript, htmx asks every few
  seconds (an unchanged payment answers 204, so nothing is swapped or announced); without it, the page
  refreshes itself with a <meta http-equiv="refresh"> inside <noscript>, which the customer can stop. Paid, it
  goes on to the invoice (or the Billing overview for a top-up) with a flash message; failed, it says why in
  words (`initiation.MESSAGES`, by Daraja's code, translated) and offers to try again.
- **Card.** The POST opens a hosted checkout (`checkout.start_card_checkout`) and answers 303 with the
  processor's page. Its return addresses are `card_return` on this host, which finds the payment by the form's
  key (the payment does not exist yet when the addresses are made) and shows its progress: the processor's
  webhook settles it, and the page follows it as above. The cancel address says nothing was paid.
- **Once.** Each form carries its own token (billing_forms.PayForm), drawn with the form; it is the payment's
  idempotency key, so a double click or a resent form starts one payment and both answers show it.

The rules (what may be paid, how much, whole shillings, another customer's invoice a 404) are the gateways'
services; a refusal is put next to the field it is about, in the page's words.
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, request, url_for

from app.portals.customer.billing_forms import KEY_PREFIX, PHONE_WRONG, PayForm, TopUpForm
from app.portals.customer.gate import CUSTOMER
from app.portals.customer.shell import page
from app.portals.forms import FORM_EXPIRED, expired
from app.services.billing import payments
from app.services.billing.gateways import checkout, initiation, stk_push
from app.services.billing.gateways.events import NotConfigured
from app.services.billing.gateways.initiation import GatewayRefused, GatewayUnavailable
from app.services.billing.idempotency import KeyReused
from app.services.errors import Conflict, Invalid, NotFound
from app.services.selfcare import finance
from app.web import db_session, state
from app.web.auth import requires

POLL_SECONDS = 3  # htmx asks this often
REFRESH_SECONDS = 5  # a page without JavaScript reloads this often

# What a refusal says on the page (msgids).
PAID = "Thank you. Your payment is received."
NOTHING_TO_PAY = "There is nothing left to pay on this invoice."
SENT_BEFORE = "This form was sent before with other details. Check them and send it again."
NOT_TAKEN = "Your provider does not take this way of paying online. Choose another, or contact support."
REFUSED = "The payment could not be started. Please try again, or choose another way to pay."
UNAVAILABLE = "The payment service did not answer. Nothing was paid. Please try again in a minute."
CHECK_AMOUNT = "This amount cannot be paid this way. Check it, or choose another way to pay."


def me() -> int:
    return g.principal.id


def register(bp: Blueprint) -> None:
    """Add the payment pages to the Billing blueprint (their endpoints are `customer_billing.*`)."""
    bp.add_url_rule("/invoices/<int:invoice_id>/pay", "pay", pay_invoice, methods=["GET", "POST"])
    bp.add_url_rule("/top-up", "top_up", top_up, methods=["GET", "POST"])
    bp.add_url_rule("/payments/<int:payment_id>/progress", "progress", progress)
    bp.add_url_rule("/card-return/<key>", "card_return", card_return)


# -- the forms -----------------------------------------------------------------------------------------------

@requires("self.edit", kinds=CUSTOMER)
def pay_invoice(invoice_id: int):
    choice = finance.payment_choice(db_session(), me(), invoice_id)
    if not choice["payable"]:
        flash(NOTHING_TO_PAY, "info")
        return redirect(url_for(".invoice", invoice_id=invoice_id), 303)
    return _form(PayForm, choice, "billing/pay", invoice_id=invoice_id)


@requires("self.edit", kinds=CUSTOMER)
def top_up():
    return _form(TopUpForm, finance.payment_choice(db_session(), me()), "billing/top_up")


def _form(kind: type[PayForm], choice: dict, template: str, invoice_id: int | None = None):
    form = kind().offer(choice["ways"])
    if request.method == "GET":
        form.fresh()
        form.phone.data = choice["phone"]
        return page(template, form=form, choice=choice)
    if not form.validate_on_submit():
        if expired(form) or form.token.errors:
            form.form_errors.append(FORM_EXPIRED)
            form.fresh()
        return page(template, form=form, choice=choice, status=422)
    amount = form.value if isinstance(form, TopUpForm) else None
    try:
        return _start(form, amount, invoice_id)
    except KeyReused:
        form.form_errors.append(SENT_BEFORE)
        form.fresh()
        status = 422
    except Invalid as exc:
        _put_refusal(form, exc)
        status = 422
    except Conflict:
        flash(NOTHING_TO_PAY, "info")
        return redirect(url_for(".invoice", invoice_id=invoice_id) if invoice_id else url_for(".index"), 303)
    except NotConfigured:
        form.way.errors = [NOT_TAKEN]
        status = 409
    except GatewayRefused:
        form.form_errors.append(REFUSED)
        status = 502
    except GatewayUnavailable:
        form.form_errors.append(UNAVAILABLE)
        status = 503
    return page(template, form=form, choice=choice, status=status)


def _put_refusal(form: PayForm, exc: Invalid) -> None:
    """The service's refusal next to its field: the form checked what it could, so this is rare."""
    field = exc.extra.get("field")
    if field == "phone":
        form.phone.errors = [PHONE_WRONG]
    elif field == "amount" and isinstance(form, TopUpForm):
        form.amount.errors = [CHECK_AMOUNT]
    else:
        form.form_errors.append(CHECK_AMOUNT)


def _start(form: PayForm, amount, invoice_id: int | None):
    session = db_session()
    if form.way.data == stk_push.PROVIDER:
        row = stk_push.initiate_mpesa(session, me(), amount, form.phone.data, invoice_id=invoice_id,
                                      idempotency_key=form.key, redis=state().redis, actor=g.principal.actor)
        return redirect(url_for(".progress", payment_id=row.payment_id), 303)
    back = url_for(".card_return", key=form.token.data, _external=True)
    row = checkout.start_card_checkout(session, me(), amount, invoice_id=invoice_id, success_url=back,
                                       cancel_url=f"{back}?left=1", idempotency_key=form.key,
                                       actor=g.principal.actor)
    found = initiation.status(session, me(), row.payment_id)
    if found.checkout_url is None:  # sent again after the checkout ended: show how it ended
        return redirect(url_for(".progress", payment_id=row.payment_id), 303)
    return redirect(found.checkout_url, 303)


# -- following a payment -------------------------------------------------------------------------------------

@requires("self.view", kinds=CUSTOMER)
def card_return(key: str):
    """Where the card processor sends the customer back (`?left=1`: they gave up on its page)."""
    row = initiation.started_under(db_session(), me(), KEY_PREFIX + key)
    if row is None or row.payment_id is None:
        raise NotFound("no such payment")
    return redirect(url_for(".progress", payment_id=row.payment_id, left=request.args.get("left") or None))


@requires("self.view", kinds=CUSTOMER)
def progress(payment_id: int):
    found = initiation.status(db_session(), me(), payment_id)
    asked_by_htmx = request.headers.get("HX-Request") == "true"
    headers = {"Vary": "HX-Request", "Cache-Control": "no-store"}
    if found.status in payments.KEPT:
        flash(PAID, "success")
        target = url_for(".invoice", invoice_id=found.invoice.id) if found.invoice else url_for(".index")
        if asked_by_htmx:
            return "", 200, {**headers, "HX-Redirect": target}
        return redirect(target)
    if asked_by_htmx and found.status == "pending":
        return "", 204, headers
    left = request.args.get("left") == "1"
    waiting = found.status == "pending" and not left
    html, status, own = page("billing/progress", payment=found, left=left, waiting=waiting,
                             refresh=REFRESH_SECONDS if waiting and request.args.get("refresh") != "off" else None,
                             poll=POLL_SECONDS, again=_again(found))
    return html, status, {**own, **headers}


def _again(found: initiation.PaymentStatus) -> str:
    """Where "try again" goes: a new form for the same invoice, or a new top-up."""
    if found.invoice is not None:
        return url_for(".pay", invoice_id=found.invoice.id)
    return url_for(".top_up")
