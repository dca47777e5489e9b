"""Fair use (FUP): a service's data in its current billing cycle, drawn from its data buckets in weight
order, measured against its plan's `data_allowance_mb` (NULL: unlimited, never checked).

The rule, per service and cycle (the billing cycle of `billing/cycles.py`: the customer's billing day,
the service's anchor and period):

- drawing: every megabyte of the cycle's usage is drawn once from the service's data buckets, in the
  order of the self-care journey (003): promotions (weight 10), top-ups and add-ons (20), the plan's
  allowance (30, a bucket per cycle: allowance.py), emergency credit (40); the same weight by soonest
  expiry (billing/buckets.py `consume`). `fup_state.applied_octets` is how much of the cycle's usage has
  been drawn for. The accounting store only ever adds real growth to `usage_daily`, so a retransmitted,
  duplicated or reordered packet adds nothing and draws nothing; two checks of one service take turns
  on its row locks.
- thresholds: the platform's 75, 90 and 100 % and the customer's own (thresholds.py), of the plan's
  allowance: the usage that reached it — what the plan's bucket gave, plus what no bucket could — which
  is the usage drawn for less what the other buckets gave (`drawn_mb`). So a promotion or a top-up drawn
  first holds the percentage still. Each one crossed sends the customer one e-mail, once per cycle
  (`fup_state.crossed` remembers it, in the same transaction as the e-mail's outbox row);
- Limited: an Active service whose data buckets are all empty after a draw becomes Limited with
  `topups.FUP_REASON` (services.limit publishes `service.status_changed`, and the router gets a CoA with
  the reduced rate). A customer with a top-up left is not Limited, whatever the plan's percentage says;
- usage that found no bucket (`uncovered_mb`: at the reduced speed, until the limit took effect) is not
  taken from a top-up bought later: what the top-up buys is full speed from then on;
- a data top-up lifts the limit at once (topups.lift_fair_usage_limit) and the next accounting draws
  from it; on the next cycle date, `reset_due` restores every service still Limited by FUP and opens the
  new cycle's plan buckets.

One MB is 2^20 octets, as the allowance and the buckets count it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select, text, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.models.base import utcnow
from app.models.usage import FupState
from app.services import customers, services  # noqa: F401  (customers first: the two import each other)
from app.services.billing import buckets, invoices, topups
from app.services.billing.buckets import Draw
from app.services.billing.cycles import Period
from app.services.usage import allowance, thresholds
from app.services.usage.allowance import OCTETS_PER_MB
from app.services.usage.rollup import cycle_usage

log = logging.getLogger(__name__)

MB_PLACES = Decimal("0.001")
PERCENT_PLACES = Decimal("0.1")
RESET_REASON = "FUP: new billing cycle"
TEMPLATE = "usage/threshold"
ZERO = Decimal("0")


@dataclass(frozen=True)
class Subject:
    """What the rule needs of a service, read in one query for a batch."""

    service_id: int
    customer_id: int
    status: str
    status_reason: str | None
    allowance_mb: int
    billing_day: int | None
    billing_period: str
    activated_at: datetime | None
    email: str | None
    name: str
    portal_id: str

    @property
    def terms(self) -> allowance.Terms:
        return allowance.Terms(self.service_id, self.customer_id, self.billing_day, self.billing_period,
                               self.activated_at, self.allowance_mb, None)


_SUBJECTS = text("""
    SELECT s.id, s.customer_id, s.status, s.status_reason, p.data_allowance_mb, c.billing_day, s.billing_period,
           s.activated_at, c.email, c.kind, c.first_name, c.last_name, c.company_name, c.portal_id
    FROM services s
    JOIN public.plans p ON p.id = s.plan_id
    JOIN customers c ON c.id = s.customer_id
    WHERE s.id = ANY(:ids) AND p.data_allowance_mb IS NOT NULL AND s.activated_at IS NOT NULL
      AND s.status IN ('Active', 'Limited')
""")


def _subjects(session: Session, service_ids: list[int]) -> list[Subject]:
    from app.models import Customer

    out = []
    for row in session.execute(_SUBJECTS, {"ids": list(service_ids)}):
        out.append(Subject(row.id, row.customer_id, row.status, row.status_reason, row.data_allowance_mb,
                           row.billing_day, row.billing_period, row.activated_at, row.email,
                           Customer.name_of(row.kind, row.first_name, row.last_name, row.company_name,
                                            row.portal_id), row.portal_id))
    return out


def cycle_of(subject: Subject, today, zone) -> Period:
    return allowance.cycle_of(subject, today, zone)


def _mb(octets: int) -> Decimal:
    return (Decimal(octets) / OCTETS_PER_MB).quantize(MB_PLACES, rounding=ROUND_HALF_UP)


def plan_share(state) -> Decimal:
    """The cycle's usage that reached the plan's allowance: drawn from the plan's bucket, or found none."""
    return _mb(state.applied_octets) - state.drawn_mb


def percent_of(share: Decimal, allowance_mb: int | None) -> Decimal | None:
    if not allowance_mb:
        return None
    return (share * 100 / allowance_mb).quantize(PERCENT_PLACES, rounding=ROUND_HALF_UP)


def check(session: Session, service_ids, *, now: datetime | None = None) -> dict:
    """Apply the rule to these services (those with an allowance; the rest are skipped at once), in the
    caller's transaction. Returns what it did: thresholds announced and services limited.

    Called after every accounting batch. A service whose usage did not grow (and has no threshold newly
    within reach) costs a share of four reads for the whole batch and no write; the others are locked
    (service row first, as a purchase locks it, then fair-use state, then buckets) and drawn."""
    done = {"announced": [], "limited": []}
    subjects = _subjects(session, sorted(set(service_ids)))
    if not subjects:
        return done
    now = now or utcnow()
    zone = invoices.zone_of(session)
    today = invoices.local_date(now, zone)
    found_cycles = {s.service_id: allowance.cycle_of(s, today, zone) for s in subjects}
    used = _used(session, found_cycles)
    known = {(row.service_id, row.cycle_start): row for row in session.execute(
        select(FupState.service_id, FupState.cycle_start, FupState.crossed, FupState.applied_octets,
               FupState.drawn_mb)
        .where(FupState.service_id.in_(found_cycles),
               FupState.cycle_start.in_({c.start for c in found_cycles.values()})))}
    levels = thresholds.for_services(session, list(found_cycles))
    work = [s for s in subjects if _has_work(s, used.get(s.service_id, 0), levels[s.service_id],
                                             known.get((s.service_id, found_cycles[s.service_id].start)))]
    if not work:
        return done
    statuses = _lock_services(session, [s.service_id for s in work])
    work = [replace(s, status=statuses[s.service_id][0], status_reason=statuses[s.service_id][1])
            for s in work if s.service_id in statuses]
    states = _states(session, work, found_cycles)
    allowance.ensure(session, [(s.terms, "data", found_cycles[s.service_id]) for s in work], zone)
    for subject in work:
        state, cycle = states[subject.service_id], found_cycles[subject.service_id]
        octets = used.get(subject.service_id, 0)
        draw = _draw(session, subject, state, octets, now)
        _announce(session, subject, state, levels[subject.service_id], cycle, draw, done)
        if draw is not None:
            _limit_if_exhausted(session, subject, state, draw, now, done)
        state.used_octets, state.updated_at = max(state.used_octets, octets), now
    session.flush()
    return done


def _used(session: Session, found_cycles: dict[int, Period]) -> dict[int, int]:
    """Octets per service in its own cycle, from one read of the days since the earliest cycle start."""
    earliest = min(c.start for c in found_cycles.values())
    used: dict[int, int] = {}
    rows = session.execute(text(
        "SELECT service_id, day, upload + download FROM usage_daily WHERE service_id = ANY(:ids) AND day >= :start"),
        {"ids": list(found_cycles), "start": earliest})
    for service_id, day, octets in rows:
        if day in found_cycles[service_id]:
            used[service_id] = used.get(service_id, 0) + int(octets)
    return used


def _has_work(subject: Subject, used: int, levels: list[int], row) -> bool:
    applied = row.applied_octets if row is not None else 0
    if used > applied:
        return True
    if row is None or not subject.allowance_mb:
        return False
    crossed = set(row.crossed or ())
    share = plan_share(row)
    return any(p not in crossed and share * 100 >= subject.allowance_mb * p for p in levels)


def _lock_services(session: Session, service_ids: list[int]) -> dict[int, tuple[str, str | None]]:
    """Lock the services about to be drawn for, in id order, and read their status as it is now."""
    rows = session.execute(text("SELECT id, status, status_reason FROM services WHERE id = ANY(:ids) "
                                "AND status IN ('Active', 'Limited') ORDER BY id FOR UPDATE"),
                           {"ids": sorted(service_ids)})
    return {row.id: (row.status, row.status_reason) for row in rows}


def _states(session: Session, work: list[Subject], found_cycles: dict[int, Period]) -> dict[int, FupState]:
    """Each service's row for its cycle, made if missing and locked either way (two accounting batches of
    one service must not both draw the same usage or announce the same threshold)."""
    keys = sorted((s.service_id, found_cycles[s.service_id].start) for s in work)
    session.execute(insert(FupState).values([
        {"service_id": s.service_id, "cycle_start": found_cycles[s.service_id].start,
         "cycle_end": found_cycles[s.service_id].end, "allowance_mb": s.allowance_mb}
        for s in sorted(work, key=lambda s: s.service_id)])
        .on_conflict_do_nothing(index_elements=["service_id", "cycle_start"]))
    rows = session.execute(select(FupState).where(tuple_(FupState.service_id, FupState.cycle_start).in_(keys))
                           .order_by(FupState.service_id).with_for_update()
                           .execution_options(populate_existing=True)).scalars()
    return {row.service_id: row for row in rows}


def _draw(session: Session, subject: Subject, state: FupState, octets: int, now: datetime) -> Draw | None:
    """Draw the cycle's usage not drawn for yet; None when there is none (to the megabyte's thousandth)."""
    if octets <= state.applied_octets:
        return None
    need = _mb(octets) - _mb(state.applied_octets)
    state.applied_octets = octets
    if need <= 0:
        return None
    draw = buckets.consume(session, subject.service_id, "data", need, now=now, partial=True)
    state.drawn_mb += draw.drawn - draw.from_plan
    state.uncovered_mb += draw.shortfall
    return draw


def _announce(session: Session, subject: Subject, state: FupState, levels: list[int], cycle: Period,
              draw: Draw | None, done: dict) -> None:
    if not subject.allowance_mb:
        return
    share = plan_share(state)
    crossed = set(state.crossed or ())
    new = [p for p in levels if p not in crossed and share * 100 >= subject.allowance_mb * p]
    if not new:
        return
    state.crossed = sorted(crossed | set(new))
    exhausted = draw.left <= 0 if draw is not None else not _has_data(session, subject.service_id)
    for percent in new:
        _notify(session, subject, percent, share, cycle, limited=percent >= 100 and exhausted)
        done["announced"].append((subject.service_id, percent))


def _has_data(session: Session, service_id: int) -> bool:
    return buckets.balances(session, service_id)["data"]["remaining"] > 0


def _limit_if_exhausted(session: Session, subject: Subject, state: FupState, draw: Draw, now: datetime,
                        done: dict) -> None:
    if subject.status != "Active" or draw.left > 0:
        return
    services.limit(session, subject.service_id, reason=topups.FUP_REASON)
    state.limited_at = now
    done["limited"].append(subject.service_id)


def _notify(session: Session, subject: Subject, percent: int, share: Decimal, cycle: Period, *,
            limited: bool) -> None:
    if not subject.email:
        log.info("service %s crossed %s%% of its allowance; the customer has no e-mail address",
                 subject.service_id, percent)
        return
    from app.services.notifications.outbox import queue_email

    queue_email(session, to=subject.email, template=TEMPLATE, context={
        "name": subject.name, "portal_id": subject.portal_id, "percent": percent, "limited": limited,
        "used_mb": str(share.quantize(Decimal("1"), rounding=ROUND_HALF_UP)),
        "allowance_mb": subject.allowance_mb, "cycle_end": cycle.end.isoformat(), "service_id": subject.service_id,
        "portal_url": _portal_url(session)})


def _portal_url(session: Session) -> str | None:
    from app.config import Settings
    from app.services.branding import rendering
    from tenants import current_tenant

    tenant = current_tenant()
    host = rendering.primary_host(session, tenant.id) if tenant is not None else None
    return f"{Settings.from_env().public_url(host)}/portal" if host else None


def reset_due(session: Session, *, now: datetime | None = None) -> list[int]:
    """Restore the services Limited by FUP whose limit belongs to a cycle that has ended (the billing-cycle
    date has come), and make sure every live service has its plan buckets for the cycle that has begun.
    Idempotent: a restored service is Active and is not looked at again; a plan bucket is made once."""
    now = now or utcnow()
    zone = invoices.zone_of(session)
    today = invoices.local_date(now, zone)
    limited = session.execute(text("SELECT id FROM services WHERE status = 'Limited'")).scalars().all()
    restored = []
    for subject in _subjects(session, list(limited)):
        service = services.get(session, subject.service_id, lock=True)
        if not topups.limited_by_usage(session, service):
            continue
        cycle = cycle_of(subject, today, zone)
        current = session.execute(select(FupState.limited_at).where(
            FupState.service_id == service.id, FupState.cycle_start == cycle.start)).scalar_one_or_none()
        if current is not None:
            continue  # limited in this very cycle: it stays until the next cycle or a top-up
        services.restore(session, service.id, reason=RESET_REASON)
        restored.append(service.id)
    allowance.open_cycles(session, now=now)
    return restored


def status(session: Session, service_id: int, *, now: datetime | None = None) -> dict | None:
    """The service's fair use now (for the portal): None for a service without an allowance."""
    subjects = _subjects(session, [service_id])
    if not subjects:
        return None
    subject = subjects[0]
    zone = invoices.zone_of(session)
    cycle = cycle_of(subject, invoices.local_date(now or utcnow(), zone), zone)
    used = cycle_usage(session, [service_id], cycle.start, cycle.end).get(service_id, 0)
    state = session.execute(select(FupState).where(FupState.service_id == service_id,
                                                   FupState.cycle_start == cycle.start)).scalar_one_or_none()
    share = plan_share(state) if state is not None else ZERO
    return {"service_id": service_id, "cycle_start": cycle.start, "cycle_end": cycle.end,
            "allowance_mb": subject.allowance_mb, "used_mb": _mb(used),
            "percent": percent_of(share, subject.allowance_mb), "limited": subject.status == "Limited"}
