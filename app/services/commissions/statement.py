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
from app.services.branding.resolve import brand_of
from app.services.commissions import payouts
from tenants import require_tenant

DETAIL_LIMIT = 100
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


def document(session: Session, payout: Payout) -> dict:
    """The statement of `payout` in the documents module's shape. Up to DETAIL_LIMIT lines are listed one by
    one; beyond that (a large reseller's month) they are summed per kind, and the API lists them all: the
    PDF converter (xhtml2pdf) slows down faster than the rows grow (about 2 s for 100 rows, 9 s for 300,
    measured on the 2-core test machine), and a download must not take minutes."""
    lines = payouts.lines(session, payout.id)
    if len(lines) > DETAIL_LIMIT:
        return _document(payout, _summary(payout, lines),
                         f"{len(lines)} lines, summed by kind; every line is listed by the payouts API.")
    names = _customer_names(session, lines)
    rows = []
    for line in lines:
        label = KIND_LABELS.get(line.kind, line.kind)
        if line.reverses_id:
            label = f"{label} reversed (line #{line.reverses_id})"
        elif line.note and line.kind == "adjustment":
            label = f"{label}: {line.note}"
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
    data = documents.render_pdf(session, "commission_statement", document(session, payout),
                                brand=brand_of(session, require_tenant().id), locale=locale_of(session))
    return data, download_name(payout)
