"""What the Top-ups pages show a customer, read in one place: the credit on their account, the bundles the
reseller offers, and for each of their services what it draws on and whether it may take a bundle or
emergency credit.

A bundle is bought for a service that is Active, Limited or Suspended (`topups.OPEN_SERVICE`: a Limited
service is the one that most needs data; a Suspended one keeps its top-ups for when it is restored); one that is
Pending or Terminated takes none and is not listed. Emergency credit goes only to a service that works (Active
or Limited), one at a time (`topups.grant_emergency`). The bundles are those of `portal_rules.bundles`; M-PESA
takes only whole shillings, so a bundle priced with cents is paid from the balance alone.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.models.billing import Invoice, UsageBucket
from app.services.billing import topups
from app.services.ids import valid_id
from app.services.selfcare import bundles, finance, mpesa_bundles
from app.services.selfcare.my_services import list_services, own_service, service_out

EMERGENCY_FOR = ("Active", "Limited")


def _offered(session: Session) -> list[dict]:
    return [{**b, "mpesa": mpesa_bundles.whole_shillings(b["price"])} for b in bundles.offered(session)]


def _emergency(session: Session, service: dict, held: list[dict]) -> dict:
    offer = bundles.emergency_offer(session)
    return {**offer, "outstanding": held, "may_ask": offer["available"] and service["status"] in EMERGENCY_FOR
            and not held}


def overview(session: Session, customer_id: int) -> dict:
    """The Top-ups page: the account's credit, the bundles on offer, and each service that can take one with
    what it has left of each kind and its emergency credit outstanding."""
    money = finance.balance(session, customer_id)
    services = []
    for service in list_services(session, customer_id):
        if service["status"] not in topups.OPEN_SERVICE:
            continue
        held = bundles.balances(session, customer_id, service["id"])
        services.append({"service": service, "balances": held["balances"], "emergency": held["emergency"]})
    return {"currency": money["currency"], "credit": money["credit"], "bundles": _offered(session),
            "services": services}


def service_page(session: Session, customer_id: int, service_id: int) -> dict:
    """One service's top-up page: the bundles with what paying each from the balance or by M-PESA allows, the
    buckets in the order they are drawn, and emergency credit (offered, asked for, outstanding). Another
    customer's service is not found."""
    service = service_out(session, own_service(session, customer_id, service_id), detail=False)
    money = finance.balance(session, customer_id)
    can_buy = service["status"] in topups.OPEN_SERVICE
    held = bundles.balances(session, customer_id, service_id) if can_buy else {"buckets": [], "balances": [],
                                                                                "emergency": []}
    offered = [{**b, "covered": money["credit"] >= b["price"]} for b in _offered(session)] if can_buy else []
    return {"service": service, "can_buy": can_buy, "currency": money["currency"], "credit": money["credit"],
            "bundles": offered, "mpesa": mpesa_bundles.mpesa_offer(session, customer_id),
            "buckets": held["buckets"], "balances": held["balances"],
            "emergency": _emergency(session, service, held["emergency"])}


def bought(session: Session, customer_id: int, service_id: int, bucket_id: str | int | None) -> dict | None:
    """A bucket just bought for this service of this customer, with the invoice it was bought on and whether
    M-PESA paid it (for the page that says so); None for anything else, so a made-up address shows nothing."""
    if isinstance(bucket_id, str):
        bucket_id = int(bucket_id) if bucket_id.isdigit() and len(bucket_id) < 19 else None
    if bucket_id is None or not valid_id(bucket_id):
        return None
    bucket = session.get(UsageBucket, bucket_id)
    if bucket is None or bucket.customer_id != customer_id or bucket.service_id != service_id \
            or bucket.source == "emergency":
        return None
    invoice = session.get(Invoice, bucket.invoice_id) if bucket.invoice_id else None
    return {"bucket": bucket, "invoice": invoice, "by_mpesa": mpesa_bundles.bought_by_mpesa(bucket)}
