"""The reseller portal's Billing section, `/reseller/billing`: an overview (the sub-pages, the last billing run)
and the documents: invoices, pro-formas and credit notes (filtered by status and kind, sorted, paged, exported),
one with its lines, taxes, the money applied to it and its PDF, and what may be done to it by its status:
issue a draft, void an issued one nothing was paid on (with a reason, after a confirmation), credit it (the
whole or part of some lines), turn an issued pro-forma into a draft invoice, and make a new pro-forma or
invoice by hand.

Payments are billing_payments.py, billing runs billing_runs.py, the settings billing_settings.py (each its own
blueprint under /reseller/billing/...). Every page calls what app/api/invoices/routes.py calls, with its
permissions: `finance.view` reads, `finance.billing` acts; a document of a customer the member may not see,
or of another reseller, is not found (404). Credit notes and new documents are made once per form (its token
is the idempotency key, keyed_once.py), so a double submit makes one.
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, request, url_for

from app.api.visibility import visible
from app.models.billing import Invoice
from app.portals import tables
from app.portals.forms import FORM_EXPIRED, expired
from app.portals.nav import may_open
from app.portals.reseller.billing_forms import (
    CREDIT_NOTHING,
    CREDIT_TOO_MUCH,
    CUSTOMER_UNKNOWN,
    PRICE_WRONG,
    ActionForm,
    CreditNoteForm,
    DocumentForm,
    InvoiceFilterForm,
    VoidForm,
    put_refusal,
)
from app.portals.reseller.shell import TEAM_KINDS, guard, page
from app.portals.tables import Column, TableSpec
from app.services.billing import invoices, keyed_once, payers, pdfs, runs
from app.services.billing.idempotency import KeyReused
from app.services.errors import Conflict, Invalid, NotFound
from app.services.selfcare.finance import applied_to
from app.services.settings import local_today, zone
from app.web import db_session, downloads
from app.web.auth import requires

bp = Blueprint("reseller_billing", __name__, url_prefix="/reseller/billing")
guard(bp)
bp.context_processor(lambda: {"may_open": may_open})  # the section's links: those the member may open

EVERY_ROW = 10_000  # an export holds every row that matches, not a page of them
ISSUED = "The invoice is issued."
ISSUED_PROFORMA = "The pro-forma invoice is issued."
NOT_A_DRAFT = "This document is not a draft any more: nothing was changed."
VOIDED = "The document is void."
NOT_VOIDED_PAID = "Money was paid on this invoice, so it cannot be voided: issue a credit note instead."
NOT_VOIDED = "This document cannot be voided as it stands: nothing was changed."
CREDITED = "The credit note is issued."
NOT_CREDITED = "This invoice cannot be credited as it stands: nothing was changed."
CONVERTED = "A draft invoice is made from the pro-forma: check it, then issue it."
DRAFTED = "The draft is saved: check it, then issue it."
KEY_REUSED = "This form was sent already with other values. Start again from the invoice."

DOCUMENTS = TableSpec("invoices", "Invoices", (
    Column("number", "Number", sortable=True), Column("kind", "Document"), Column("customer", "Customer"),
    Column("issued_at", "Issued", type="date", sortable=True), Column("due_on", "Due", type="date", sortable=True),
    Column("total", "Total", type="money", sortable=True), Column("balance_due", "Balance due", type="money"),
    Column("status", "Status", sortable=True)))


def _invoice(invoice_id: int, *, lock: bool = False) -> Invoice:
    return visible(invoices.get(db_session(), invoice_id, lock=lock), "invoice")


def _visible_ids():
    return g.principal.allowed_customer_ids


def document_rows(items: list[Invoice]) -> list[dict]:
    session = db_session()
    where = zone(session)
    who = payers.names(session, [i.customer_id for i in items])
    return [{"id": i.id, "number": i.number, "kind": i.kind, "customer": (who.get(i.customer_id) or ("", ""))[0],
             "customer_name": (who.get(i.customer_id) or ("", ""))[1],
             "issued_at": invoices.local_date(i.issued_at, where), "due_on": i.due_on, "total": i.total,
             "balance_due": i.total - i.amount_paid if i.kind == "invoice" and i.status != "Void" else None,
             "status": i.status, "currency": i.currency} for i in items]


# -- the overview --------------------------------------------------------------------------------------------

@requires("finance.view", kinds=TEAM_KINDS)
def index():
    session = db_session()
    found = runs.list_runs(session, limit=1)
    last = found[0] if found else None
    status = runs.statuses(session, found)[last.id] if last else None
    drafts = invoices.list_page(session, status="Draft", per_page=1, visible=_visible_ids()).total
    overdue = invoices.list_page(session, status="Overdue", per_page=1, visible=_visible_ids()).total
    return page("billing/index", last=last, last_status=status, drafts=drafts, overdue=overdue,
                links={name: may_open(name) for name in (
                    "reseller_billing.new", "reseller_billing_payments.new", "reseller_billing_runs.index",
                    "reseller_billing_settings.index", "reseller_billing_payments.index")})


# -- the list ------------------------------------------------------------------------------------------------

@requires("finance.view", kinds=TEAM_KINDS)
def invoice_list():
    session = db_session()
    form = InvoiceFilterForm(formdata=request.args)
    if not form.validate():  # an edited address: the whole list
        form = InvoiceFilterForm(formdata=None)
    status, kind = form.status.data or None, form.kind.data or None
    state = tables.state(DOCUMENTS)
    fmt = tables.wanted_format()
    found = invoices.list_page(session, status=status, kind=kind, visible=_visible_ids(), sort=state.sort,
                               descending=state.descending, page=1 if fmt else state.page,
                               per_page=EVERY_ROW if fmt else state.per_page)
    rows = document_rows(found.items)
    if fmt:
        days = [r["issued_at"] for r in rows if r["issued_at"]]
        today = local_today(session)
        return tables.export_response(DOCUMENTS, rows, fmt, scope=g.tenant.code, start=min(days, default=today),
                                      end=max(days, default=today), zone=zone(session),
                                      filters={k: v for k, v in (("status", status), ("kind", kind)) if v})
    return page("billing/invoices", form=form, chosen=status or kind, table=tables.view(DOCUMENTS, state, rows,
                                                                                        found.total),
                may_draft=may_open("reseller_billing.new"))


# -- one document --------------------------------------------------------------------------------------------

def _detail(invoice: Invoice) -> dict:
    session = db_session()
    who = payers.names(session, [invoice.customer_id]).get(invoice.customer_id, ("", ""))
    credited = invoices.get(session, invoice.credited_invoice_id) if invoice.credited_invoice_id else None
    return {"invoice": invoice, "lines": invoices.lines_of(session, invoice.id),
            "taxes": invoices.taxes_of(session, invoice.id),
            "credit_notes": invoices.credit_notes_of(session, invoice.id),
            "applied": applied_to(session, invoice.id) if invoice.kind == "invoice" else [],
            "customer": {"portal_id": who[0], "name": who[1]}, "credited": credited}


def _actions(invoice: Invoice) -> dict:
    """The buttons the page offers: what the member may do (their permission) and the document's status
    allows; the service still refuses anything else."""
    acts = may_open("reseller_billing.issue")
    return {"issue": acts and invoice.status == "Draft",
            "void": acts and invoice.status not in ("Draft", "Void") and invoice.amount_paid == 0,
            "credit": acts and invoice.kind == "invoice" and invoice.status not in ("Draft", "Void"),
            "convert": acts and invoice.kind == "proforma" and invoice.status == "Issued"}


@requires("finance.view", kinds=TEAM_KINDS)
def invoice(invoice_id: int):
    found = _invoice(invoice_id)
    return page("billing/invoice", detail=_detail(found), actions=_actions(found), action=ActionForm())


@requires("finance.view", kinds=TEAM_KINDS)
def invoice_pdf(invoice_id: int):
    rendered = pdfs.invoice_pdf(db_session(), _invoice(invoice_id))
    return downloads.pdf(rendered.data, rendered.filename)


@requires("finance.billing", kinds=TEAM_KINDS)
def issue(invoice_id: int):
    found = _invoice(invoice_id)
    form = ActionForm()
    back = url_for(".invoice", invoice_id=invoice_id)
    if not form.validate_on_submit():
        flash(FORM_EXPIRED, "error")
        return redirect(back, 303)
    if found.status != "Draft":  # sent twice: the first issued it
        flash(NOT_A_DRAFT, "info")
        return redirect(back, 303)
    try:
        done = invoices.issue(db_session(), invoice_id, actor=g.principal.actor)
    except invoices.InvoiceState:  # the other of two clicks at once issued it
        flash(NOT_A_DRAFT, "info")
        return redirect(back, 303)
    flash(ISSUED_PROFORMA if done.kind == "proforma" else ISSUED, "success")
    return redirect(back, 303)


@requires("finance.billing", kinds=TEAM_KINDS)
def void(invoice_id: int):
    found = _invoice(invoice_id)
    form = VoidForm()
    back = url_for(".invoice", invoice_id=invoice_id)
    if request.method == "GET":
        return page("billing/void", invoice=found, form=form)
    if not form.validate_on_submit():
        if expired(form):
            form.form_errors.append(FORM_EXPIRED)
        return page("billing/void", invoice=found, form=form, status=422)
    if found.status == "Void":  # sent twice: the first voided it
        flash(VOIDED, "success")
        return redirect(back, 303)
    try:
        invoices.void(db_session(), invoice_id, reason=form.reason.data, actor=g.principal.actor)
    except invoices.InvoicePaid:
        form.form_errors.append(NOT_VOIDED_PAID)
        return page("billing/void", invoice=found, form=form, status=409)
    except Conflict:
        form.form_errors.append(NOT_VOIDED)
        return page("billing/void", invoice=found, form=form, status=409)
    flash(VOIDED, "success")
    return redirect(back, 303)


@requires("finance.billing", kinds=TEAM_KINDS)
def credit(invoice_id: int):
    found = _invoice(invoice_id)
    session = db_session()
    lines = invoices.lines_of(session, invoice_id)
    left = found.total - invoices.credited_total(session, invoice_id)
    form = CreditNoteForm()
    if request.method == "GET":
        return page("billing/credit_note", invoice=found, lines=lines, left=left, form=form.fresh(), wrong={},
                    typed={})
    typed = {line.id: request.form.get(f"line-{line.id}", "") for line in lines}
    wanted, wrong = form.line_amounts(request.form, lines)

    def again(status: int):
        return page("billing/credit_note", invoice=found, lines=lines, left=left, form=form, wrong=wrong,
                    typed=typed, status=status)

    if not form.validate_on_submit():
        if expired(form):
            form.form_errors.append(FORM_EXPIRED)
        return again(422)
    if form.scope.data == "lines" and not wanted and not wrong:
        form.form_errors.append(CREDIT_NOTHING)
    if form.form_errors or wrong:
        return again(422)
    lines_asked = wanted if form.scope.data == "lines" else None
    asked = {"reason": form.reason.data.strip(), "lines": [{**w, "amount": str(w["amount"])} for w in wanted]
             if lines_asked else None}
    try:
        made, replayed = keyed_once.once(
            session, g.principal, form.token.data, f"credit-note:{invoice_id}", asked,
            lambda: {"id": invoices.credit_note(session, invoice_id, reason=form.reason.data, lines=lines_asked,
                                                actor=g.principal.actor).id})
    except KeyReused:
        form.form_errors.append(KEY_REUSED)
        return again(422)
    except Invalid as exc:
        form.form_errors.append(CREDIT_TOO_MUCH if exc.extra.get("field") == "lines" else NOT_CREDITED)
        return again(422)
    except Conflict:
        form.form_errors.append(NOT_CREDITED)
        return again(409)
    if not replayed:  # the first sending said so already
        flash(CREDITED, "success")
    return redirect(url_for(".invoice", invoice_id=made["id"]), 303)


@requires("finance.billing", kinds=TEAM_KINDS)
def convert(invoice_id: int):
    _invoice(invoice_id)
    form = ActionForm()
    if not form.validate_on_submit():
        flash(FORM_EXPIRED, "error")
        return redirect(url_for(".invoice", invoice_id=invoice_id), 303)
    try:
        made = invoices.convert_proforma(db_session(), invoice_id, actor=g.principal.actor)
    except (Conflict, NotFound):
        flash(NOT_A_DRAFT, "info")
        return redirect(url_for(".invoice", invoice_id=invoice_id), 303)
    flash(CONVERTED, "success")
    return redirect(url_for(".invoice", invoice_id=made.id), 303)


# -- a new document ------------------------------------------------------------------------------------------

@requires("finance.billing", kinds=TEAM_KINDS)
def new():
    """A pro-forma (or an invoice) by hand, saved as a draft: the member checks it on its page and issues it."""
    form = DocumentForm()
    if request.method == "GET":
        form.customer.data = form.customer.data or request.args.get("customer")
        return page("billing/new", form=form.fresh())
    if not form.validate_on_submit():
        if expired(form):
            form.form_errors.append(FORM_EXPIRED)
        return page("billing/new", form=form, status=422)
    session = db_session()
    try:
        customer = payers.by_portal_id(session, form.customer.data, _visible_ids())
    except NotFound:
        form.customer.errors = [CUSTOMER_UNKNOWN]
        return page("billing/new", form=form, status=422)
    lines = form.line_dicts()
    asked = {"customer": customer.id, "kind": form.kind.data, "lines": lines, "notes": form.notes.data or None}
    try:
        made, replayed = keyed_once.once(
            session, g.principal, form.token.data, "document", asked,
            lambda: {"id": invoices.create_draft(session, customer.id, lines, kind=form.kind.data,
                                                 notes=form.notes.data or None, actor=g.principal.actor).id})
    except KeyReused:
        form.form_errors.append(KEY_REUSED)
        return page("billing/new", form=form, status=422)
    except Invalid as exc:
        put_refusal(form, exc, {"unit_price": ("lines", PRICE_WRONG)})
        return page("billing/new", form=form, status=422)
    if not replayed:
        flash(DRAFTED, "success")
    return redirect(url_for(".invoice", invoice_id=made["id"]), 303)


bp.add_url_rule("", "index", index)
bp.add_url_rule("/invoices", "invoices", invoice_list)
bp.add_url_rule("/invoices/new", "new", new, methods=["GET", "POST"])
bp.add_url_rule("/invoices/<int:invoice_id>", "invoice", invoice)
bp.add_url_rule("/invoices/<int:invoice_id>/pdf", "invoice_pdf", invoice_pdf)
bp.add_url_rule("/invoices/<int:invoice_id>/issue", "issue", issue, methods=["POST"])
bp.add_url_rule("/invoices/<int:invoice_id>/void", "void", void, methods=["GET", "POST"])
bp.add_url_rule("/invoices/<int:invoice_id>/credit-note", "credit", credit, methods=["GET", "POST"])
bp.add_url_rule("/invoices/<int:invoice_id>/convert", "convert", convert, methods=["POST"])
