"""Daily work that is not billing's: service requests that fall due (per tenant), and the platform's
clean-ups (once a day for everyone). The scheduler (worker/scheduler.py) sends them.

- `apply_service_requests_due(on_iso)`, tenant-scoped: completes approved change requests whose day has
  come, starts and ends vacation holds (app/services/service_requests.py `apply_due`, idempotent: a done
  request is Completed, a started hold is Suspended).
- `platform_daily(on_iso)`, not tenant-scoped: what `backhaul housekeeping purge` and `backhaul outbox
  flush` do — dead sessions, tokens and sign-in history purged, and e-mail still pending after an hour
  enqueued again (sending is idempotent). Each tenant in a transaction of its own, so one broken schema
  is logged and skipped, not the end of everyone's clean-up.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

import dramatiq

from app.services import service_requests
from worker import broker as runtime

log = logging.getLogger(__name__)

OPTIONS = {"queue_name": "daily", "max_retries": 3, "min_backoff": 60_000, "max_backoff": 900_000,
           "time_limit": 3_600_000}


@dramatiq.actor(broker=runtime.broker, **OPTIONS)
def apply_service_requests_due(on_iso: str) -> dict:
    with runtime.database().session() as session:
        done = service_requests.apply_due(session, date.fromisoformat(on_iso))
    log.info("service requests for %s: %s", on_iso, done)
    return done


@dramatiq.actor(broker=runtime.broker, tenant_scoped=False, **OPTIONS)
def platform_daily(on_iso: str) -> dict:
    from app.services.auth import housekeeping
    from app.services.notifications import flush
    from tenants import tenant_context
    from worker.scheduler import all_tenants

    db = runtime.database()
    done = {"purged": 0, "flushed": 0, "failed": []}
    with db.session() as session:
        done["purged"] += housekeeping.purge_platform(session)
        done["flushed"] += flush(session, older_than=timedelta(hours=1))
    for tenant in all_tenants(db):
        try:
            with tenant_context(tenant), db.session() as session:
                done["purged"] += housekeeping.purge_tenant(session)
                done["flushed"] += flush(session, older_than=timedelta(hours=1))
        except Exception:
            log.exception("daily clean-up of %s failed", tenant.code)
            done["failed"].append(tenant.code)
    log.info("platform daily for %s: %s", on_iso, done)
    return done
