"""Paying by card from the portal: a hosted checkout at the Stripe-style processor. Backhaul never sees a
card number; the customer is sent to the processor's page and comes back, and the processor's signed
webhook says what happened.

- **Starting** (`start_card_checkout`): `POST /v1/checkout/sessions` (form-encoded, the reseller's secret
  API key — the one the retry job charges stored cards with) with `mode=payment`, one line item built
  from `price_data` (the amount in the currency's minor unit, named after the invoice or "Account top-up"),
  `success_url` and `cancel_url` (on the reseller's own hosts only, so a payment link can never send the
  customer elsewhere), `client_reference_id` (our request), `metadata` and `payment_intent_data[metadata]`
  (the request and the Portal ID). The processor's `Idempotency-Key` is derived from the customer and
  their key, so a retry after a crash gets the same session back. Its id (`cs_…`) is the pending
  payment's reference, its `url` where the customer goes.
- **Finishing**, from the webhook (`stripe.handle`), whichever comes first:
  `checkout.session.completed` (and `checkout.session.async_payment_succeeded`) with `payment_status`
  `paid` confirms the pending payment with the amount paid and, as its reference from then on, the
  payment intent (`pi_…`); `payment_intent.succeeded` for an intent whose metadata names our request
  confirms the same payment. The second one finds it paid: `duplicate`, one payment.
  `checkout.session.expired` and `checkout.session.async_payment_failed` fail it (the customer may start
  again); a declined card (`payment_intent.payment_failed`) does not, since the customer can try another
  card on the same page until the session expires.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Domain
from app.models.billing import Payment, PaymentRequest
from app.services.auth import crypto
from app.services.billing import payments
from app.services.billing.gateways import config, endpoints, initiation
from app.services.billing.gateways.events import NotConfigured
from app.services.billing.gateways.initiation import GatewayRefused, GatewayUnavailable
from app.services.errors import Invalid
from app.services.money import money
from tenants import require_tenant

PROVIDER = "stripe"
ACTOR = "gateway stripe"
HUNDRED = Decimal(100)
TIMEOUT = 20.0


class CheckoutClient:
    """Creates checkout sessions at the processor (`api_base` is the operator's, see `endpoints`)."""

    def __init__(self, api_key: str, api_base: str, timeout: float = TIMEOUT):
        self.api_key, self.api_base, self.timeout = api_key, api_base.rstrip("/"), timeout

    def create(self, form: dict, idempotency_key: str) -> dict:
        request = urllib.request.Request(  # noqa: S310 (an http(s) address from the operator, endpoints.py)
            f"{self.api_base}/v1/checkout/sessions", data=urllib.parse.urlencode(form).encode(), method="POST",
            headers={"Authorization": f"Bearer {self.api_key}", "Idempotency-Key": idempotency_key,
                     "Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (as above)
                body = _json(response.read())
        except urllib.error.HTTPError as exc:
            body = _json(exc.read())
            error = body.get("error") if isinstance(body.get("error"), dict) else {}
            if exc.code >= 500 or not error:
                raise GatewayUnavailable(f"the card processor answered {exc.code}; try again in a minute") from None
            if exc.code == 401:
                raise GatewayRefused("the card processor refused this reseller's API key") from None
            raise GatewayRefused(f"the card processor did not start the checkout: "
                                 f"{str(error.get('message') or error.get('code') or exc.code)[:200]}") from None
        except (urllib.error.URLError, OSError):
            raise GatewayUnavailable("the card processor could not be reached; try again in a minute") from None
        if not body.get("id") or not body.get("url"):
            raise GatewayRefused("the card processor's answer has no checkout session")
        return body


def _json(raw: bytes) -> dict:
    try:
        doc = json.loads(raw or b"{}", parse_float=Decimal)
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def _own_url(session: Session, url: str, field: str) -> str:
    """A return address on one of this reseller's own hosts (http or https)."""
    url = (url or "").strip()
    parts = urllib.parse.urlsplit(url) if len(url) <= 2000 else None
    host = (parts.hostname or "") if parts is not None else ""
    if parts is None or parts.scheme not in ("http", "https") or not host:
        raise Invalid(f"{field}: an http(s) address on this portal", field=field)
    known = session.execute(select(Domain.id).where(Domain.tenant_id == require_tenant().id,
                                                    Domain.host == host.lower())).first()
    if known is None:
        raise Invalid(f"{field}: an address on this portal's own hosts", field=field)
    return url


def start_card_checkout(session: Session, customer_id: int, amount, *, invoice_id: int | None = None,
                        success_url: str, cancel_url: str, idempotency_key: str | None,
                        actor: str = "system") -> PaymentRequest:
    """Open a hosted card checkout for an invoice (or a top-up without one) and return the request: its
    `checkout_url` is where to send the customer, its `payment_id` the pending payment the page polls.

    `amount` None pays what the invoice owes. The same key, or an open checkout for the same invoice,
    returns that one. Raises `Invalid` (422), `NotFound` (404), `Conflict` (409), `NotConfigured` (404: no
    card payments here), `GatewayRefused` (502) and `GatewayUnavailable` (503)."""
    customer = initiation.lock_customer(session, customer_id)
    given = None if amount is None else money(amount)
    key = initiation.request_key(idempotency_key)
    asked = {"amount": None if given is None else str(given)}
    found = initiation.existing(session, customer_id, key, provider=PROVIDER, invoice_id=invoice_id, same=asked)
    if found is not None:
        return found
    success_url, cancel_url = _own_url(session, success_url, "success_url"), _own_url(session, cancel_url,
                                                                                        "cancel_url")
    api_key = config.stripe_api_key(session)
    if not api_key:
        raise NotConfigured("this reseller does not take card payments online yet")
    currency = payments.billing_currency(session, customer_id)
    invoice = initiation.payable_invoice(session, customer_id, invoice_id)
    value = initiation.amount_to_pay(invoice, given)
    pending = initiation.pending_for(session, PROVIDER, customer_id, invoice_id)
    if pending is not None:
        return pending
    row = initiation.new_request(session, customer_id=customer_id, provider=PROVIDER, invoice=invoice, amount=value,
                                 currency=currency, key=key, asked=asked)
    name = f"Invoice {invoice.number or invoice.id}" if invoice is not None else "Account top-up"
    tags = {"payment_request": row.id, "portal_id": customer.portal_id}
    form = {"mode": "payment", "success_url": success_url, "cancel_url": cancel_url,
            "client_reference_id": str(row.id),
            "line_items[0][quantity]": "1",
            "line_items[0][price_data][currency]": currency.lower(),
            "line_items[0][price_data][unit_amount]": str(int((value * HUNDRED).to_integral_exact())),
            "line_items[0][price_data][product_data][name]": name,
            "payment_intent_data[description]": name,
            **{f"metadata[{k}]": str(v) for k, v in {**tags, "invoice_id": invoice_id or ""}.items()},
            **{f"payment_intent_data[metadata][{k}]": str(v) for k, v in tags.items()}}
    client = CheckoutClient(api_key, endpoints.stripe_api_base())
    made = client.create(form, idempotency_key=f"{require_tenant().code}:checkout:{customer_id}:{key}")
    reference = str(made["id"])[:120]
    payment = payments.record(session, customer_id=customer_id, amount=value, method="card", currency=currency,
                              provider=PROVIDER, provider_ref=reference, status="pending",
                              notes=f"card checkout for {name.lower()}", actor=actor)
    row.payment_id, row.provider_ref, row.checkout_url = payment.id, reference, str(made["url"])
    row.detail = {**row.detail, "sent": {k: v for k, v in form.items() if not k.endswith("_url")}}
    session.flush()
    return row


# -- the processor's webhook --------------------------------------------------------------------------
def _request_payment(session: Session, row: PaymentRequest | None) -> Payment | None:
    if row is None or row.provider != PROVIDER or row.payment_id is None:
        return None
    return payments.get(session, row.payment_id, for_update=True)


def payment_for_session(session: Session, checkout_id: str) -> Payment | None:
    row = session.execute(select(PaymentRequest).where(PaymentRequest.provider == PROVIDER,
                                                       PaymentRequest.provider_ref == checkout_id)).scalar_one_or_none()
    return _request_payment(session, row)


def payment_for_intent(session: Session, intent: dict) -> Payment | None:
    """The pending payment of the checkout that made this intent (its metadata names our request)."""
    metadata = intent.get("metadata") if isinstance(intent.get("metadata"), dict) else {}
    named = str(metadata.get("payment_request") or "")
    if not crypto.is_number(named) or not 0 < int(named) < 2**63:
        return None
    return _request_payment(session, session.get(PaymentRequest, int(named)))


def completed(session: Session, doc: dict, obj: dict) -> tuple[str, int | None]:
    """`checkout.session.completed` / `…async_payment_succeeded`: the customer paid (or will, for a
    payment method that settles later: `payment_status` unpaid, then async_payment_succeeded)."""
    payment = payment_for_session(session, str(obj.get("id")))
    if payment is None:
        return "ignored: unknown checkout", None
    if payment.status in payments.KEPT:
        return "duplicate", payment.id
    if obj.get("payment_status") != "paid":
        return "ignored: not paid yet", payment.id
    currency = str(obj.get("currency") or "").upper()
    if currency != payment.currency:
        raise Invalid(f"the checkout was paid in {currency or 'no currency'}, not {payment.currency}")
    total = obj.get("amount_total")
    if isinstance(total, bool) or not isinstance(total, int) or total <= 0:
        raise Invalid("amount_total is an integer in the currency's minor unit")
    intent = obj.get("payment_intent")
    intent = intent.get("id") if isinstance(intent, dict) else intent
    created = doc.get("created")
    try:
        payments.confirm(session, payment.id, amount=(Decimal(total) / HUNDRED).quantize(Decimal("0.01")),
                         provider_ref=str(intent)[:120] if intent else None,
                         received_at=datetime.fromtimestamp(created, UTC) if isinstance(created, int) else None,
                         actor=ACTOR)
    except payments.DuplicatePayment as exc:  # its intent was recorded first as a payment of its own
        payments.fail(session, payment.id, reason=f"recorded as payment #{exc.payment.id}", actor=ACTOR)
        initiation.record_result(session, payment.id, "duplicate", f"recorded as payment #{exc.payment.id}")
        return "duplicate", exc.payment.id
    initiation.record_result(session, payment.id, "paid", None)
    return "applied", payment.id


def ended(code: str, why: str):
    """`checkout.session.expired` / `…async_payment_failed`: nothing was paid; the payment fails."""

    def handler(session: Session, doc: dict, obj: dict) -> tuple[str, int | None]:
        payment = payment_for_session(session, str(obj.get("id")))
        if payment is None:
            return "ignored: unknown checkout", None
        if payment.status in payments.KEPT:
            return "ignored: already succeeded", payment.id
        payments.fail(session, payment.id, reason=why, actor=ACTOR)
        initiation.record_result(session, payment.id, code, why)
        return "failed", payment.id

    return handler


HANDLERS = {
    "checkout.session.completed": completed,
    "checkout.session.async_payment_succeeded": completed,
    "checkout.session.async_payment_failed": ended("declined", "the payment did not go through"),
    "checkout.session.expired": ended("expired", "the checkout expired unpaid"),
}
