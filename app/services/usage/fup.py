"""Fair use (FUP): a service's data in its current billing cycle against its plan's `data_allowance_mb`
(NULL: unlimited, never checked).

The rule, per service and cycle (the billing cycle of `billing/cycles.py`: the customer's billing day,
the service's anchor and period):

- thresholds: the platform's 75, 90 and 100 % and the customer's own (thresholds.py); each one crossed
  sends the customer one e-mail, once per cycle (`fup_state.crossed` remembers it, in the same
  transaction as the e-mail's outbox row);
- beyond 100 %, the excess is drawn from the service's data buckets (top-ups, add-ons, emergency data;
  `fup_state.drawn_mb` is how much of the excess was drawn already, so each megabyte is drawn once);
- at 100 % with nothing left in any bucket, an Active service becomes Limited with `topups.FUP_REASON`
  (services.limit publishes `service.status_changed`, and the router gets a CoA with the reduced rate);
- a data top-up lifts that limit at once (topups.lift_fair_usage_limit) and the next accounting draws
  the excess from it; on the next cycle date, `reset_due` restores every service still Limited by FUP.

One MB is 2^20 octets, as the allowance and the buckets count it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.models.base import utcnow
from app.models.usage import FupState
from app.services import customers, services  # noqa: F401  (customers first: the two import each other)
from app.services.billing import buckets, cycles, invoices, topups
from app.services.billing.cycles import Period
from app.services.usage import thresholds
from app.services.usage.rollup import cycle_usage

log = logging.getLogger(__name__)

OCTETS_PER_MB = 1 << 20
MB_PLACES = Decimal("0.001")
RESET_REASON = "FUP: new billing cycle"
TEMPLATE = "usage/threshold"


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


def cycle_of(subject: Subject, today: date, zone) -> Period:
    activated_on = invoices.local_date(subject.activated_at, zone)
    anchor = cycles.anchor(activated_on, subject.billing_day)
    return cycles.cycle_containing(today, anchor, cycles.cycle_months(subject.billing_period))


def _mb(octets: int) -> Decimal:
    return (Decimal(octets) / OCTETS_PER_MB).quantize(MB_PLACES, rounding=ROUND_HALF_UP)


def check(session: Session, service_ids, *, now: datetime | None = None) -> dict:
    """Apply the rule to these services (those with an allowance; the rest are skipped at once), in the
    caller's transaction. Returns what it did: thresholds announced and services limited.

    Called after every accounting batch, so the common case (nothing new crossed, nothing to draw) costs
    four reads for the whole batch and no write; only a service with something to do is locked."""
    done = {"announced": [], "limited": []}
    subjects = _subjects(session, sorted(set(service_ids)))
    if not subjects:
        return done
    now = now or utcnow()
    zone = invoices.zone_of(session)
    today = invoices.local_date(now, zone)
    ids = [s.service_id for s in subjects]
    found_cycles = {s.service_id: cycle_of(s, today, zone) for s in subjects}
    used = _used(session, found_cycles)
    known = {(row.service_id, row.cycle_start): row for row in session.execute(
        select(FupState.service_id, FupState.cycle_start, FupState.crossed, FupState.drawn_mb)
        .where(FupState.service_id.in_(ids), FupState.cycle_start.in_({c.start for c in found_cycles.values()})))}
    levels = thresholds.for_services(session, ids)
    for subject in subjects:
        cycle, octets = found_cycles[subject.service_id], used.get(subject.service_id, 0)
        row = known.get((subject.service_id, cycle.start))
        if not _has_work(subject, octets, levels[subject.service_id], row):
            continue
        state = _state(session, subject.service_id, cycle, subject.allowance_mb)
        _announce(session, subject, state, octets, levels[subject.service_id], cycle, done)
        _limit_if_exhausted(session, subject, state, octets, now, done)
        state.used_octets, state.updated_at = octets, now
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
    allowance = subject.allowance_mb * OCTETS_PER_MB
    crossed = set(row.crossed or ()) if row is not None else set()
    if any(p not in crossed and used * 100 >= allowance * p for p in levels):
        return True
    drawn = row.drawn_mb if row is not None else Decimal("0")
    return used >= allowance and _mb(used) - subject.allowance_mb > drawn


def _state(session: Session, service_id: int, cycle: Period, allowance_mb: int) -> FupState:
    """The service's row for this cycle, made if missing and locked either way (two accounting batches of
    one service must not both announce the same threshold)."""
    session.execute(insert(FupState).values(service_id=service_id, cycle_start=cycle.start, cycle_end=cycle.end,
                                            allowance_mb=allowance_mb)
                    .on_conflict_do_nothing(index_elements=["service_id", "cycle_start"]))
    return session.execute(select(FupState).where(FupState.service_id == service_id,
                                                  FupState.cycle_start == cycle.start)
                           .with_for_update().execution_options(populate_existing=True)).scalar_one()


def _announce(session: Session, subject: Subject, state: FupState, used: int, levels: list[int], cycle: Period,
              done: dict) -> None:
    allowance = subject.allowance_mb * OCTETS_PER_MB
    crossed = set(state.crossed or ())
    new = [p for p in levels if p not in crossed and used * 100 >= allowance * p]
    if not new:
        return
    state.crossed = sorted(crossed | set(new))
    exhausted = used >= allowance and not _has_data(session, subject.service_id)
    for percent in new:
        _notify(session, subject, percent, used, cycle, limited=percent >= 100 and exhausted)
        done["announced"].append((subject.service_id, percent))


def _has_data(session: Session, service_id: int) -> bool:
    return buckets.balances(session, service_id)["data"]["remaining"] > 0


def _limit_if_exhausted(session: Session, subject: Subject, state: FupState, used: int, now: datetime,
                        done: dict) -> None:
    excess = _mb(used) - subject.allowance_mb
    if excess < 0:
        return
    short = Decimal("0")
    need = excess - state.drawn_mb
    if need > 0:
        draw = buckets.consume(session, subject.service_id, "data", need, now=now, partial=True)
        state.drawn_mb += draw.drawn
        short = draw.shortfall
    if subject.status != "Active" or (short <= 0 and _has_data(session, subject.service_id)):
        return
    services.limit(session, subject.service_id, reason=topups.FUP_REASON)
    state.limited_at = now
    done["limited"].append(subject.service_id)


def _notify(session: Session, subject: Subject, percent: int, used: int, cycle: Period, *, limited: bool) -> None:
    if not subject.email:
        log.info("service %s crossed %s%% of its allowance; the customer has no e-mail address",
                 subject.service_id, percent)
        return
    from app.services.notifications.outbox import queue_email

    queue_email(session, to=subject.email, template=TEMPLATE, context={
        "name": subject.name, "portal_id": subject.portal_id, "percent": percent, "limited": limited,
        "used_mb": str(_mb(used).quantize(Decimal("1"), rounding=ROUND_HALF_UP)),
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
    date has come). Idempotent: a restored service is Active and is not looked at again."""
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
    return {"service_id": service_id, "cycle_start": cycle.start, "cycle_end": cycle.end,
            "allowance_mb": subject.allowance_mb, "used_mb": _mb(used),
            "percent": (Decimal(used * 100) / (subject.allowance_mb * OCTETS_PER_MB)).quantize(
                Decimal("0.1"), rounding=ROUND_HALF_UP) if subject.allowance_mb else None,
            "limited": subject.status == "Limited"}
