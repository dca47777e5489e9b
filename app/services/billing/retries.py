"""Automatic retries of failed recurring charges: an unpaid invoice is charged to the customer's stored
payment method again on the days after its due date that the reseller's `payments.retry_days` names
(default 1, 3, 7 and 14 — "Automatic retry attempts (Day 1, 3, 7, 14)" in the customer portal's seed).

The schedule is rows, one `ChargeAttempt` per (invoice, attempt number), unique: scheduling again adds
nothing, and the daily run (`run_due`, the `retry_charges_due` actor) may be repeated, or resumed after
a crash, without charging anyone twice. Three things make that true:

1. an attempt is taken with `FOR UPDATE SKIP LOCKED` and only while `scheduled`, so two workers never run
   the same one, and a finished one is never run again;
2. the processor gets an idempotency key made of the tenant, the invoice and the attempt number, so a
   worker that died after the processor charged but before our commit gets the same charge back when the
   attempt is run again, not a second one;
3. the payment is recorded under the processor's reference (unique per provider), so the processor's
   webhook for the same charge finds it already recorded.

A failed attempt leaves the next one scheduled; an outage (the processor unreachable) leaves the attempt
itself scheduled, to be run again by the next run with the same key. When a run finds several attempts of
an invoice due (the job did not run for some days), only the latest is made and the older ones are
`skipped`: a customer is charged at most once per run per invoice. Once the invoice is paid, by whatever
means, its remaining attempts are `skipped`.

Gateways are reached through `ChargeClient`: the card processor's client is
`gateways.stripe.StripeChargeClient`; the tests run it against a small real HTTP server.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Protocol

from sqlalchemy import exists, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app import clock
from app.models import Customer
from app.models.billing import ChargeAttempt, Invoice, PaymentMethod
from app.services.billing import allocation, payment_methods, payments
from app.services.errors import NotFound, ServiceError
from app.services.settings import get_setting
from tenants import require_tenant

DEFAULT_DAYS = (1, 3, 7, 14)
STATUSES = ("scheduled", "pending", "succeeded", "failed", "skipped")


@dataclass(frozen=True)
class ChargeResult:
    status: str  # succeeded | failed | pending (the gateway will tell us later, by webhook)
    reference: str | None = None  # the gateway's id for the charge
    error: str | None = None
    amount: Decimal | None = None  # what was charged, if the gateway says


class ChargeClient(Protocol):
    """A gateway that can charge a stored method. `charge` returns a `ChargeResult` for an answer (a
    decline is an answer) and raises `ConnectionError`/`OSError` when the gateway could not be reached."""

    provider: str
    methods: tuple[str, ...]  # the payment method kinds it charges ("card", "mpesa")

    def charge(self, *, token: str, amount: Decimal, currency: str, idempotency_key: str, description: str,
               metadata: dict) -> ChargeResult: ...


def retry_days(session: Session) -> list[int]:
    """The reseller's retry days (positive, increasing), or the default."""
    value = (get_setting(session, "payments") or {}).get("retry_days")
    try:
        days = sorted({int(d) for d in value if 0 < int(d) <= 365}) if value else []
    except (TypeError, ValueError):
        days = []
    return days or list(DEFAULT_DAYS)


def schedule(session: Session, invoice_id: int, *, payment_method_id: int | None = None) -> list[ChargeAttempt]:
    """The attempts for an unpaid invoice, one per retry day after its due date (existing ones are kept)."""
    invoice = session.get(Invoice, invoice_id)
    if invoice is None or invoice.kind != "invoice":
        raise NotFound("no such invoice")
    if invoice.status not in allocation.OPEN or invoice.due_on is None:
        return []
    for number, day in enumerate(retry_days(session), start=1):
        session.execute(insert(ChargeAttempt).values(invoice_id=invoice.id, attempt=number,
                                                     due_on=invoice.due_on + timedelta(days=day),
                                                     payment_method_id=payment_method_id, status="scheduled")
                        .on_conflict_do_nothing(constraint="uq_charge_attempts_invoice_attempt"))
    return attempts(session, invoice.id)


def attempts(session: Session, invoice_id: int) -> list[ChargeAttempt]:
    return list(session.execute(select(ChargeAttempt).where(ChargeAttempt.invoice_id == invoice_id)
                                .order_by(ChargeAttempt.attempt).execution_options(populate_existing=True)).scalars())


def schedule_unpaid(session: Session, today: date) -> int:
    """Schedule retries for every invoice past its due date, still unpaid, of a customer with a stored
    method, that has none yet. Returns how many invoices got a schedule."""
    has_method = exists().where(PaymentMethod.customer_id == Invoice.customer_id)
    has_attempts = exists().where(ChargeAttempt.invoice_id == Invoice.id)
    ids = session.execute(select(Invoice.id).where(Invoice.kind == "invoice", Invoice.status.in_(allocation.OPEN),
                                                   Invoice.due_on < today, has_method, ~has_attempts)
                          .order_by(Invoice.id)).scalars().all()
    for invoice_id in ids:
        schedule(session, invoice_id)
    return len(ids)


def due(session: Session, today: date) -> list[int]:
    """The attempts to make today: per invoice, its latest scheduled attempt due by today. Older ones
    still scheduled are skipped (they were missed; the customer is not charged twice in one run)."""
    rows = session.execute(select(ChargeAttempt).where(ChargeAttempt.status == "scheduled",
                                                       ChargeAttempt.due_on <= today)
                           .order_by(ChargeAttempt.invoice_id, ChargeAttempt.attempt)).scalars().all()
    latest: dict[int, ChargeAttempt] = {}
    for row in rows:
        older = latest.get(row.invoice_id)
        if older is not None:
            older.status, older.error = "skipped", f"superseded by attempt {row.attempt}"
        latest[row.invoice_id] = row
    session.flush()
    return [row.id for row in latest.values()]


def _skip_rest(session: Session, invoice_id: int, why: str) -> None:
    session.execute(update(ChargeAttempt).where(ChargeAttempt.invoice_id == invoice_id,
                                                ChargeAttempt.status == "scheduled")
                    .values(status="skipped", error=why))


def perform(session: Session, attempt_id: int, today: date, clients: dict[str, ChargeClient]) -> ChargeAttempt | None:
    """Make one attempt (None if another worker holds it or it is no longer scheduled)."""
    attempt = session.execute(select(ChargeAttempt).where(ChargeAttempt.id == attempt_id,
                                                          ChargeAttempt.status == "scheduled")
                              .with_for_update(skip_locked=True)
                              .execution_options(populate_existing=True)).scalar_one_or_none()
    if attempt is None:
        return None
    invoice = session.get(Invoice, attempt.invoice_id, populate_existing=True)
    owed = invoice.total - invoice.amount_paid
    if invoice.status not in allocation.OPEN or owed <= 0:
        attempt.status, attempt.error, attempt.at = "skipped", f"invoice is {invoice.status}", _now()
        _skip_rest(session, invoice.id, f"invoice is {invoice.status}")
        return attempt
    method = session.get(PaymentMethod, attempt.payment_method_id) if attempt.payment_method_id else None
    method = method or payment_methods.default_for(session, invoice.customer_id)
    client = clients.get(method.kind) if method is not None else None
    problem = ("no stored payment method" if method is None
               else "the card has expired" if payment_methods.is_expired(method, today)
               else f"no gateway charges {method.kind} methods" if client is None else None)
    if problem is not None:
        attempt.status, attempt.error, attempt.at = "failed", problem, _now()
        return attempt
    try:
        token = payment_methods.token_of(method)
    except ValueError:  # SECRET_KEY changed without re-encrypting: the customer must store the method again
        attempt.status, attempt.error, attempt.at = "failed", "the stored method cannot be decrypted", _now()
        return attempt
    tenant = require_tenant()
    portal_id = session.execute(select(Customer.portal_id).where(Customer.id == invoice.customer_id)).scalar_one()
    try:
        result = client.charge(token=token, amount=owed, currency=invoice.currency,
                               idempotency_key=f"{tenant.code}:invoice:{invoice.id}:attempt:{attempt.attempt}",
                               description=f"Invoice {invoice.number or invoice.id}",
                               metadata={"portal_id": portal_id, "invoice_id": invoice.id, "attempt": attempt.attempt})
    except (ConnectionError, OSError) as exc:  # not an answer: try this same attempt again next run
        attempt.error = f"gateway unreachable: {exc}"[:500]
        return attempt
    attempt.payment_method_id, attempt.at = method.id, _now()
    if result.status == "failed":
        attempt.status, attempt.error = "failed", (result.error or "declined")[:500]
        return attempt
    if not result.reference:
        attempt.status, attempt.error = "failed", "the gateway gave no reference for the charge"
        return attempt
    try:
        payment = payments.record(session, customer_id=invoice.customer_id, amount=result.amount or owed,
                                  method=method.kind, currency=invoice.currency, provider=client.provider,
                                  provider_ref=result.reference, status="succeeded" if result.status == "succeeded"
                                  else "pending", actor="system retries",
                                  notes=f"automatic charge, attempt {attempt.attempt} of invoice "
                                        f"{invoice.number or invoice.id}", today=today)
    except payments.DuplicatePayment as exc:  # the gateway's webhook recorded it first
        payment = exc.payment
    except ServiceError as exc:
        attempt.status, attempt.error = "failed", f"charged ({result.reference}) but not recorded: {exc.detail}"[:500]
        return attempt
    attempt.payment_id = payment.id
    attempt.status = "succeeded" if payment.status in payments.KEPT else "pending"
    attempt.error = None
    if attempt.status == "succeeded":
        _skip_rest(session, invoice.id, f"paid by attempt {attempt.attempt}")
    session.flush()
    return attempt


def run_due(session: Session, today: date, clients: dict[str, ChargeClient]) -> dict[str, int]:
    """Schedule what is newly unpaid, then make every attempt due, each in a savepoint of `session`. The
    actor does the same with a transaction per attempt (a crash then loses at most the attempt in flight,
    which the processor's idempotency key makes safe to repeat). Returns how many invoices got a schedule
    and how many attempts ended in each status ("scheduled": the gateway was unreachable)."""
    counts = {"invoices_scheduled": schedule_unpaid(session, today)}
    for attempt_id in due(session, today):
        with session.begin_nested():
            attempt = perform(session, attempt_id, today, clients)
        status = attempt.status if attempt is not None else "busy"
        counts[status] = counts.get(status, 0) + 1
    return counts


def clients_for(session: Session, *, stripe_api_base: str) -> dict[str, ChargeClient]:
    """The tenant's charge clients, by method kind, from its gateway settings."""
    from app.services.billing.gateways import config
    from app.services.billing.gateways.stripe import StripeChargeClient

    found: dict[str, ChargeClient] = {}
    key = config.stripe_api_key(session)
    if key:
        found["card"] = StripeChargeClient(key, stripe_api_base)
    return found


def _now() -> datetime:
    return clock.now()
