"""The plan's allowance as a bucket: one per service, kind and billing cycle, weight 30.

Why a bucket and not a number fair use compares usage with: the self-care journey (003, "Bucket
Priority") draws every bucket in weight order — promotions (10) first, top-ups (20) second, the plan's
allowance (30) last — so the allowance has to stand in the same queue as the rest, and be drawn by the
same `buckets.consume`. A plan with `data_allowance_mb` gives a `data` bucket of that many MB, one with
`voice_minutes` a `voice` bucket; NULL (unlimited) or 0 gives none.

The cycle is the service's billing cycle (billing/cycles.py: the customer's billing day, the service's
anchor and period), in the reseller's calendar: the bucket is usable from the cycle's first local
midnight until the next cycle's, so it expires when the next one starts full — the reset on the cycle
date. It is made when first needed (the first usage of the cycle, a view of the service's usage or
balances) or by the daily usage job when the cycle starts, whichever comes first, and only once: its
`reference` names the service, kind and cycle, and a second making finds the first.

A plan changed in the middle of a cycle changes that cycle's bucket: its size becomes the new
allowance and what was used of it stays used.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.models.base import utcnow
from app.models.billing import UsageBucket
from app.services.billing import buckets, cycles, invoices
from app.services.billing.cycles import Period

WEIGHT = buckets.WEIGHTS["plan"]
KINDS = ("data", "voice")
OCTETS_PER_MB = 1 << 20


@dataclass(frozen=True)
class Terms:
    """What a service's plan allows per cycle, and what fixes its cycles."""

    service_id: int
    customer_id: int
    billing_day: int | None
    billing_period: str
    activated_at: datetime | None
    data_mb: int | None
    voice_minutes: int | None

    def amount(self, kind: str) -> Decimal | None:
        value = self.data_mb if kind == "data" else self.voice_minutes if kind == "voice" else None
        return Decimal(value) if value else None


_TERMS = text("""
    SELECT s.id, s.customer_id, c.billing_day, s.billing_period, s.activated_at, p.data_allowance_mb,
           p.voice_minutes
    FROM services s
    JOIN public.plans p ON p.id = s.plan_id
    JOIN customers c ON c.id = s.customer_id
    WHERE s.id = ANY(:ids)
""")


def terms(session: Session, service_ids: Iterable[int]) -> dict[int, Terms]:
    rows = session.execute(_TERMS, {"ids": sorted(set(service_ids))})
    return {row.id: Terms(row.id, row.customer_id, row.billing_day, row.billing_period, row.activated_at,
                          row.data_allowance_mb, row.voice_minutes) for row in rows}


def cycle_of(subject, day: date, zone: tzinfo) -> Period:
    """The billing cycle of a service (anything with `activated_at`, `billing_day`, `billing_period`)
    that `day` falls in."""
    anchor = cycles.anchor(invoices.local_date(subject.activated_at, zone), subject.billing_day)
    return cycles.cycle_containing(day, anchor, cycles.cycle_months(subject.billing_period))


def window(cycle: Period, zone: tzinfo) -> tuple[datetime, datetime]:
    """When a cycle's bucket is usable: from its first local midnight to the next cycle's (UTC)."""
    return (datetime.combine(cycle.start, time(0), tzinfo=zone).astimezone(UTC),
            datetime.combine(cycle.end + cycles.ONE_DAY, time(0), tzinfo=zone).astimezone(UTC))


def reference(service_id: int, kind: str, cycle: Period) -> str:
    return f"plan:{service_id}:{kind}:{cycle.start.isoformat()}"


# One statement for every bucket wanted: made if missing, resized if the plan's allowance changed. A
# data bucket made for a cycle whose usage fair use had already drawn for (before plan buckets existed,
# the allowance was counted first, migration t0012) starts with the allowance's share of it used.
_ENSURE = text("""
INSERT INTO usage_buckets AS b (customer_id, service_id, kind, source, total, remaining, weight, starts_at,
                                expires_at, reference)
SELECT w.customer_id, w.service_id, w.kind, 'plan', w.total,
       GREATEST(w.total - CASE WHEN w.kind = 'data' THEN LEAST(w.total, GREATEST(COALESCE(
           round(f.applied_octets / 1048576.0, 3) - f.drawn_mb - f.uncovered_mb, 0), 0)) ELSE 0 END, 0),
       :weight, w.starts_at, w.expires_at, w.reference
FROM unnest(CAST(:customers AS bigint[]), CAST(:services AS bigint[]), CAST(:kinds AS text[]),
            CAST(:totals AS numeric[]), CAST(:starts AS timestamptz[]), CAST(:ends AS timestamptz[]),
            CAST(:refs AS text[]), CAST(:cycles AS date[]))
     AS w(customer_id, service_id, kind, total, starts_at, expires_at, reference, cycle_start)
LEFT JOIN fup_state f ON f.service_id = w.service_id AND f.cycle_start = w.cycle_start
ORDER BY w.reference
ON CONFLICT (reference) DO UPDATE
    SET total = excluded.total, remaining = GREATEST(excluded.total - (b.total - b.remaining), 0)
    WHERE b.total <> excluded.total
""")


def ensure(session: Session, wanted: Iterable[tuple[Terms, str, Period]], zone: tzinfo) -> int:
    """Make sure each (service, kind, cycle) has its plan bucket, in the caller's transaction; returns
    how many were asked for (those whose plan allows nothing of the kind are skipped). Rows are written
    in the order of their references, so two callers lock them in the same order."""
    rows = {}
    for subject, kind, cycle in wanted:
        amount = subject.amount(kind)
        if amount is None or subject.activated_at is None:
            continue
        starts, ends = window(cycle, zone)
        ref = reference(subject.service_id, kind, cycle)
        rows[ref] = (subject.customer_id, subject.service_id, kind, amount, starts, ends, ref, cycle.start)
    if not rows:
        return 0
    session.flush()
    columns = list(zip(*(rows[ref] for ref in sorted(rows)), strict=True))
    session.execute(_ENSURE, {"weight": WEIGHT, "customers": list(columns[0]), "services": list(columns[1]),
                              "kinds": list(columns[2]), "totals": list(columns[3]), "starts": list(columns[4]),
                              "ends": list(columns[5]), "refs": list(columns[6]), "cycles": list(columns[7])})
    for loaded in list(session.identity_map.values()):  # a bucket read before may just have been resized
        if isinstance(loaded, UsageBucket) and loaded.reference in rows:
            session.expire(loaded)
    return len(rows)


def ensure_current(session: Session, service_id: int, *, now: datetime | None = None) -> None:
    """The service's plan buckets for the cycle `now` falls in (a view of its balances shows them)."""
    ensure_current_of(session, [service_id], now=now)


def ensure_current_of(session: Session, service_ids: Iterable[int], *, now: datetime | None = None) -> None:
    """`ensure_current` for several services in one statement (a dashboard shows every service's cycle)."""
    zone = invoices.zone_of(session)
    today = invoices.local_date(now or utcnow(), zone)
    found = [t for t in terms(session, service_ids).values() if t.activated_at is not None]
    ensure(session, [(t, kind, cycle_of(t, today, zone)) for t in found for kind in KINDS], zone)


_LIVE = text("""
    SELECT s.id FROM services s JOIN public.plans p ON p.id = s.plan_id
    WHERE s.status IN ('Active', 'Limited', 'Suspended') AND s.activated_at IS NOT NULL
      AND (p.data_allowance_mb > 0 OR p.voice_minutes > 0)
    ORDER BY s.id
""")
BATCH = 1000


def open_cycles(session: Session, *, now: datetime | None = None) -> int:
    """Every live service's plan buckets for today's cycle (the daily usage job; idempotent). Returns
    how many (service, kind) pairs were looked at."""
    zone = invoices.zone_of(session)
    today = invoices.local_date(now or utcnow(), zone)
    ids = list(session.execute(_LIVE).scalars())
    done = 0
    for start in range(0, len(ids), BATCH):
        found = terms(session, ids[start:start + BATCH]).values()
        done += ensure(session, [(t, kind, cycle_of(t, today, zone)) for t in found for kind in KINDS], zone)
    return done
