"""Payments in the reseller portal's Billing section, `/reseller/billing/payments`: the list (paged, exported),
recording money received (the customer by Portal ID, amount, method, the payer's reference, the day), one
payment with the invoices it paid (its allocation: oldest invoice first, the rest kept as credit) and its
refunds, and a refund of all or part of it.

The same services as app/api/payments/routes.py, with its permissions: `finance.view` reads,
`finance.payments` records and refunds. The recording form carries a token made when it is drawn, which is the
payment's idempotency key (keyed_once.py): a double click or a resent form records one payment, and both
answers show it. A payment of a customer the member may not see, or of another reseller, is not found (404).
"""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal

from flask import Blueprint, flash, g, redirect, request, url_for

from app.api.visibility import visible
from app.models.billing import Payment
from app.portals import tables
from app.portals.forms import FORM_EXPIRED, expired
from app.portals.nav import may_open
from app.portals.reseller.billing_forms import (
    AMOUNT_WRONG,
    CURRENCY_OTHER,
    CUSTOMER_UNKNOWN,
    REFUND_TOO_MUCH,
    PaymentForm,
    RefundForm,
    put_refusal,
)
from app.portals.reseller.shell import TEAM_KINDS, guard, page
from app.portals.tables import Column, TableSpec
from app.services.billing import invoices, keyed_once, payers, payments, pdfs
from app.services.billing.idempotency import KeyReused
from app.services.errors import Conflict, Invalid, NotFound
from app.services.settings import local_today, zone
from app.web import db_session, downloads
from app.web.auth import requires

bp = Blueprint("reseller_billing_payments", __name__, url_prefix="/reseller/billing/payments")
guard(bp)
bp.context_processor(lambda: {"may_open": may_open})  # the section's links: those the member may open

EVERY_ROW = 10_000
RECORDED = "The payment is recorded."
REFUNDED = "The refund is recorded."
NOT_REFUNDED = "Only money received can be refunded: nothing was changed."
KEY_REUSED = "This form was sent already with other values. Start again with a new form."

PAYMENTS = TableSpec("payments", "Payments", (
    Column("received_at", "Date", type="date"), Column("receipt_number", "Receipt"), Column("customer", "Customer"),
    Column("method", "Method"), Column("reference", "Reference"), Column("amount", "Amount", type="money"),
    Column("status", "Status")))


def _payment(payment_id: int) -> Payment:
    return visible(payments.get(db_session(), payment_id), "payment")


def _received_at(day):
    """The day typed as a moment: now for today (or no day), else noon of that day where the reseller is."""
    session = db_session()
    if day is None or day == local_today(session):
        return None
    return datetime.combine(day, time(12), tzinfo=zone(session))


@requires("finance.view", kinds=TEAM_KINDS)
def index():
    session = db_session()
    state = tables.state(PAYMENTS)
    fmt = tables.wanted_format()
    found, total = payments.list_payments(session, visible=g.principal.allowed_customer_ids,
                                          page=1 if fmt else state.page, per_page=EVERY_ROW if fmt else state.per_page)
    where = zone(session)
    who = payers.names(session, [p.customer_id for p in found])
    rows = [{"id": p.id, "received_at": invoices.local_date(p.received_at, where), "receipt_number": p.receipt_number,
             "customer": (who.get(p.customer_id) or ("", ""))[0], "method": p.method, "reference": p.reference,
             "amount": p.amount, "currency": p.currency, "status": p.status} for p in found]
    if fmt:
        days = [r["received_at"] for r in rows if r["received_at"]]
        today = local_today(session)
        return tables.export_response(PAYMENTS, rows, fmt, scope=g.tenant.code, start=min(days, default=today),
                                      end=max(days, default=today), zone=where)
    return page("billing/payments", table=tables.view(PAYMENTS, state, rows, total),
                may_record=may_open("reseller_billing_payments.new"))


@requires("finance.payments", kinds=TEAM_KINDS)
def new():
    form = PaymentForm()
    if request.method == "GET":
        form.customer.data = request.args.get("customer") or None
        return page("billing/payment_new", form=form.fresh())
    session = db_session()
    valid = form.validate_on_submit()
    customer = None
    if not form.customer.errors:  # every message at once: the Portal ID is checked with the other fields
        try:
            customer = payers.by_portal_id(session, form.customer.data, g.principal.allowed_customer_ids)
        except NotFound:
            form.customer.errors = [CUSTOMER_UNKNOWN]
    if not valid or customer is None:
        if expired(form):
            form.form_errors.append(FORM_EXPIRED)
        return page("billing/payment_new", form=form, status=422)
    received_at = _received_at(form.received_on.data)
    asked = {"customer": customer.id, "amount": str(form.value), "method": form.method.data,
             "reference": form.reference.data or None, "received_at": received_at and received_at.isoformat(),
             "notes": form.notes.data or None}
    try:
        made, replayed = keyed_once.once(
            session, g.principal, form.token.data, "payment", asked,
            lambda: {"id": payments.record(session, customer_id=customer.id, amount=form.value,
                                           method=form.method.data, reference=form.reference.data or None,
                                           received_at=received_at, notes=form.notes.data or None,
                                           actor=g.principal.actor).id})
    except KeyReused:
        form.form_errors.append(KEY_REUSED)
        return page("billing/payment_new", form=form, status=422)
    except Invalid as exc:
        put_refusal(form, exc, {"amount": ("amount", AMOUNT_WRONG), "currency": ("amount", CURRENCY_OTHER)})
        return page("billing/payment_new", form=form, status=422)
    if not replayed:  # the first sending said so already
        flash(RECORDED, "success")
    return redirect(url_for(".payment", payment_id=made["id"]), 303)


def _detail(found: Payment) -> dict:
    session = db_session()
    made = payments.allocations(session, found.id)
    numbers = {i.id: i for i in (invoices.get(session, a.invoice_id) for a in
                                 {a.invoice_id: a for a in made}.values())}
    allocated = sum((a.amount for a in made), Decimal("0.00"))
    kept = found.status not in ("pending", "failed")
    who = payers.names(session, [found.customer_id]).get(found.customer_id, ("", ""))
    return {"payment": found, "allocations": [{"allocation": a, "invoice": numbers[a.invoice_id]} for a in made],
            "refunds": payments.refunds(session, found.id), "customer": {"portal_id": who[0], "name": who[1]},
            "unallocated": found.amount - found.refunded_amount - allocated if kept else Decimal("0.00"),
            "refundable": found.amount - found.refunded_amount
            if found.status in ("succeeded", "partially_refunded") else Decimal("0.00")}


@requires("finance.view", kinds=TEAM_KINDS)
def payment(payment_id: int):
    found = _payment(payment_id)
    return page("billing/payment", detail=_detail(found),
                may_refund=may_open("reseller_billing_payments.refund"))


@requires("finance.view", kinds=TEAM_KINDS)
def receipt(payment_id: int):
    found = _payment(payment_id)
    if found.receipt_number is None:
        raise NotFound("this payment has no receipt")
    return downloads.pdf(pdfs.receipt_pdf(db_session(), found.id), f"receipt-{found.receipt_number}.pdf")


@requires("finance.payments", kinds=TEAM_KINDS)
def refund(payment_id: int):
    found = _payment(payment_id)
    detail = _detail(found)
    form = RefundForm()
    if request.method == "GET":
        return page("billing/refund", detail=detail, form=form.fresh())
    if not form.validate_on_submit():
        if expired(form):
            form.form_errors.append(FORM_EXPIRED)
        return page("billing/refund", detail=detail, form=form, status=422)
    session = db_session()
    asked = {"amount": None if form.value is None else str(form.value), "reason": form.reason.data.strip()}
    try:
        _made, replayed = keyed_once.once(
            session, g.principal, form.token.data, f"refund:{payment_id}", asked,
            lambda: {"id": payments.refund(session, payment_id, amount=form.value, reason=form.reason.data,
                                           actor=g.principal.actor).id})
    except KeyReused:
        form.form_errors.append(KEY_REUSED)
        return page("billing/refund", detail=detail, form=form, status=422)
    except Invalid as exc:
        put_refusal(form, exc, {"amount": ("amount", REFUND_TOO_MUCH)})
        return page("billing/refund", detail=detail, form=form, status=422)
    except Conflict:
        form.form_errors.append(NOT_REFUNDED)
        return page("billing/refund", detail=detail, form=form, status=409)
    if not replayed:
        flash(REFUNDED, "success")
    return redirect(url_for(".payment", payment_id=payment_id), 303)


bp.add_url_rule("", "index", index)
bp.add_url_rule("/new", "new", new, methods=["GET", "POST"])
bp.add_url_rule("/<int:payment_id>", "payment", payment)
bp.add_url_rule("/<int:payment_id>/receipt", "receipt", receipt)
bp.add_url_rule("/<int:payment_id>/refund", "refund", refund, methods=["GET", "POST"])
