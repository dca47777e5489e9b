"""The customer's Billing pages, `/portal/billing`: an overview (balance, credit, what is due and when), the
invoices (filtered by status, sorted, paged, exported; one with its lines, taxes, the money applied to it and
its PDF), payments and their receipts, credit notes, every movement of the account, a statement for a range of
dates (a table, a PDF, a spreadsheet), and the stored payment methods (make one the default, remove one
through the kit's confirmation). Paying, and topping up the balance, are pay.py's pages on this blueprint.

Every page calls the customer's own finance service (app/services/selfcare/finance.py), which shows only what
was sent to the signed-in customer: a draft is never shown, and another customer's invoice, payment, receipt or
payment method is not found (404), on every address, as the API's are. Tables are the kit's (tables.py):
`?sort=`, `?page=`, and `?format=csv|xlsx` for every row of the table as a download.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, flash, g, redirect, request, url_for

from app.portals import tables
from app.portals.customer import pay
from app.portals.customer.billing_forms import ActionForm, InvoiceFilterForm, StatementForm
from app.portals.customer.gate import CUSTOMER, guard
from app.portals.customer.shell import page
from app.portals.forms import FORM_EXPIRED, expired
from app.portals.tables import Column, TableSpec
from app.services import customers
from app.services.billing import payments
from app.services.billing.invoices import local_date
from app.services.errors import Invalid
from app.services.selfcare import finance
from app.services.settings import local_today, zone
from app.web import db_session, downloads
from app.web.auth import requires

bp = Blueprint("customer_billing", __name__, url_prefix="/portal/billing")
guard(bp)

EVERY_ROW = 10_000  # an export holds every row a customer has, not a page of them
BILLS = ("invoice", "proforma")  # the Invoices list; credit notes have a list of their own
TOO_LONG = "A statement covers at most ten years."

INVOICES = TableSpec("invoices", "Invoices", (
    Column("number", "Number", sortable=True), Column("kind", "Document"),
    Column("issued_at", "Issued", type="date", sortable=True), Column("due_on", "Due", type="date", sortable=True),
    Column("total", "Total", type="money", sortable=True),
    Column("balance_due", "Balance due", type="money", sortable=True),
    Column("status", "Status", sortable=True)), default_sort="-issued_at")
PAYMENTS = TableSpec("payments", "Payments", (
    Column("received_at", "Date", type="date"), Column("receipt_number", "Receipt"), Column("method", "Method"),
    Column("paid", "Paid"), Column("amount", "Amount", type="money"), Column("status", "Status")))
CREDIT_NOTES = TableSpec("credit_notes", "Credit notes", (
    Column("number", "Number"), Column("issued_at", "Issued", type="date"), Column("credits", "Credits invoice"),
    Column("reason", "Reason"), Column("total", "Amount", type="money"), Column("status", "Status")))
TRANSACTIONS = TableSpec("transactions", "Transactions", (
    Column("at", "Date", type="date"), Column("kind", "Kind"), Column("description", "Description"),
    Column("debit", "Charged", type="money"), Column("credit", "Paid or credited", type="money")))
STATEMENT = TableSpec("statement", "Statement of account", (
    Column("date", "Date", type="date"), Column("description", "Description"), Column("reference", "Reference"),
    Column("debit", "Charged", type="money"), Column("credit", "Paid or credited", type="money"),
    Column("balance", "Balance", type="money")), per_page=EVERY_ROW)


def me() -> int:
    return g.principal.id


def _pdf(filename: str, data: bytes) -> Response:
    return downloads.pdf(data, filename)


def _export(spec: TableSpec, rows: list[dict], fmt: str, day_key: str, **filters) -> Response:
    """Every row as CSV or XLSX, named after the days the rows cover (today when there are none)."""
    session = db_session()
    days = [r[day_key] for r in rows if r.get(day_key) is not None]
    today = local_today(session)
    return tables.export_response(spec, rows, fmt, scope=customers.get(session, me()).portal_id,
                                  start=min(days, default=today), end=max(days, default=today), zone=zone(session),
                                  filters={k: v for k, v in filters.items() if v})


# -- the overview --------------------------------------------------------------------------------------------

@requires("self.view", kinds=CUSTOMER)
def index():
    return page("billing/index", balance=finance.balance(db_session(), me()))


# -- invoices ------------------------------------------------------------------------------------------------

def invoice_rows(items, where) -> list[dict]:
    return [{"id": i.id, "number": i.number, "kind": i.kind, "issued_at": local_date(i.issued_at, where),
             "due_on": i.due_on, "total": i.total, "balance_due": finance.balance_due(i), "status": i.status,
             "currency": i.currency} for i in items]


@requires("self.view", kinds=CUSTOMER)
def invoices():
    session = db_session()
    form = InvoiceFilterForm(formdata=request.args)
    if not form.validate():  # an edited address: the whole list, as a bad sort shows the default order
        form = InvoiceFilterForm(formdata=None)
    status = form.status.data or None
    state = tables.state(INVOICES)
    fmt = tables.wanted_format()
    found = finance.list_invoices(session, me(), status=status, kind=BILLS, sort=state.sort,
                                  descending=state.descending, page=1 if fmt else state.page,
                                  per_page=EVERY_ROW if fmt else state.per_page)
    rows = invoice_rows(found.items, zone(session))
    if fmt:
        return _export(INVOICES, rows, fmt, "issued_at", status=status)
    return page("billing/invoices", form=form, chosen=status,
                table=tables.view(INVOICES, state, rows, found.total))


@requires("self.view", kinds=CUSTOMER)
def invoice(invoice_id: int):
    session = db_session()
    detail = finance.invoice_detail(session, me(), invoice_id)
    credited = None
    if detail["invoice"].credited_invoice_id:
        credited = finance.invoice_numbers(session, [detail["invoice"].credited_invoice_id])
    return page("billing/invoice", detail=detail, credited=credited)


@requires("self.view", kinds=CUSTOMER)
def invoice_pdf(invoice_id: int):
    rendered = finance.invoice_pdf(db_session(), me(), invoice_id)
    return _pdf(rendered.filename, rendered.data)


# -- payments and receipts -----------------------------------------------------------------------------------

def payment_rows(found, where) -> list[dict]:
    session = db_session()
    allocations = payments.allocations_of(session, [p.id for p in found])
    numbers = finance.invoice_numbers(session, sorted({a.invoice_id for made in allocations.values() for a in made}))
    return [{"id": p.id, "received_at": local_date(p.received_at, where), "receipt_number": p.receipt_number,
             "method": p.method, "amount": p.amount, "currency": p.currency, "status": p.status,
             "paid": ", ".join(dict.fromkeys(numbers.get(a.invoice_id) or "" for a in allocations.get(p.id, [])
                                             if a.amount > 0))} for p in found]


@requires("self.view", kinds=CUSTOMER)
def payment_list():
    session = db_session()
    state = tables.state(PAYMENTS)
    fmt = tables.wanted_format()
    found, total = finance.list_payments(session, me(), page=1 if fmt else state.page,
                                         per_page=EVERY_ROW if fmt else state.per_page)
    rows = payment_rows(found, zone(session))
    if fmt:
        return _export(PAYMENTS, rows, fmt, "received_at")
    return page("billing/payments", table=tables.view(PAYMENTS, state, rows, total))


@requires("self.view", kinds=CUSTOMER)
def receipt(payment_id: int):
    return _pdf(*finance.receipt_pdf(db_session(), me(), payment_id))


# -- credit notes and transactions ---------------------------------------------------------------------------

@requires("self.view", kinds=CUSTOMER)
def credit_notes():
    session = db_session()
    state = tables.state(CREDIT_NOTES)
    fmt = tables.wanted_format()
    found = finance.credit_notes(session, me(), page=1 if fmt else state.page,
                                 per_page=EVERY_ROW if fmt else state.per_page)
    numbers = finance.invoice_numbers(session, sorted({n.credited_invoice_id for n in found.items
                                                       if n.credited_invoice_id}))
    where = zone(session)
    rows = [{"id": n.id, "number": n.number, "issued_at": local_date(n.issued_at, where), "reason": n.notes,
             "credits": numbers.get(n.credited_invoice_id), "credits_id": n.credited_invoice_id, "total": n.total,
             "currency": n.currency, "status": n.status} for n in found.items]
    if fmt:
        return _export(CREDIT_NOTES, rows, fmt, "issued_at")
    return page("billing/credit_notes", table=tables.view(CREDIT_NOTES, state, rows, found.total))


@requires("self.view", kinds=CUSTOMER)
def transactions():
    session = db_session()
    state = tables.state(TRANSACTIONS)
    fmt = tables.wanted_format()
    found, total = finance.transactions(session, me(), page=1 if fmt else state.page,
                                        per_page=EVERY_ROW if fmt else state.per_page)
    where = zone(session)
    rows = [{"at": local_date(e.at, where), "kind": e.kind, "description": e.description,
             "debit": e.amount if e.amount > 0 else None, "credit": -e.amount if e.amount < 0 else None,
             "currency": e.currency} for e in found]
    if fmt:
        return _export(TRANSACTIONS, rows, fmt, "at")
    return page("billing/transactions", table=tables.view(TRANSACTIONS, state, rows, total))


# -- the statement -------------------------------------------------------------------------------------------

@requires("self.view", kinds=CUSTOMER)
def statement():
    """A GET form (from, to): without dates it shows the last year, as the service does."""
    session = db_session()
    if "start" not in request.args and "end" not in request.args:
        end = local_today(session)
        form = StatementForm(formdata=None, start=end - timedelta(days=finance.STATEMENT_DAYS), end=end)
    else:
        form = StatementForm(formdata=request.args)
        if not form.validate():
            return page("billing/statement", form=form, found=None, table=None, status=422)
    start, end = form.start.data, form.end.data
    wanted = request.args.get("format")
    try:
        if wanted == "pdf":
            return _pdf(*finance.statement_pdf(session, me(), start, end))
        found = finance.statement(session, me(), start, end)
    except Invalid:
        form.end.errors = [TOO_LONG]
        return page("billing/statement", form=form, found=None, table=None, status=422)
    fmt = tables.wanted_format()
    if fmt:
        return tables.export_response(STATEMENT, found["entries"], fmt, scope=customers.get(session, me()).portal_id,
                                      start=start, end=end, zone=zone(session))
    state = tables.state(STATEMENT)
    return page("billing/statement", form=form, found=found,
                table=tables.view(STATEMENT, state, found["entries"], len(found["entries"])))


# -- payment methods -----------------------------------------------------------------------------------------

@requires("self.view", kinds=CUSTOMER)
def payment_methods():
    return page("billing/payment_methods", methods=finance.list_payment_methods(db_session(), me()),
                action=ActionForm())


@requires("self.edit", kinds=CUSTOMER)
def make_default(method_id: int):
    finance.own_payment_method(db_session(), me(), method_id)
    form = ActionForm()
    if not form.validate_on_submit():
        flash(FORM_EXPIRED if expired(form) else "Your payment method was not changed.", "error")
        return redirect(url_for(".payment_methods"))
    finance.make_default_payment_method(db_session(), me(), method_id)
    flash("Your default payment method is changed.", "success")
    return redirect(url_for(".payment_methods"))


@requires("self.edit", kinds=CUSTOMER)
def remove_method(method_id: int):
    method = finance.own_payment_method(db_session(), me(), method_id)
    form = ActionForm()
    if request.method == "GET":
        return page("billing/remove_method", method=method, form=form)
    if not form.validate_on_submit():
        form.form_errors.append(FORM_EXPIRED)
        return page("billing/remove_method", method=method, form=form, status=422)
    finance.remove_payment_method(db_session(), me(), method_id)
    flash("The payment method is removed.", "success")
    return redirect(url_for(".payment_methods"))


bp.add_url_rule("", "index", index)
bp.add_url_rule("/invoices", "invoices", invoices)
bp.add_url_rule("/invoices/<int:invoice_id>", "invoice", invoice)
bp.add_url_rule("/invoices/<int:invoice_id>/pdf", "invoice_pdf", invoice_pdf)
bp.add_url_rule("/payments", "payments", payment_list)
bp.add_url_rule("/payments/<int:payment_id>/receipt", "receipt", receipt)
bp.add_url_rule("/credit-notes", "credit_notes", credit_notes)
bp.add_url_rule("/transactions", "transactions", transactions)
bp.add_url_rule("/statement", "statement", statement)
bp.add_url_rule("/payment-methods", "payment_methods", payment_methods)
bp.add_url_rule("/payment-methods/<int:method_id>/default", "make_default", make_default, methods=["POST"])
bp.add_url_rule("/payment-methods/<int:method_id>/remove", "remove_method", remove_method, methods=["GET", "POST"])
pay.register(bp)
