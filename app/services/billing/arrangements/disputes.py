"""Invoice disputes: a customer objects to lines of one of their invoices; the reseller looks into it and
answers.

    Open ──review──▶ Under Review ──resolve──▶ Resolved (usage adjustment | service credit | payment plan)
      │                  │       └──reject───▶ Rejected ──appeal (the customer, once)──▶ Escalated
      └──────────────────┴──escalate──▶ Escalated ──resolve | reject──▶ …

- Opening (`open_dispute`): the invoice is the customer's own and issued (not a draft, not void, issued in the
  last WINDOW_DAYS); each named line is one of its lines that charges something, and is not under a dispute
  already: a line is disputed once, and an answer is appealed rather than disputed again. The disputed amount
  is what the lines cost with their tax. The 30 days of usage of each line's service before the invoice are
  copied in (evidence.py), the documents kept (documents.py), and the answer is due 10 business days later
  (the seeds' "5–10 business day investigation period", at its far end, so the date shown is one the reseller
  can keep).
- Resolving with a usage adjustment or a service credit issues a credit note of the invoice (the invoice
  service's own, billing key `dispute:<id>`, so one per dispute): the disputed lines whole, or the amounts the
  reseller names for some of them. The ledger, not the dispute, records the money; dunning's hold on the
  services it limited for this invoice is released at once if nothing else keeps it.
- Resolving with a payment plan: the charge stands, and what the invoice still owes is paid in instalments
  (plans.py), agreed at once.
- Rejecting says why. The customer may appeal a rejection once, within APPEAL_DAYS: the dispute is Escalated,
  to management, with a new expected date. The reseller may escalate an open dispute itself.

While Open, Under Review or Escalated, dunning does not act on the disputed amount (holds.py).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.arrangements import (
    DISPUTE_ACTIVE,
    DISPUTE_REASONS,
    DISPUTE_STATUSES,
    OUTCOMES,
    InvoiceDispute,
    InvoiceDisputeLine,
)
from app.models.base import utcnow
from app.models.billing import Invoice, InvoiceLine
from app.services.auth.principal import Principal
from app.services.billing import dunning, invoices
from app.services.billing.arrangements import documents, evidence, history, listing, notices, plans
from app.services.billing.arrangements.business_days import add_business_days
from app.services.billing.arrangements.inputs import text
from app.services.errors import Conflict, Invalid, NotFound
from app.services.ids import valid_id
from app.services.money import round_money
from app.services.settings import local_today, zone

ZERO = Decimal("0.00")
ANSWER_DAYS = 10  # business days
WINDOW_DAYS = 90  # an invoice is disputed within this many days of being issued
APPEAL_DAYS = 30
MAX_MESSAGE = 5000
MAX_LINES = 200
DISPUTABLE = ("Issued", "Partially Paid", "Overdue", "Paid")
CREDIT_OUTCOMES = ("usage_adjustment", "service_credit")
OUTCOME_WORDS = {"usage_adjustment": "usage adjustment", "service_credit": "service credit",
                 "payment_plan": "payment plan"}


class DisputeState(Conflict):
    slug = "dispute-state"
    title = "Not possible in the dispute's state"


class AlreadyDisputed(Conflict):
    slug = "line-already-disputed"
    title = "The line is disputed already"


# -- reading -----------------------------------------------------------------------------------------------

def get(session: Session, dispute_id: int, *, lock: bool = False) -> InvoiceDispute:
    if not valid_id(dispute_id):
        raise NotFound("no such dispute")
    query = select(InvoiceDispute).where(InvoiceDispute.id == dispute_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    found = session.execute(query).scalar_one_or_none()
    if found is None:
        raise NotFound("no such dispute")
    return found


def own(session: Session, customer_id: int, dispute_id: int, *, lock: bool = False) -> InvoiceDispute:
    """One of the customer's disputes; another customer's is not found, as if it did not exist."""
    found = get(session, dispute_id, lock=lock)
    if found.customer_id != customer_id:
        raise NotFound("no such dispute")
    return found


def list_disputes(session: Session, *, customer_id: int | None = None, status: str | None = None,
                  invoice_id: int | None = None, visible: frozenset[int] | None = None, page: int = 1,
                  per_page: int = 50) -> tuple[list[InvoiceDispute], int]:
    """Disputes newest first, filtered, one page of them with the total that matches."""
    return listing.newest_first(session, InvoiceDispute, statuses=DISPUTE_STATUSES, status=status,
                                customer_id=customer_id, visible=visible, page=page, per_page=per_page,
                                where=[InvoiceDispute.invoice_id == invoice_id] if invoice_id is not None else [])


def lines_of(session: Session, dispute_ids: list[int]) -> dict[int, list[InvoiceDisputeLine]]:
    found: dict[int, list[InvoiceDisputeLine]] = {i: [] for i in dispute_ids}
    if dispute_ids:
        for row in session.execute(select(InvoiceDisputeLine).where(InvoiceDisputeLine.dispute_id.in_(dispute_ids))
                                   .order_by(InvoiceDisputeLine.line_id)).scalars():
            found[row.dispute_id].append(row)
    return found


def invoice_numbers(session: Session, invoice_ids: list[int]) -> dict[int, str | None]:
    if not invoice_ids:
        return {}
    return dict(session.execute(select(Invoice.id, Invoice.number).where(Invoice.id.in_(invoice_ids))).all())


def detail(session: Session, dispute: InvoiceDispute) -> dict:
    """Everything about one dispute: its invoice, lines, evidence, documents, credit note and history."""
    note = session.get(Invoice, dispute.credit_note_id) if dispute.credit_note_id else None
    return {"dispute": dispute, "invoice": session.get(Invoice, dispute.invoice_id),
            "lines": lines_of(session, [dispute.id])[dispute.id],
            "evidence": evidence.of_dispute(session, dispute.id),
            "attachments": documents.of_disputes(session, [dispute.id])[dispute.id],
            "credit_note": note, "history": history.of_dispute(session, dispute.id),
            "appealable": appealable(session, dispute)}


def disputed_line_ids(session: Session, invoice_id: int) -> set[int]:
    """The invoice's lines that have been disputed (under any dispute, whatever its status)."""
    return set(session.execute(select(InvoiceDisputeLine.line_id).join(
        InvoiceDispute, InvoiceDispute.id == InvoiceDisputeLine.dispute_id)
        .where(InvoiceDispute.invoice_id == invoice_id)).scalars())


def line_cost(invoice: Invoice, line: InvoiceLine) -> Decimal:
    """What the customer is charged for a line: its amount, with its tax when prices exclude tax."""
    return round_money(line.amount if invoice.tax_inclusive else line.amount + line.tax_amount)


def disputable(session: Session, customer_id: int, invoice_id: int, today: date | None = None) -> dict:
    """The customer's invoice and which of its lines they may dispute now (for the dispute form), or why none:
    `refusal` is None, `not_issued`, `too_old` or `all_disputed`."""
    invoice = _own_invoice(session, customer_id, invoice_id)
    today = today or local_today(session)
    lines = invoices.lines_of(session, invoice.id)
    taken = disputed_line_ids(session, invoice.id)
    open_lines = [line for line in lines if line.amount > ZERO and line.id not in taken]
    refusal = None
    if invoice.kind != "invoice" or invoice.status not in DISPUTABLE:
        refusal = "not_issued"
    elif today > last_day(session, invoice):
        refusal = "too_old"
    elif not open_lines:
        refusal = "all_disputed"
    return {"invoice": invoice, "lines": lines, "disputable": [] if refusal else open_lines,
            "costs": {line.id: line_cost(invoice, line) for line in lines}, "taken": taken, "refusal": refusal,
            "last_day": last_day(session, invoice)}


def disputable_invoices(session: Session, customer_id: int, today: date | None = None) -> list[Invoice]:
    """The customer's invoices that may still be disputed (issued, within WINDOW_DAYS), newest first."""
    today = today or local_today(session)
    found = session.execute(select(Invoice).where(Invoice.customer_id == customer_id, Invoice.kind == "invoice",
                                                  Invoice.status.in_(DISPUTABLE))
                            .order_by(Invoice.issued_at.desc(), Invoice.id.desc()).limit(200)).scalars()
    where = zone(session)
    return [i for i in found if today <= last_day(session, i, where)]


def last_day(session: Session, invoice: Invoice, where=None) -> date:
    """The last day the invoice may be disputed on."""
    return invoices.local_date(invoice.issued_at, where or zone(session)) + timedelta(days=WINDOW_DAYS)


def appealable(session: Session, dispute: InvoiceDispute, today: date | None = None) -> bool:
    if dispute.status != "Rejected" or dispute.appealed_at is not None or dispute.answered_at is None:
        return False
    today = today or local_today(session)
    return today <= invoices.local_date(dispute.answered_at, zone(session)) + timedelta(days=APPEAL_DAYS)


# -- the customer's side -----------------------------------------------------------------------------------

def _own_invoice(session: Session, customer_id: int, invoice_id: int, *, lock: bool = False) -> Invoice:
    invoice = invoices.get(session, invoice_id, lock=lock)
    if invoice.customer_id != customer_id or invoice.status == "Draft":
        raise NotFound("no such invoice")
    return invoice


def _line_ids(value) -> list[int]:
    if (not isinstance(value, list | tuple) or not value or len(value) > MAX_LINES
            or not all(valid_id(i) for i in value)):
        raise Invalid(f"line_ids: 1 to {MAX_LINES} lines of the invoice", field="line_ids")
    return sorted(set(value))


def open_dispute(session: Session, customer_id: int, invoice_id: int, line_ids, reason: str, message, *,
                 principal: Principal | None = None, files: list[tuple[str | None, bytes]] = (),
                 today: date | None = None) -> InvoiceDispute:
    """Dispute lines of one of the customer's issued invoices, with the usage evidence and any documents."""
    if reason not in DISPUTE_REASONS:
        raise Invalid(f"reason: one of {', '.join(DISPUTE_REASONS)}", field="reason")
    message = text(message, "message", required=True, limit=MAX_MESSAGE)
    wanted = _line_ids(line_ids)
    files = list(files)
    documents.check(files)
    _own_invoice(session, customer_id, invoice_id)
    invoices.lock_customer(session, customer_id)
    invoice = _own_invoice(session, customer_id, invoice_id, lock=True)  # two disputes of it wait for each other
    today = today or local_today(session)
    if invoice.kind != "invoice" or invoice.status not in DISPUTABLE:
        raise DisputeState(f"only an issued invoice is disputed; this {invoice.kind} is {invoice.status}",
                           invoice_status=invoice.status)
    if today > last_day(session, invoice):
        raise Conflict(f"invoice {invoice.number} was issued more than {WINDOW_DAYS} days ago: it can no longer be "
                       "disputed online; contact support", last_day=last_day(session, invoice).isoformat())
    lines = {line.id: line for line in invoices.lines_of(session, invoice.id)}
    taken = disputed_line_ids(session, invoice.id)
    for line_id in wanted:
        line = lines.get(line_id)
        if line is None:
            raise Invalid(f"line_ids: #{line_id} is not a line of invoice {invoice.number}", field="line_ids")
        if line.amount <= ZERO:
            raise Invalid(f"line_ids: #{line_id} charges nothing (a discount); it is not disputed",
                          field="line_ids")
        if line_id in taken:
            raise AlreadyDisputed(f"line #{line_id} of invoice {invoice.number} is disputed already: follow, or "
                                  "appeal, that dispute", field="line_ids", line_id=line_id)
    chosen = [lines[i] for i in wanted]
    dispute = InvoiceDispute(customer_id=customer_id, invoice_id=invoice.id, status="Open", reason=reason,
                             message=message, currency=invoice.currency,
                             disputed_amount=sum((line_cost(invoice, line) for line in chosen), ZERO),
                             opened_on=today, expected_by=add_business_days(today, ANSWER_DAYS),
                             opened_by=history.actor_of(principal))
    if dispute.disputed_amount <= ZERO:
        raise Invalid("line_ids: the lines charge nothing", field="line_ids")
    session.add(dispute)
    session.flush()
    session.add_all([InvoiceDisputeLine(dispute_id=dispute.id, line_id=line.id, service_id=line.service_id,
                                        description=line.description, amount=line_cost(invoice, line))
                     for line in chosen])
    session.flush()
    days = evidence.freeze(session, dispute.id, invoice, [line.service_id for line in chosen if line.service_id])
    for name, data in files:
        documents.add(session, dispute, name, data, actor=history.actor_of(principal))
    history.record(session, principal, "dispute.opened", dispute=dispute, to_status="Open", note=message,
                   invoice_id=invoice.id, invoice_number=invoice.number, lines=wanted, reason=reason,
                   amount=str(dispute.disputed_amount), currency=dispute.currency,
                   expected_by=dispute.expected_by.isoformat(), usage_days=days, documents=len(files))
    notices.dispute_changed(session, dispute)
    return dispute


def add_document(session: Session, customer_id: int, dispute_id: int, file_name: str | None, data: bytes, *,
                 principal: Principal | None = None):
    """Another document for one of the customer's disputes, while it is being looked at."""
    dispute = own(session, customer_id, dispute_id, lock=True)
    row = documents.add(session, dispute, file_name, data, actor=history.actor_of(principal))
    history.record(session, principal, "dispute.document_added", dispute=dispute, attachment_id=row.id,
                   file_name=row.file_name, size=row.size)
    return row


def appeal(session: Session, customer_id: int, dispute_id: int, message, *, principal: Principal | None = None,
           today: date | None = None) -> InvoiceDispute:
    """The customer appeals a rejection (once, within APPEAL_DAYS): Escalated to management."""
    dispute = own(session, customer_id, dispute_id, lock=True)
    message = text(message, "message", required=True, limit=MAX_MESSAGE)
    today = today or local_today(session)
    if dispute.status != "Rejected":
        raise DisputeState(f"dispute #{dispute.id} is {dispute.status}: only a rejected dispute is appealed",
                           dispute_status=dispute.status)
    if dispute.appealed_at is not None:
        raise DisputeState(f"dispute #{dispute.id} was appealed already: its second answer is final")
    if not appealable(session, dispute, today):
        raise DisputeState(f"dispute #{dispute.id} was answered more than {APPEAL_DAYS} days ago: it can no longer "
                           "be appealed online")
    dispute.appealed_at = utcnow()
    return _move(session, dispute, "Escalated", "dispute.appealed", principal, message, today=today)


# -- the reseller's side -----------------------------------------------------------------------------------

def _move(session: Session, dispute: InvoiceDispute, to: str, action: str, principal: Principal | None,
          note: str | None, *, today: date | None = None, answer: bool = False, **detail) -> InvoiceDispute:
    before = dispute.status
    dispute.status = to
    if to == "Escalated":
        dispute.expected_by = add_business_days(today or local_today(session), ANSWER_DAYS)
        detail["expected_by"] = dispute.expected_by.isoformat()
    if answer:
        dispute.answer, dispute.answered_by, dispute.answered_at = note, history.actor_of(principal), utcnow()
    session.flush()
    history.record(session, principal, action, dispute=dispute, from_status=before, to_status=to, note=note,
                   **detail)
    notices.dispute_changed(session, dispute)
    return dispute


def _active(dispute: InvoiceDispute, allowed: tuple[str, ...], verb: str) -> None:
    if dispute.status not in allowed:
        raise DisputeState(f"dispute #{dispute.id} is {dispute.status}: only a dispute that is "
                           f"{' or '.join(allowed)} is {verb}", dispute_status=dispute.status)


def review(session: Session, dispute_id: int, *, principal: Principal | None = None, note=None) -> InvoiceDispute:
    """Open → Under Review: someone is looking into it (the customer is told)."""
    dispute = get(session, dispute_id, lock=True)
    _active(dispute, ("Open",), "put under review")
    return _move(session, dispute, "Under Review", "dispute.under_review", principal,
                 text(note, "note", required=False, limit=MAX_MESSAGE))


def escalate(session: Session, dispute_id: int, *, principal: Principal | None = None, note=None) -> InvoiceDispute:
    """Open or Under Review → Escalated: to management, for a complex dispute, with a new expected date."""
    dispute = get(session, dispute_id, lock=True)
    _active(dispute, ("Open", "Under Review"), "escalated")
    return _move(session, dispute, "Escalated", "dispute.escalated", principal,
                 text(note, "note", required=True, limit=MAX_MESSAGE))


def reject(session: Session, dispute_id: int, *, principal: Principal | None = None, answer=None) -> InvoiceDispute:
    """The charge stands: Rejected, with the answer the customer reads (and may appeal once)."""
    dispute = get(session, dispute_id, lock=True)
    _active(dispute, DISPUTE_ACTIVE, "rejected")
    return _move(session, dispute, "Rejected", "dispute.rejected", principal,
                 text(answer, "answer", required=True, limit=MAX_MESSAGE), answer=True)


def _credit_lines(dispute: InvoiceDispute, disputed: list[InvoiceDisputeLine], wanted) -> list[dict]:
    """The credit note's lines: every disputed line whole, or the amounts named for some of them (before tax on
    a tax-exclusive invoice, as the invoice service reads them)."""
    if wanted is None:
        return [{"line_id": row.line_id} for row in disputed]
    if not isinstance(wanted, list | tuple) or not wanted:
        raise Invalid("lines: at least one disputed line to credit", field="lines")
    ids = {row.line_id for row in disputed}
    out = []
    for n, item in enumerate(wanted):
        if not isinstance(item, dict) or item.get("line_id") not in ids:
            raise Invalid(f"lines[{n}].line_id: a line of dispute #{dispute.id}", field="lines")
        out.append({"line_id": item["line_id"], **({"amount": item["amount"]} if item.get("amount") is not None
                                                   else {})})
    return out


def resolve(session: Session, dispute_id: int, *, outcome: str, answer=None, principal: Principal | None = None,
            lines=None, instalments=None, first_due_on=None, schedule=None,
            today: date | None = None) -> InvoiceDispute:
    """Resolved, with its outcome: a usage adjustment or a service credit (a credit note of the invoice), or a
    payment plan for what the invoice still owes."""
    if outcome not in OUTCOMES:
        raise Invalid(f"outcome: one of {', '.join(OUTCOMES)}", field="outcome")
    answer = text(answer, "answer", required=True, limit=MAX_MESSAGE)
    invoices.lock_customer(session, get(session, dispute_id).customer_id)
    dispute = get(session, dispute_id, lock=True)
    _active(dispute, DISPUTE_ACTIVE, "resolved")
    today = today or local_today(session)
    invoice = invoices.get(session, dispute.invoice_id, lock=True)
    detail: dict = {"outcome": outcome}
    if outcome in CREDIT_OUTCOMES:
        if any(v is not None for v in (instalments, first_due_on, schedule)):
            raise Invalid("instalments, first_due_on and schedule are for the payment_plan outcome",
                          field="instalments")
        disputed = lines_of(session, [dispute.id])[dispute.id]
        note = invoices.credit_note(
            session, invoice.id, reason=f"Dispute #{dispute.id}, {OUTCOME_WORDS[outcome]}: {answer}"[:2000],
            lines=_credit_lines(dispute, disputed, lines), actor=history.actor_of(principal), today=today,
            billing_key=f"dispute:{dispute.id}")
        dispute.credit_note_id, dispute.credited_amount = note.id, note.total
        detail.update(credit_note_id=note.id, credit_note_number=note.number, credited=str(note.total))
    else:
        if lines is not None:
            raise Invalid("lines: only for a usage adjustment or a service credit", field="lines")
        plan = plans.for_invoice(session, dispute.customer_id, invoice, principal=principal, note=answer,
                                 instalments=instalments, first_due_on=first_due_on, schedule=schedule, today=today)
        dispute.payment_plan_id = plan.id
        detail.update(payment_plan_id=plan.id)
    dispute.outcome = outcome
    _move(session, dispute, "Resolved", "dispute.resolved", principal, answer, answer=True, **detail)
    if outcome in CREDIT_OUTCOMES:
        dunning.restore_if_cleared(session, dispute.customer_id, actor=principal, today=today)
    return dispute
