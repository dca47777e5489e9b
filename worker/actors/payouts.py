"""Commission payouts of one tenant (app/services/commissions/payouts.py `run_day`), sent by the scheduler
with the tenant's local date.

Tenant-scoped: the middleware enters the tenant named by the message. One transaction: approving the
period's lines and building its payouts succeed or fail together, and a retry (or the next day's run)
finds the payouts already built, by their unique (period, currency), and builds nothing twice.
"""

from __future__ import annotations

import logging
from datetime import date

import dramatiq

from app.services.commissions import payouts
from worker import broker as runtime

log = logging.getLogger(__name__)

OPTIONS = {"queue_name": "daily", "max_retries": 3, "min_backoff": 60_000, "max_backoff": 900_000,
           "time_limit": 3_600_000}


@dramatiq.actor(broker=runtime.broker, **OPTIONS)
def payouts_daily(on_iso: str) -> dict:
    with runtime.database().session() as session:
        done = payouts.run_day(session, date.fromisoformat(on_iso))
    if done["period"]:
        log.info("commission payouts for %s: %s", on_iso, done)
    return done
