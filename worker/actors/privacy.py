"""The customer's privacy, on the worker: `build_data_export(export_id)` builds one export of a customer's data
into its ZIP (app/services/privacy/exports.py `build`), and `privacy_daily(on_iso)`, sent by the scheduler every
local day of each tenant, expires old exports, sends lost builds again and scrubs the last e-mail of a deleted
account (app/services/privacy/housekeeping.py). Both are tenant-scoped: the tenant travels in the message.

Idempotent: a build already done, or being done by its twin, is skipped; the sweep does the same however
often it runs. A failed build is retried with backoff and, after its last attempt, marked Failed (the
service counts the attempts, as the outbox does, from the actor's `max_retries`).
"""

from __future__ import annotations

import logging

import dramatiq

from app.services.privacy import exports, housekeeping
from worker import broker as runtime

log = logging.getLogger(__name__)

EXPORT_OPTIONS = {"queue_name": "privacy", "max_retries": exports.MAX_ATTEMPTS - 1, "min_backoff": 10_000,
                  "max_backoff": 600_000, "time_limit": 3_600_000}
DAILY_OPTIONS = {"queue_name": "daily", "max_retries": 3, "min_backoff": 60_000, "max_backoff": 900_000,
                 "time_limit": 600_000}


@dramatiq.actor(broker=runtime.broker, **EXPORT_OPTIONS)
def build_data_export(export_id: int) -> None:
    outcome = exports.build(runtime.database(), export_id,
                            max_attempts=build_data_export.options["max_retries"] + 1)
    log.info("data export %s: %s", export_id, outcome)


@dramatiq.actor(broker=runtime.broker, **DAILY_OPTIONS)
def privacy_daily(on_iso: str) -> None:
    with runtime.database().session() as session:
        done = housekeeping.sweep(session)
    log.info("privacy sweep for %s: %s", on_iso, done)
