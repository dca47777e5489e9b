"""Voice and SMS usage: a record of calls or messages, drawn from the service's buckets of its kind.

Where the records come from. RADIUS carries voice: a VoIP gateway or softswitch that does RADIUS
accounting sends one session per call, with Acct-Session-Time its duration in seconds; for a service of
kind `voice` the accounting store turns each such session into a record here (source `radius`, keyed by
the session key; radius/accounting.py `apply_voice`), in the same transaction as the session itself.
RADIUS does not carry SMS, nor calls from a switch that keeps its own call records (CDRs): an SMS
gateway or a softswitch sends those to the API (`POST /reseller/api/usage-records`, source
`api:<gateway>`, keyed by the gateway's own record id). Both come through `apply`.

The rule. A record is kept once per (source, external id). Its `quantity` (minutes, to the thousandth —
per-second billing — or whole messages) is drawn from the service's buckets of the kind in weight order
(promotions, top-ups, the plan's allowance — allowance.py — then emergency credit; buckets.consume),
among the buckets usable when it was used (a message when sent, a call when it ended, or for a RADIUS
session, when the packet reporting it was sent), so that a record arriving late is paid by the cycle it
belongs to. What no bucket could give is `uncovered`.
Again the same record draws nothing: a RADIUS session only grows (a later Interim-Update or the Stop
draws the growth; a retransmitted or reordered packet draws nothing), and a gateway's record sent again
with the same figures is the first one; sent again with other figures it is a conflict, not a second
call. A batch is one transaction: all of it is drawn, or none.

Not done here: refusing a call or a message once the minutes or messages are gone (that is the
switch's, or RADIUS authentication's, decision); charging it to the prepaid money balance at a rate.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.models.base import utcnow
from app.models.usage import UsageRecord
from app.services.billing import buckets, invoices
from app.services.errors import Conflict, Invalid, NotFound
from app.services.usage import allowance

KINDS = ("voice", "sms")
CATEGORIES = ("on-net", "off-net", "international", "premium")  # "Usage Breakdown" in 003
RADIUS = "radius"
GATEWAY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
MAX_BATCH = 1000
PLACES = Decimal("0.001")
ZERO = Decimal("0")
MAX_AGE = timedelta(days=30)  # a gateway's record older than this is refused: it belongs to a closed cycle
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Usage:
    """One record as it arrives."""

    service_id: int
    customer_id: int
    kind: str
    quantity: Decimal
    external_id: str
    occurred_at: datetime  # when the call started or the message went
    detail: dict | None = None
    used_by: datetime | None = None  # when this much had been used (a call's end so far); default occurred_at

    @property
    def drawn_at(self) -> datetime:
        """The moment whose usable buckets pay for it."""
        return self.used_by or self.occurred_at


@dataclass
class Applied:
    record: UsageRecord
    created: bool  # False: this record was known before
    drawn: Decimal = ZERO  # drawn by this call (not before)
    uncovered: Decimal = ZERO


def minutes(seconds: int) -> Decimal:
    """A call's seconds as minutes, to the thousandth (per-second billing)."""
    return (Decimal(seconds) / 60).quantize(PLACES, rounding=ROUND_HALF_UP)


def quantity(value, kind: str) -> Decimal:
    """Minutes (up to three decimals) or whole messages, more than zero."""
    if kind not in KINDS:
        raise Invalid(f"kind: one of {', '.join(KINDS)}", field="kind")
    amount = buckets.quantity(value, kind, "quantity")
    if kind == "sms" and amount != amount.to_integral_value():
        raise Invalid("quantity: whole messages", field="quantity")
    return amount


def occurred(value: datetime | None, now: datetime) -> datetime:
    if value is None:
        return now
    if value.tzinfo is None:
        raise Invalid("occurred_at: a time with its offset (e.g. 2026-12-06T10:00:00Z)", field="occurred_at")
    if value > now + CLOCK_SKEW or value < now - MAX_AGE:
        raise Invalid("occurred_at: within the last 30 days, not in the future", field="occurred_at")
    return value


# The records of a batch, inserted or found, in the order of their keys (two batches lock them in the
# same order). `applied` is what was drawn for before this statement: a grown RADIUS session draws the
# difference; a record that did not change draws nothing.
_UPSERT = text("""
INSERT INTO usage_records AS u (service_id, customer_id, kind, source, external_id, quantity, occurred_at,
                                detail, created_at, updated_at)
SELECT * FROM unnest(CAST(:services AS bigint[]), CAST(:customers AS bigint[]), CAST(:kinds AS text[]),
                     CAST(:sources AS text[]), CAST(:ids AS text[]), CAST(:quantities AS numeric[]),
                     CAST(:at AS timestamptz[]), CAST(:details AS jsonb[]), CAST(:nows AS timestamptz[]),
                     CAST(:nows AS timestamptz[]))
ORDER BY 4, 5
ON CONFLICT (source, external_id) DO UPDATE
    SET quantity = CASE WHEN :grows AND u.service_id = excluded.service_id AND u.kind = excluded.kind
                        THEN GREATEST(u.quantity, excluded.quantity) ELSE u.quantity END,
        updated_at = excluded.updated_at
RETURNING u.id, u.source, u.external_id, u.service_id, u.kind, u.quantity, u.drawn + u.uncovered AS applied,
          u.occurred_at, (xmax = 0) AS created
""")


def apply(session: Session, source: str, usages: list[Usage], *, grows: bool = False,
          now: datetime | None = None) -> list[Applied]:
    """Keep each record once and draw what is new of it, in the caller's transaction; results in the
    order given. `grows` (RADIUS sessions): a record seen before may have grown and draws the growth;
    without it (a gateway's records) a record seen before with other figures is a Conflict."""
    if not usages:
        return []
    keys = [u.external_id for u in usages]
    if len(set(keys)) != len(keys):
        raise Invalid("each record once in a batch", field="records")
    now = now or utcnow()
    rows = {row.external_id: row for row in session.execute(_UPSERT, {
        "services": [u.service_id for u in usages], "customers": [u.customer_id for u in usages],
        "kinds": [u.kind for u in usages], "sources": [source] * len(usages), "ids": keys,
        "quantities": [u.quantity for u in usages], "at": [u.occurred_at for u in usages],
        "details": [json.dumps(u.detail or {}) for u in usages], "nows": [now] * len(usages), "grows": grows})}
    mismatched = [u for u in usages if (rows[u.external_id].service_id, rows[u.external_id].kind) !=
                  (u.service_id, u.kind) or (not grows and rows[u.external_id].quantity != u.quantity)]
    if mismatched and not grows:
        first = mismatched[0]
        raise Conflict(f"record {first.external_id!r} was sent before with other figures",
                       field="records", id=first.external_id)
    skipped = {u.external_id for u in mismatched}  # a RADIUS session key reused by another service
    moments = {u.external_id: min(u.drawn_at, now) for u in usages}
    _open_plan_buckets(session, [(rows[u.external_id], moments[u.external_id]) for u in usages
                                 if u.external_id not in skipped])
    loaded = {r.id: r for r in session.execute(
        select(UsageRecord).where(UsageRecord.id.in_([row.id for row in rows.values()]))
        .execution_options(populate_existing=True)).scalars()}
    out = []
    for usage in usages:
        row = rows[usage.external_id]
        record = loaded[row.id]
        applied = Applied(record, bool(row.created))
        growth = row.quantity - row.applied
        if usage.external_id not in skipped and growth > 0:
            draw = buckets.consume(session, row.service_id, row.kind, growth, now=moments[usage.external_id],
                                   partial=True)
            record.drawn += draw.drawn
            record.uncovered += draw.shortfall
            applied.drawn, applied.uncovered = draw.drawn, draw.shortfall
        out.append(applied)
    session.flush()
    return out


def _open_plan_buckets(session: Session, rows: list[tuple]) -> None:
    """The plan's buckets of the cycles these (record, moment drawn at) fall in (before any draw, so that
    the locks on buckets are taken after every record's)."""
    voice = [(row, at) for row, at in rows if row.kind == "voice" and row.quantity > row.applied]
    if not voice:
        return
    found = allowance.terms(session, {row.service_id for row, _ in voice})
    zone = invoices.zone_of(session)
    wanted = []
    for row, at in voice:
        terms = found.get(row.service_id)
        if terms is not None and terms.activated_at is not None:
            day = invoices.local_date(at, zone)
            wanted.append((terms, "voice", allowance.cycle_of(terms, max(day, invoices.local_date(
                terms.activated_at, zone)), zone)))
    allowance.ensure(session, wanted, zone)


def intake(session: Session, gateway: str, items: list[dict], *,
           may_see: Callable[[int], bool] = lambda customer_id: True, now: datetime | None = None) -> list[Applied]:
    """A gateway's batch (the API's door): each item names its service by `service_id` or by the live
    service's network `username`, its `kind`, `quantity`, the gateway's record `id`, and optionally when
    it happened, the `destination` and the call's `category`. Everything is checked before anything is
    drawn; a service the caller may not see is not found."""
    if not isinstance(gateway, str) or not GATEWAY.match(gateway):
        raise Invalid("source: 1 to 40 letters, digits, '_', '.' or '-', naming the gateway", field="source")
    if not items or len(items) > MAX_BATCH:
        raise Invalid(f"records: 1 to {MAX_BATCH} at a time", field="records")
    now = now or utcnow()
    owners = _services_of(session, items)
    usages = []
    for index, item in enumerate(items):
        found = owners.get(("id", item.get("service_id"))) or owners.get(("username", item.get("username")))
        if found is None or not may_see(found[1]):
            raise NotFound(f"records[{index}]: no such service", field=f"records[{index}]")
        try:
            amount = quantity(item.get("quantity"), item.get("kind"))
            at = occurred(item.get("occurred_at"), now)
            detail = _detail(item)
        except Invalid as exc:
            raise Invalid(f"records[{index}]: {exc.detail}", field=f"records[{index}].{exc.extra.get('field')}") \
                from None
        ended = at + timedelta(seconds=int(amount * 60)) if item["kind"] == "voice" else None
        usages.append(Usage(found[0], found[1], item["kind"], amount, str(item["id"]), at, detail, ended))
    return apply(session, f"api:{gateway}", usages, now=now)


def _services_of(session: Session, items: list[dict]) -> dict[tuple[str, object], tuple[int, int]]:
    """(service id, customer id) of each service the items name, by id or by live network username."""
    ids = sorted({i["service_id"] for i in items if isinstance(i.get("service_id"), int)})
    names = sorted({i["username"] for i in items if isinstance(i.get("username"), str)})
    found: dict[tuple[str, object], tuple[int, int]] = {}
    if ids:
        for row in session.execute(text("SELECT id, customer_id FROM services WHERE id = ANY(:ids)"), {"ids": ids}):
            found[("id", row.id)] = (row.id, row.customer_id)
    if names:
        for row in session.execute(text("SELECT id, customer_id, network_username FROM services "
                                        "WHERE network_username = ANY(:names) AND status <> 'Terminated'"),
                                   {"names": names}):
            found[("username", row.network_username)] = (row.id, row.customer_id)
    return found


def _detail(item: dict) -> dict:
    detail = {}
    if item.get("destination") is not None:
        detail["destination"] = item["destination"]
    if item.get("category") is not None:
        if item["category"] not in CATEGORIES:
            raise Invalid(f"category: one of {', '.join(CATEGORIES)}", field="category")
        detail["category"] = item["category"]
    return detail


def page(session: Session, service_id: int, *, page: int, per_page: int, kind: str | None = None) -> dict:
    """The service's calls and messages, newest first."""
    where = [UsageRecord.service_id == service_id]
    if kind:
        where.append(UsageRecord.kind == kind)
    total = session.execute(select(func.count()).select_from(UsageRecord).where(*where)).scalar_one()
    rows = session.execute(select(UsageRecord).where(*where)
                           .order_by(UsageRecord.occurred_at.desc(), UsageRecord.id.desc())
                           .limit(per_page).offset((page - 1) * per_page)).scalars()
    return {"items": [out(r) for r in rows], "total": total, "page": page, "per_page": per_page}


def out(record: UsageRecord) -> dict:
    return {"id": record.id, "kind": record.kind, "unit": buckets.UNITS[record.kind], "source": record.source,
            "external_id": record.external_id, "quantity": record.quantity, "drawn": record.drawn,
            "uncovered": record.uncovered, "occurred_at": record.occurred_at,
            "destination": (record.detail or {}).get("destination"),
            "category": (record.detail or {}).get("category")}
