"""Commission jobs, all tenant-scoped (the paying tenant travels in the message) and idempotent:

- `commission_payment(payment_id)`: the lines a received payment earns, in every earner's schema
  (app/services/commissions/engine.py); a retry writes only what a crash left missing.
- `reverse_commissions(payment_id)`: the negative lines for a refund or a reversed payment, in proportion
  (reversal.py); run twice, it takes back nothing more.
- `commissions_daily(on_iso)`: sent by the scheduler every local day; on the first of a month it closes
  the month before (close.py: usage, retention, performance, and the sweep of the month's payments).
"""

from __future__ import annotations

import logging
from datetime import date

import dramatiq

from app.services.commissions import close, engine, reversal
from worker import broker as runtime

log = logging.getLogger(__name__)

OPTIONS = {"queue_name": "commissions", "max_retries": 5, "min_backoff": 5_000, "max_backoff": 600_000,
           "time_limit": 600_000}


@dramatiq.actor(broker=runtime.broker, **OPTIONS)
def commission_payment(payment_id: int) -> None:
    outcome = engine.compute_payment(runtime.database(), payment_id)
    if not outcome.lines and not outcome.reversed:  # already written (the demo seed, a retry): not a failure
        log.info("commissions of payment #%s: up to date", payment_id)
        return
    log.info("commissions of payment #%s: %s lines written, %s reversing", payment_id, outcome.lines,
             outcome.reversed)


@dramatiq.actor(broker=runtime.broker, **OPTIONS)
def reverse_commissions(payment_id: int) -> None:
    written = reversal.reverse_payment(runtime.database(), payment_id)
    log.info("commissions of payment #%s taken back: %s lines", payment_id, written)


@dramatiq.actor(broker=runtime.broker, **{**OPTIONS, "queue_name": "daily", "time_limit": 3_600_000})
def commissions_daily(on_iso: str) -> None:
    done = close.daily(runtime.database(), date.fromisoformat(on_iso))
    if done is not None:
        log.info("commission close %s", done)
