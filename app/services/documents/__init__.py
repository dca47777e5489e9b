"""Customer documents (invoices, credit notes, receipts, statements) drawn in the tenant's brand.

The billing work hands a plain document (a dict, shapes in pdf.py) to `render_pdf`; what it looks like
is the theme chain's business (`themes/base/templates/documents/`, overridable per theme), in the
tenant's language. Nothing here reads invoices from the database: that keeps these documents a pure
function of (document, brand, locale), so the same bytes come out of the API, the portal and the worker.
"""

from app.services.documents.pdf import (
    KINDS,
    DocumentError,
    LinkResolver,
    prepare,
    render_html,
    render_pdf,
    svg_drawable,
)
from app.services.documents.samples import sample_credit_note, sample_invoice, sample_receipt, sample_statement

__all__ = [
    "KINDS",
    "DocumentError",
    "LinkResolver",
    "prepare",
    "render_html",
    "render_pdf",
    "sample_credit_note",
    "sample_invoice",
    "sample_receipt",
    "sample_statement",
    "svg_drawable",
]
