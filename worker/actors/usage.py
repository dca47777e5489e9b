"""Usage jobs: the daily upkeep of RADIUS usage per tenant, and sending CoA/Disconnect requests.

- `usage_daily(on_iso)`, tenant-scoped, sent by the scheduler on the tenant's local day: services
  Limited by fair use whose billing cycle has turned are restored (fup.reset_due), open sessions without
  accounting for too long are closed as stale, closed sessions past the reseller's retention and daily
  usage older than 24 months are purged, and CoA requests left Pending (a job lost) are enqueued again.
  Each part is idempotent (a restored service is Active; a closed session is not open; a purged row is
  gone; a request is sent only while Pending), so running the day twice changes nothing.
- `send_coa(request_id)`, tenant-scoped: sends one `coa_requests` row (radius/coa.py). No answer raises,
  and Dramatiq retries with backoff; the request records every attempt and ends Done (ACK/NAK) or Failed.
"""

from __future__ import annotations

import logging
from datetime import date

import dramatiq

from app.services.usage import fup, rollup, sessions
from radius import coa
from worker import broker as runtime

log = logging.getLogger(__name__)

DAILY = {"queue_name": "daily", "max_retries": 3, "min_backoff": 60_000, "max_backoff": 900_000,
         "time_limit": 3_600_000}


@dramatiq.actor(broker=runtime.broker, **DAILY)
def usage_daily(on_iso: str) -> dict:
    day = date.fromisoformat(on_iso)
    db = runtime.database()
    done = {}
    with db.session() as session:
        done["restored"] = fup.reset_due(session)
    with db.session() as session:
        done["stale_closed"] = sessions.close_stale(session)
        done["sessions_purged"] = sessions.purge(session)
        done["usage_purged"] = rollup.purge(session, day)
    with db.session() as session:
        done["coa_resent"] = len(coa.resend_pending(session))
    log.info("usage daily for %s: %s", on_iso, done)
    return done


@dramatiq.actor(broker=runtime.broker, queue_name="radius", max_retries=coa.MAX_ATTEMPTS - 1, min_backoff=2_000,
                max_backoff=60_000, time_limit=60_000)
def send_coa(request_id: int) -> str:
    try:
        with runtime.database().session() as session:
            return coa.send(session, request_id, timeout=coa.TIMEOUT, max_attempts=coa.MAX_ATTEMPTS)
    except coa.Unanswered as exc:  # recorded on the row; retried with backoff, without a traceback in the log
        raise dramatiq.Retry(str(exc)) from exc
