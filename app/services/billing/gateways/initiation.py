"""What every payment a customer starts from the portal shares, whichever gateway takes it (`stk_push` for
M-PESA, `checkout` for cards): which invoice may be paid and how much, the double-submission rules, the
status a page polls, and why a payment failed, in words.

- **What may be paid.** The customer's own invoice that is still open (Issued, Partially Paid, Overdue)
  or an issued pro-forma; anything else of theirs is a 409 saying what it is, and another customer's is a
  404 as if it did not exist. Without an amount the whole of what is owed is paid; without an invoice
  the payment tops up the balance, and then the amount is needed. The money goes to the chosen invoice
  first (`allocation.settle`'s `prefer`), what is left to the oldest, as with every payment; a pro-forma's
  money waits as credit for the invoice it becomes.
- **Once.** The customer's row is locked first, so two submissions of the same customer are taken one
  after the other. The idempotency key (the API's `Idempotency-Key`, or the page form's token) is unique
  per customer: the second submission under it gets the first one's payment, and the same key with
  another invoice or amount is a 422. And while a payment for the same customer, invoice and gateway is
  still pending and recent (an M-PESA prompt ten minutes, a card checkout its day), asking again answers
  with that one: a second prompt would only charge the phone twice. A payment that ended (paid, failed)
  no longer counts, so a customer who cancelled on the phone can try again at once.
- **Records.** A `PaymentRequest` keeps the chosen invoice, the key, what was asked of the gateway
  (never the Password or the callback URL, which carries a secret) and the gateway's final word; the money
  is its `payment`, pending until the gateway says.
- The gateway is called inside the request's transaction, holding the customer's lock: if it refuses or
  cannot be reached nothing is kept (a 502 or 503 problem, try again), and if our transaction then fails
  the gateway's own idempotency (the processor's Idempotency-Key) or callback matching (M-PESA's phone
  number) still records the money once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import clock
from app.models import Customer
from app.models.billing import Invoice, Payment, PaymentRequest
from app.services.billing import allocation, idempotency
from app.services.errors import Conflict, Invalid, NotFound, ServiceError
from app.services.money import money

PENDING_WINDOW = {"mpesa": timedelta(minutes=10), "stripe": timedelta(hours=24)}
ZERO = Decimal("0.00")

# Daraja's ResultCodes (STK callback and status query), and ours, as a customer reads them.
MESSAGES = {
    "1032": "You cancelled the payment on your phone.",
    "1037": "Your phone could not be reached, or the prompt timed out before the PIN was entered.",
    "2001": "The M-PESA PIN entered was wrong.",
    "1": "Your M-PESA balance was not enough for this payment.",
    "1019": "The payment expired before it was completed.",
    "1001": "Another M-PESA transaction was in progress on your phone; finish it and try again.",
    "1025": "M-PESA could not send the prompt to your phone; try again.",
    "9999": "M-PESA could not send the prompt to your phone; try again.",
    "17": "M-PESA was busy; try again in a minute.",
    "26": "M-PESA was busy; try again in a minute.",
    "no_answer": "M-PESA did not tell us how the payment ended. If money left your account, it shows here as "
                 "soon as M-PESA confirms it.",
    "duplicate": "This payment was recorded under another entry.",
    "expired": "The card checkout expired before it was paid.",
    "declined": "The card payment did not go through.",
}


class GatewayUnavailable(ServiceError):
    """The gateway could not be reached or did not answer: nothing was started, try again."""

    status = 503
    slug = "gateway-unavailable"
    title = "Payment gateway unavailable"


class GatewayRefused(ServiceError):
    """The gateway answered no (its reason in `detail`): nothing was started."""

    status = 502
    slug = "gateway-refused"
    title = "Payment gateway refused the request"


@dataclass(frozen=True)
class InvoiceState:
    id: int
    number: str | None
    status: str
    total: Decimal
    amount_paid: Decimal
    amount_due: Decimal


@dataclass(frozen=True)
class PaymentStatus:
    """What a customer's page or API client polls for: the payment, its invoice, and why it failed."""

    payment_id: int
    status: str  # pending | succeeded | failed | refunded | partially_refunded | reversed
    provider: str
    method: str
    amount: Decimal
    currency: str
    received_at: datetime
    receipt_number: str | None
    phone: str | None
    checkout_url: str | None  # a card checkout still to be paid
    invoice: InvoiceState | None
    failure_code: str | None
    failure_message: str | None


def lock_customer(session: Session, customer_id: int) -> Customer:
    customer = session.execute(select(Customer).where(Customer.id == customer_id).with_for_update()) \
        .scalar_one_or_none() if 0 < customer_id < 2**63 else None
    if customer is None:
        raise NotFound("no such customer")
    return customer


def request_key(key: str | None) -> str:
    """The caller's key, checked; without one a fresh key (then only the pending rule prevents a repeat)."""
    return idempotency.valid_key(key) if key is not None else f"auto:{secrets.token_urlsafe(18)}"


def payable(invoice: Invoice) -> bool:
    """Whether a customer may pay this document from the portal: an open invoice or an issued pro-forma (the
    rule `payable_invoice` holds a payment to, and what decides whether a page offers to pay it)."""
    if invoice.kind == "proforma":
        return invoice.status == "Issued"
    return invoice.kind == "invoice" and invoice.status in allocation.OPEN


def payable_invoice(session: Session, customer_id: int, invoice_id: int | None) -> Invoice | None:
    if invoice_id is None:
        return None
    invoice = session.execute(select(Invoice).where(Invoice.id == invoice_id).with_for_update()) \
        .scalar_one_or_none() if 0 < invoice_id < 2**63 else None
    if invoice is None or invoice.customer_id != customer_id or invoice.kind == "credit_note":
        raise NotFound("no such invoice")
    if payable(invoice):
        return invoice
    raise Conflict(f"this invoice is {invoice.status}: there is nothing to pay on it", invoice_status=invoice.status)


def amount_due(invoice: Invoice) -> Decimal:
    return invoice.total if invoice.kind == "proforma" else max(invoice.total - invoice.amount_paid, ZERO)


def amount_to_pay(invoice: Invoice | None, amount) -> Decimal:
    """The amount asked for (checked as money), or what the invoice still owes."""
    if amount is None:
        if invoice is None:
            raise Invalid("amount: say how much to top up, or choose an invoice to pay", field="amount")
        due = amount_due(invoice)
        if due <= ZERO:
            raise Conflict("this invoice is paid: there is nothing to pay on it", invoice_status=invoice.status)
        return due
    value = money(amount)
    if value <= ZERO:
        raise Invalid("amount: more than zero", field="amount")
    return value


def existing(session: Session, customer_id: int, key: str, *, provider: str, invoice_id: int | None,
             same: dict) -> PaymentRequest | None:
    """The request already made under this key: the same one again, or a 422 if it asked for something else.
    Looked up before the invoice is checked: the second of two submissions finds the invoice paid by the
    first, and must still get the first one's answer rather than a 409."""
    found = session.execute(select(PaymentRequest).where(PaymentRequest.customer_id == customer_id,
                                                         PaymentRequest.idempotency_key == key)).scalar_one_or_none()
    if found is None:
        return None
    asked = {"provider": found.provider, "invoice_id": found.invoice_id,
             **{k: found.detail.get("asked", {}).get(k) for k in same}}
    if asked != {"provider": provider, "invoice_id": invoice_id, **same}:
        raise idempotency.KeyReused("this key was used for a different payment; use a new key")
    return found


def started_under(session: Session, customer_id: int, key: str) -> PaymentRequest | None:
    """The payment this customer started under `key`: how a page the gateway sends the customer back to
    (a card checkout's return address carries the form's key, since the payment did not exist when the
    address was made) finds the payment it is about. Another customer's key finds nothing."""
    if not key or len(key) > idempotency.MAX_KEY:
        return None
    return session.execute(select(PaymentRequest).where(PaymentRequest.customer_id == customer_id,
                                                        PaymentRequest.idempotency_key == key)).scalar_one_or_none()


def pending_for(session: Session, provider: str, customer_id: int, invoice_id: int | None) -> PaymentRequest | None:
    """A recent payment of the same customer, invoice (or top-up) and gateway still waiting for its gateway."""
    since = clock.now() - PENDING_WINDOW[provider]
    invoice = PaymentRequest.invoice_id.is_(None) if invoice_id is None else PaymentRequest.invoice_id == invoice_id
    return session.execute(
        select(PaymentRequest).join(Payment, Payment.id == PaymentRequest.payment_id)
        .where(PaymentRequest.provider == provider, PaymentRequest.customer_id == customer_id, invoice,
               Payment.status == "pending", PaymentRequest.created_at >= since)
        .order_by(PaymentRequest.id.desc()).limit(1)).scalar_one_or_none()


def new_request(session: Session, *, customer_id: int, provider: str, invoice: Invoice | None, amount: Decimal,
                currency: str, key: str, phone: str | None = None, asked: dict) -> PaymentRequest:
    row = PaymentRequest(customer_id=customer_id, provider=provider, invoice_id=invoice.id if invoice else None,
                         amount=amount, currency=currency, idempotency_key=key, phone=phone,
                         detail={"asked": asked})
    session.add(row)
    session.flush()
    return row


def for_payment(session: Session, payment_id: int, *, lock: bool = False) -> PaymentRequest | None:
    query = select(PaymentRequest).where(PaymentRequest.payment_id == payment_id)
    return session.execute(query.with_for_update() if lock else query).scalar_one_or_none()


def record_result(session: Session, payment_id: int, code, desc) -> None:
    """The gateway's last word on a payment a customer started (nothing for one they did not)."""
    session.execute(update(PaymentRequest).where(PaymentRequest.payment_id == payment_id)
                    .values(result_code=str(code)[:20] if code is not None else None,
                            result_desc=str(desc)[:300] if desc else None))


def message_for(provider: str, code: str | None, desc: str | None) -> str:
    if code in MESSAGES:
        return MESSAGES[code]
    gateway = "M-PESA" if provider == "mpesa" else "The card processor"
    return f"{gateway} did not complete the payment" + (f": {desc}" if desc else ".")


def status(session: Session, customer_id: int, payment_id: int) -> PaymentStatus:
    """A payment of this customer as their page shows it (another customer's is a 404)."""
    payment = session.execute(select(Payment).where(Payment.id == payment_id)
                              .execution_options(populate_existing=True)).scalar_one_or_none() \
        if 0 < payment_id < 2**63 else None
    if payment is None or payment.customer_id != customer_id:
        raise NotFound("no such payment")
    request = for_payment(session, payment.id)
    invoice = session.get(Invoice, request.invoice_id, populate_existing=True) \
        if request is not None and request.invoice_id else None
    failed = payment.status == "failed"
    code = request.result_code if request is not None else None
    if failed and (code is None or code == "0"):
        code = "declined" if payment.provider == "stripe" else None
    message = None
    if failed:
        message = message_for(payment.provider, code, request.result_desc if request is not None else None)
    return PaymentStatus(
        payment_id=payment.id, status=payment.status, provider=payment.provider, method=payment.method,
        amount=payment.amount, currency=payment.currency, received_at=payment.received_at,
        receipt_number=payment.receipt_number, phone=request.phone if request is not None else None,
        checkout_url=request.checkout_url if request is not None and payment.status == "pending" else None,
        invoice=InvoiceState(invoice.id, invoice.number, invoice.status, invoice.total, invoice.amount_paid,
                             amount_due(invoice)) if invoice is not None else None,
        failure_code=code if failed else None, failure_message=message)
