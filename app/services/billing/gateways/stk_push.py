"""Starting an M-PESA payment from the portal: Backhaul sends the STK push ("Lipa na M-PESA Online") with
the reseller's Daraja credentials, the customer confirms with their PIN on the phone, and the callback
that already exists (`mpesa.handle_stk`) settles the pending payment it finds under the push's
CheckoutRequestID — paying the invoice the customer chose first (`initiation`).

- **Whole shillings.** M-PESA moves whole shillings only. An amount the customer typed with cents is
  refused (422, naming the whole amounts around it): rounding it either way would take money they did
  not agree to, or leave the invoice a few cents short and Partially Paid for ever. When the customer
  pays an invoice without typing an amount, what it owes is rounded **up** to the shilling: the invoice
  is then cleared, and the cents over stay on the account as credit that the next invoice takes.
  From 1 to 250,000 shillings (Safaricom's limit for one transaction); the customer must be billed in KES.
- **The phone** is the one given, else the customer's M-PESA number on file (2547…/2541…).
- **Callback URL**: the reseller's primary host, `/webhooks/mpesa/<token>/stk`, the token derived from
  the reseller's M-PESA token (`config.stk_callback_token`), so no URL is stored anywhere.
- **When no callback comes** (a phone switched off, a callback lost, the token rotated meanwhile), the
  worker asks Daraja (STK Push Query) 2, 7 and 17 minutes after the push (`QUERY_AFTER`, each delay
  from the one before), through `worker/actors/mpesa_queries.py`. Asking is idempotent: a payment the
  callback settled meanwhile is left alone; "still being processed" asks again later; paid confirms it,
  anything else fails it with Daraja's reason; after the last question without an answer it fails as
  `no_answer`, and a late callback saying paid still confirms it (a failed payment may still succeed).
  If the callback was recorded as a payment of its own (it raced our commit and matched by phone), the
  pending one is failed as recorded elsewhere, so the money counts once.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Customer
from app.models.billing import GatewayEvent, PaymentRequest
from app.services.after_commit import AfterCommit
from app.services.billing import payments
from app.services.billing.gateways import config, daraja_settings, endpoints, initiation, mpesa
from app.services.billing.gateways.daraja import DarajaClient
from app.services.billing.gateways.events import NotConfigured
from app.services.billing.gateways.initiation import GatewayRefused, GatewayUnavailable
from app.services.billing.payment_methods import normalise_msisdn
from app.services.errors import Invalid
from app.services.money import money
from tenants import require_tenant

PROVIDER = "mpesa"
CURRENCY = "KES"  # M-PESA moves Kenyan shillings only
MIN_AMOUNT, MAX_AMOUNT = Decimal(1), Decimal(250_000)
QUERY_AFTER = (2, 5, 10)  # minutes before each status query, counted from the push, then from the last query
QUERY_ACTOR = "gateway mpesa (status query)"


@dataclass(frozen=True)
class Queried:
    status: str  # the payment's status after asking
    queries: int  # how many status queries have now been made for it


def client_for(session: Session, redis) -> DarajaClient:
    credentials = daraja_settings.daraja(session)
    if credentials is None:
        raise NotConfigured("this reseller does not take M-PESA payments online yet")
    return DarajaClient(credentials, endpoints.daraja_base(credentials.environment), redis)


def callback_url(session: Session) -> str:
    from app.config import Settings
    from app.services.branding.rendering import primary_host

    token = config.stk_callback_token(session)
    host = primary_host(session, require_tenant().id)
    if not token or not host:
        raise NotConfigured("this reseller's M-PESA callback address is not set up")
    return f"{Settings.from_env().public_url(host)}/webhooks/mpesa/{token}/stk"


def whole_shillings(amount: Decimal, *, typed: bool) -> Decimal:
    if amount == amount.to_integral_value():
        return amount
    if typed:
        up, down = amount.to_integral_value(ROUND_CEILING), amount.to_integral_value(ROUND_FLOOR)
        raise Invalid(f"amount: M-PESA takes whole shillings; pay {up} or {down}", field="amount")
    return amount.to_integral_value(ROUND_CEILING).quantize(Decimal("0.01"))


def _phone(phone: str | None, customer: Customer) -> str:
    given = phone if phone not in (None, "") else customer.mpesa_number
    if not given:
        raise Invalid("phone: give the M-PESA number to pay from", field="phone")
    try:
        return normalise_msisdn(given)
    except Invalid:
        raise Invalid("phone: not a Kenyan mobile number (07XXXXXXXX or 2547XXXXXXXX)", field="phone") from None


def phone_on_file(customer: Customer) -> str | None:
    """The number a payment form offers to prompt (the customer may change it): the account's M-PESA number,
    else the profile's phone when it is a Kenyan mobile number, as `initiate_mpesa` would read it."""
    for number in (customer.mpesa_number, customer.phone):
        try:
            return normalise_msisdn(number)
        except Invalid:
            continue
    return None


def initiate_mpesa(session: Session, customer_id: int, amount, phone: str | None, *, invoice_id: int | None = None,
                   idempotency_key: str | None, redis=None, actor: str = "system") -> PaymentRequest:
    """Send an STK push to the customer's phone for an invoice (or a top-up without one) and return the
    request, whose `payment_id` is the pending payment the page polls (`initiation.status`).

    `amount` None pays what the invoice owes. `idempotency_key` is the API's Idempotency-Key or the page
    form's token (None: a fresh one). `redis` caches the Daraja token (None: no cache). The same key, or
    a recent push still pending for the same invoice, returns that one instead of prompting again.
    Raises `Invalid` (422), `NotFound` (404), `Conflict` (409), `NotConfigured` (404: no M-PESA here),
    `GatewayRefused` (502) and `GatewayUnavailable` (503)."""
    customer = initiation.lock_customer(session, customer_id)
    number = _phone(phone, customer)
    given = None if amount is None else money(amount)
    key = initiation.request_key(idempotency_key)
    asked = {"amount": None if given is None else str(given), "phone": number}
    found = initiation.existing(session, customer_id, key, provider=PROVIDER, invoice_id=invoice_id, same=asked)
    if found is not None:
        return found
    currency = payments.billing_currency(session, customer_id)
    if currency != CURRENCY:
        raise Invalid(f"M-PESA takes Kenyan shillings and this account is billed in {currency}: pay by card",
                      field="amount")
    invoice = initiation.payable_invoice(session, customer_id, invoice_id)
    value = whole_shillings(initiation.amount_to_pay(invoice, given), typed=given is not None)
    if not MIN_AMOUNT <= value <= MAX_AMOUNT:
        raise Invalid(f"amount: M-PESA takes {MIN_AMOUNT:,} to {MAX_AMOUNT:,} shillings at a time", field="amount")
    pending = initiation.pending_for(session, PROVIDER, customer_id, invoice_id)
    if pending is not None:
        return pending
    client = client_for(session, redis)
    url = callback_url(session)
    row = initiation.new_request(session, customer_id=customer_id, provider=PROVIDER, invoice=invoice, amount=value,
                                 currency=currency, key=key, phone=number, asked=asked)
    pushed = client.stk_push(amount=value, phone=number, callback_url=url, account_reference=customer.portal_id,
                             description="Invoice" if invoice is not None else "Top-up")
    row.payment_id = mpesa.stk_sent(session, customer_id=customer_id, amount=value,
                                    checkout_request_id=pushed.checkout_request_id, phone=number, actor=actor)
    row.provider_ref = pushed.checkout_request_id
    row.detail = {**row.detail, "sent": pushed.sent, "merchant_request_id": pushed.merchant_request_id,
                  "customer_message": pushed.customer_message}
    session.flush()
    _queries.add(session, (row.id, 1))
    return row


# -- asking Daraja when no callback came ----------------------------------------------------------------
def _recorded_by_callback(session: Session, row: PaymentRequest) -> int | None:
    """The payment the push's own callback made, when it was not ours (it came before our commit)."""
    paid = session.execute(select(GatewayEvent.payment_id).where(
        GatewayEvent.provider == PROVIDER, GatewayEvent.event_id == f"stk:{row.provider_ref}")).scalar_one_or_none()
    return paid if paid is not None and paid != row.payment_id else None


def query_status(session: Session, request_id: int, *, redis=None, final: bool = False) -> Queried:
    """Ask Daraja how a push still pending ended, and settle its payment accordingly (see the module's
    docstring). `final`: the last question; no answer then fails the payment as `no_answer`."""
    row = session.get(PaymentRequest, request_id)
    if row is None or row.provider != PROVIDER or row.payment_id is None:
        return Queried("unknown", 0)
    payment = payments.get(session, row.payment_id, for_update=True)  # the callback's lock order: payment first
    session.refresh(row)
    if payment.status != "pending":
        return Queried(payment.status, row.queries)
    other = _recorded_by_callback(session, row)
    if other is not None:
        payments.fail(session, payment.id, reason=f"recorded as payment #{other}", actor=QUERY_ACTOR)
        initiation.record_result(session, payment.id, "duplicate", f"recorded as payment #{other}")
        return Queried("failed", row.queries)
    try:
        answer = client_for(session, redis).stk_query(row.provider_ref)
    except (GatewayUnavailable, GatewayRefused, NotConfigured):
        answer = None
    row.queries += 1
    if answer is None or answer.processing:
        if final:
            payments.fail(session, payment.id, reason="M-PESA gave no answer", actor=QUERY_ACTOR)
            initiation.record_result(session, payment.id, "no_answer", None)
            return Queried("failed", row.queries)
        return Queried("pending", row.queries)
    initiation.record_result(session, payment.id, answer.result_code, answer.result_desc)
    if answer.result_code == "0":
        payments.confirm(session, payment.id, actor=QUERY_ACTOR)
        return Queried("succeeded", row.queries)
    payments.fail(session, payment.id, reason=f"M-PESA {answer.result_code}: {answer.result_desc or 'not paid'}",
                  actor=QUERY_ACTOR)
    return Queried("failed", row.queries)


def _send_query(item: tuple[int, int]) -> None:
    from worker.actors import mpesa_queries as actors

    request_id, attempt = item
    actors.query_stk_push.send_with_options(args=(request_id, attempt), delay=QUERY_AFTER[attempt - 1] * 60_000)


_queries = AfterCommit("mpesa_status_queries", _send_query, "M-PESA status query")
