"""Top-ups and add-ons bought for a customer's service, emergency credit, and the service's buckets and
balances (app/services/billing/topups.py has the rules). A user restricted to some customers sees only
their services (404 otherwise). The POSTs honour `Idempotency-Key`, and a purchase's `reference` (or the
key, when no reference is given) keeps it bought once for good."""

from __future__ import annotations

from flask import g, request
from flask_smorest import Blueprint

from app.api.payments.idempotent import HEADER, PARAMETER, idempotent
from app.api.topups import schemas as s
from app.models.provisioning import Service
from app.services import services
from app.services.billing import buckets, topups
from app.services.errors import NotFound
from app.services.usage import allowance
from app.web import db_session
from app.web.auth import requires

blp = Blueprint("topups", __name__, url_prefix="/reseller/api",
                description="Top-ups, add-ons, emergency credit and usage balances")
USER = ("user",)
KEYED = {"parameters": [PARAMETER]}


def _service(service_id: int) -> Service:
    service = services.get(db_session(), service_id)
    if not g.principal.may_see_customer(service.customer_id):
        raise NotFound("no such service")
    return service


def _reference(given: str | None, prefix: str) -> str | None:
    """The caller's reference, else one made of the Idempotency-Key (so a retry after the key's 24 hours
    still finds the purchase), else none (the service makes a random one)."""
    if given:
        return f"{prefix}:ref:{g.principal.kind}:{given}"
    key = request.headers.get(HEADER)
    return f"{prefix}:key:{g.principal.kind}:{g.principal.id}:{key.strip()[:60]}" if key else None


@blp.route("/services/<int:service_id>/topups", methods=["POST"])
@requires("finance.billing", kinds=USER)
@idempotent
@blp.arguments(s.TopUpIn)
@blp.response(201, s.TopUpPurchaseOut)
@blp.doc(**KEYED)
def buy(body, service_id):
    """Buy a data, voice, SMS or money top-up, an add-on or a promotion (`source`; a bonus is free with
    `price` 0, and is drawn before top-ups) for a service: the bucket is there at once,
    the price invoiced (and paid, with a payment method) or drawn from the prepaid balance (`wallet`).
    A data top-up lifts a fair-usage limit at once (not a limit for an unpaid invoice); emergency credit
    of the same kind is repaid from it first."""
    service = _service(service_id)
    reference = _reference(body.pop("reference"), "topup")
    bought = topups.buy(db_session(), service.id, reference=reference, principal=g.principal, **body)
    return {"created": bought.created, "bucket": bought.bucket,
            "invoice_id": bought.invoice.id if bought.invoice else bought.bucket.invoice_id,
            "invoice_number": bought.invoice.number if bought.invoice else None,
            "payment_id": bought.payment.id if bought.payment else None, "from_wallet": bought.from_wallet,
            "repaid_emergency": bought.repaid_emergency, "restored": bought.restored}


@blp.route("/services/<int:service_id>/emergency-credit", methods=["POST"])
@requires("finance.billing", kinds=USER)
@idempotent
@blp.arguments(s.EmergencyCreditIn)
@blp.response(201, s.UsageBucketOut)
@blp.doc(**KEYED)
def emergency(body, service_id):
    """Lend emergency credit (48 hours unless told, capped per kind): one at a time per service, repaid
    by the next top-up of its kind. 409 while one is outstanding."""
    service = _service(service_id)
    reference = _reference(body.pop("reference"), "emergency")
    return topups.grant_emergency(db_session(), service.id, reference=reference, principal=g.principal, **body)


@blp.route("/services/<int:service_id>/balances")
@requires("finance.view", kinds=USER)
@blp.response(200, s.ServiceBalancesOut)
def balances(service_id):
    """What the service has left of each kind, its usable buckets in the order they are drawn, and any
    emergency credit outstanding."""
    return topups.service_balances(db_session(), _service(service_id).id)


@blp.route("/services/<int:service_id>/buckets")
@requires("finance.view", kinds=USER)
@blp.arguments(s.UsageBucketArgs, location="query")
@blp.response(200, s.UsageBucketOut(many=True))
def list_buckets(args, service_id):
    """The service's buckets in draw order (lowest weight, then soonest expiry), the plan's allowance of
    this cycle among them; with `include_spent` also the spent, expired and not yet started ones."""
    service = _service(service_id)
    allowance.ensure_current(db_session(), service.id)
    return buckets.of_service(db_session(), service.id, kind=args["kind"], include_spent=args["include_spent"])
