"""A top-up bundle paid by M-PESA: the customer chooses a bundle of the reseller's list and pays its price with
an STK push; the bundle is bought when the money arrives, and the money pays the bundle.

`bundles.buy_bundle` pays from what the customer already holds. Paying by M-PESA cannot work that way: the
money is not there yet, and buying first would hand out the bundle before anyone paid (a prompt cancelled on
the phone would leave the bundle bought and its invoice owed). So the money comes first:

- **Start** (`start`): the service must be the customer's own and able to take a top-up, the bundle one the
  reseller offers, its price whole shillings (M-PESA moves nothing else). The push is `stk_push.initiate_mpesa`
  for the price as a top-up (no invoice yet); what was chosen — the bundle as the customer saw it, price
  included, and the service — is kept on the payment request (`detail["bundle"]`). A reseller who changes
  the bundle's price meanwhile does not change what this customer agreed to pay.
- **Once.** The page's form token is the idempotency key: the same key again answers with the first request
  (the same bundle) and starts no second push; the same key for another bundle is a 422. While a push of
  this customer is still waiting for its PIN, another one is refused (`PaymentPending`, 409): a second prompt
  would only charge the phone twice. A retry with the same bundle and service gets the waiting one.
- **When the money arrives** (`bundle_paid`, called by `payments.confirm` — the STK callback, the worker's
  status query, or a late callback after a failure — before the money is allocated): the bundle is bought
  (`topups.buy` on account: its invoice is issued) and becomes the payment's chosen invoice, so the
  money pays the bundle rather than the oldest invoice. Bought once: the bucket's reference is the payment's
  id. If it cannot be bought (the service was terminated meanwhile, less money came than the price), nothing
  is bought, the money stays on the account as credit like any top-up, and the reason is kept on the request
  (`detail["bundle_result"]`) for staff. The customer never pays without either the bundle or the credit.
- **Status** (`status`): what the "check your phone" page shows: the payment as `initiation.status` has it,
  the bundle, and once paid the bucket bought (none when it could not be). Another customer's payment is a 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.billing import Payment, PaymentRequest, UsageBucket
from app.services import customers
from app.services.auth.principal import Principal
from app.services.billing import idempotency, topups
from app.services.billing.gateways import initiation, stk_push
from app.services.billing.gateways.events import NotConfigured
from app.services.errors import Conflict, Invalid, NotFound, ServiceError
from app.services.selfcare import finance, portal_rules
from app.services.selfcare.my_services import own_service

PROVIDER = stk_push.PROVIDER
REFERENCE = "mpesa-bundle:payment:"  # + the payment's id: the bucket a bundle paid by M-PESA buys, once


class PaymentPending(Conflict):
    slug = "payment-pending"
    title = "A payment is waiting on your phone"


@dataclass(frozen=True)
class BundlePayment:
    """A bundle paid by M-PESA, as its page shows it."""

    payment: initiation.PaymentStatus
    service_id: int
    bundle: dict  # the bundle as the customer chose it: code, name, kind, amount, price, validity_days, source
    bucket: UsageBucket | None  # bought, once the money came (None then: it could not be, the money is credit)


def mpesa_offer(session: Session, customer_id: int) -> dict:
    """Whether this customer can pay by M-PESA here (`finance.ways_to_pay`) and the number the prompt goes to
    unless they give another."""
    return {"available": stk_push.PROVIDER in finance.ways_to_pay(session, customer_id),
            "phone": stk_push.phone_on_file(customers.get(session, customer_id))}


def whole_shillings(price: Decimal) -> bool:
    """Whether M-PESA can take this price as it is."""
    return price == price.to_integral_value()


def _chosen(bundle: dict, service_id: int) -> dict:
    return {"code": bundle["code"], "name": bundle["name"], "kind": bundle["kind"], "amount": str(bundle["amount"]),
            "price": str(bundle["price"]), "validity_days": bundle["validity_days"], "source": bundle["source"],
            "service_id": service_id}


def _same(request: PaymentRequest, chosen: dict) -> bool:
    kept = request.detail.get("bundle") or {}
    return (kept.get("code"), kept.get("service_id")) == (chosen["code"], chosen["service_id"])


def start(session: Session, customer_id: int, service_id: int, code: str, phone: str | None, *, key: str,
          redis=None, principal: Principal | None) -> PaymentRequest:
    """Send the M-PESA prompt for one of the reseller's bundles, for one of the customer's services. Returns
    the payment request, whose `payment_id` is the pending payment the page follows.

    Raises what `initiate_mpesa` raises, `NotConfigured` (404) where M-PESA is not taken for this account, and
    `PaymentPending` (409) while another push waits for its PIN."""
    initiation.lock_customer(session, customer_id)  # two submissions of one form are taken one after the other
    service = own_service(session, customer_id, service_id)
    key = initiation.request_key(key)
    bundle = portal_rules.bundle(session, code)
    chosen = _chosen(bundle, service.id)
    earlier = session.execute(select(PaymentRequest).where(PaymentRequest.customer_id == customer_id,
                                                           PaymentRequest.idempotency_key == key)).scalar_one_or_none()
    if earlier is not None:
        if not _same(earlier, chosen):
            raise idempotency.KeyReused("this form was sent for another bundle; open the page again")
        return earlier
    if service.status not in topups.OPEN_SERVICE:
        raise Conflict(f"a service that is {service.status} cannot take a top-up", current_status=service.status)
    if stk_push.PROVIDER not in finance.ways_to_pay(session, customer_id):
        raise NotConfigured("this reseller does not take M-PESA payments online, or not in this account's currency")
    if not whole_shillings(bundle["price"]):
        raise Invalid(f"{bundle['name']} costs {bundle['price']}: M-PESA takes whole shillings; pay it from your "
                      f"balance", field="pay_with")
    waiting = initiation.pending_for(session, PROVIDER, customer_id, None)
    if waiting is not None:
        if _same(waiting, chosen):
            return waiting
        raise PaymentPending("a payment is waiting for your M-PESA PIN: finish or cancel it on your phone, then "
                             "try again", payment_id=waiting.payment_id)
    row = stk_push.initiate_mpesa(session, customer_id, bundle["price"], phone, invoice_id=None, idempotency_key=key,
                                  redis=redis, actor=principal.actor if principal else "system")
    row.detail = {**row.detail, "bundle": chosen}
    session.flush()
    return row


def _reference(payment_id: int) -> str:
    return f"{REFERENCE}{payment_id}"


def bought_by_mpesa(bucket: UsageBucket) -> bool:
    return (bucket.reference or "").startswith(REFERENCE)


def bundle_paid(session: Session, payment: Payment) -> None:
    """The payment is about to be received: if it was started for a bundle, buy the bundle now and make its
    invoice the one the money pays. Called by `payments.confirm` with the customer locked, before the payment
    is allocated; a refusal leaves the payment to be received as credit."""
    request = initiation.for_payment(session, payment.id, lock=True)
    if request is None or not request.detail.get("bundle") or "bundle_result" in request.detail:
        return
    chosen = request.detail["bundle"]
    price = Decimal(chosen["price"])
    result: dict
    if payment.amount < price:
        result = {"refused": f"{payment.amount} came, {chosen['name']} costs {price}: the money is on your balance"}
    else:
        try:
            with session.begin_nested():  # a refused purchase leaves nothing of itself behind
                own_service(session, request.customer_id, chosen["service_id"])
                bought = topups.buy(session, chosen["service_id"], kind=chosen["kind"], amount=chosen["amount"],
                                    price=price, pay_with="account", source=chosen["source"],
                                    validity_days=chosen["validity_days"], name=chosen["name"],
                                    reference=_reference(payment.id))
        except ServiceError as exc:
            result = {"refused": exc.detail}
        else:
            result = {"bucket_id": bought.bucket.id}
            if bought.invoice is not None:
                request.invoice_id = bought.invoice.id  # the money pays the bundle first (allocation's `prefer`)
    request.detail = {**request.detail, "bundle_result": result}
    session.flush()


def status(session: Session, customer_id: int, payment_id: int) -> BundlePayment:
    """A bundle payment of this customer as it stands; a payment that was not started for a bundle, or is
    another customer's, is not found."""
    found = initiation.status(session, customer_id, payment_id)
    request = initiation.for_payment(session, found.payment_id)
    if request is None or not request.detail.get("bundle"):
        raise NotFound("no such bundle payment")
    chosen = dict(request.detail["bundle"])
    chosen.update(amount=Decimal(chosen["amount"]), price=Decimal(chosen["price"]))
    result = request.detail.get("bundle_result") or {}
    bucket = session.get(UsageBucket, result["bucket_id"]) if result.get("bucket_id") else None
    if bucket is not None and bucket.customer_id != customer_id:
        bucket = None
    return BundlePayment(payment=found, service_id=chosen["service_id"], bundle=chosen, bucket=bucket)
