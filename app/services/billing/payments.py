"""Payments: money received from a customer (cash, bank transfer, M-PESA, card, wallet), its refunds, and
the reversal of one recorded by mistake.

A succeeded payment does four things in the caller's transaction, so that either all of them happen or
none does:

1. it posts to the ledger (`payment`, minus the amount, pointing at the payment);
2. it takes the next receipt number from the gap-free counter invoices use (`numbering`, series `receipt`,
   per year when the format shows the year), updated in the same transaction: a payment rolled back gives
   its number back;
3. it settles the customer's open invoices, oldest first (`allocation.settle`) — except that a payment the
   customer started from the portal for an invoice pays that one first: a partial payment leaves
   the invoice Partially Paid, an overpayment stays on the payment as credit that the next invoice takes;
4. it tells dunning, which restores a Limited or Suspended service once the overdue balance is cleared.

Every money operation first locks the customer's row: two payments (or a payment and a refund) for the
same customer then settle one after the other and never read each other's half-made allocations.

A payment from a gateway carries the provider's reference (M-PESA receipt, card processor's intent id),
unique per provider: inserting it is `ON CONFLICT DO NOTHING`, so the same money reported twice — by two
webhook deliveries, or by a webhook and the retry job that started the charge — is recorded once, and
the second caller gets `DuplicatePayment` with the first payment.

Pending payments (an STK push sent, not yet answered) post nothing and have no receipt; `confirm`
makes one succeed later, `fail` marks it failed. A failed payment may still succeed afterwards (the
customer retries the same card intent); a succeeded one never goes back to failed — that is a
reversal, which is explicit and leaves its trace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app import clock
from app.models import ActivityEvent, Customer
from app.models.billing import (
    PAYMENT_METHODS,
    Invoice,
    LedgerEntry,
    Payment,
    PaymentAllocation,
    PaymentRequest,
    Refund,
)
from app.models.provisioning import Service
from app.services.billing import allocation, ledger, numbering
from app.services.commissions import jobs as commission_jobs
from app.services.errors import Conflict, Invalid, NotFound
from app.services.money import money
from app.services.settings import get_setting, zone

ZERO = Decimal("0.00")
KEPT = ("succeeded", "partially_refunded", "refunded")  # statuses whose money was received
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class DuplicatePayment(Conflict):
    """The provider's reference is already recorded; `payment` is the one that was."""

    slug = "duplicate-payment"
    title = "Payment already recorded"

    def __init__(self, payment: Payment):
        super().__init__(f"{payment.provider} payment {payment.provider_ref} is already recorded as #{payment.id}",
                         payment_id=payment.id)
        self.payment = payment


@dataclass(frozen=True)
class Balance:
    customer_id: int
    currency: str
    balance: Decimal  # what the ledger says they owe (negative: in credit)
    credit: Decimal   # unallocated payments and credit notes
    open_invoices: list[Invoice]


# -- helpers ------------------------------------------------------------------------------------------
def _lock_customer(session: Session, customer_id: int) -> Customer:
    query = select(Customer).where(Customer.id == customer_id).with_for_update()
    customer = session.execute(query).scalar_one_or_none()
    if customer is None:
        raise NotFound("no such customer")
    return customer


def billing_currency(session: Session, customer_id: int) -> str:
    """The currency a customer is billed in: their latest invoice's, else their services' (what their
    next invoice will be in, as the invoice service chooses it), else the reseller's."""
    found = session.execute(select(Invoice.currency).where(Invoice.customer_id == customer_id)
                            .order_by(Invoice.id.desc()).limit(1)).scalar_one_or_none()
    found = found or session.execute(select(Service.currency).where(Service.customer_id == customer_id,
                                                                    Service.status != "Terminated")
                                     .order_by(Service.id).limit(1)).scalar_one_or_none()
    return (found or str(get_setting(session, "currency") or "USD")).upper()


def next_receipt_number(session: Session, received_at: datetime) -> str:
    """The next receipt number, in the reseller's `receipt_format`, for the tenant-local date the money
    came in: the shared gap-free counter of the invoice numbers (`numbering`), series `receipt`, taken in
    this transaction, so a rolled-back payment gives its number back."""
    return numbering.next_number(session, "receipt", received_at.astimezone(zone(session)).date())


def _note(session: Session, customer_id: int, action: str, actor: str, **detail) -> None:
    """The customer's history (activity log) shows every money movement and who made it."""
    kind = actor.split(" ", 1)[0] if actor.split(" ", 1)[0] in ("user", "staff", "client", "customer") else "system"
    session.add(ActivityEvent(actor=actor, actor_kind=kind, customer_id=customer_id, action=action,
                              detail={k: str(v) if isinstance(v, Decimal) else v for k, v in detail.items()}))


def _restore_hook(session: Session, customer_id: int, actor: str, today: date | None) -> None:
    """Tell dunning the customer paid: it restores Limited/Suspended services at once when nothing overdue
    is left. Imported here, not at the top: dunning imports billing modules itself, and was written
    alongside this one — a build without it (ImportError) simply has nothing to restore."""
    try:
        from app.services.billing import dunning
    except ImportError:
        return
    dunning.restore_if_cleared(session, customer_id, actor=actor, today=today)


def _purchase_hook(session: Session, payment: Payment) -> None:
    """A payment the customer started to buy something with (a top-up bundle paid by M-PESA) makes the
    purchase as its money arrives, before the money is allocated, so that the money pays what was bought and
    not the oldest invoice. Imported here, not at the top: the self-care services import billing."""
    from app.services.selfcare import mpesa_bundles

    mpesa_bundles.bundle_paid(session, payment)


def get(session: Session, payment_id: int, *, for_update: bool = False) -> Payment:
    query = select(Payment).where(Payment.id == payment_id)
    if for_update:
        query = query.with_for_update()
    payment = session.execute(query).scalar_one_or_none() if 0 < payment_id < 2**63 else None
    if payment is None:
        raise NotFound("no such payment")
    return payment


def find_by_ref(session: Session, provider: str, provider_ref: str, *, for_update: bool = False) -> Payment | None:
    query = select(Payment).where(Payment.provider == provider, Payment.provider_ref == provider_ref)
    if for_update:
        query = query.with_for_update()
    return session.execute(query).scalar_one_or_none()


# -- recording ----------------------------------------------------------------------------------------
def record(session: Session, *, customer_id: int, amount, method: str, currency: str | None = None,
           provider: str = "manual", provider_ref: str | None = None, reference: str | None = None,
           received_at: datetime | None = None, notes: str | None = None, status: str = "succeeded",
           actor: str = "system", today: date | None = None) -> Payment:
    """Record money received (or, with status `pending`, expected) and, when succeeded, post it, number
    its receipt, allocate it oldest invoice first and let dunning restore the customer's services.

    Raises `DuplicatePayment` when the provider's reference is already recorded."""
    amount = money(amount)
    if amount <= ZERO:
        raise Invalid("amount: a payment is more than zero", field="amount")
    if method not in PAYMENT_METHODS:
        raise Invalid(f"method: one of {', '.join(PAYMENT_METHODS)}", field="method")
    if status not in ("succeeded", "pending", "failed"):
        raise Invalid("status: a new payment is succeeded, pending or failed", field="status")
    if provider != "manual" and not provider_ref:
        raise Invalid("a gateway payment carries the provider's reference", field="provider_ref")
    _lock_customer(session, customer_id)
    expected = billing_currency(session, customer_id)
    currency = (currency or expected).strip().upper()
    if not _CURRENCY.match(currency):
        raise Invalid("currency: a three-letter ISO code", field="currency")
    if currency != expected:
        raise Invalid(f"currency: this customer is billed in {expected}, not {currency}", field="currency")
    received_at = received_at or clock.now()
    if received_at.tzinfo is None:
        raise Invalid("received_at: give a time zone", field="received_at")
    values = dict(customer_id=customer_id, method=method, amount=amount, currency=currency, status=status,
                  provider=provider, provider_ref=provider_ref, reference=reference, received_at=received_at,
                  notes=notes, created_by=actor)
    statement = insert(Payment).values(**values).returning(Payment.id)
    if provider_ref is not None:
        # a concurrent insert of the same reference waits for the other transaction, then does nothing
        statement = statement.on_conflict_do_nothing(constraint="uq_payments_provider_ref")
    payment_id = session.execute(statement).scalar_one_or_none()
    if payment_id is None:
        raise DuplicatePayment(find_by_ref(session, provider, provider_ref))
    payment = session.get(Payment, payment_id)
    if status == "succeeded":
        _post_received(session, payment, actor=actor, today=today)
    else:
        _note(session, customer_id, f"payment.{status}", actor, payment_id=payment.id, amount=amount,
              method=method, provider_ref=provider_ref)
    return payment


def _post_received(session: Session, payment: Payment, *, actor: str, today: date | None) -> None:
    payment.receipt_number = payment.receipt_number or next_receipt_number(session, payment.received_at)
    session.flush()
    ledger.post(session, customer_id=payment.customer_id, kind="payment", amount=-payment.amount,
                currency=payment.currency, payment_id=payment.id, actor=actor,
                description=f"Payment {payment.receipt_number} ({payment.method.replace('_', ' ')})")
    allocation.settle(session, payment.customer_id, today=today, prefer=_chosen_invoice(session, payment))
    _note(session, payment.customer_id, "payment.received", actor, payment_id=payment.id, amount=payment.amount,
          method=payment.method, receipt=payment.receipt_number, provider_ref=payment.provider_ref)
    _restore_hook(session, payment.customer_id, actor, today)
    commission_jobs.queue_after_commit(session, "commission_payment", payment.id)


def _chosen_invoice(session: Session, payment: Payment) -> tuple[int, int] | None:
    """The invoice the customer started this payment for from the portal (gateways/initiation.py), if any."""
    invoice_id = session.execute(select(PaymentRequest.invoice_id)
                                 .where(PaymentRequest.payment_id == payment.id)).scalar_one_or_none()
    return (payment.id, invoice_id) if invoice_id is not None else None


def confirm(session: Session, payment_id: int, *, amount=None, provider_ref: str | None = None,
            received_at: datetime | None = None, actor: str = "system", today: date | None = None) -> Payment:
    """A pending (or failed) payment succeeded after all: post it like a new one. The gateway's final
    amount and reference win over what was expected when the payment was started."""
    payment = get(session, payment_id)
    _lock_customer(session, payment.customer_id)
    session.refresh(payment, with_for_update=True)
    if payment.status in KEPT:
        raise Conflict(f"payment #{payment.id} already succeeded")
    if was_reversed(session, payment.id):  # staff undid it on purpose; a late gateway report does not redo it
        raise Conflict(f"payment #{payment.id} was reversed")
    if amount is not None:
        amount = money(amount)
        if amount <= ZERO:
            raise Invalid("amount: a payment is more than zero", field="amount")
        payment.amount = amount
    if provider_ref is not None and provider_ref != payment.provider_ref:
        other = find_by_ref(session, payment.provider, provider_ref)
        if other is not None:
            raise DuplicatePayment(other)
        payment.provider_ref = provider_ref
    if received_at is not None:
        payment.received_at = received_at
    _purchase_hook(session, payment)
    payment.status = "succeeded"
    _post_received(session, payment, actor=actor, today=today)
    return payment


def was_reversed(session: Session, payment_id: int) -> bool:
    return session.execute(select(LedgerEntry.id).where(LedgerEntry.payment_id == payment_id,
                                                        LedgerEntry.kind == "reversal").limit(1)).first() is not None


def fail(session: Session, payment_id: int, *, reason: str, actor: str = "system") -> Payment:
    """A pending payment did not go through (declined, cancelled on the phone). A payment that already
    succeeded is left alone: a late failure notice never undoes money received."""
    payment = get(session, payment_id, for_update=True)
    if payment.status in KEPT:
        raise Conflict(f"payment #{payment.id} already succeeded")
    if payment.status not in ("failed", "reversed"):  # a reversal stays what staff made it
        payment.status = "failed"
        payment.notes = _append(payment.notes, f"failed: {reason}")
        _note(session, payment.customer_id, "payment.failed", actor, payment_id=payment.id, reason=reason)
    return payment


def _append(notes: str | None, line: str) -> str:
    return f"{notes}\n{line}" if notes else line


# -- refunds and reversals ----------------------------------------------------------------------------
def refund(session: Session, payment_id: int, *, amount=None, reason: str, actor: str = "system",
           provider_ref: str | None = None, today: date | None = None) -> Refund:
    """Give back part or all of a payment. What the payment still holds as credit is refunded first; only
    the rest is taken back from the invoices it paid (newest allocation first), which reopen. Posts a
    `refund` entry (+amount: the customer's credit shrinks or their debt grows again)."""
    payment = get(session, payment_id)
    _lock_customer(session, payment.customer_id)
    session.refresh(payment, with_for_update=True)
    if payment.status not in ("succeeded", "partially_refunded"):
        raise Conflict(f"payment #{payment.id} is {payment.status}; only received money is refunded")
    refundable = payment.amount - payment.refunded_amount
    amount = refundable if amount is None else money(amount)
    if amount <= ZERO:
        raise Invalid("amount: a refund is more than zero", field="amount")
    if amount > refundable:
        raise Invalid(f"amount: at most {refundable} of this payment is left to refund", field="amount")
    if not (reason or "").strip():
        raise Invalid("reason: say why the money goes back", field="reason")
    free = allocation.unallocated_payment(session, payment)
    if amount > free:
        allocation.undo_payment(session, payment, amount - free, today=today)
    row = Refund(payment_id=payment.id, amount=amount, reason=reason.strip(), provider_ref=provider_ref, actor=actor)
    session.add(row)
    payment.refunded_amount = payment.refunded_amount + amount
    payment.status = "refunded" if payment.refunded_amount == payment.amount else "partially_refunded"
    session.flush()
    ledger.post(session, customer_id=payment.customer_id, kind="refund", amount=amount, currency=payment.currency,
                payment_id=payment.id, actor=actor,
                description=f"Refund of {payment.receipt_number or f'payment #{payment.id}'}: {reason.strip()}")
    # an invoice reopened by this refund may be paid by other credit the customer holds
    allocation.settle(session, payment.customer_id, today=today)
    _note(session, payment.customer_id, "payment.refunded", actor, payment_id=payment.id, refund_id=row.id,
          amount=amount, reason=reason.strip())
    commission_jobs.queue_after_commit(session, "reverse_commissions", payment.id)
    return row


def reverse(session: Session, payment_id: int, *, reason: str, actor: str = "system",
            today: date | None = None) -> Payment:
    """Undo a payment recorded by mistake (wrong customer, typed twice, a bounced cheque): its ledger entry
    is reversed, what it paid is taken back from the invoices, and it ends `reversed` with the reason in its
    notes. Its receipt number stays used (numbers are never reissued). A payment that was refunded in part
    is refunded, not reversed: the money did move."""
    payment = get(session, payment_id)
    _lock_customer(session, payment.customer_id)
    session.refresh(payment, with_for_update=True)
    if payment.status != "succeeded":
        raise Conflict(f"payment #{payment.id} is {payment.status}; only a succeeded payment with no refunds "
                       "is reversed")
    if not (reason or "").strip():
        raise Invalid("reason: say why the payment is reversed", field="reason")
    entries = session.execute(select(LedgerEntry).where(LedgerEntry.payment_id == payment.id,
                                                        LedgerEntry.kind == "payment")).scalars().all()
    reversed_ids = set(session.execute(select(LedgerEntry.reverses_id).where(
        LedgerEntry.reverses_id.in_([e.id for e in entries]))).scalars()) if entries else set()
    allocation.undo_payment(session, payment, payment.amount, today=today)
    for entry in entries:
        if entry.id not in reversed_ids:
            ledger.reverse(session, entry.id, reason=reason.strip(), actor=actor)
    payment.status = "reversed"
    payment.notes = _append(payment.notes, f"reversed by {actor}: {reason.strip()}")
    session.flush()
    allocation.settle(session, payment.customer_id, today=today)
    _note(session, payment.customer_id, "payment.reversed", actor, payment_id=payment.id, amount=payment.amount,
          reason=reason.strip())
    commission_jobs.queue_after_commit(session, "reverse_commissions", payment.id)
    return payment


# -- reading ------------------------------------------------------------------------------------------
def allocations(session: Session, payment_id: int) -> list[PaymentAllocation]:
    return list(session.execute(select(PaymentAllocation).where(PaymentAllocation.payment_id == payment_id)
                                .order_by(PaymentAllocation.id)).scalars())


def refunds(session: Session, payment_id: int) -> list[Refund]:
    return list(session.execute(select(Refund).where(Refund.payment_id == payment_id).order_by(Refund.id)).scalars())


def allocations_of(session: Session, payment_ids: list[int]) -> dict[int, list[PaymentAllocation]]:
    found: dict[int, list[PaymentAllocation]] = {}
    if payment_ids:
        for row in session.execute(select(PaymentAllocation).where(PaymentAllocation.payment_id.in_(payment_ids))
                                   .order_by(PaymentAllocation.id)).scalars():
            found.setdefault(row.payment_id, []).append(row)
    return found


def refunds_of(session: Session, payment_ids: list[int]) -> dict[int, list[Refund]]:
    found: dict[int, list[Refund]] = {}
    if payment_ids:
        for row in session.execute(select(Refund).where(Refund.payment_id.in_(payment_ids))
                                   .order_by(Refund.id)).scalars():
            found.setdefault(row.payment_id, []).append(row)
    return found


def list_payments(session: Session, *, customer_id: int | None = None, status: str | None = None,
                  method: str | None = None, visible: frozenset[int] | None = None, page: int = 1,
                  per_page: int = 50) -> tuple[list[Payment], int]:
    """A page of payments, newest first, and how many match."""
    query = select(Payment)
    if customer_id is not None:
        query = query.where(Payment.customer_id == customer_id)
    if status is not None:
        query = query.where(Payment.status == status)
    if method is not None:
        query = query.where(Payment.method == method)
    if visible is not None:
        query = query.where(Payment.customer_id.in_(visible))
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(query.order_by(Payment.received_at.desc(), Payment.id.desc())
                           .limit(per_page).offset((page - 1) * per_page)).scalars()
    return list(rows), total


def balance(session: Session, customer_id: int) -> Balance:
    """What a customer owes, the credit they hold, and their open invoices (oldest first)."""
    if session.get(Customer, customer_id) is None:
        raise NotFound("no such customer")
    return Balance(customer_id=customer_id, currency=billing_currency(session, customer_id),
                   balance=ledger.balance(session, customer_id), credit=allocation.credit(session, customer_id),
                   open_invoices=allocation.open_invoices(session, customer_id, lock=False))

