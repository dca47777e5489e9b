"""Usage buckets: the allowances a service draws on, and the one way to draw on them.

A bucket holds an amount of one kind — `data` (MB), `voice` (minutes), `sms` (messages) or `money` (the
service's currency) — from its plan, a promotion, a top-up, an add-on or emergency credit, usable from
`starts_at` until `expires_at` (none: no expiry). "Bucket Priority" in the self-care journey (003) says
which goes first:

    weight 10 consumed first (promotional, bonus), 20 second (top-ups), 30 last (the plan's allowance)

so `consume` draws the lowest weight first, then the bucket that expires soonest (so that nothing is
left to expire that could have been used), then the oldest; expired buckets and those not started yet
are skipped. Emergency credit has weight 40: it is the last resort, used only when everything the
customer paid for is gone (topups.py has its rules). The plan's allowance is a bucket like the others,
one per service, kind and billing cycle, made by app/services/usage/allowance.py; usage of every kind is
drawn through `consume` (fair use for data, usage records for voice and SMS).

Why row locks and not arithmetic in one UPDATE: a draw may span several buckets, and two draws at once
(RADIUS accounting for two sessions of one service, a wallet purchase) must not both take the same
last megabytes. `consume` locks the buckets it reads (`FOR UPDATE`, in the draw order, so two
consumers lock in the same order and never deadlock); the second waits, and PostgreSQL re-reads the rows
the first changed before handing them over. The check constraint `0 <= remaining <= total` is the last
line: a bug that overdraws fails, it does not go negative.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.models.base import utcnow
from app.models.billing import UsageBucket
from app.services.errors import Conflict, Invalid
from app.services.money import to_decimal

KINDS = ("data", "voice", "sms", "money")
SOURCES = ("plan", "promotion", "topup", "addon", "emergency")
UNITS = {"data": "MB", "voice": "minutes", "sms": "messages", "money": None}
WEIGHTS = {"promotion": 10, "topup": 20, "addon": 20, "plan": 30, "emergency": 40}
PLACES = Decimal("0.001")
LIMIT = Decimal(10) ** 15  # what numeric(18, 3) holds
ZERO = Decimal("0")


def quantity(value, kind: str, field: str = "amount") -> Decimal:
    """An amount of a bucket's kind: more than zero, at most three decimals (money: two)."""
    if kind not in KINDS:
        raise Invalid(f"kind: one of {', '.join(KINDS)}", field="kind")
    amount = to_decimal(value, field)
    places = Decimal("0.01") if kind == "money" else PLACES
    if amount <= ZERO or amount >= LIMIT or amount != amount.quantize(places):
        raise Invalid(f"{field}: more than 0, at most {'two' if kind == 'money' else 'three'} decimal places",
                      field=field)
    return amount.quantize(places)


def usable(now: datetime):
    """The SQL condition of a bucket that can be drawn on at `now`."""
    return (UsageBucket.remaining > 0) & (UsageBucket.starts_at <= now) & or_(
        UsageBucket.expires_at.is_(None), UsageBucket.expires_at > now)


def add(session: Session, *, customer_id: int, service_id: int, kind: str, source: str, amount: Decimal,
        weight: int | None = None, expires_at: datetime | None = None, starts_at: datetime | None = None,
        reference: str | None = None, invoice_id: int | None = None) -> tuple[UsageBucket, bool]:
    """A new bucket, full. With a `reference` it is made once: the same reference again returns the bucket
    made the first time and False (so a retried top-up neither charges nor credits twice); the reference
    of another service's or kind's bucket is a Conflict, not a silent success."""
    if source not in SOURCES:
        raise Invalid(f"source: one of {', '.join(SOURCES)}", field="source")
    amount = quantity(amount, kind)
    weight = WEIGHTS[source] if weight is None else weight
    if isinstance(weight, bool) or not isinstance(weight, int) or not 0 <= weight <= 1000:
        raise Invalid("weight: a whole number from 0 to 1000 (lower is drawn first)", field="weight")
    values = dict(customer_id=customer_id, service_id=service_id, kind=kind, source=source, total=amount,
                  remaining=amount, weight=weight, expires_at=expires_at, invoice_id=invoice_id, reference=reference)
    if starts_at is not None:
        values["starts_at"] = starts_at
    statement = insert(UsageBucket).values(**values).returning(UsageBucket.id)
    if reference is not None:
        statement = statement.on_conflict_do_nothing(index_elements=[UsageBucket.reference])
    bucket_id = session.execute(statement).scalar_one_or_none()
    if bucket_id is not None:
        return session.get(UsageBucket, bucket_id), True
    existing = session.execute(select(UsageBucket).where(UsageBucket.reference == reference)).scalar_one()
    if (existing.service_id, existing.kind, existing.source) != (service_id, kind, source):
        raise Conflict(f"reference {reference!r} was used for another purchase", field="reference")
    return existing, False


@dataclass
class Draw:
    """What a `consume` took: from which buckets how much, and what it could not find."""

    kind: str
    asked: Decimal
    taken: list[tuple[int, Decimal]] = field(default_factory=list)  # (bucket id, amount), in draw order
    from_plan: Decimal = ZERO  # the part of `drawn` that came from the plan's allowance
    left: Decimal = ZERO  # what the usable buckets of the kind still hold after the draw

    @property
    def drawn(self) -> Decimal:
        return sum((amount for _, amount in self.taken), ZERO)

    @property
    def shortfall(self) -> Decimal:
        return self.asked - self.drawn


def consume(session: Session, service_id: int, kind: str, amount, *, now: datetime | None = None,
            partial: bool = True) -> Draw:
    """Draw `amount` of `kind` from the service's usable buckets, lowest weight first, then soonest
    expiry, in the caller's transaction, with the buckets locked until it ends.

    With `partial` (usage that has already happened: the megabytes are spent whatever we say) it takes
    what there is and reports the shortfall; without it (a purchase paid from the balance) it takes all
    or nothing and says how much is missing."""
    amount = quantity(amount, kind)
    now = now or utcnow()
    buckets = session.execute(
        select(UsageBucket).where(UsageBucket.service_id == service_id, UsageBucket.kind == kind, usable(now))
        .order_by(UsageBucket.weight, UsageBucket.expires_at.asc().nulls_last(), UsageBucket.id)
        .with_for_update()).scalars().all()
    available = sum((b.remaining for b in buckets), ZERO)
    if not partial and available < amount:
        unit = UNITS[kind] or "of prepaid balance"
        raise Conflict(f"not enough {kind}: {available} {unit} left, {amount} needed", available=str(available),
                       needed=str(amount))
    draw = Draw(kind=kind, asked=amount, left=available)
    left = amount
    for bucket in buckets:
        if left <= ZERO:
            break
        take = min(bucket.remaining, left)
        bucket.remaining -= take
        left -= take
        draw.left -= take
        draw.taken.append((bucket.id, take))
        if bucket.source == "plan":
            draw.from_plan += take
    session.flush()
    return draw


def of_service(session: Session, service_id: int, *, kind: str | None = None, include_spent: bool = False,
               now: datetime | None = None) -> list[UsageBucket]:
    """A service's buckets in draw order; only the usable ones unless `include_spent` (then also spent,
    expired and future ones)."""
    return of_services(session, [service_id], kind=kind, include_spent=include_spent, now=now).get(service_id, [])


def of_services(session: Session, service_ids: Iterable[int], *, kind: str | None = None,
                include_spent: bool = False, now: datetime | None = None) -> dict[int, list[UsageBucket]]:
    """`of_service` for several services in one query, by service id (those without buckets absent)."""
    now = now or utcnow()
    query = select(UsageBucket).where(UsageBucket.service_id.in_(sorted(set(service_ids))))
    if kind is not None:
        query = query.where(UsageBucket.kind == kind)
    if not include_spent:
        query = query.where(usable(now))
    out: dict[int, list[UsageBucket]] = {}
    for bucket in session.execute(query.order_by(UsageBucket.service_id, UsageBucket.kind, UsageBucket.weight,
                                                 UsageBucket.expires_at.asc().nulls_last(),
                                                 UsageBucket.id)).scalars():
        out.setdefault(bucket.service_id, []).append(bucket)
    return out


def balances(session: Session, service_id: int, *, now: datetime | None = None) -> dict[str, dict]:
    """What the service has left, per kind (every kind, zero when it has none): the usable remainder, the
    total of those buckets, and when the soonest of them expires."""
    now = now or utcnow()
    found = {kind: {"kind": kind, "unit": UNITS[kind], "remaining": ZERO, "total": ZERO, "buckets": 0,
                    "next_expiry": None} for kind in KINDS}
    for bucket in of_service(session, service_id, now=now):
        entry = found[bucket.kind]
        entry["remaining"] += bucket.remaining
        entry["total"] += bucket.total
        entry["buckets"] += 1
        if bucket.expires_at is not None and (entry["next_expiry"] is None or bucket.expires_at < entry["next_expiry"]):
            entry["next_expiry"] = bucket.expires_at
    return found
