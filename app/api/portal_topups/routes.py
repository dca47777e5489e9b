"""Top-ups a customer buys for themselves: the reseller's bundles, a purchase paid from the balance or the
service's prepaid wallet, the buckets with their weight and expiry, and emergency credit where the
reseller grants it (the Top-up pages of the self-care portal call the same services:
`app.services.selfcare.bundles`). Paying by M-PESA or card is the payment pages' flow.

The POSTs honour `Idempotency-Key`, and a purchase's `reference` (or the key, when none is given) keeps
it bought once for good.
"""

from __future__ import annotations

from flask import g, request
from flask_smorest import Blueprint

from app.api.payments.idempotent import HEADER, PARAMETER, idempotent
from app.api.portal_topups import schemas as s
from app.api.selfcare.access import CUSTOMER, me
from app.services.selfcare import bundles
from app.web import db_session
from app.web.auth import requires

blp = Blueprint("portal_topups", __name__, url_prefix="/portal/api",
                description="Top-up bundles a customer buys, their buckets and emergency credit")
KEYED = {"parameters": [PARAMETER]}


def _reference(given: str | None, prefix: str) -> str | None:
    """The customer's reference, else one made of the Idempotency-Key, each kept apart per customer."""
    if given:
        return f"{prefix}:ref:customer:{me()}:{given}"
    key = request.headers.get(HEADER)
    return f"{prefix}:key:customer:{me()}:{key.strip()[:60]}" if key else None


@blp.route("/topup-bundles")
@requires("self.view", kinds=CUSTOMER)
@blp.response(200, s.BundleOut(many=True))
def list_bundles():
    """The data, voice, SMS and money bundles your provider offers."""
    return bundles.offered(db_session())


@blp.route("/services/<int:service_id>/topups", methods=["POST"])
@requires("self.edit", kinds=CUSTOMER)
@idempotent
@blp.arguments(s.PurchaseIn)
@blp.response(201, s.PurchaseOut)
@blp.doc(**KEYED)
def buy(body, service_id):
    """Buy a bundle for one of your services, paid from your balance (its credit must cover the price:
    409 `insufficient-balance` otherwise) or the service's prepaid wallet. The bucket is there at once;
    a data bundle lifts a fair-usage limit, and emergency credit of its kind is repaid from it first."""
    bought = bundles.buy_bundle(db_session(), me(), service_id, body["bundle"], pay_with=body["pay_with"],
                                reference=_reference(body["reference"], "topup"), principal=g.principal)
    return {"created": bought.created, "bundle": body["bundle"], "bucket": bought.bucket,
            "invoice_id": bought.invoice.id if bought.invoice else bought.bucket.invoice_id,
            "invoice_number": bought.invoice.number if bought.invoice else None, "from_wallet": bought.from_wallet,
            "repaid_emergency": bought.repaid_emergency, "restored": bought.restored}


@blp.route("/services/<int:service_id>/balances")
@requires("self.view", kinds=CUSTOMER)
@blp.response(200, s.BalancesOut)
def balances(service_id):
    """What one of your services has left of each kind, its buckets in the order they are used (lowest
    weight first, then the soonest to expire), and emergency credit outstanding."""
    return bundles.balances(db_session(), me(), service_id)


@blp.route("/emergency-credit")
@requires("self.view", kinds=CUSTOMER)
@blp.response(200, s.EmergencyOfferOut)
def emergency_offer():
    """Whether you may ask for emergency credit, for how many hours, and how much of each kind."""
    return bundles.emergency_offer(db_session())


@blp.route("/services/<int:service_id>/emergency-credit", methods=["POST"])
@requires("self.edit", kinds=CUSTOMER)
@idempotent
@blp.arguments(s.EmergencyIn)
@blp.response(201, s.BucketOut)
@blp.doc(**KEYED)
def request_emergency(body, service_id):
    """Emergency credit for one of your services: one at a time, for a short while, repaid by your next
    top-up of its kind (409 while one is outstanding, or where your provider does not offer it)."""
    return bundles.request_emergency(db_session(), me(), service_id, body["kind"], body["amount"],
                                     reference=_reference(body["reference"], "emergency"), principal=g.principal)
