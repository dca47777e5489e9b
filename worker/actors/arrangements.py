"""The daily check of payment plans (app/services/billing/arrangements/plans.py `check_plan`), sent by the
scheduler with the tenant's local date: each Active plan's instalments reached or missed are recorded, and a
plan is Completed or Defaulted (the customer told), in a transaction per plan, so a payment arriving meanwhile
waits for one plan at most.

Idempotent: what was recorded is not recorded again and an ended plan is left alone, so the same day twice, or a
retry after a crash, changes nothing more. Dunning does not wait for this job: it works out a plan's standing
itself (holds.py), so the order of the day's jobs does not matter.
"""

from __future__ import annotations

import logging
from datetime import date

import dramatiq

from app.services.billing.arrangements import plans, policy
from worker import broker as runtime

log = logging.getLogger(__name__)

OPTIONS = {"queue_name": "billing", "max_retries": 3, "min_backoff": 60_000, "max_backoff": 900_000,
           "time_limit": 3_600_000}


@dramatiq.actor(broker=runtime.broker, **OPTIONS)
def payment_plans_daily(on_iso: str) -> dict:
    today = date.fromisoformat(on_iso)
    db = runtime.database()
    with db.session() as session:
        rules = policy.policy(session)
        plan_ids = plans.active_ids(session)
    done = {"paid": 0, "missed": 0, "completed": 0, "defaulted": 0}
    for plan_id in plan_ids:
        with db.session() as session:
            for key, value in plans.check_plan(session, plan_id, today, rules).items():
                done[key] += value
    log.info("payment plans for %s: %s", on_iso, done)
    return done
