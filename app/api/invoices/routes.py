"""A reseller's invoices, pro-forma invoices and credit notes, their PDFs, and customers' statements.

Reading needs `finance.view`; drafting, issuing, voiding and crediting need `finance.billing`. The POSTs
that move money (issue, void, credit note, and create with `issue: true`) honour `Idempotency-Key`. A
user limited to some customers sees only their documents: any other answers 404, as if it did not exist.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from flask import Response, request
from flask_smorest import Blueprint

from app.api.invoices import schemas as s
from app.api.payments.idempotent import PARAMETER, idempotent
from app.api.visibility import principal, visible, visible_customer
from app.models.billing import Invoice
from app.services.auth.principal import USER
from app.services.billing import invoices, pdfs
from app.web import db_session, downloads
from app.web.auth import requires

blp = Blueprint("invoices", __name__, url_prefix="/reseller/api",
                description="Invoices, pro-forma invoices, credit notes, their PDFs, statements of account")
KINDS = (USER,)
KEYED = {"parameters": [PARAMETER]}
ZERO = Decimal("0.00")
PDF = {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}
PDF_RESPONSE = {"responses": {"200": {"description": "the PDF", "content": {
    "application/pdf": {"schema": {"type": "string", "format": "binary"}}}}}}


def _invoice(invoice_id: int, *, lock: bool = False) -> Invoice:
    return visible(invoices.get(db_session(), invoice_id, lock=lock), "invoice")


def invoice_out(invoice: Invoice, *, detail: bool = False) -> dict:
    out = {c: getattr(invoice, c) for c in (
        "id", "kind", "series", "number", "status", "customer_id", "currency", "period_start", "period_end",
        "issued_at", "due_on", "tax_inclusive", "subtotal", "discount_total", "tax_total", "total", "amount_paid",
        "billing_key", "credited_invoice_id", "notes", "void_reason", "version", "created_by", "created_at",
        "updated_at")}
    out["balance_due"] = invoice.total - invoice.amount_paid if invoice.kind == "invoice" else ZERO
    out["pdf_url"] = f"/reseller/api/invoices/{invoice.id}/pdf"
    if detail:
        session = db_session()
        out["lines"] = invoices.lines_of(session, invoice.id)
        out["taxes"] = invoices.taxes_of(session, invoice.id)
        out["credit_notes"] = [invoice_out(n) for n in invoices.credit_notes_of(session, invoice.id)]
    return out


def _lines(lines: list[dict] | None) -> list[dict] | None:
    return None if lines is None else [dict(line) for line in lines]


@blp.route("/invoices")
@requires("finance.view", kinds=KINDS)
@blp.arguments(s.InvoiceListArgs, location="query")
@blp.response(200, s.InvoicePage)
def list_invoices(args):
    """Invoices, pro-formas and credit notes, newest first, filtered by status, kind, customer or billing
    period, a page at a time with the total that matches."""
    if args.get("customer_id") is not None:
        visible_customer(args["customer_id"])
    page = invoices.list_page(db_session(), visible=principal().allowed_customer_ids, **args)
    return {"items": [invoice_out(i) for i in page.items], "total": page.total, "page": page.page,
            "per_page": page.per_page}


@blp.route("/invoices", methods=["POST"])
@requires("finance.billing", kinds=KINDS)
@idempotent
@blp.arguments(s.InvoiceIn)
@blp.response(201, s.InvoiceDetailOut)
@blp.doc(**KEYED)
def create_invoice(body):
    """A draft invoice or pro-forma (`kind`), priced with the reseller's tax rates; `issue: true` issues it
    at once (numbered, posted, paid from the customer's credit if any)."""
    session = db_session()
    issue = body.pop("issue")
    customer_id = visible_customer(body.pop("customer_id"))
    invoice = invoices.create_draft(session, customer_id, _lines(body.pop("lines")), actor=principal().actor, **body)
    if issue:
        invoice = invoices.issue(session, invoice.id, actor=principal().actor)
    return invoice_out(invoice, detail=True)


@blp.route("/invoices/<int:invoice_id>")
@requires("finance.view", kinds=KINDS)
@blp.response(200, s.InvoiceDetailOut)
def get_invoice(invoice_id):
    """One invoice with its lines, taxes and the credit notes against it."""
    return invoice_out(_invoice(invoice_id), detail=True)


@blp.route("/invoices/<int:invoice_id>", methods=["PATCH"])
@requires("finance.billing", kinds=KINDS)
@blp.arguments(s.InvoicePatch)
@blp.response(200, s.InvoiceDetailOut)
def update_invoice(body, invoice_id):
    """Change a draft (lines are replaced as a whole and priced again); an issued invoice is 409."""
    _invoice(invoice_id)
    if "lines" in body:
        body["lines"] = _lines(body["lines"])
    return invoice_out(invoices.update_draft(db_session(), invoice_id, body), detail=True)


@blp.route("/invoices/<int:invoice_id>", methods=["DELETE"])
@requires("finance.billing", kinds=KINDS)
@blp.response(204)
def delete_invoice(invoice_id):
    """Delete a draft (it has no number, so nothing is lost); an issued invoice is voided instead."""
    _invoice(invoice_id)
    invoices.delete_draft(db_session(), invoice_id)


@blp.route("/invoices/<int:invoice_id>/issue", methods=["POST"])
@requires("finance.billing", kinds=KINDS)
@idempotent
@blp.response(200, s.InvoiceDetailOut)
@blp.doc(**KEYED)
def issue_invoice(invoice_id):
    """Issue a draft: the next number of its series, a due date, posted to the ledger and paid from the
    customer's credit if they have some (a pro-forma is only numbered)."""
    _invoice(invoice_id)
    return invoice_out(invoices.issue(db_session(), invoice_id, actor=principal().actor), detail=True)


@blp.route("/invoices/<int:invoice_id>/void", methods=["POST"])
@requires("finance.billing", kinds=KINDS)
@idempotent
@blp.arguments(s.VoidIn)
@blp.response(200, s.InvoiceDetailOut)
@blp.doc(**KEYED)
def void_invoice(body, invoice_id):
    """Void an issued invoice nothing was paid on (what it posted is reversed). One with payments is 409
    `invoice-paid`: correct it with a credit note."""
    _invoice(invoice_id)
    return invoice_out(invoices.void(db_session(), invoice_id, reason=body["reason"], actor=principal().actor),
                       detail=True)


@blp.route("/invoices/<int:invoice_id>/credit-notes", methods=["POST"])
@requires("finance.billing", kinds=KINDS)
@idempotent
@blp.arguments(s.CreditNoteIn)
@blp.response(201, s.InvoiceDetailOut)
@blp.doc(**KEYED)
def credit_invoice(body, invoice_id):
    """A credit note against an issued invoice, for all of it or some lines (whole or part); issued at once
    and spent on the invoice if it is still open, then on the customer's other open invoices."""
    _invoice(invoice_id)
    note = invoices.credit_note(db_session(), invoice_id, reason=body["reason"], lines=_lines(body["lines"]),
                                actor=principal().actor)
    return invoice_out(note, detail=True)


@blp.route("/invoices/<int:invoice_id>/convert", methods=["POST"])
@requires("finance.billing", kinds=KINDS)
@blp.response(201, s.InvoiceDetailOut)
def convert_proforma(invoice_id):
    """The draft invoice of an issued pro-forma, with its lines, to be issued when the customer agrees."""
    _invoice(invoice_id)
    return invoice_out(invoices.convert_proforma(db_session(), invoice_id, actor=principal().actor), detail=True)


@blp.route("/invoices/<int:invoice_id>/pdf")
@requires("finance.view", kinds=KINDS)
@blp.doc(**PDF_RESPONSE)
def invoice_pdf(invoice_id):
    """The invoice (pro-forma, credit note) as a PDF in the reseller's brand; drawn once per version of the
    invoice and of the brand, then served from the cache. `If-None-Match` with the ETag answers 304."""
    rendered = pdfs.invoice_pdf(db_session(), _invoice(invoice_id))
    etag = f'"{rendered.digest}"'
    if etag in request.headers.get("If-None-Match", ""):
        return Response(status=304, headers={"ETag": etag})
    return downloads.pdf(rendered.data, rendered.filename, ETag=etag)


@blp.route("/customers/<int:customer_id>/statement")
@requires("finance.view", kinds=KINDS)
@blp.arguments(s.StatementArgs, location="query")
@blp.response(200, s.StatementOut, description="the statement (with format=pdf: as a PDF)")
@blp.doc(responses={"200": {"content": PDF}})
def customer_statement(args, customer_id):
    """A customer's statement of account (every ledger entry with a running balance) from `from` to `to`
    (the reseller's local dates, at most ten years), as JSON or as a PDF in the reseller's brand."""
    session = db_session()
    visible_customer(customer_id)
    end = args["end"] or invoices.local_today(session)
    start = args["start"] or end - timedelta(days=365)
    if args["format"] == "pdf":
        data = pdfs.statement_pdf(session, customer_id, start, end)
        return downloads.pdf(data, f"statement-{customer_id}-{start}-{end}.pdf")
    statement = invoices.statement(session, customer_id, start, end)
    return {"customer_id": customer_id, **{k: statement[k] for k in (
        "period_start", "period_end", "currency", "opening_balance", "closing_balance", "entries")}}
