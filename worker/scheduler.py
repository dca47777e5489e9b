"""The scheduler: every tenant's daily jobs, once per day of the tenant's own calendar.

How it runs. `periodiq` (a cron for Dramatiq) sends one platform message, `scheduler_tick`, every 15
minutes; a worker runs it (`tick`). `backhaul run` starts the periodiq process beside web and worker;
in Kubernetes it is one small deployment (`periodiq worker.scheduler`). periodiq itself keeps no state
and two of them would send two ticks: harmless, because the tick is what is idempotent, not the clock.

What a tick does. For every Active tenant it works out the tenant's local date from its `timezone`
setting (a reseller in Nairobi starts its 11 March at 21:00 UTC on the 10th), and the first tick of
each local day claims the day with a Redis key set NX — `<namespace>:<schema>:daily:<YYYY-MM-DD>`
(namespace `backhaul` unless BACKHAUL_QUEUE_NAMESPACE says otherwise), kept three days — and enqueues
that tenant's daily jobs with the local date:

- `dunning_daily(on_iso)`               worker/actors/dunning.py
- `bill_customers_due(on_iso)`          worker/actors/billing.py (the billing run's daily trigger)
- `retry_charges_due(on_iso)`           worker/actors/payments.py
- `apply_service_requests_due(on_iso)`  worker/actors/daily.py
- `usage_daily(on_iso)`                 worker/actors/usage.py (fair-use resets, stale RADIUS sessions, retention)
- `commissions_daily(on_iso)`           worker/actors/commissions.py (the month's commission close)
- `payouts_daily(on_iso)`               worker/actors/payouts.py (commission payouts on the processing day)
- `reports_daily(on_iso)`               worker/actors/reports.py (scheduled reports e-mailed)
- `payment_plans_daily(on_iso)`         worker/actors/arrangements.py (instalments reached or missed, plans ended)
- `privacy_daily(on_iso)`               worker/actors/privacy.py (expired data exports removed, lost builds sent again)

Once per UTC day it also enqueues `platform_daily` (housekeeping purge, outbox flush) and
`reseller_accounts_daily` (wholesale charges, emergency credit expiry, credit-limit alerts). Each job is
idempotent on its own (unique keys: one dunning step per invoice and step, one invoice per service and
period, one attempt per invoice and number), so a day claimed twice — a lost key, a restored Redis —
costs a little work and changes nothing. A day whose jobs could not be enqueued (Redis gone between the
claim and the send) gives its claim back, and the next tick tries again. A job whose module is not
deployed in this build is skipped with a warning; the others still go.

The tenant travels in each message (worker/middleware.py): the jobs are sent inside the tenant's
context, and a job for tenant A runs in A's schema only.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dramatiq
from periodiq import PeriodiqMiddleware, cron
from sqlalchemy import text

from app import clock
from tenants import Tenant, tenant_context
from tenants.schema import quote_schema
from tenants.storage import redis_key
from worker import broker as runtime

log = logging.getLogger(__name__)

EVERY = "*/15 * * * *"
KEEP = timedelta(days=3)
CHUNK = 200  # schemas read per query when looking up time zones
DAILY_JOBS: tuple[tuple[str, str], ...] = (
    ("worker.actors.dunning", "dunning_daily"),
    ("worker.actors.billing", "bill_customers_due"),
    ("worker.actors.payments", "retry_charges_due"),
    ("worker.actors.daily", "apply_service_requests_due"),
    ("worker.actors.usage", "usage_daily"),
    ("worker.actors.commissions", "commissions_daily"),
    ("worker.actors.payouts", "payouts_daily"),
    ("worker.actors.reports", "reports_daily"),
    ("worker.actors.arrangements", "payment_plans_daily"),
    ("worker.actors.privacy", "privacy_daily"),
)
PLATFORM_JOBS: tuple[tuple[str, str], ...] = (
    ("worker.actors.daily", "platform_daily"),
    ("worker.actors.reseller_accounts", "reseller_accounts_daily"),
)

# periodiq's option `periodic` is declared by its middleware; a tick older than five minutes when a
# worker gets to it (after an outage) is dropped: the next one comes soon and does the same.
if not any(isinstance(m, PeriodiqMiddleware) for m in runtime.broker.middleware):
    runtime.broker.add_middleware(PeriodiqMiddleware(skip_delay=300))


def day_key(schema: str, day: date) -> str:
    return redis_key(schema, "daily", day.isoformat())


def _zone(name) -> ZoneInfo:
    try:
        return ZoneInfo(str(name or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def time_zones(engine, tenants: list[Tenant]) -> dict[str, ZoneInfo]:
    """Each tenant's time zone (by schema), read a few hundred schemas per query; a schema that cannot
    be read (being provisioned, broken) is read alone, and without a zone the tenant is left out."""
    found: dict[str, ZoneInfo] = {}

    def read(chunk: list[Tenant]) -> None:
        union = " UNION ALL ".join(
            f"SELECT '{t.schema}', (SELECT value #>> '{{}}' FROM {quote_schema(t.schema)}.settings "
            f"WHERE key = 'timezone')" for t in chunk)
        with tenant_context(None), engine.connect() as conn:
            for schema, value in conn.execute(text(union)):
                found[schema] = _zone(value)

    for start in range(0, len(tenants), CHUNK):
        chunk = tenants[start:start + CHUNK]
        try:
            read(chunk)
        except Exception:
            for tenant in chunk:
                try:
                    read([tenant])
                except Exception:
                    log.exception("time zone of tenant %s unreadable: its daily jobs wait", tenant.code)
    return found


def all_tenants(db) -> list[Tenant]:
    from app.services import tenants as registry

    with tenant_context(None), db.session() as session:
        return [registry.ref(row) for row in registry.list_all(session)]


def _actor(module: str, name: str) -> dramatiq.Actor | None:
    """The actor object (bound to whichever broker it was declared or re-bound on), or None when its
    module is not part of this build."""
    try:
        found = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            return None
        raise
    return getattr(found, name, None)


def _send(jobs: tuple[tuple[str, str], ...], on: date) -> list[str]:
    sent = []
    for module, name in jobs:
        actor = _actor(module, name)
        if actor is None:
            log.warning("daily job %s.%s is not in this build; skipped", module, name)
            continue
        actor.send(on.isoformat())
        sent.append(name)
    return sent


@dataclass
class Ticked:
    now: datetime
    tenants: dict[str, tuple[str, list[str]]] = field(default_factory=dict)  # code → (local date, jobs sent)
    platform: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def tick(now: datetime | None = None, *, db=None, redis=None, tenants: list[Tenant] | None = None) -> Ticked:
    """One tick at `now` (UTC; the clock by default): enqueue the daily jobs of every Active tenant whose
    local day has not been claimed yet. `db`, `redis` and `tenants` default to the process's own (tests
    give theirs, and a fixed `now`)."""
    now = (now or clock.now()).astimezone(UTC)
    db = db or runtime.database()
    client = redis or runtime.broker.client
    if tenants is None:
        tenants = all_tenants(db)
    tenants = [t for t in tenants if t.status == "Active"]
    result = Ticked(now)
    zones = time_zones(db.engine, tenants)
    for tenant in tenants:
        if tenant.schema not in zones:
            continue
        local = now.astimezone(zones[tenant.schema]).date()
        key = day_key(tenant.schema, local)
        if not client.set(key, now.isoformat(), nx=True, ex=KEEP):
            continue
        try:
            with tenant_context(tenant):
                result.tenants[tenant.code] = (local.isoformat(), _send(DAILY_JOBS, local))
        except Exception:
            client.delete(key)  # give the day back: the next tick tries again
            log.exception("daily jobs of %s for %s not enqueued", tenant.code, local)
            result.failed.append(tenant.code)
    utc_day = now.date()
    key = day_key("platform", utc_day)
    if client.set(key, now.isoformat(), nx=True, ex=KEEP):
        try:
            with tenant_context(None):
                result.platform = _send(PLATFORM_JOBS, utc_day)
        except Exception:
            client.delete(key)
            log.exception("platform daily jobs for %s not enqueued", utc_day)
            result.failed.append("platform")
    if result.tenants or result.platform:
        log.info("scheduler tick %s: %d tenant(s) started their day%s", now.isoformat(timespec="minutes"),
                 len(result.tenants), ", and the platform" if result.platform else "")
    return result


@dramatiq.actor(broker=runtime.broker, tenant_scoped=False, periodic=cron(EVERY), queue_name="scheduler",
                max_retries=0, time_limit=600_000)
def scheduler_tick() -> None:
    tick()
