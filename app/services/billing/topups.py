"""Top-ups, add-ons and emergency credit: buying allowance for a service ("Top-Up / Recharge" and
"Service Add-Ons" in 003; "Credit Management" in 000).

What a purchase is. A top-up (data MB, voice minutes, SMS, or money), an add-on or a promotion buys one
usage bucket (buckets.py) for one service, with its weight and expiry: a promotion (a bonus, usually
free) is drawn first (weight 10), top-ups and add-ons next (20), the plan's own allowance last (30, the
bucket usage/allowance.py makes each cycle). It is paid one of three ways (`pay_with`):

- `account`: an invoice for the price is issued at once (invoices.py: numbered, posted, the customer's
  credit spent on it) and is owed like any other — and dunned if it is not paid;
- a payment method (`cash`, `mpesa`, `card`, `bank_transfer`): the same invoice, and the money received
  recorded with it (payments.py: receipt, ledger, allocation oldest invoice first — the reseller's rule,
  so a customer with an older open invoice pays that one first);
- `wallet`: drawn from the service's prepaid money balance (its `money` buckets), all or nothing.

A free purchase (price 0: a goodwill bonus) is none of these.

Monetary top-ups — the prepaid balance. Buying money credit is a sale of credit: an invoice line "Prepaid
credit" (not taxed: it is a deposit, taxed when spent on something invoiced), paid or owed like any
purchase, and a `money` bucket holding the credit. Spending the wallet then moves no money in the ledger —
the credit was invoiced, and paid, when it was bought; the bucket records what is left of it. This keeps
the ledger audit true (every amount is on a document: the credit's invoice, its payment) and keeps the
prepaid balance out of `allocation.settle`, which would otherwise spend it on the next invoice. A payment
of method `wallet` is therefore never made here; that method is for gateways that pay invoices from a
wallet of their own. (Known gap: what is bought with the wallet is not on an invoice, so not taxed.)

Idempotency. Every purchase has a `reference` (the API's Idempotency-Key, a gateway's id, or a random
one). The bucket is inserted first, keyed by it: the same reference again returns the first purchase and
charges nothing; a reference of another purchase is a conflict.

Emergency credit — the rule. A service may have one emergency credit at a time (any kind): a bucket of
source `emergency`, free, short-lived (48 hours unless the reseller says otherwise), capped per kind, and
drawn last (weight 40). It is repaid by the next top-up of the same kind: what was used of it is taken
from the new bucket (up to all of it), and the emergency bucket is closed (what was not used is
withdrawn, and it expires now). Until it is fully repaid — it may take more than one top-up — no new
emergency credit is granted. In the emergency bucket, `total − remaining` is what is owed: closing it
withdraws the unused part from both, and each repayment takes its amount off `total`, so a fully repaid
emergency credit ends with total = remaining = 0 (what was granted and repaid is in the activity log).

Fair usage. A data top-up or promotion (or emergency data) on a service that is Limited because its data
ran out lifts the limit at once (`services.restore`). Only such a limit: its reason starts with "FUP" (or "fair
usage", "usage" — the usage module limits with `FUP_REASON`), and dunning does not hold the service. A
service limited for an unpaid invoice is restored by paying it, not by buying data.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.models.base import utcnow
from app.models.billing import PAYMENT_METHODS, Invoice, Payment, UsageBucket
from app.models.provisioning import Service
from app.services import activity, services
from app.services.auth.principal import Principal
from app.services.billing import buckets, dunning, invoices, payments
from app.services.billing.buckets import balances, consume  # noqa: F401  (the module's public face)
from app.services.errors import Conflict, Invalid
from app.services.money import money
from app.services.settings import get_setting
from app.services.usage import allowance

FUP_REASON = "FUP: allowance used up"
FUP_PREFIXES = ("fup", "fair usage", "usage")
SOURCES = ("promotion", "topup", "addon")
PAY_WITH = ("account", "wallet", *(m for m in PAYMENT_METHODS if m != "wallet"))
OPEN_SERVICE = ("Active", "Limited", "Suspended")
ZERO = Decimal("0")
NAMES = {"data": "Data top-up", "voice": "Voice top-up", "sms": "SMS bundle", "money": "Prepaid credit"}

# The reseller's setting `topups` may override these (same shape); amounts in each kind's unit.
DEFAULTS = {"emergency": {"enabled": True, "hours": 48,
                          "max": {"data": "5120", "voice": "60", "sms": "50", "money": "500.00"}}}


def config(session: Session) -> dict:
    stored = get_setting(session, "topups") or {}
    emergency = {**DEFAULTS["emergency"], **(stored.get("emergency") or {})}
    emergency["max"] = {**DEFAULTS["emergency"]["max"], **(emergency.get("max") or {})}
    return {"emergency": emergency}


@dataclass
class Purchase:
    bucket: UsageBucket
    created: bool  # False: the reference was seen before and this is the first purchase again
    invoice: Invoice | None = None
    payment: Payment | None = None
    from_wallet: Decimal | None = None
    repaid_emergency: Decimal = ZERO
    restored: bool = False


def _service(session: Session, service_id: int, allowed: tuple[str, ...]) -> Service:
    service = services.get(session, service_id, lock=True)
    if service.status not in allowed:
        raise Conflict(f"a service that is {service.status} cannot take this", current_status=service.status)
    return service


def _days(value, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 3650:
        raise Invalid(f"{field}: whole days from 1 to 3650", field=field)
    return value


def _name(kind: str, amount: Decimal, currency: str, name: str | None) -> str:
    if name:
        name = str(name).strip()
        if not name or len(name) > 200 or "\x00" in name:
            raise Invalid("name: 1 to 200 characters", field="name")
        return name
    unit = buckets.UNITS[kind] or currency
    return f"{NAMES[kind]} {amount.normalize():f} {unit}"


def buy(session: Session, service_id: int, *, kind: str, amount, price=None, pay_with: str = "account",
        source: str = "topup", validity_days: int | None = None, weight: int | None = None,
        name: str | None = None, reference: str | None = None, principal: Principal | None = None,
        now: datetime | None = None) -> Purchase:
    """Buy a top-up or add-on for a service: the bucket, its charge, the repayment of emergency credit of
    the same kind, and a fair-usage limit lifted by data. All in the caller's transaction."""
    if source not in SOURCES:
        raise Invalid(f"source: one of {', '.join(SOURCES)}", field="source")
    if pay_with not in PAY_WITH:
        raise Invalid(f"pay_with: one of {', '.join(PAY_WITH)}", field="pay_with")
    amount = buckets.quantity(amount, kind)
    if price is None and kind != "money":
        raise Invalid("price: what the customer pays for it", field="price")
    price = money(amount if price is None else price, "price")
    if price < ZERO:
        raise Invalid("price: not negative", field="price")
    if kind == "money" and pay_with == "wallet" and price > ZERO:
        raise Invalid("prepaid credit is not bought with prepaid credit", field="pay_with")
    days = _days(validity_days, "validity_days")
    now = now or utcnow()
    service = _service(session, service_id, OPEN_SERVICE)
    actor = services.actor_of(principal)
    label = _name(kind, amount, service.currency, name)
    bucket, created = buckets.add(session, customer_id=service.customer_id, service_id=service.id, kind=kind,
                                  source=source, amount=amount, weight=weight, reference=reference or _reference(),
                                  expires_at=now + timedelta(days=days) if days else None)
    if not created:
        return Purchase(bucket, False, invoice=session.get(Invoice, bucket.invoice_id) if bucket.invoice_id else None)
    purchase = Purchase(bucket, True)
    if price > ZERO and pay_with == "wallet":
        purchase.from_wallet = buckets.consume(session, service.id, "money", price, now=now, partial=False).drawn
    elif price > ZERO:
        draft = invoices.create_draft(session, service.customer_id, [{
            "description": label, "unit_price": price, "quantity": 1, "service_id": service.id, "kind": "topup",
            "taxable": kind != "money"}], currency=service.currency, actor=actor)
        purchase.invoice = invoices.issue(session, draft.id, actor=actor)
        bucket.invoice_id = purchase.invoice.id
        if pay_with != "account":
            purchase.payment = payments.record(session, customer_id=service.customer_id,
                                               amount=purchase.invoice.total, method=pay_with,
                                               currency=purchase.invoice.currency, reference=bucket.reference,
                                               actor=actor)
    purchase.repaid_emergency = _repay_emergency(session, service, bucket, now, principal)
    if kind == "data" and bucket.remaining > ZERO:
        purchase.restored = lift_fair_usage_limit(session, service, principal, why=f"{source} {bucket.id}")
    session.flush()
    activity.record(session, principal, service.customer_id, f"{source}.purchased", service_id=service.id,
                    bucket_id=bucket.id, kind=kind, amount=str(amount), price=str(price), currency=service.currency,
                    pay_with=pay_with if price > ZERO else "free", name=label,
                    invoice_id=purchase.invoice.id if purchase.invoice else None,
                    payment_id=purchase.payment.id if purchase.payment else None,
                    expires_at=bucket.expires_at.isoformat() if bucket.expires_at else None,
                    repaid_emergency=str(purchase.repaid_emergency), restored=purchase.restored)
    return purchase


def _reference() -> str:
    return f"topup:{secrets.token_hex(12)}"


# -- emergency credit ------------------------------------------------------------------------------------

def _emergencies(session: Session, service_id: int, now: datetime, kind: str | None = None, *,
                 lock: bool = True) -> list[UsageBucket]:
    """The service's emergency credit still outstanding: usable, or used and not yet repaid."""
    query = select(UsageBucket).where(UsageBucket.service_id == service_id, UsageBucket.source == "emergency",
                                      or_(buckets.usable(now), UsageBucket.total > UsageBucket.remaining))
    if kind is not None:
        query = query.where(UsageBucket.kind == kind)
    query = query.order_by(UsageBucket.id)
    return list(session.execute(query.with_for_update() if lock else query).scalars())


def outstanding_emergency(session: Session, service_id: int, *, now: datetime | None = None) -> list[dict]:
    now = now or utcnow()
    return [{"bucket_id": b.id, "kind": b.kind, "remaining": b.remaining, "owed": b.total - b.remaining,
             "expires_at": b.expires_at} for b in _emergencies(session, service_id, now, lock=False)]


def grant_emergency(session: Session, service_id: int, *, kind: str, amount, hours: int | None = None,
                    reference: str | None = None, principal: Principal | None = None,
                    now: datetime | None = None) -> UsageBucket:
    """Lend the service an emergency credit (see the module docstring for the rule). A retried grant with
    the same reference returns the first one."""
    rules = config(session)["emergency"]
    if not rules.get("enabled", True):
        raise Conflict("this reseller does not grant emergency credit")
    amount = buckets.quantity(amount, kind)
    cap = rules["max"].get(kind)
    if cap is not None and amount > Decimal(str(cap)):
        raise Invalid(f"amount: emergency {kind} credit is at most {cap}", field="amount", maximum=str(cap))
    hours = rules["hours"] if hours is None else hours
    if isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= 24 * 30:
        raise Invalid("hours: whole hours from 1 to 720", field="hours")
    now = now or utcnow()
    service = _service(session, service_id, ("Active", "Limited"))
    if reference is not None:
        existing = session.execute(select(UsageBucket).where(UsageBucket.reference == reference)).scalar_one_or_none()
        if existing is not None:
            if (existing.service_id, existing.kind, existing.source) != (service.id, kind, "emergency"):
                raise Conflict(f"reference {reference!r} was used for another purchase", field="reference")
            return existing
    outstanding = _emergencies(session, service.id, now)
    if outstanding:
        raise Conflict("this service has emergency credit already; it is repaid by the next top-up of its kind",
                       bucket_id=outstanding[0].id, kind=outstanding[0].kind)
    bucket, _ = buckets.add(session, customer_id=service.customer_id, service_id=service.id, kind=kind,
                            source="emergency", amount=amount, expires_at=now + timedelta(hours=hours),
                            reference=reference or f"emergency:{secrets.token_hex(12)}")
    restored = kind == "data" and lift_fair_usage_limit(session, service, principal, why=f"emergency {bucket.id}")
    activity.record(session, principal, service.customer_id, "topup.emergency_granted", service_id=service.id,
                    bucket_id=bucket.id, kind=kind, amount=str(amount), expires_at=bucket.expires_at.isoformat(),
                    restored=restored)
    return bucket


def _repay_emergency(session: Session, service: Service, bucket: UsageBucket, now: datetime,
                     principal: Principal | None) -> Decimal:
    """Close the service's emergency credit of the new bucket's kind and repay what was used of it from
    the new bucket (as much as it holds). Returns how much was repaid."""
    repaid = ZERO
    for emergency in _emergencies(session, service.id, now, bucket.kind):
        if emergency.id == bucket.id:
            continue
        owed = emergency.total - emergency.remaining
        withdrawn = emergency.remaining
        emergency.total, emergency.remaining = owed, ZERO  # closed: the unused part withdrawn
        if emergency.expires_at is None or emergency.expires_at > now:
            emergency.expires_at = now
        take = min(owed, bucket.remaining)
        bucket.remaining -= take
        emergency.total -= take
        repaid += take
        activity.record(session, principal, service.customer_id, "topup.emergency_repaid", service_id=service.id,
                        bucket_id=emergency.id, from_bucket_id=bucket.id, kind=bucket.kind, repaid=str(take),
                        withdrawn=str(withdrawn), still_owed=str(emergency.total))
    session.flush()
    return repaid


# -- fair usage ------------------------------------------------------------------------------------------

def limited_by_usage(session: Session, service: Service) -> bool:
    """Limited because its allowance ran out (and not held by dunning)."""
    reason = (service.status_reason or "").strip().lower()
    return (service.status == "Limited" and reason.startswith(FUP_PREFIXES)
            and not dunning.holds(session, service))


def lift_fair_usage_limit(session: Session, service: Service, principal: Principal | None, *, why: str) -> bool:
    if not limited_by_usage(session, service):
        return False
    services.restore(session, service.id, reason=f"data added ({why})", principal=principal)
    return True


def service_balances(session: Session, service_id: int, *, now: datetime | None = None) -> dict:
    """Per kind what is left, the buckets themselves (the plan's allowance of this cycle among them), and
    emergency credit outstanding."""
    now = now or utcnow()
    services.get(session, service_id)
    allowance.ensure_current(session, service_id, now=now)
    return {"service_id": service_id, "balances": list(balances(session, service_id, now=now).values()),
            "buckets": buckets.of_service(session, service_id, now=now),
            "emergency": outstanding_emergency(session, service_id, now=now)}
