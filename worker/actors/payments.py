"""Automatic retries of failed recurring charges, once a day per tenant.

`retry_charges_due(on_iso)` is tenant-scoped (the middleware enters the tenant named by the message);
the scheduler sends it daily for each tenant with the tenant's local date. It schedules retries for
invoices newly past due, then makes each attempt due in a transaction of its own, so a crash loses at
most the attempt in flight — which is safe to make again, since the processor gets the same idempotency
key (app/services/billing/retries.py). Sending it twice for a day, or re-running it after a crash, charges
nobody twice: a made attempt is no longer `scheduled`.

The card processor's API address is an operator setting (`BACKHAUL_STRIPE_API_BASE`, default Stripe's),
read from the environment, never from a reseller's settings: no reseller can point our worker elsewhere.
"""

from __future__ import annotations

import logging
import os
from datetime import date

import dramatiq

from app.services.billing import retries
from worker import broker as runtime

log = logging.getLogger(__name__)

OPTIONS = {
    "queue_name": "billing",
    "max_retries": 3,
    "min_backoff": 60_000,  # ms: a database blip; the attempts themselves are not retried here
    "max_backoff": 900_000,
    "time_limit": 3_600_000,
}


def stripe_api_base() -> str:
    return os.environ.get("BACKHAUL_STRIPE_API_BASE", "https://api.stripe.com")


@dramatiq.actor(broker=runtime.broker, **OPTIONS)
def retry_charges_due(on_iso: str) -> None:
    today = date.fromisoformat(on_iso)
    db = runtime.database()
    with db.session() as session:
        scheduled = retries.schedule_unpaid(session, today)
    with db.session() as session:
        due = retries.due(session, today)
        clients = retries.clients_for(session, stripe_api_base=stripe_api_base())
    made: dict[str, int] = {}
    for attempt_id in due:
        with db.session() as session:
            attempt = retries.perform(session, attempt_id, today, clients)
            status = attempt.status if attempt is not None else "busy"
        made[status] = made.get(status, 0) + 1
    log.info("charge retries for %s: %d invoices scheduled, attempts %s", on_iso, scheduled, made)
