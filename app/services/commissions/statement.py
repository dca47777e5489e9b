"""A payout's commission statement: the document (the `commission_statement` shape of
app/services/documents/pdf.py) and its PDF in the reseller's brand.

The statement is drawn on request from the payout as it is now (its lines, its totals, and once paid, the
rate and the converted amount), not kept: a dispute changes it until the payout is paid, and drawing one
costs less than keeping every version. Customers are named when they are the reseller's own; a line
earned on a sub-reseller's customer (pass-through) names the sub-reseller and the customer's id, since
that customer lives in the other reseller's schema.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Customer
from app.models import Tenant as TenantRow
from app.models.payouts import Payout
from app.services import documents
from app.services.billing.invoices import customer_block
from app.services.branding.rendering import locale_of
from app.services.branding.resolve import Brand, brand_of
from app.services.commissions import payouts
from app.services.documents import fast_pdf
from tenants import require_tenant

DETAIL_LIMIT = 5000  # lines listed one by one on the base design's fast path (some 220 A4 pages)
THEMED_DETAIL_LIMIT = 100  # the same for a theme's own statement template, drawn by xhtml2pdf
NOTE_LIMIT = 300  # characters of an adjustment's note on its line: a dozen lines of the description column
KIND_LABELS = {"setup": "Setup commission", "recurring": "Recurring commission", "usage": "Usage commission",
               "retention": "Retention bonus", "performance": "Performance incentive", "adjustment": "Adjustment"}


def _customer_names(session: Session, lines) -> dict[tuple[int, int], str]:
    tenant = require_tenant()
    own = {line.customer_id for line in lines if line.customer_id and line.source_tenant_id == tenant.id}
    names = {}
    if own:
        for customer in session.execute(select(Customer).where(Customer.id.in_(own))).scalars():
            names[(tenant.id, customer.id)] = customer_block(customer)["name"]
    others = {line.source_tenant_id for line in lines if line.source_tenant_id != tenant.id}
    codes = dict(session.execute(select(TenantRow.id, TenantRow.code).where(TenantRow.id.in_(others))).all()) \
        if others else {}
    for line in lines:
        if line.customer_id and (line.source_tenant_id, line.customer_id) not in names:
            where = codes.get(line.source_tenant_id, f"#{line.source_tenant_id}")
            names[(line.source_tenant_id, line.customer_id)] = f"{where} customer #{line.customer_id}"
    return names


def _summary(payout: Payout, lines) -> list[dict]:
    """One row per kind (reversals apart) for a statement too long to list line by line."""
    groups: dict[tuple[str, bool], list] = {}
    for line in lines:
        groups.setdefault((line.kind, line.reverses_id is not None), []).append(line)
    rows = []
    for (kind, reversed_), members in sorted(groups.items()):
        label = KIND_LABELS.get(kind, kind) + (" reversed" if reversed_ else "")
        rows.append({"date": payout.period_end, "description": f"{label}: {len(members)} lines",
                     "kind": kind, "base_amount": sum(m.base_amount for m in members),
                     "amount": sum(m.amount for m in members)})
    return rows


def _shortened(note: str) -> str:
    """An adjustment's note as a statement line shows it. A dispute's resolution note has no length limit, and a
    table cell taller than a page cannot be drawn on the fast path, which would send the whole statement to
    xhtml2pdf (minutes for a few thousand lines); the dispute keeps the whole note."""
    return note if len(note) <= NOTE_LIMIT else note[:NOTE_LIMIT - 1].rstrip() + "…"


def document(session: Session, payout: Payout, brand: Brand | None = None) -> dict:
    """The statement of `payout` in the documents module's shape, every line listed one by one up to a limit;
    beyond it the lines are summed per kind (the payouts API still lists them all).

    The limit depends on who draws the PDF. The base design is drawn by ReportLab directly
    (documents/fast_pdf.py): 4 ms for 10 lines, 0.1 s for 300, 3 s for 5,000 (bench/statements.py, one core
    of the 2-core test machine). So every line is listed up to DETAIL_LIMIT (5,000 lines, some 220 pages):
    a statement longer than that is no longer read page by page, and drawing it would start to hold a
    request for many seconds. A theme that draws its own `documents/commission_statement.html` (or layout)
    goes through xhtml2pdf, 20 to 30 times slower (2 s for 300 rows, 9 s measured on a busy machine): there
    THEMED_DETAIL_LIMIT applies, as before the fast path existed.
    `brand` is the payee's (looked up when not given)."""
    lines = payouts.lines(session, payout.id)
    brand = brand or brand_of(session, require_tenant().id)
    limit = THEMED_DETAIL_LIMIT if fast_pdf.overridden(brand.themes, "commission_statement") else DETAIL_LIMIT
    if len(lines) > limit:
        return _document(payout, _summary(payout, lines),
                         f"{len(lines)} lines, summed by kind; every line is listed by the payouts API.")
    names = _customer_names(session, lines)
    rows = []
    for line in lines:
        label = KIND_LABELS.get(line.kind, line.kind)
        if line.reverses_id:
            label = f"{label} reversed (line #{line.reverses_id})"
        elif line.note and line.kind == "adjustment":
            label = f"{label}: {_shortened(line.note)}"
        rows.append({"date": line.period_start, "description": f"#{line.id} {label}",
                     "customer": names.get((line.source_tenant_id, line.customer_id)) if line.customer_id else None,
                     "kind": line.kind, "base_amount": line.base_amount, "rate": line.rate, "status": line.status,
                     "amount": line.amount})
    return _document(payout, rows, None)


def _document(payout: Payout, rows: list[dict], note: str | None) -> dict:
    notes = [note] if note else []
    if payout.status == "Carried over":
        notes.append(f"Below the minimum payout of {payout.minimum_threshold} {payout.currency}: "
                     "carried over to the next payout.")
    tenant = require_tenant()
    return {
        "number": payout.number, "status": payout.status, "issued_on": payout.statement_issued_at,
        "period_start": payout.period_start, "period_end": payout.period_end, "currency": payout.currency,
        "customer": {"name": tenant.name}, "lines": rows, "gross": payout.gross, "adjustments": payout.adjustments,
        "carried_in": payout.carried_in, "total": payout.amount, "dispute_until": payout.dispute_window_ends_at,
        "payout_currency": payout.payout_currency, "fx_rate": payout.fx_rate,
        "converted_amount": payout.converted_amount, "paid_on": payout.paid_at, "method": payout.method,
        "reference": payout.reference, "notes": "\n".join(notes) or None,
    }


def download_name(payout: Payout) -> str:
    return "commission-statement-" + "".join(c if c.isalnum() or c in "-_" else "-" for c in payout.number) + ".pdf"


def statement_pdf(session: Session, payout_id: int) -> tuple[bytes, str]:
    """The statement of a payout as an A4 PDF in the reseller's brand, and the name to download it as."""
    payout = payouts.get(session, payout_id)
    brand = brand_of(session, require_tenant().id)
    data = documents.render_pdf(session, "commission_statement", document(session, payout, brand),
                                brand=brand, locale=locale_of(session))
    return data, download_name(payout)
