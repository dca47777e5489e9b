"""Gateway events: applied exactly once, in order of meaning rather than of arrival, and kept.

`claim` inserts the event's row before anything else happens; a duplicate (the same provider and event
id, delivered again or fifty times at once) gets None and is acknowledged with no effect. The payload
is stored as the gateway sent it: the raw JSON text is cast to `jsonb` by PostgreSQL, whose numbers are
exact decimals, so money in it never passes through a Python float (`payload_of` reads it back the same
way, for staff resolving an unmatched event).

`apply` runs the provider's handler in a SAVEPOINT: a business refusal (a currency the customer is not
billed in, an amount that is not money) rolls back the handler's writes but keeps the event, with the
refusal as its outcome, and the gateway still gets its 200 — answering an error would only make it
deliver the same refused event again, for days. Outcomes are short words staff can filter on:
`applied`, `failed`, `refunded`, `duplicate`, `unmatched` (money for an account we cannot find: staff
resolve it), `resolved`, `ignored: …`, `rejected: …`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Text, cast, literal, select, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import Customer
from app.models.billing import GatewayEvent
from app.services.billing import payments
from app.services.billing.payment_methods import normalise_msisdn
from app.services.errors import Conflict, Invalid, NotFound, ServiceError

OUTCOME_MAX = 40


class SignatureInvalid(ServiceError):
    status = 400
    slug = "webhook-signature-invalid"
    title = "Webhook signature invalid"


class TokenInvalid(ServiceError):
    status = 401
    slug = "webhook-token-invalid"
    title = "Webhook token invalid"


class NotConfigured(ServiceError):
    status = 404
    slug = "gateway-not-configured"
    title = "Gateway not configured"


@dataclass(frozen=True)
class Outcome:
    provider: str
    event_id: str
    outcome: str
    payment_id: int | None = None
    duplicate: bool = False  # the event was seen before: nothing was done


@dataclass(frozen=True)
class Received:
    """Money a gateway says it received, in our terms."""

    amount: Decimal
    currency: str
    method: str
    provider_ref: str
    received_at: datetime | None
    reference: str | None = None
    account: str | None = None  # what identifies the customer (Portal ID, account number, phone)


def parse(raw: bytes | str) -> dict:
    """The body as JSON with exact decimals (never floats). UTF-8 only, and no NUL in strings: the body is
    stored as PostgreSQL `jsonb`, which holds neither other encodings nor NUL."""
    try:
        text_body = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        doc = json.loads(text_body, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError):
        raise Invalid("the body is not JSON (UTF-8)") from None
    if "\\u0000" in text_body:
        raise Invalid("the body contains a NUL character")
    if not isinstance(doc, dict):
        raise Invalid("the body is not a JSON object")
    return doc


def claim(session: Session, *, provider: str, event_id: str, kind: str, object_ref: str | None,
          raw: bytes | str) -> int | None:
    """Insert the event's row; None if it is already there (then do nothing more with it)."""
    text_body = raw.decode() if isinstance(raw, bytes) else raw
    return session.execute(
        insert(GatewayEvent).values(provider=provider, event_id=event_id[:200], kind=kind[:80],
                                    object_ref=(object_ref or None) and object_ref[:200], outcome="received",
                                    payload=cast(literal(text_body, Text), JSONB))
        .on_conflict_do_nothing(constraint="uq_gateway_events_provider_event")
        .returning(GatewayEvent.id)
    ).scalar_one_or_none()


def apply(session: Session, provider: str, event_id: str, row_id: int,
          handler: Callable[[], tuple[str, int | None]]) -> Outcome:
    """Run `handler` (→ outcome, payment id) in a savepoint and write its outcome on the event."""
    try:
        with session.begin_nested():
            outcome, payment_id = handler()
    except payments.DuplicatePayment as exc:
        outcome, payment_id = "duplicate", exc.payment.id
    except IntegrityError:  # the same money recorded by a concurrent path (another event for the same receipt)
        outcome, payment_id = "duplicate", None
    except ServiceError as exc:
        outcome, payment_id = f"rejected: {exc.detail}", None
    outcome = outcome[:OUTCOME_MAX]
    session.execute(update(GatewayEvent).where(GatewayEvent.id == row_id)
                    .values(outcome=outcome, payment_id=payment_id))
    return Outcome(provider, event_id, outcome, payment_id)


def customer_for_account(session: Session, account: str | None) -> int | None:
    """The customer an account reference names: their Portal ID, or their M-PESA number when exactly one
    customer has it (the seed's Paybill instructions have customers use their phone number)."""
    account = (account or "").strip()
    if not account or len(account) > 40:
        return None
    found = session.execute(select(Customer.id).where(Customer.portal_id == account.upper())).scalar_one_or_none()
    if found is not None:
        return found
    try:
        msisdn = normalise_msisdn(account)
    except Invalid:
        return None
    ids = session.execute(select(Customer.id).where(Customer.mpesa_number == msisdn).limit(2)).scalars().all()
    return ids[0] if len(ids) == 1 else None


def receive(session: Session, customer_id: int, money: Received, provider: str, actor: str) -> tuple[str, int]:
    """Record money a gateway received for a known customer (a second report of it is `DuplicatePayment`)."""
    payment = payments.record(session, customer_id=customer_id, amount=money.amount, method=money.method,
                              currency=money.currency, provider=provider, provider_ref=money.provider_ref,
                              reference=money.reference, received_at=money.received_at, actor=actor)
    return "applied", payment.id


def payload_of(session: Session, row_id: int) -> dict:
    """An event's payload as stored, with exact decimals."""
    raw = session.execute(select(cast(GatewayEvent.payload, Text)).where(GatewayEvent.id == row_id)).scalar_one()
    return parse(raw)


def unmatched(session: Session, *, limit: int = 100) -> list[GatewayEvent]:
    return list(session.execute(select(GatewayEvent).where(GatewayEvent.outcome == "unmatched")
                                .order_by(GatewayEvent.id).limit(limit)).scalars())


def resolve(session: Session, row_id: int, customer_id: int, *, actor: str) -> GatewayEvent:
    """Staff name the customer an unmatched event's money was for; it is recorded as their payment
    (outcome `resolved`), unless that money was recorded meanwhile under the same reference (`duplicate`)."""
    from app.services.billing.gateways import mpesa, stripe

    event = session.execute(select(GatewayEvent).where(GatewayEvent.id == row_id).with_for_update()) \
        .scalar_one_or_none() if 0 < row_id < 2**31 else None
    if event is None:
        raise NotFound("no such gateway event")
    if event.outcome != "unmatched":
        raise Conflict(f"this event is {event.outcome!r}, not unmatched")
    if session.get(Customer, customer_id) is None:
        raise NotFound("no such customer")
    extract = {"mpesa": mpesa.received_from, "stripe": stripe.received_from}[event.provider]
    money = extract(event.kind, payload_of(session, event.id))
    if money is None:
        raise Conflict("this event carries no money to record")
    try:
        payment = payments.record(session, customer_id=customer_id, amount=money.amount, method=money.method,
                                  currency=money.currency, provider=event.provider, provider_ref=money.provider_ref,
                                  reference=money.reference, received_at=money.received_at,
                                  notes=f"matched by {actor} from gateway event {event.event_id}", actor=actor)
    except payments.DuplicatePayment as exc:  # the money came in meanwhile under its own reference
        event.outcome, event.payment_id = "duplicate", exc.payment.id
        session.flush()
        return event
    event.outcome, event.payment_id = "resolved", payment.id
    session.flush()
    return event
