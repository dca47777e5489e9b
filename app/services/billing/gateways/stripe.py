"""A card processor in Stripe's style: its signed webhooks, and charging a stored card.

Webhooks. The processor POSTs an event `{"id": "evt_…", "type": …, "created": …, "data": {"object": …}}`
with a header `Stripe-Signature: t=<unix time>,v1=<hex>[,v1=<hex>…]`, where each v1 is
HMAC-SHA256(endpoint secret, f"{t}.{raw body}"). We accept the event when one v1 matches (compared in
constant time; several appear while the processor rolls a secret) and t is within five minutes of our
clock — an old, captured delivery replayed later is refused even with a good signature. The check comes
before anything is parsed or written: a refused event leaves no trace.

Events applied (anything else is kept as `ignored: unsupported`):

- `payment_intent.succeeded`: money received for the intent's `metadata.portal_id`. The payment's reference
  is the intent id (`pi_…`), so the retry job that created the intent and the webhook that reports it
  record one payment between them.
- `payment_intent.payment_failed`: a pending or failed payment for the intent stays (or becomes) failed.
  Arriving after `succeeded` (the processor does not promise order) it changes nothing: `ignored: already
  succeeded`.
- `checkout.session.completed`, `…async_payment_succeeded|failed`, `checkout.session.expired`: the
  hosted checkouts customers open from the portal (`checkout`); an intent made by one of them (its
  metadata names our payment request) settles that checkout's pending payment, and its decline is ignored
  while the customer may still try another card on the same page.
- `charge.refunded`: `amount_refunded` is the charge's cumulative refund; what exceeds our record of the
  payment's refunds is recorded as a refund. A refund we recorded ourselves first therefore is not recorded
  twice, and two deliveries of successive refunds add up correctly whatever their order.

Amounts are integers in the currency's minor unit (cents), as the processor sends them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.billing import Refund
from app.services.auth import crypto
from app.services.billing import payments
from app.services.billing.gateways import checkout, config, events
from app.services.billing.gateways.events import Outcome, Received
from app.services.errors import Invalid

PROVIDER = "stripe"
TOLERANCE = 300  # seconds
ACTOR = "gateway stripe"
HUNDRED = Decimal(100)


class StaleSignature(events.SignatureInvalid):
    slug = "webhook-timestamp-stale"
    title = "Webhook timestamp outside tolerance"


def sign(secret: str, raw: bytes, timestamp: int) -> str:
    """The header a processor would send (for tests and for tools that replay events)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(raw: bytes, header: str | None, secret: str, *, now: float | None = None,
           tolerance: int = TOLERANCE) -> None:
    """Raise unless `header` signs `raw` with `secret` within `tolerance` seconds of `now`."""
    timestamp, signatures = None, []
    for part in (header or "").split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and crypto.is_number(value):
            timestamp = int(value)
        elif name == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise events.SignatureInvalid("Stripe-Signature header missing or malformed (t=…,v1=…)")
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw, hashlib.sha256).hexdigest()
    if not any(crypto.same(s, expected) for s in signatures):
        raise events.SignatureInvalid("the signature does not match the body")
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        raise StaleSignature(f"the signature's timestamp is more than {tolerance} seconds away from now")


def _minor(value) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid("amounts are integers in the currency's minor unit")
    return (Decimal(value) / HUNDRED).quantize(Decimal("0.01"))


def _metadata(obj: dict) -> dict:
    value = obj.get("metadata")
    return value if isinstance(value, dict) else {}


def received_from(kind: str, doc: dict) -> Received | None:
    """The money an event reports (for staff resolving an unmatched one), or None."""
    obj = ((doc.get("data") or {}).get("object")) or {}
    if kind != "payment_intent.succeeded" or not obj.get("id"):
        return None
    created = obj.get("created")
    return Received(amount=_minor(obj.get("amount_received") or obj.get("amount")),
                    currency=str(obj.get("currency") or "").upper(), method="card", provider_ref=str(obj["id"]),
                    received_at=datetime.fromtimestamp(created, UTC) if isinstance(created, int) else None,
                    reference=str(obj.get("latest_charge") or "")[:120] or None,
                    account=str(_metadata(obj).get("portal_id") or "") or None)


def handle(session: Session, raw: bytes, signature: str | None, *, now: float | None = None) -> Outcome:
    secret = config.stripe_webhook_secret(session)
    if secret is None:
        raise events.NotConfigured("this reseller has no card processor webhook secret")
    verify(raw, signature, secret, now=now)
    doc = events.parse(raw)
    event_id, kind = str(doc.get("id") or ""), str(doc.get("type") or "")
    obj = (doc.get("data") or {}).get("object")
    if not event_id or not kind or not isinstance(obj, dict):
        raise Invalid("not an event: id, type and data.object are required")
    ref = obj.get("payment_intent") if kind.startswith("charge.") else obj.get("id")
    row = events.claim(session, provider=PROVIDER, event_id=event_id, kind=kind, object_ref=str(ref or "") or None,
                       raw=raw)
    if row is None:
        return Outcome(PROVIDER, event_id, "duplicate", duplicate=True)
    handler = {"payment_intent.succeeded": _succeeded, "payment_intent.payment_failed": _failed,
               "charge.refunded": _refunded, **checkout.HANDLERS}.get(kind)
    if handler is None:
        return events.apply(session, PROVIDER, event_id, row, lambda: ("ignored: unsupported", None))
    return events.apply(session, PROVIDER, event_id, row, lambda: handler(session, doc, obj))


def _succeeded(session: Session, doc: dict, obj: dict) -> tuple[str, int | None]:
    money = received_from("payment_intent.succeeded", doc)
    existing = payments.find_by_ref(session, PROVIDER, money.provider_ref, for_update=True)
    if existing is not None:
        if existing.status in payments.KEPT:
            return "duplicate", existing.id
        payments.confirm(session, existing.id, amount=money.amount, received_at=money.received_at, actor=ACTOR)
        return "applied", existing.id
    started = checkout.payment_for_intent(session, obj)  # the intent of a checkout the customer opened
    if started is not None:
        if started.status in payments.KEPT:  # its checkout.session.completed came first
            return "duplicate", started.id
        payments.confirm(session, started.id, amount=money.amount, provider_ref=money.provider_ref,
                         received_at=money.received_at, actor=ACTOR)
        return "applied", started.id
    customer_id = events.customer_for_account(session, money.account)
    if customer_id is None:
        return "unmatched", None
    return events.receive(session, customer_id, money, PROVIDER, ACTOR)


def _failed(session: Session, doc: dict, obj: dict) -> tuple[str, int | None]:
    intent = str(obj.get("id"))
    error = obj.get("last_payment_error") if isinstance(obj.get("last_payment_error"), dict) else {}
    reason = str(error.get("message") or error.get("code") or "declined")[:200]
    existing = payments.find_by_ref(session, PROVIDER, intent, for_update=True)
    if existing is not None:
        if existing.status in payments.KEPT:
            return "ignored: already succeeded", existing.id
        payments.fail(session, existing.id, reason=reason, actor=ACTOR)
        return "failed", existing.id
    started = checkout.payment_for_intent(session, obj)
    if started is not None:  # declined on the checkout page, where the customer may try another card
        return "ignored: checkout still open", started.id
    customer_id = events.customer_for_account(session, _metadata(obj).get("portal_id"))
    if customer_id is None:
        return "ignored: unknown account", None
    # kept as a failed payment: the customer's history shows the declined attempt
    payment = payments.record(session, customer_id=customer_id, amount=_minor(obj.get("amount")), method="card",
                              currency=str(obj.get("currency") or "").upper() or None, provider=PROVIDER,
                              provider_ref=intent, status="failed", notes=f"failed: {reason}", actor=ACTOR)
    return "failed", payment.id


def _refunded(session: Session, doc: dict, obj: dict) -> tuple[str, int | None]:
    intent = str(obj.get("payment_intent") or "")
    payment = payments.find_by_ref(session, PROVIDER, intent) if intent else None
    if payment is None:
        return "ignored: unknown payment", None
    total = _minor(obj.get("amount_refunded"))
    session.refresh(payment)
    missing = total - payment.refunded_amount
    if missing <= 0:
        return "ignored: already recorded", payment.id
    refunds = ((obj.get("refunds") or {}).get("data")) or []
    latest = refunds[0].get("id") if refunds and isinstance(refunds[0], dict) else None
    if latest and session.execute(select(Refund.id).where(Refund.provider_ref == latest)).first():
        latest = None
    payments.refund(session, payment.id, amount=missing, reason="refunded at the card processor", actor=ACTOR,
                    provider_ref=latest)
    return "refunded", payment.id


# -- charging a stored card (the retry job) -----------------------------------------------------------
class StripeChargeClient:
    """Charges a stored card by creating a confirmed, off-session PaymentIntent (`POST /v1/payment_intents`).

    The idempotency key goes to the processor as its `Idempotency-Key` header: a retry job that crashed
    after the processor charged, and runs again, gets the same intent back instead of a second charge.
    `api_base` is the processor's address (an operator setting, never a reseller's, so no reseller can
    point our workers at an address of their choosing)."""

    provider = PROVIDER
    methods = ("card",)

    def __init__(self, api_key: str, api_base: str = "https://api.stripe.com", timeout: float = 20.0):
        self.api_key, self.api_base, self.timeout = api_key, api_base.rstrip("/"), timeout

    def charge(self, *, token: str, amount: Decimal, currency: str, idempotency_key: str, description: str,
               metadata: dict):
        from app.services.billing.retries import ChargeResult

        form = {"amount": str(int((amount * HUNDRED).to_integral_exact())), "currency": currency.lower(),
                "payment_method": token, "confirm": "true", "off_session": "true", "description": description}
        form.update({f"metadata[{k}]": str(v) for k, v in metadata.items()})
        if not self.api_base.startswith(("https://", "http://")):
            raise ConnectionError("the card processor's address is not an http(s) URL")
        request = urllib.request.Request(  # noqa: S310 (http(s) only, checked above; an operator's setting)
            f"{self.api_base}/v1/payment_intents", data=urllib.parse.urlencode(form).encode(), method="POST",
            headers={"Authorization": f"Bearer {self.api_key}", "Idempotency-Key": idempotency_key,
                     "Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (as above)
                body = json.loads(response.read(), parse_float=Decimal)
        except urllib.error.HTTPError as exc:
            try:
                body = json.loads(exc.read(), parse_float=Decimal)
            except ValueError:
                body = {}
            error = body.get("error") if isinstance(body.get("error"), dict) else {}
            intent = error.get("payment_intent") if isinstance(error.get("payment_intent"), dict) else {}
            if exc.code in (402, 400) and error:  # a decline (card_error) is an answer, not an outage
                return ChargeResult("failed", reference=intent.get("id"),
                                    error=str(error.get("message") or error.get("code") or "declined")[:500])
            raise ConnectionError(f"card processor answered {exc.code}") from None
        status = body.get("status")
        if status == "succeeded":
            return ChargeResult("succeeded", reference=body.get("id"), amount=_minor(body.get("amount_received")
                                                                                       or body.get("amount")))
        if status in ("processing", "requires_action"):
            return ChargeResult("pending", reference=body.get("id"), error=f"intent {status}")
        error = body.get("last_payment_error") if isinstance(body.get("last_payment_error"), dict) else {}
        return ChargeResult("failed", reference=body.get("id"),
                            error=str(error.get("message") or f"intent {status}")[:500])
