"""The customer's money: invoices and their PDFs, payments and receipts, the balance, statements, credit
notes, the ledger, and the stored payment methods (the Finance pages of the self-care portal call the
same services: `app.services.selfcare.finance`). Drafts are never shown; another customer's document is
404. Reading needs `self.view`; choosing the default payment method or removing one `self.edit`.

Paying, and one payment as it stands (`GET /portal/api/payments/<id>`), are the payment routes'
(app/api/portal_payments).
"""

from __future__ import annotations

from flask import Response, request
from flask_smorest import Blueprint

from app.api.portal_finance import schemas as s
from app.api.selfcare.access import CUSTOMER, me
from app.services.billing import payments
from app.services.selfcare import finance
from app.web import db_session, downloads
from app.web.auth import requires

blp = Blueprint("portal_finance", __name__, url_prefix="/portal/api",
                description="A customer's own invoices, payments, balance, statements and payment methods")
PDF = {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}
PDF_RESPONSE = {"responses": {"200": {"description": "the PDF", "content": PDF}}}


def invoice_out(invoice) -> dict:
    out = {name: getattr(invoice, name) for name in (
        "id", "kind", "number", "status", "currency", "period_start", "period_end", "issued_at", "due_on",
        "tax_inclusive", "subtotal", "discount_total", "tax_total", "total", "amount_paid", "credited_invoice_id",
        "notes", "void_reason")}
    out.update(balance_due=finance.balance_due(invoice), pdf_url=f"/portal/api/invoices/{invoice.id}/pdf")
    return out


def _page(page, per_page: int, total: int, items: list) -> dict:
    return {"items": items, "total": total, "page": page, "per_page": per_page}


def payments_out(rows) -> list[dict]:
    session = db_session()
    allocations = payments.allocations_of(session, [p.id for p in rows])
    numbers = finance.invoice_numbers(session, sorted({a.invoice_id for found in allocations.values() for a in found}))
    return [{**{name: getattr(p, name) for name in (
        "id", "method", "amount", "currency", "status", "reference", "provider_ref", "received_at", "refunded_amount",
        "receipt_number")},
        "receipt_url": f"/portal/api/payments/{p.id}/receipt" if p.receipt_number else None,
        "allocations": [{"invoice_id": a.invoice_id, "invoice_number": numbers.get(a.invoice_id), "amount": a.amount,
                         "at": a.at} for a in allocations.get(p.id, [])]} for p in rows]


def _pdf(filename: str, data: bytes, **headers) -> Response:
    return downloads.pdf(data, filename, **headers)


# -- invoices ---------------------------------------------------------------------------------------------
@blp.route("/invoices")
@requires("self.view", kinds=CUSTOMER)
@blp.arguments(s.MyInvoiceListArgs, location="query")
@blp.response(200, s.MyInvoicePage)
def list_invoices(args):
    """Your invoices, pro-formas and credit notes, newest first, filtered by `status` and `kind`, a page
    at a time with the total."""
    found = finance.list_invoices(db_session(), me(), **args)
    return _page(found.page, found.per_page, found.total, [invoice_out(i) for i in found.items])


@blp.route("/invoices/<int:invoice_id>")
@requires("self.view", kinds=CUSTOMER)
@blp.response(200, s.MyInvoiceDetailOut)
def get_invoice(invoice_id):
    """One of your invoices with its lines, taxes and the credit notes against it."""
    found = finance.invoice_detail(db_session(), me(), invoice_id)
    return {**invoice_out(found["invoice"]), "lines": found["lines"], "taxes": found["taxes"],
            "credit_notes": [invoice_out(n) for n in found["credit_notes"]]}


@blp.route("/invoices/<int:invoice_id>/pdf")
@requires("self.view", kinds=CUSTOMER)
@blp.doc(**PDF_RESPONSE)
def invoice_pdf(invoice_id):
    """The invoice as a PDF in your provider's brand; `If-None-Match` with its ETag answers 304."""
    rendered = finance.invoice_pdf(db_session(), me(), invoice_id)
    etag = f'"{rendered.digest}"'
    if etag in request.headers.get("If-None-Match", ""):
        return Response(status=304, headers={"ETag": etag})
    return _pdf(rendered.filename, rendered.data, ETag=etag)


@blp.route("/credit-notes")
@requires("self.view", kinds=CUSTOMER)
@blp.arguments(s.MyPageArgs, location="query")
@blp.response(200, s.MyInvoicePage)
def list_credit_notes(args):
    """Your credit notes, newest first (each names the invoice it credits)."""
    found = finance.credit_notes(db_session(), me(), **args)
    return _page(found.page, found.per_page, found.total, [invoice_out(i) for i in found.items])


# -- payments ---------------------------------------------------------------------------------------------
@blp.route("/payments")
@requires("self.view", kinds=CUSTOMER)
@blp.arguments(s.MyPaymentListArgs, location="query")
@blp.response(200, s.MyPaymentPage)
def list_payments(args):
    """Your payments, newest first, with the invoices each paid, a page at a time with the total."""
    rows, total = finance.list_payments(db_session(), me(), **args)
    return _page(args["page"], args["per_page"], total, payments_out(rows))


@blp.route("/payments/<int:payment_id>/receipt")
@requires("self.view", kinds=CUSTOMER)
@blp.doc(**PDF_RESPONSE)
def payment_receipt(payment_id):
    """The payment's receipt as a PDF in your provider's brand (409 for money not received)."""
    filename, data = finance.receipt_pdf(db_session(), me(), payment_id)
    return _pdf(filename, data)


# -- balance, statement, ledger ---------------------------------------------------------------------------
@blp.route("/balance")
@requires("self.view", kinds=CUSTOMER)
@blp.response(200, s.MyBalanceOut)
def get_balance():
    """What you owe, the credit you hold, your open invoices, what is overdue and the next due date."""
    found = finance.balance(db_session(), me())
    return {**found, "open_invoices": [{**{n: getattr(i, n) for n in (
        "id", "number", "status", "currency", "total", "amount_paid", "due_on")},
        "balance_due": finance.balance_due(i)} for i in found["open_invoices"]]}


@blp.route("/statement")
@requires("self.view", kinds=CUSTOMER)
@blp.arguments(s.StatementArgs, location="query")
@blp.response(200, s.StatementOut, description="the statement (with format=pdf: as a PDF)")
@blp.doc(responses={"200": {"content": PDF}})
def get_statement(args):
    """Your statement of account from `from` to `to` (default: the last year): every entry with a running
    balance, as JSON or as a PDF in your provider's brand."""
    if args["format"] == "pdf":
        return _pdf(*finance.statement_pdf(db_session(), me(), args["start"], args["end"]))
    found = finance.statement(db_session(), me(), args["start"], args["end"])
    return {"customer_id": me(), **{k: found[k] for k in (
        "period_start", "period_end", "currency", "opening_balance", "closing_balance", "entries")}}


@blp.route("/transactions")
@requires("self.view", kinds=CUSTOMER)
@blp.arguments(s.MyPageArgs, location="query")
@blp.response(200, s.TransactionPage)
def list_transactions(args):
    """Every movement of your account, newest first: charges, payments, credits, refunds, reversals."""
    rows, total = finance.transactions(db_session(), me(), **args)
    return _page(args["page"], args["per_page"], total, rows)


# -- payment methods --------------------------------------------------------------------------------------
@blp.route("/payment-methods")
@requires("self.view", kinds=CUSTOMER)
@blp.response(200, s.PaymentMethodOut(many=True))
def list_payment_methods():
    """Your stored cards and M-PESA numbers, the default first."""
    return finance.list_payment_methods(db_session(), me())


@blp.route("/payment-methods/<int:method_id>/default", methods=["POST"])
@requires("self.edit", kinds=CUSTOMER)
@blp.response(200, s.PaymentMethodOut)
def make_default_payment_method(method_id):
    """Make this the method automatic charges use."""
    return finance.make_default_payment_method(db_session(), me(), method_id)


@blp.route("/payment-methods/<int:method_id>", methods=["DELETE"])
@requires("self.edit", kinds=CUSTOMER)
@blp.response(204)
def remove_payment_method(method_id):
    """Forget a stored method (the newest other one becomes the default if this one was)."""
    finance.remove_payment_method(db_session(), me(), method_id)
