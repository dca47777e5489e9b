"""Invoice and credit-note PDFs: drawn through app.services.documents in the tenant's brand, kept on disk.

Drawing a PDF costs tens of milliseconds; downloading the same invoice again must not. So the PDF is
kept under the tenant's own folder (`<data>/tenants/<schema>/documents/`), named by what it was drawn
from:

    <kind>-<invoice id>-v<version>-<key>.pdf

`version` is bumped by every change of the invoice (issue, payment, credit, void…), and `key` is a digest
of the exact document drawn (its numbers, the customer's name and address as printed), of the brand
(every resolved brand field, the theme chain, the document templates' files) and of the language and
time zone. Anything that would change a byte of the PDF changes the name, so a stale file is never
served and nothing has to remember to throw one away; the older files of the invoice are removed when a
new one is written. Files are written to a temporary name and renamed, so two renders racing (the
pre-render job and a download) both leave a whole file.

`render_after_commit` queues the `render_invoice_pdf` job once the issuing transaction has committed
(never for a rolled-back invoice); the job is idempotent: a PDF already on disk is not drawn again.
Statements are drawn on request and not kept: they change with every ledger entry.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from app.models.billing import Invoice
from app.services import documents
from app.services.billing import invoices
from app.services.branding import storage
from app.services.branding.rendering import Locale, locale_of
from app.services.branding.resolve import Brand, brand_of
from tenants import require_tenant

log = logging.getLogger(__name__)
_TEMPLATES = ("layout.html", "invoice.html", "credit_note.html", "receipt.html", "statement.html")


@dataclass(frozen=True)
class Rendered:
    data: bytes
    filename: str  # what the customer's download is called
    digest: str  # sha256 of the bytes (the ETag)
    cached: bool  # served from disk


def _canonical(value) -> str:
    return json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))


def _templates_fingerprint(brand: Brand) -> list:
    """The document templates along the chain as (path, size, mtime): an uploaded or redeployed template
    changes it."""
    found = []
    for folder in brand.themes.templates:
        for name in _TEMPLATES:
            path = folder / "documents" / name
            try:
                stat = path.stat()
            except OSError:
                continue
            found.append((str(path), stat.st_size, stat.st_mtime_ns))
    return found


def _drawing_fingerprint() -> list:
    """The code that draws base-theme documents without templates (documents/fast_pdf.py): a new release
    of it redraws cached PDFs, as a changed template does."""
    from app.services.documents import fast_pdf

    path = Path(fast_pdf.__file__)
    stat = path.stat()
    return [path.name, stat.st_size, stat.st_mtime_ns]


def brand_digest(brand: Brand, locale: Locale) -> str:
    """A digest of everything of the brand a document shows (fields, theme chain, templates, locale)."""
    payload = {"values": brand.values, "themes": [str(f) for f in brand.themes.folders],
               "templates": _templates_fingerprint(brand), "language": locale.language, "timezone": locale.timezone,
               "drawing": _drawing_fingerprint()}
    return hashlib.sha256(_canonical(payload).encode()).hexdigest()


def cache_folder(schema: str) -> Path:
    return storage.owner_folder(schema) / "documents"


def _kind(invoice: Invoice) -> str:
    return "credit_note" if invoice.kind == "credit_note" else "invoice"


def download_name(invoice: Invoice) -> str:
    label = {"invoice": "invoice", "proforma": "proforma", "credit_note": "credit-note"}[invoice.kind]
    number = "".join(c if c.isalnum() or c in "-_." else "-" for c in (invoice.number or f"draft-{invoice.id}"))
    return f"{label}-{number}.pdf"


def invoice_pdf(session: Session, invoice: Invoice | int, *, brand: Brand | None = None,
                locale: Locale | None = None) -> Rendered:
    """The PDF of an invoice, pro-forma or credit note: from disk when it was drawn from the same
    document, brand and version, else drawn now and kept."""
    if not isinstance(invoice, Invoice):
        invoice = invoices.get(session, invoice)
    tenant = require_tenant()
    brand = brand or brand_of(session, tenant.id)
    locale = locale or locale_of(session)
    kind = _kind(invoice)
    document = invoices.document(session, invoice)
    key = hashlib.sha256((_canonical(document) + brand_digest(brand, locale)).encode()).hexdigest()[:24]
    folder = cache_folder(tenant.schema)
    prefix = f"{invoice.kind}-{invoice.id}-"
    path = folder / f"{prefix}v{invoice.version}-{key}.pdf"
    try:
        data = path.read_bytes()
        cached = True
    except FileNotFoundError:
        data = documents.render_pdf(session, kind, document, brand=brand, locale=locale)
        _write(folder, path, data, prefix)
        cached = False
    digest = hashlib.sha256(data).hexdigest()
    if invoice.pdf_digest != digest:
        invoice.pdf_digest = digest  # what was last handed out (not a change of the invoice: no version bump)
    return Rendered(data, download_name(invoice), digest, cached)


def _write(folder: Path, path: Path, data: bytes, prefix: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".pdf-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    for old in folder.glob(f"{prefix}v*.pdf"):
        if old != path:
            old.unlink(missing_ok=True)


def statement_pdf(session: Session, customer_id: int, start: date, end: date) -> bytes:
    tenant = require_tenant()
    return documents.render_pdf(session, "statement", invoices.statement(session, customer_id, start, end),
                                brand=brand_of(session, tenant.id), locale=locale_of(session))


def receipt(session: Session, payment_id: int) -> dict:
    """A payment's receipt, in the documents module's shape: what was received and where it went."""
    from app.models import Customer
    from app.models.billing import Invoice, Payment
    from app.services.billing import allocation, payments

    payment = payments.get(session, payment_id)
    if payment.receipt_number is None:
        from app.services.errors import Conflict

        raise Conflict(f"payment #{payment.id} is {payment.status}: only money received has a receipt")
    net: dict[int, object] = {}
    for row in payments.allocations(session, payment.id):
        net[row.invoice_id] = net.get(row.invoice_id, 0) + row.amount
    numbers = dict(session.query(Invoice.id, Invoice.number).filter(Invoice.id.in_(list(net))).all()) if net else {}
    return {"number": payment.receipt_number, "paid_on": payment.received_at, "method": payment.method,
            "reference": payment.provider_ref or payment.reference or "", "currency": payment.currency,
            "customer": invoices.customer_block(session.get(Customer, payment.customer_id)),
            "amount": payment.amount,
            "allocations": [{"invoice_number": numbers.get(i) or f"#{i}", "amount": a} for i, a in net.items() if a],
            "credit_left": allocation.unallocated_payment(session, session.get(Payment, payment.id))}


def receipt_pdf(session: Session, payment_id: int) -> bytes:
    tenant = require_tenant()
    return documents.render_pdf(session, "receipt", receipt(session, payment_id),
                                brand=brand_of(session, tenant.id), locale=locale_of(session))


# -- pre-rendering after commit ------------------------------------------------------------------------

def render_after_commit(session: Session, invoice_id: int) -> None:
    """Queue the PDF of `invoice_id` to be drawn by a worker once this transaction commits."""
    from app.services.billing import runs

    runs.queue_after_commit(session, "render_invoice_pdf", invoice_id)
