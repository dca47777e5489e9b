"""Top-ups a customer buys for themselves: the reseller's bundles, paid from what they already have, the
buckets they draw on, and emergency credit where the reseller grants it.

A customer buys a bundle of the reseller's list (`portal_rules.bundles`), never an amount at a price of
their own, and pays it with what they hold:

- `balance`: the credit on their account (overpayments, credit notes). The bundle is invoiced and the
  invoice is paid from that credit at once, as `billing.topups` does for any purchase on account, but
  only when the credit covers the whole price: a customer cannot run up a debt by buying. (Paying by
  M-PESA or card is the payment pages' flow: the money comes first, then the purchase.)
- `wallet`: the service's prepaid money balance (its `money` buckets), all or nothing.

The customer's account is locked for the purchase (`invoices.lock_customer`), so two purchases at once
cannot both spend the same credit. A purchase's reference keeps it bought once: the same reference again
returns the first purchase and charges nothing.

Emergency credit is the reseller's rule of `billing.topups` (one at a time, capped, repaid by the next
top-up); a customer may ask for it unless the reseller turned it off (`topups.emergency.enabled`) or kept
it for its team (`topups.emergency.self_service: false`).
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.billing import UsageBucket
from app.services.auth.principal import Principal
from app.services.billing import allocation, invoices, topups
from app.services.errors import Conflict, Invalid
from app.services.selfcare import portal_rules
from app.services.selfcare.my_services import own_service

PAY_WITH = ("balance", "wallet")


class InsufficientBalance(Conflict):
    slug = "insufficient-balance"
    title = "Not enough balance"


def offered(session: Session) -> list[dict]:
    """The bundles the reseller offers its customers."""
    return portal_rules.bundles(session)


def buy_bundle(session: Session, customer_id: int, service_id: int, code: str, *, pay_with: str = "balance",
               reference: str | None = None, principal: Principal | None) -> topups.Purchase:
    """Buy one of the reseller's bundles for one of the customer's services."""
    if pay_with not in PAY_WITH:
        raise Invalid(f"pay_with: one of {', '.join(PAY_WITH)}", field="pay_with")
    service = own_service(session, customer_id, service_id)
    bundle = portal_rules.bundle(session, code)
    invoices.lock_customer(session, customer_id)
    if reference is not None:
        bought = session.execute(select(UsageBucket).where(UsageBucket.reference == reference)).scalar_one_or_none()
        if bought is not None:  # the same purchase again: topups.buy hands back the first one
            pay_with = "account"
    if pay_with == "balance":
        credit = allocation.credit(session, customer_id)
        if credit < bundle["price"]:
            raise InsufficientBalance(
                f"your balance holds {credit} {service.currency}; {bundle['name']} costs {bundle['price']}",
                available=str(credit), price=str(bundle["price"]), shortfall=str(bundle["price"] - credit))
        pay_with = "account"
    purchase = topups.buy(session, service.id, kind=bundle["kind"], amount=bundle["amount"], price=bundle["price"],
                          pay_with=pay_with, source=bundle["source"], validity_days=bundle["validity_days"],
                          name=bundle["name"], reference=reference, principal=principal)
    if purchase.created and purchase.invoice is not None and purchase.invoice.status != "Paid":
        raise InsufficientBalance("your balance does not cover this bundle", price=str(bundle["price"]))
    return purchase


def balances(session: Session, customer_id: int, service_id: int) -> dict:
    """What the service has left of each kind, its buckets in the order they are drawn (weight, then
    expiry), and emergency credit outstanding."""
    return topups.service_balances(session, own_service(session, customer_id, service_id).id)


def emergency_offer(session: Session) -> dict:
    """Whether customers may ask for emergency credit, for how long, and how much of each kind."""
    rules = topups.config(session)["emergency"]
    return {"available": bool(rules.get("enabled", True)) and bool(rules.get("self_service", True)),
            "hours": rules["hours"], "max": {kind: Decimal(str(cap)) for kind, cap in rules["max"].items()}}


def request_emergency(session: Session, customer_id: int, service_id: int, kind: str, amount=None, *,
                      reference: str | None = None, principal: Principal | None) -> UsageBucket:
    """Emergency credit for one of the customer's services (the reseller's cap when no amount is asked)."""
    service = own_service(session, customer_id, service_id)
    offer = emergency_offer(session)
    if not offer["available"]:
        raise Conflict("your provider does not offer emergency credit here: contact support")
    if kind not in offer["max"]:
        raise Invalid(f"kind: one of {', '.join(offer['max'])}", field="kind")
    return topups.grant_emergency(session, service.id, kind=kind, amount=offer["max"][kind] if amount is None
                                  else amount, reference=reference, principal=principal)
