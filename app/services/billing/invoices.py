"""Invoices, pro-forma invoices and credit notes: drafting, issuing, voiding, crediting.

The life of an invoice:

    Draft ──issue──▶ Issued ──(payments, credit)──▶ Partially Paid ──▶ Paid
      │ delete          │ due date passes ▶ Overdue (mark_overdue)
      ▼                 └─void (nothing paid)──▶ Void

- A **draft** has lines and totals but no number and posts nothing: it can be edited or deleted freely.
- **Issuing** gives it the next gap-free number of its series (numbering.py), a due date (issue date +
  `billing.payment_terms_days`), posts its total to the ledger as a charge, and then spends the
  customer's credit on it (`allocation.settle`): an overpayment or a credit note pays the next invoice
  without anyone asking.
- **Voiding** reverses what the invoice posted, so its ledger sum is 0. Only an invoice nothing was paid
  on can be voided: money already allocated to it would otherwise have nothing to stand against. A paid
  (or part-paid) invoice is corrected by a **credit note** instead: a document of its own (own series),
  for the whole invoice or some of its lines, that posts −total and is spent first on the invoice it
  credits (if still open), then on the customer's other open invoices, the rest staying as credit.
- A **pro-forma** invoice is a quote: numbered in its own series when issued, never posted, never owed;
  `convert_proforma` drafts the real invoice from it.

Every change of an invoice bumps its `version`; the cached PDF is keyed by it (pdfs.py), so a changed
invoice is drawn again, and an unchanged one is never drawn twice.

Dates: the issue date and due date are the tenant's local dates; `issued_at` is the UTC moment.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, func, or_, select, text
from sqlalchemy.orm import Session

from app import clock
from app.models import Customer
from app.models.base import utcnow
from app.models.billing import Invoice, InvoiceLine, InvoiceTax, LedgerEntry, Payment, PaymentAllocation
from app.models.provisioning import Service
from app.services import events
from app.services.billing import allocation, ledger, numbering
from app.services.billing.cycles import month_of
from app.services.billing.tax import LineSpec, Priced, Rate, active_rates, clean_line, price_lines
from app.services.errors import Conflict, Invalid, NotFound
from app.services.ids import valid_id
from app.services.money import money, round_money
from app.services.settings import default_settings, get_setting, local_today
from app.services.settings import zone as zone_of

log = logging.getLogger(__name__)
ZERO = Decimal("0.00")
OPEN = allocation.OPEN
KINDS = ("invoice", "proforma", "credit_note")
STATUSES = ("Draft", "Issued", "Partially Paid", "Paid", "Overdue", "Void")
SORTS = {"number": Invoice.number, "issued_at": Invoice.issued_at, "due_on": Invoice.due_on,
         "total": Invoice.total, "status": Invoice.status}  # the orders a list of documents may be read in
LINE_KINDS = ("manual", "recurring", "setup", "proration", "unused", "discount", "usage", "topup", "late_fee")
_BILLING_DEFAULTS = default_settings("CUS", "")["billing"]


class InvoiceState(Conflict):
    """The invoice is not in a state that allows this (editing an issued invoice, issuing twice…)."""

    slug = "invoice-state"
    title = "Not possible in the invoice's state"


class InvoicePaid(Conflict):
    """Money was allocated to the invoice: it cannot be voided, only credited."""

    slug = "invoice-paid"
    title = "The invoice has payments"


# -- settings and dates --------------------------------------------------------------------------------

def billing_settings(session: Session) -> dict:
    """The tenant's `billing` setting with every key present (defaults for what it does not set)."""
    return {**_BILLING_DEFAULTS, **(get_setting(session, "billing") or {})}


def local_date(moment: datetime | None, zone: ZoneInfo) -> date | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).date()


# -- reading -------------------------------------------------------------------------------------------

def get(session: Session, invoice_id: int, *, lock: bool = False, kind: str | None = None) -> Invoice:
    if not valid_id(invoice_id):
        raise NotFound("no such invoice")
    query = select(Invoice).where(Invoice.id == invoice_id)
    if lock:  # and read it again: another transaction may have changed it while we waited for the lock
        query = query.with_for_update().execution_options(populate_existing=True)
    invoice = session.execute(query).scalar_one_or_none()
    if invoice is None or (kind is not None and invoice.kind != kind):
        raise NotFound("no such invoice")
    return invoice


def lines_of(session: Session, invoice_id: int) -> list[InvoiceLine]:
    return list(session.execute(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice_id)
                                .order_by(InvoiceLine.position, InvoiceLine.id)).scalars())


def taxes_of(session: Session, invoice_id: int) -> list[InvoiceTax]:
    return list(session.execute(select(InvoiceTax).where(InvoiceTax.invoice_id == invoice_id)
                                .order_by(InvoiceTax.compound, InvoiceTax.id)).scalars())


def credit_notes_of(session: Session, invoice_id: int) -> list[Invoice]:
    return list(session.execute(select(Invoice).where(Invoice.credited_invoice_id == invoice_id,
                                                      Invoice.kind == "credit_note")
                                .order_by(Invoice.id)).scalars())


@dataclass(frozen=True)
class Page:
    items: list[Invoice]
    total: int
    page: int
    per_page: int


def list_page(session: Session, *, status: str | None = None, customer_id: int | None = None,
              period: str | None = None, kind: str | None = None, page: int = 1, per_page: int = 50,
              visible: frozenset[int] | None = None, sort: str | None = None, descending: bool = True) -> Page:
    """Invoices newest first (or in the order of `sort`, a key of SORTS; documents without the value last),
    filtered, one page of them with the total that matches.

    `period` ("2026-11") finds a billing run's invoices of that month (by their billing key) and
    hand-made invoices whose service period starts in that month."""
    where = []
    if status is not None:
        if status not in STATUSES:
            raise Invalid(f"status: one of {', '.join(STATUSES)}", field="status")
        where.append(Invoice.status == status)
    if kind is not None:
        if kind not in KINDS:
            raise Invalid(f"kind: one of {', '.join(KINDS)}", field="kind")
        where.append(Invoice.kind == kind)
    if customer_id is not None:
        where.append(Invoice.customer_id == customer_id)
    if visible is not None:
        where.append(Invoice.customer_id.in_(sorted(visible)))
    if period is not None:
        month = month_of(period)
        where.append(or_(Invoice.billing_key.like(f"%:{period}"), Invoice.billing_key.like(f"%:{period}:%"),
                         and_(Invoice.billing_key.is_(None), Invoice.period_start.between(month.start, month.end))))
    order = [Invoice.id.desc()]
    if sort is not None:
        if sort not in SORTS:
            raise Invalid(f"sort: one of {', '.join(SORTS)}", field="sort")
        order.insert(0, (SORTS[sort].desc() if descending else SORTS[sort].asc()).nulls_last())
    total = session.execute(select(func.count()).select_from(Invoice).where(*where)).scalar_one()
    items = list(session.execute(select(Invoice).where(*where).order_by(*order)
                                 .limit(per_page).offset((page - 1) * per_page)).scalars())
    return Page(items, total, page, per_page)


# -- drafting ------------------------------------------------------------------------------------------

def lock_customer(session: Session, customer_id: int) -> None:
    """Money operations of one customer go one at a time (payments.py does the same first): a payment
    and an issue settling at once would otherwise each read the other's half-made allocations."""
    session.execute(select(Customer.id).where(Customer.id == customer_id).with_for_update())


def _customer(session: Session, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id) if valid_id(customer_id) else None
    if customer is None:
        raise NotFound("no such customer")
    return customer


def _currency(session: Session, customer_id: int, currency: str | None) -> str:
    if currency:
        code = str(currency).strip().upper()
        if len(code) != 3 or not code.isalpha():
            raise Invalid("currency: an ISO 4217 code such as KES", field="currency")
        return code
    found = session.execute(select(Service.currency).where(Service.customer_id == customer_id,
                                                           Service.status != "Terminated")
                            .order_by(Service.id).limit(1)).scalar_one_or_none()
    return found or get_setting(session, "currency") or "USD"


def _specs(session: Session, customer_id: int, lines: list[dict]) -> list[LineSpec]:
    if not lines:
        raise Invalid("an invoice needs at least one line", field="lines")
    if len(lines) > 1000:
        raise Invalid("at most 1000 lines", field="lines")
    specs = []
    for number, values in enumerate(lines):
        values = dict(values)
        service_id = values.get("service_id")
        if service_id is not None:
            service = session.get(Service, service_id) if valid_id(service_id) else None
            if service is None or service.customer_id != customer_id:
                raise Invalid(f"lines[{number}].service_id: not a service of this customer", field="lines")
            values["service_kind"] = service.kind
        kind = values.get("kind") or "manual"
        if kind not in LINE_KINDS:
            raise Invalid(f"lines[{number}].kind: one of {', '.join(LINE_KINDS)}", field="lines")
        start, end = values.get("period_start"), values.get("period_end")
        if (start is None) != (end is None) or (start is not None and end < start):
            raise Invalid(f"lines[{number}]: period_start and period_end together, start first", field="lines")
        specs.append(clean_line(values))
    return specs


def write_lines(session: Session, invoice: Invoice, priced: Priced) -> None:
    """Replace the invoice's lines and taxes by `priced`, and take its totals (never below zero: money owed
    to the customer is a credit note's business)."""
    if priced.total < ZERO:
        raise Invalid(f"the lines come to {priced.total}: an invoice is not negative; credit the customer with a "
                      "credit note instead", field="lines")
    session.execute(delete(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id))
    session.execute(delete(InvoiceTax).where(InvoiceTax.invoice_id == invoice.id))
    for position, line in enumerate(priced.lines):
        spec = line.spec
        session.add(InvoiceLine(invoice_id=invoice.id, position=position, service_id=spec.service_id, kind=spec.kind,
                                description=spec.description, quantity=spec.quantity, unit_price=spec.unit_price,
                                discount=spec.discount, amount=line.amount, tax_amount=line.tax,
                                period_start=spec.period_start, period_end=spec.period_end))
    for summary in priced.taxes:
        session.add(InvoiceTax(invoice_id=invoice.id, tax_rate_id=summary.rate.id, name=summary.rate.name,
                               rate=summary.rate.rate, compound=summary.rate.compound, base=summary.base,
                               amount=summary.amount))
    invoice.subtotal, invoice.discount_total = priced.subtotal, priced.discount_total
    invoice.tax_total, invoice.total = priced.tax_total, priced.total
    invoice.tax_inclusive = priced.tax_inclusive
    starts = [line.spec.period_start for line in priced.lines if line.spec.period_start]
    ends = [line.spec.period_end for line in priced.lines if line.spec.period_end]
    if starts and invoice.period_start is None:
        invoice.period_start, invoice.period_end = min(starts), max(ends)
    session.flush()


def create_draft(session: Session, customer_id: int, lines: list[dict], *, kind: str = "invoice",
                 currency: str | None = None, tax_inclusive: bool | None = None, notes: str | None = None,
                 period_start: date | None = None, period_end: date | None = None,
                 actor: str = "system") -> Invoice:
    """A draft invoice (or pro-forma) for a customer, priced with the tenant's active tax rates.

    Lines are dicts: description, unit_price, quantity (1), discount (0, money off the line), service_id
    (one of the customer's services: its kind decides which taxes apply), kind, taxable (true),
    period_start/period_end. A promotion for the whole invoice is a line with a negative unit price."""
    if kind not in ("invoice", "proforma"):
        raise Invalid("kind: invoice or proforma (credit notes are made from an invoice)", field="kind")
    _customer(session, customer_id)
    specs = _specs(session, customer_id, lines)
    inclusive = billing_settings(session)["prices_include_tax"] if tax_inclusive is None else bool(tax_inclusive)
    if (period_start is None) != (period_end is None) or (period_start and period_end < period_start):
        raise Invalid("period_start and period_end together, start first", field="period_start")
    invoice = Invoice(kind=kind, series=kind, status="Draft", customer_id=customer_id,
                      currency=_currency(session, customer_id, currency), tax_inclusive=inclusive,
                      notes=_notes(notes), period_start=period_start, period_end=period_end, created_by=actor)
    session.add(invoice)
    session.flush()
    write_lines(session, invoice, price_lines(specs, active_rates(session), inclusive=inclusive))
    return invoice


def _notes(notes) -> str | None:
    if notes is None:
        return None
    notes = str(notes).strip()
    if len(notes) > 2000:
        raise Invalid("notes: at most 2000 characters", field="notes")
    return notes or None


def _draft(session: Session, invoice_id: int) -> Invoice:
    invoice = get(session, invoice_id, lock=True)
    if invoice.status != "Draft":
        raise InvoiceState(f"the {_label(invoice)} is {invoice.status}: only a draft can be changed",
                           invoice_status=invoice.status)
    return invoice


def update_draft(session: Session, invoice_id: int, changes: dict) -> Invoice:
    """Change a draft: its lines (all of them, re-priced with today's rates), notes, period, currency."""
    invoice = _draft(session, invoice_id)
    if "notes" in changes:
        invoice.notes = _notes(changes["notes"])
    if "currency" in changes and changes["currency"]:
        invoice.currency = _currency(session, invoice.customer_id, changes["currency"])
    if "period_start" in changes or "period_end" in changes:
        start, end = changes.get("period_start"), changes.get("period_end")
        if (start is None) != (end is None) or (start and end < start):
            raise Invalid("period_start and period_end together, start first", field="period_start")
        invoice.period_start, invoice.period_end = start, end
    inclusive = invoice.tax_inclusive if changes.get("tax_inclusive") is None else bool(changes["tax_inclusive"])
    if inclusive != invoice.tax_inclusive and "lines" not in changes:
        raise Invalid("tax_inclusive changes what the unit prices mean: send the lines with it", field="lines")
    if "lines" in changes:
        specs = _specs(session, invoice.customer_id, changes["lines"])
        write_lines(session, invoice, price_lines(specs, active_rates(session), inclusive=inclusive))
    invoice.version += 1
    session.flush()
    return invoice


def delete_draft(session: Session, invoice_id: int) -> None:
    """Throw a draft away (it has no number and posted nothing, so nothing else notices)."""
    invoice = _draft(session, invoice_id)
    session.delete(invoice)
    session.flush()


# -- issuing -------------------------------------------------------------------------------------------

def _label(invoice: Invoice) -> str:
    return {"invoice": "invoice", "proforma": "pro-forma invoice", "credit_note": "credit note"}[invoice.kind]


def issue(session: Session, invoice_id: int, *, actor: str = "system", today: date | None = None) -> Invoice:
    """Draft → Issued: a number, a due date; an invoice's total is posted and the customer's credit spent
    on it; a pro-forma is only numbered."""
    lock_customer(session, get(session, invoice_id).customer_id)
    invoice = _draft(session, invoice_id)
    if invoice.kind == "credit_note":
        raise InvoiceState("credit notes are issued when they are made")
    if not lines_of(session, invoice.id):
        raise Invalid("an invoice needs at least one line", field="lines")
    today = today or local_today(session)
    settings = billing_settings(session)
    invoice.number = numbering.next_number(session, invoice.kind, today)
    invoice.issued_at = utcnow()
    invoice.due_on = today + timedelta(days=int(settings["payment_terms_days"]))
    invoice.status = "Issued"
    invoice.version += 1
    session.flush()
    if invoice.kind == "invoice":
        if invoice.total != ZERO:
            ledger.post(session, customer_id=invoice.customer_id, kind="charge", amount=invoice.total,
                        currency=invoice.currency, description=f"Invoice {invoice.number}", invoice_id=invoice.id,
                        actor=actor)
        invoice.status = allocation.status_for(invoice, today)
        session.flush()
        allocation.settle(session, invoice.customer_id, today=today)
    after_issue(session, invoice)
    return invoice


def after_issue(session: Session, invoice: Invoice, *, render: bool = True) -> None:
    """What follows an issue once it is committed: the `invoice.issued` event (dunning, webhooks,
    commissions listen) and, unless told not to, the PDF drawn in the background."""
    events.publish_after_commit(session, f"{invoice.kind}.issued", invoice_id=invoice.id,
                                customer_id=invoice.customer_id, number=invoice.number, total=str(invoice.total),
                                currency=invoice.currency)
    if render:
        from app.services.billing import pdfs

        pdfs.render_after_commit(session, invoice.id)


def mark_overdue(session: Session, today: date | None = None) -> list[int]:
    """Open invoices past their due date and not fully paid become Overdue; returns their ids."""
    today = today or local_today(session)
    rows = session.execute(text("""
        UPDATE invoices SET status = 'Overdue', version = version + 1, updated_at = :now
        WHERE kind = 'invoice' AND status IN ('Issued', 'Partially Paid') AND due_on < :today
          AND amount_paid < total
        RETURNING id, customer_id"""), {"today": today, "now": clock.now()}).all()
    for row in rows:
        events.publish_after_commit(session, "invoice.overdue", invoice_id=row.id, customer_id=row.customer_id)
    if rows:
        session.expire_all()  # loaded Invoice objects must not keep their old status
    return [row.id for row in rows]


# -- voiding -------------------------------------------------------------------------------------------

def _allocated_from_note(session: Session, note_id: int) -> Decimal:
    return Decimal(session.execute(select(func.coalesce(func.sum(PaymentAllocation.amount), 0))
                                   .where(PaymentAllocation.credit_note_id == note_id)).scalar_one())


def void(session: Session, invoice_id: int, *, reason: str, actor: str = "system") -> Invoice:
    """Issued → Void, posting reversals of what it posted (its ledger sum becomes 0). Refused for an
    invoice anything was paid on (InvoicePaid: credit it instead), one a credit note stands against, a
    credit note already spent, a draft (delete it) and what is void already."""
    reason = str(reason or "").strip()
    if not reason:
        raise Invalid("reason: say why the document is void", field="reason")
    invoice = get(session, invoice_id, lock=True)
    label = _label(invoice)
    if invoice.status == "Draft":
        raise InvoiceState(f"a draft {label} is deleted, not voided", invoice_status=invoice.status)
    if invoice.status == "Void":
        raise InvoiceState(f"the {label} is void already", invoice_status=invoice.status)
    if invoice.kind == "invoice":
        if invoice.amount_paid > ZERO:
            raise InvoicePaid(f"invoice {invoice.number} has {invoice.amount_paid} {invoice.currency} paid on it: "
                              "it cannot be voided; issue a credit note to correct it",
                              amount_paid=str(invoice.amount_paid))
        notes = [n.number for n in credit_notes_of(session, invoice.id) if n.status != "Void"]
        if notes:
            raise InvoiceState(f"credit note(s) {', '.join(notes)} stand against invoice {invoice.number}: void "
                               "them first, or leave the invoice and its credit notes as they are")
    if invoice.kind == "credit_note" and _allocated_from_note(session, invoice.id) != ZERO:
        raise InvoicePaid(f"credit note {invoice.number} has been spent on invoices: it cannot be voided")
    reversed_ids = select(LedgerEntry.reverses_id).where(LedgerEntry.reverses_id.is_not(None))
    for entry in session.execute(select(LedgerEntry).where(
            LedgerEntry.invoice_id == invoice.id, LedgerEntry.payment_id.is_(None), LedgerEntry.kind != "reversal",
            LedgerEntry.id.not_in(reversed_ids)).order_by(LedgerEntry.id)).scalars().all():
        ledger.reverse(session, entry.id, reason=f"{label} {invoice.number} void: {reason}", actor=actor)
    invoice.status, invoice.void_reason = "Void", reason
    invoice.version += 1
    session.flush()
    events.publish_after_commit(session, f"{invoice.kind}.voided", invoice_id=invoice.id,
                                customer_id=invoice.customer_id, number=invoice.number)
    return invoice


# -- credit notes --------------------------------------------------------------------------------------

def credited_total(session: Session, invoice_id: int) -> Decimal:
    return Decimal(session.execute(select(func.coalesce(func.sum(Invoice.total), 0)).where(
        Invoice.credited_invoice_id == invoice_id, Invoice.kind == "credit_note",
        Invoice.status != "Void")).scalar_one())


def credit_note(session: Session, invoice_id: int, *, reason: str, lines: list[dict] | None = None,
                actor: str = "system", today: date | None = None, billing_key: str | None = None,
                render: bool = True, lock: bool = True) -> Invoice:
    """A credit note against an issued invoice: the whole invoice (`lines` None), or some of its lines,
    each for its whole amount or a part (`[{"line_id": …, "amount": "…"}]`, the amount before tax for
    tax-exclusive invoices, the amount paid for tax-inclusive ones). Issued at once: numbered, posted
    (−total), spent on the credited invoice if it is open, then on the customer's other open invoices.

    Taxes of a partial credit are worked out as the invoice's were (same rates, same rounding); a line
    that carried no tax is credited without tax. Together, credit notes never exceed the invoice.

    `lock=False` is for a billing run: it holds the tenant's invoice counter already, and taking the
    customer's row after it would reverse the order an issue takes them in (customer, then counter)."""
    reason = str(reason or "").strip()
    if not reason:
        raise Invalid("reason: say why the customer is credited", field="reason")
    if lock:
        lock_customer(session, get(session, invoice_id).customer_id)
    invoice = get(session, invoice_id, lock=True)
    if invoice.kind != "invoice" or invoice.status in ("Draft", "Void"):
        raise InvoiceState(f"only an issued invoice is credited; this {_label(invoice)} is {invoice.status}",
                           invoice_status=invoice.status)
    already = credited_total(session, invoice.id)
    originals = lines_of(session, invoice.id)
    if invoice.total <= ZERO:
        raise InvoiceState(f"invoice {invoice.number} has a total of {invoice.total}: there is nothing to credit")
    if lines is None:
        if already > ZERO:
            raise InvoiceState(f"invoice {invoice.number} is partly credited already ({already}): name the lines "
                               "to credit")
        priced = None
    else:
        priced = price_lines(_credit_specs(originals, lines), _rates_of(session, invoice),
                             inclusive=invoice.tax_inclusive)
        if priced.total <= ZERO:
            raise Invalid("a credit note credits something", field="lines")
        if priced.total + already > invoice.total:
            raise Invalid(f"that credits {priced.total}, but only {invoice.total - already} of invoice "
                          f"{invoice.number} is left to credit", field="lines")
    today = today or local_today(session)
    note = Invoice(kind="credit_note", series="credit_note", status="Issued", customer_id=invoice.customer_id,
                   currency=invoice.currency, tax_inclusive=invoice.tax_inclusive, credited_invoice_id=invoice.id,
                   period_start=invoice.period_start, period_end=invoice.period_end, notes=reason[:2000],
                   created_by=actor, issued_at=utcnow(), due_on=today, billing_key=billing_key)
    session.add(note)
    session.flush()
    if priced is None:
        _copy_lines(session, invoice, note, originals)
    else:
        write_lines(session, note, priced)
    note.number = numbering.next_number(session, "credit_note", today)
    session.flush()
    ledger.post(session, customer_id=note.customer_id, kind="credit", amount=-note.total, currency=note.currency,
                description=f"Credit note {note.number} for invoice {invoice.number}", invoice_id=note.id, actor=actor)
    if invoice.status in OPEN:
        allocation.apply(session, invoice, note.total, credit_note_id=note.id, today=today)
    session.flush()
    allocation.settle(session, invoice.customer_id, today=today)
    after_issue(session, note, render=render)
    return note


def _credit_specs(originals: list[InvoiceLine], wanted: list[dict]) -> list[LineSpec]:
    by_id = {line.id: line for line in originals}
    specs, seen = [], set()
    if not wanted:
        raise Invalid("lines: at least one line to credit", field="lines")
    for number, item in enumerate(wanted):
        line = by_id.get(item.get("line_id"))
        if line is None:
            raise Invalid(f"lines[{number}].line_id: not a line of this invoice", field="lines")
        if line.id in seen:
            raise Invalid(f"lines[{number}].line_id: named twice", field="lines")
        seen.add(line.id)
        if line.amount <= ZERO:
            raise Invalid(f"lines[{number}]: a discount or promotion line is not credited", field="lines")
        amount = money(item["amount"], f"lines[{number}].amount") if item.get("amount") is not None else line.amount
        if amount <= ZERO or amount > line.amount:
            raise Invalid(f"lines[{number}].amount: more than 0, at most the line's {line.amount}", field="lines")
        whole = amount == line.amount
        # a billing run credits days of a line: it names them, and says what they were
        specs.append(LineSpec(description=str(item.get("description") or line.description)[:500],
                              unit_price=line.unit_price if whole else amount,
                              quantity=line.quantity if whole else Decimal(1),
                              discount=line.discount if whole else ZERO, service_id=line.service_id,
                              kind=item.get("kind") or line.kind, taxable=line.tax_amount != ZERO,
                              period_start=item.get("period_start") or line.period_start,
                              period_end=item.get("period_end") or line.period_end))
    return specs


def _rates_of(session: Session, invoice: Invoice) -> list[Rate]:
    return [Rate(name=t.name, rate=Decimal(t.rate), compound=t.compound, id=t.tax_rate_id, position=i)
            for i, t in enumerate(taxes_of(session, invoice.id))]


def _copy_lines(session: Session, invoice: Invoice, note: Invoice, originals: list[InvoiceLine]) -> None:
    for line in originals:
        session.add(InvoiceLine(invoice_id=note.id, position=line.position, service_id=line.service_id, kind=line.kind,
                                description=line.description, quantity=line.quantity, unit_price=line.unit_price,
                                discount=line.discount, amount=line.amount, tax_amount=line.tax_amount,
                                period_start=line.period_start, period_end=line.period_end))
    for tax in taxes_of(session, invoice.id):
        session.add(InvoiceTax(invoice_id=note.id, tax_rate_id=tax.tax_rate_id, name=tax.name, rate=tax.rate,
                               compound=tax.compound, base=tax.base, amount=tax.amount))
    note.subtotal, note.discount_total = invoice.subtotal, invoice.discount_total
    note.tax_total, note.total = invoice.tax_total, invoice.total
    session.flush()


# -- pro-formas ----------------------------------------------------------------------------------------

def convert_proforma(session: Session, proforma_id: int, *, actor: str = "system") -> Invoice:
    """The draft invoice of an issued pro-forma: the same lines and totals, to be issued when agreed."""
    proforma = get(session, proforma_id, kind="proforma")
    if proforma.status != "Issued":
        raise InvoiceState(f"only an issued pro-forma is converted; this one is {proforma.status}")
    invoice = Invoice(kind="invoice", series="invoice", status="Draft", customer_id=proforma.customer_id,
                      currency=proforma.currency, tax_inclusive=proforma.tax_inclusive,
                      period_start=proforma.period_start, period_end=proforma.period_end, created_by=actor,
                      notes=((proforma.notes or "") + f"\nFrom pro-forma {proforma.number}").strip())
    session.add(invoice)
    session.flush()
    _copy_lines(session, proforma, invoice, lines_of(session, proforma.id))
    return invoice


# -- documents -----------------------------------------------------------------------------------------

def customer_block(customer: Customer) -> dict:
    """The customer as documents show them."""
    if customer.kind == "company" and customer.company_name:
        name = customer.company_name
    else:
        name = " ".join(p for p in (customer.first_name, customer.last_name) if p) or customer.company_name
    place = ", ".join(p for p in (customer.city, customer.county, customer.postal_code) if p)
    address = "\n".join(p for p in (customer.address, place) if p) or None
    extra = customer.extra or {}
    return {"name": name or customer.portal_id, "portal_id": customer.portal_id, "address": address,
            "email": customer.email, "tax_number": extra.get("tax_number") or extra.get("kra_pin")}


def document(session: Session, invoice: Invoice) -> dict:
    """The invoice (or pro-forma, or credit note) in the shape of app.services.documents."""
    zone = zone_of(session)
    customer = _customer(session, invoice.customer_id)
    taxes = taxes_of(session, invoice.id)
    single_rate = taxes[0].rate if len(taxes) == 1 else None
    lines = [{"description": line.description, "quantity": line.quantity, "unit_price": line.unit_price,
              "discount": line.discount, "amount": line.amount,
              "tax_rate": single_rate if single_rate is not None and line.tax_amount != ZERO else None}
             for line in lines_of(session, invoice.id)]
    suffix = " (included)" if invoice.tax_inclusive else ""
    tax_rows = [{"name": f"{tax.name}{suffix}", "rate": tax.rate, "amount": tax.amount} for tax in taxes]
    issued_on = local_date(invoice.issued_at, zone) or clock.today(zone)
    base = {"number": invoice.number or "DRAFT", "issued_on": issued_on, "currency": invoice.currency,
            "customer": customer_block(customer), "lines": lines, "subtotal": invoice.subtotal, "taxes": tax_rows,
            "total": invoice.total, "status": invoice.status}
    if invoice.kind == "credit_note":
        credited = session.get(Invoice, invoice.credited_invoice_id) if invoice.credited_invoice_id else None
        # a credit note shows no discount row: its subtotal is what its lines come to before tax
        return {**base, "subtotal": invoice.subtotal - invoice.discount_total,
                "invoice_number": credited.number if credited else None, "reason": invoice.notes, "notes": None}
    return {**base, "kind": invoice.kind, "due_on": invoice.due_on, "period_start": invoice.period_start,
            "period_end": invoice.period_end, "discount_total": invoice.discount_total,
            "amount_paid": invoice.amount_paid if invoice.kind == "invoice" else ZERO,
            "balance_due": (invoice.total - invoice.amount_paid) if invoice.kind == "invoice" else invoice.total,
            "notes": invoice.notes}


def statement(session: Session, customer_id: int, start: date, end: date) -> dict:
    """A customer's statement of account from `start` to `end` (local dates, inclusive), in the shape of
    app.services.documents: the balance before, every ledger entry with a running balance, the balance
    after. Debits are what the customer owes (charges), credits what was paid or credited."""
    if end < start:
        raise Invalid("the statement ends on or after its start", field="to")
    if (end - start).days > 3660:
        raise Invalid("a statement covers at most ten years", field="to")
    customer = _customer(session, customer_id)
    zone = zone_of(session)
    since = datetime.combine(start, time.min, zone)
    until = datetime.combine(end + timedelta(days=1), time.min, zone)
    opening = Decimal(session.execute(select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
        LedgerEntry.customer_id == customer_id, LedgerEntry.at < since)).scalar_one())
    rows = session.execute(
        select(LedgerEntry, Invoice.number, Payment.receipt_number, Payment.reference)
        .outerjoin(Invoice, Invoice.id == LedgerEntry.invoice_id)
        .outerjoin(Payment, Payment.id == LedgerEntry.payment_id)
        .where(LedgerEntry.customer_id == customer_id, LedgerEntry.at >= since, LedgerEntry.at < until)
        .order_by(LedgerEntry.at, LedgerEntry.id).limit(10_000)).all()
    balance = round_money(opening)
    entries = []
    currency = None
    for entry, number, receipt, reference in rows:
        balance += entry.amount
        currency = currency or entry.currency
        entries.append({"date": local_date(entry.at, zone), "description": entry.description,
                        "reference": number or receipt or reference, "kind": entry.kind,
                        "debit": entry.amount if entry.amount > ZERO else None,
                        "credit": -entry.amount if entry.amount < ZERO else None, "balance": balance})
    if currency is None:
        currency = session.execute(select(LedgerEntry.currency).where(LedgerEntry.customer_id == customer_id)
                                   .order_by(LedgerEntry.id.desc()).limit(1)).scalar_one_or_none() \
            or _currency(session, customer_id, None)
    return {"period_start": start, "period_end": end, "currency": currency, "customer": customer_block(customer),
            "opening_balance": round_money(opening), "entries": entries, "closing_balance": balance}
