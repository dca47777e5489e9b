"""The ZIP of a data export: `manifest.json` (what is in it, what is not and why), one JSON file per subject
(subjects.py), and the PDFs of the customer's invoices, credit notes and receipts as their provider issues
them.

Rows are written as they are read, a thousand at a time, so a customer with years of sessions and usage
does not have to fit in memory. Values keep their meaning in JSON: money and other decimals as strings
(never a float), moments in ISO 8601 with their offset (UTC), addresses as text.

A document that cannot be drawn (a broken custom theme, say) is named in the manifest's `missing_documents`
rather than failing the whole export: the rows of that invoice are in `invoices.json` either way.
"""

from __future__ import annotations

import json
import logging
import zipfile
from datetime import date, datetime
from decimal import Decimal
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.models import BackupCode, Customer, PortalAccount
from app.models.billing import Invoice, Payment
from app.services.billing import pdfs
from app.services.privacy import consents, subjects
from app.services.selfcare.profile import sites

log = logging.getLogger(__name__)

FORMAT = "backhaul-data-export"
VERSION = 1
NEVER_EXPORTED = ("passwords and their hashes, two-step verification secrets, backup codes, API keys, session "
                  "and reset tokens, the services' network passwords and stored card tokens: only that they "
                  "exist, and when they were made or used")


def plain(value):
    """A value as JSON holds it without losing its meaning."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, IPv4Address | IPv6Address | IPv4Network | IPv6Network):
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def _dump(value) -> bytes:
    return json.dumps(plain(value), ensure_ascii=False, sort_keys=True).encode()


def _worked_out(session: Session, key: str, scope: subjects.Scope):
    if key == "sites":
        return sites(session, scope.customer_id)
    if key == "current":
        return [c.__dict__ for c in consents.current(session, scope.customer_id)]
    if key == "two_factor":
        account = session.get(PortalAccount, scope.customer_id)
        left = session.execute(select(func.count()).select_from(BackupCode).where(
            BackupCode.principal_kind == "customer", BackupCode.principal_id == scope.customer_id,
            BackupCode.used_at.is_(None))).scalar_one()
        return {"enabled": bool(account and account.totp_enabled_at), "backup_codes_left": left}
    raise KeyError(key)


def _subject(session: Session, archive: zipfile.ZipFile, subject: subjects.Subject, scope: subjects.Scope) -> dict:
    counts = {}
    with archive.open(f"{subject.name}.json", "w") as out:
        out.write(b"{")
        first_key = True
        for part in subject.parts:
            out.write(b"" if first_key else b",")
            first_key = False
            out.write(b"\n" + _dump(part.table) + b": [")
            count = 0
            for row in session.execute(subjects.rows_query(part, scope)).mappings().yield_per(1000):
                out.write((b"\n  " if count == 0 else b",\n  ") + _dump(dict(row)))
                count += 1
            out.write(b"\n]" if count else b"]")
            counts[part.table] = count
        for key in subject.worked_out:
            out.write(b",\n" + _dump(key) + b": " + _dump(_worked_out(session, key, scope)))
        out.write(b"\n}\n")
    return counts


def _documents(session: Session, archive: zipfile.ZipFile, scope: subjects.Scope) -> tuple[dict, list[str]]:
    done = {"invoices": 0, "receipts": 0}
    missing = []
    for invoice in session.execute(select(Invoice).where(Invoice.id.in_(scope.invoice_ids or (0,)))
                                   .order_by(Invoice.id)).scalars():
        try:
            rendered = pdfs.invoice_pdf(session, invoice)
        except Exception:
            log.exception("invoice %s not drawn for a data export", invoice.id)
            missing.append(invoice.number or f"#{invoice.id}")
            continue
        archive.writestr(f"documents/{rendered.filename}", rendered.data)
        done["invoices"] += 1
    for payment in session.execute(select(Payment).where(Payment.customer_id == scope.customer_id,
                                                         Payment.receipt_number.is_not(None))
                                   .order_by(Payment.id)).scalars():
        try:
            data = pdfs.receipt_pdf(session, payment.id)
        except Exception:
            log.exception("receipt of payment %s not drawn for a data export", payment.id)
            missing.append(payment.receipt_number)
            continue
        archive.writestr(f"documents/receipt-{payment.receipt_number}.pdf", data)
        done["receipts"] += 1
    return done, missing


def write(session: Session, customer: Customer, out: BinaryIO, today: date) -> dict:
    """Everything held about `customer` into `out` as a ZIP; returns the manifest (also in the ZIP)."""
    scope = subjects.scope_of(session, customer.id, customer.email, today)
    manifest = {"format": FORMAT, "version": VERSION, "generated_at": clock.now(), "portal_id": customer.portal_id,
                "subjects": [], "not_included": {"secrets": NEVER_EXPORTED, **subjects.NOT_EXPORTED}}
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for subject in subjects.SUBJECTS:
            counts = _subject(session, archive, subject, scope)
            manifest["subjects"].append({"file": f"{subject.name}.json", "title": subject.title, "rows": counts})
        manifest["documents"], manifest["missing_documents"] = _documents(session, archive, scope)
        archive.writestr("manifest.json", json.dumps(plain(manifest), ensure_ascii=False, indent=2, sort_keys=True))
    return manifest
