"""Commission disputes: a reseller objects to lines of a payout's statement, the master ISP settles it.

- Opening: the lines must all belong to one payout whose statement is within its dispute window (5 business
  days after it was issued unless the schedule says otherwise), and none may be under a dispute already.
  The lines become Disputed; lines of a payout not yet paid leave it (its totals are recomputed), so a
  payout is never paid with an amount under dispute.
- Settling, Adjusted: the master ISP states what the lines should have come to; the difference becomes a new
  `adjustment` line (Approved, so paid with the next payout, or with the same one if it is still Scheduled)
  and the lines become Adjusted. Rejected: the lines go back to what they were (Approved, or Paid).
  Either way lines that left a payout still Scheduled go back into it.
- Attachments (supporting documents) while the dispute is Open: PDF, PNG, JPEG, CSV or plain text,
  recognised by content, 5 MB each, 5 per dispute, stored under the tenant's own folder by content hash.

Every change of a line is written to `commission_adjustments` (before, after, who, why), and opening and
settling to the platform audit log.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.commissions import CommissionLine
from app.models.payouts import CommissionAdjustment, CommissionDispute, DisputeAttachment, DisputeLine
from app.services import audit
from app.services.branding import storage
from app.services.commissions import payouts
from app.services.errors import Conflict, Invalid, NotFound
from app.services.money import money
from tenants import require_tenant

MAX_LINES = 500
MAX_MESSAGE = 5000
MAX_FILE = 5 * 1024 * 1024
MAX_FILES = 5
DISPUTABLE = ("Approved", "Adjusted", "Paid")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")


def _line_state(line: CommissionLine) -> dict:
    return {"status": line.status, "payout_id": line.payout_id, "amount": str(line.amount)}


def _text(value, field: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit or "\x00" in value:
        raise Invalid(f"{field}: 1 to {limit} characters", field=field)
    return value.strip()


def get(session: Session, dispute_id: int, *, for_update: bool = False) -> CommissionDispute:
    query = select(CommissionDispute).where(CommissionDispute.id == dispute_id)
    found = session.execute(query.with_for_update() if for_update else query).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no dispute #{dispute_id}")
    return found


def list_disputes(session: Session, *, status: str | None = None, page: int = 1,
                  per_page: int = 50) -> tuple[list[CommissionDispute], int]:
    query = select(CommissionDispute)
    if status:
        query = query.where(CommissionDispute.status == status)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(query.order_by(CommissionDispute.id.desc()).offset((page - 1) * per_page)
                           .limit(per_page)).scalars().all()
    return list(rows), total


def disputed_lines(session: Session, dispute_ids: list[int]) -> dict[int, list[DisputeLine]]:
    found: dict[int, list[DisputeLine]] = {i: [] for i in dispute_ids}
    if dispute_ids:
        for row in session.execute(select(DisputeLine).where(DisputeLine.dispute_id.in_(dispute_ids))
                                   .order_by(DisputeLine.line_id)).scalars():
            found[row.dispute_id].append(row)
    return found


def attachments(session: Session, dispute_ids: list[int]) -> dict[int, list[DisputeAttachment]]:
    found: dict[int, list[DisputeAttachment]] = {i: [] for i in dispute_ids}
    if dispute_ids:
        for row in session.execute(select(DisputeAttachment).where(DisputeAttachment.dispute_id.in_(dispute_ids))
                                   .order_by(DisputeAttachment.id)).scalars():
            found[row.dispute_id].append(row)
    return found


def open_dispute(session: Session, line_ids, message: str, *, actor: str,
                 now: datetime | None = None) -> CommissionDispute:
    """Open a dispute on lines of one payout's statement, within its window."""
    now = now or payouts.utcnow()
    message = _text(message, "message", MAX_MESSAGE)
    if (not isinstance(line_ids, list | tuple) or not line_ids or len(line_ids) > MAX_LINES
            or not all(isinstance(i, int) and not isinstance(i, bool) for i in line_ids)):
        raise Invalid(f"line_ids: 1 to {MAX_LINES} line ids", field="line_ids")
    wanted = sorted(set(line_ids))
    # locks in the order every writer takes them (payout, then its lines), so a payment cannot deadlock with us
    payout_ids = set(session.execute(select(CommissionLine.payout_id).distinct()
                                     .where(CommissionLine.id.in_(wanted))).scalars())
    payout = payouts.get(session, payout_ids.pop(), for_update=True) \
        if len(payout_ids) == 1 and None not in payout_ids else None
    found = {row.id: row for row in session.execute(
        select(CommissionLine).where(CommissionLine.id.in_(wanted)).order_by(CommissionLine.id)
        .with_for_update()).scalars()}
    missing = [i for i in wanted if i not in found]
    if missing:
        raise NotFound(f"no commission line #{missing[0]}")
    lines = [found[i] for i in wanted]
    for line in lines:
        if line.status not in DISPUTABLE or line.payout_id is None:
            raise Conflict(f"line #{line.id} is {line.status}"
                           f"{'' if line.payout_id else ' and on no statement'}: only lines of an issued statement "
                           "that are not already under dispute can be disputed", field="line_ids")
    if payout is None or {line.payout_id for line in lines} != {payout.id}:
        raise Invalid("line_ids: the lines of one statement (payout) per dispute", field="line_ids")
    if now > payout.dispute_window_ends_at:
        raise Conflict(f"the dispute window of statement {payout.number} closed at "
                       f"{payout.dispute_window_ends_at.isoformat(timespec='minutes')}")
    dispute = CommissionDispute(payout_id=payout.id, message=message, status="Open", opened_by=actor,
                                disputed_amount=sum((line.amount for line in lines), Decimal("0.00")))
    session.add(dispute)
    session.flush()
    release = payout.status != "Paid"
    for line in lines:
        before = _line_state(line)
        session.add(DisputeLine(dispute_id=dispute.id, line_id=line.id, previous_status=line.status,
                                previous_payout_id=line.payout_id, amount=line.amount))
        line.status = "Disputed"
        if release:
            line.payout_id = None
        session.add(CommissionAdjustment(action="line.disputed", line_id=line.id, payout_id=payout.id,
                                         dispute_id=dispute.id, before=before, after=_line_state(line),
                                         reason=message[:500], actor=actor))
    session.flush()
    if release:
        payouts.totals(session, payout)
    audit.record(session, actor, "commission_dispute.opened", require_tenant().id, dispute_id=dispute.id,
                 payout=payout.number, lines=wanted, amount=str(dispute.disputed_amount))
    return dispute


def resolve(session: Session, dispute_id: int, *, outcome: str, note: str, actor: str,
            adjusted_amount=None, now: datetime | None = None) -> CommissionDispute:
    """Settle an Open dispute: `Adjusted` to `adjusted_amount` (what the lines should come to), or `Rejected`."""
    now = now or payouts.utcnow()
    if outcome not in ("Adjusted", "Rejected"):
        raise Invalid("outcome: Adjusted or Rejected", field="outcome")
    note = _text(note, "note", MAX_MESSAGE)
    dispute = get(session, dispute_id, for_update=True)
    if dispute.status != "Open":
        raise Conflict(f"dispute #{dispute.id} is {dispute.status} already")
    if outcome == "Adjusted":
        if adjusted_amount is None:
            raise Invalid("adjusted_amount: what the disputed lines should come to", field="adjusted_amount")
        adjusted = money(adjusted_amount, "adjusted_amount")
    elif adjusted_amount is not None:
        raise Invalid("adjusted_amount: only for the Adjusted outcome", field="adjusted_amount")
    payout = payouts.get(session, dispute.payout_id, for_update=True) if dispute.payout_id else None
    rows = session.execute(select(DisputeLine).where(DisputeLine.dispute_id == dispute.id)).scalars().all()
    lines = {line.id: line for line in session.execute(
        select(CommissionLine).where(CommissionLine.id.in_([r.line_id for r in rows])).order_by(CommissionLine.id)
        .with_for_update()).scalars()}
    back_into = payout.id if payout is not None and payout.status == "Scheduled" else None
    for row in rows:
        line = lines[row.line_id]
        before = _line_state(line)
        line.status = "Adjusted" if outcome == "Adjusted" else row.previous_status
        if line.payout_id is None and back_into is not None:
            line.payout_id = back_into
        session.add(CommissionAdjustment(action=f"line.{outcome.lower()}", line_id=line.id, payout_id=dispute.payout_id,
                                         dispute_id=dispute.id, before=before, after=_line_state(line), reason=note,
                                         actor=actor))
    dispute.status, dispute.resolution_note, dispute.resolved_by, dispute.resolved_at = outcome, note, actor, now
    if outcome == "Adjusted":
        dispute.adjusted_amount = adjusted
        difference = adjusted - dispute.disputed_amount
        if difference:
            dispute.adjustment_line_id = _adjustment_line(session, dispute, list(lines.values()), difference, note,
                                                          back_into, actor, now).id
    session.flush()
    if back_into is not None:
        payouts.totals(session, payout)
    audit.record(session, actor, f"commission_dispute.{outcome.lower()}", require_tenant().id, dispute_id=dispute.id,
                 disputed_amount=str(dispute.disputed_amount),
                 adjusted_amount=None if dispute.adjusted_amount is None else str(dispute.adjusted_amount), note=note)
    return dispute


def _adjustment_line(session: Session, dispute: CommissionDispute, lines: list[CommissionLine], difference: Decimal,
                     note: str, payout_id: int | None, actor: str, now: datetime) -> CommissionLine:
    """The line that pays (or takes back) the difference a settled dispute found."""
    currencies = {line.currency for line in lines}
    if len(currencies) != 1:
        raise Invalid("the disputed lines are in several currencies: settle them in one dispute per currency")
    customers = {line.customer_id for line in lines}
    today = payouts.local_today(session, now)
    tenant = require_tenant()
    line = CommissionLine(reseller_id=tenant.id, customer_id=customers.pop() if len(customers) == 1 else None,
                          source_tenant_id=tenant.id, source_payment_id=None, rule_id=None, kind="adjustment",
                          base_amount=dispute.disputed_amount, rate=None, amount=difference,
                          currency=currencies.pop(), period_start=today, period_end=today, status="Approved",
                          payout_id=payout_id, source_key=f"dispute:{dispute.id}",
                          note=f"Dispute #{dispute.id}: {note}"[:2000])
    session.add(line)
    session.flush()
    session.add(CommissionAdjustment(action="line.adjustment", line_id=line.id, payout_id=dispute.payout_id,
                                     dispute_id=dispute.id, before={"amount": str(dispute.disputed_amount)},
                                     after={"amount": str(dispute.adjusted_amount), "difference": str(difference),
                                            "status": line.status, "payout_id": payout_id},
                                     reason=note, actor=actor))
    return line


# -- attachments -----------------------------------------------------------------------------------------

def _sniff(data: bytes) -> tuple[str, str]:
    """(extension, content type) from the bytes themselves; anything else is refused."""
    if data.startswith(b"%PDF-"):
        return "pdf", "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png", "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg", "image/jpeg"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and "\x00" not in text and not text.lstrip().startswith("<"):  # no HTML, no SVG
        return "txt", "text/plain"
    raise Invalid("attachments: PDF, PNG, JPEG, CSV or plain text only", field="file")


def folder(schema: str) -> Path:
    return storage.owner_folder(schema) / "disputes"


def add_attachment(session: Session, dispute_id: int, file_name: str | None, data: bytes, *,
                   actor: str) -> DisputeAttachment:
    dispute = get(session, dispute_id, for_update=True)
    if dispute.status != "Open":
        raise Conflict(f"dispute #{dispute.id} is {dispute.status}: documents are added while it is Open")
    count = session.execute(select(func.count()).where(DisputeAttachment.dispute_id == dispute.id)).scalar_one()
    if count >= MAX_FILES:
        raise Conflict(f"a dispute holds at most {MAX_FILES} documents")
    if not data:
        raise Invalid("the file is empty", field="file")
    if len(data) > MAX_FILE:
        raise Invalid(f"the file is {len(data):,} bytes; the most allowed is {MAX_FILE:,}", field="file")
    extension, content_type = _sniff(data)
    name = _SAFE_NAME.sub("_", (file_name or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip(" .")[:150]
    if extension == "txt" and name.lower().endswith(".csv"):
        content_type = "text/csv"
    stored = f"{hashlib.sha256(data).hexdigest()[:40]}.{extension}"
    path = storage.inside(folder(require_tenant().schema), stored)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".part")
        temporary.write_bytes(data)
        temporary.replace(path)
    row = DisputeAttachment(dispute_id=dispute.id, file_name=name or f"document.{extension}", stored_name=stored,
                            content_type=content_type, size=len(data), uploaded_by=actor)
    session.add(row)
    session.flush()
    session.add(CommissionAdjustment(action="dispute.attachment", dispute_id=dispute.id, payout_id=dispute.payout_id,
                                     after={"attachment_id": row.id, "file_name": row.file_name, "size": row.size},
                                     actor=actor))
    return row


def attachment(session: Session, dispute_id: int, attachment_id: int) -> tuple[DisputeAttachment, bytes]:
    row = session.execute(select(DisputeAttachment).where(DisputeAttachment.id == attachment_id,
                                                          DisputeAttachment.dispute_id == dispute_id)
                          ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no attachment #{attachment_id} on dispute #{dispute_id}")
    path = storage.inside(folder(require_tenant().schema), row.stored_name)
    try:
        return row, path.read_bytes()
    except FileNotFoundError:
        raise NotFound(f"the file of attachment #{attachment_id} is missing") from None
