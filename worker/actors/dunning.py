"""The daily dunning of one tenant (app/services/billing/dunning.py), sent by the scheduler with the
tenant's local date.

Tenant-scoped: the middleware enters the tenant named by the message, and the job only ever sees that
tenant's schema. It works in short transactions rather than one long one, so a payment arriving during
the run waits for one customer at most, and a crash loses one customer's work in flight — which the
next run (or a retry of this one) does again, since every step is taken once per (invoice, step):

1. open invoices past their due date are marked Overdue (one statement);
2. each customer with one is dunned in a transaction of their own (reminders, late fee, the action);
3. customers whose debt was cleared without a payment (a void, a credit note) are restored.
"""

from __future__ import annotations

import logging
from datetime import date

import dramatiq

from app.services.billing import dunning, invoices
from worker import broker as runtime

log = logging.getLogger(__name__)

OPTIONS = {
    "queue_name": "billing",
    "max_retries": 3,
    "min_backoff": 60_000,  # ms: a database blip
    "max_backoff": 900_000,
    "time_limit": 3_600_000,
}


@dramatiq.actor(broker=runtime.broker, **OPTIONS)
def dunning_daily(on_iso: str) -> dict:
    today = date.fromisoformat(on_iso)
    db = runtime.database()
    with db.session() as session:
        invoices.mark_overdue(session, today)
        rules = dunning.policy(session)
        customer_ids = dunning.due_customers(session, today)
    done: dict = {}
    for customer_id in customer_ids:
        with db.session() as session:
            for key, value in dunning.run_customer(session, customer_id, today, rules).items():
                done[key] = done.get(key, 0) + value
    with db.session() as session:
        held = dunning.held_customers(session)
    restored = 0
    for customer_id in held:
        with db.session() as session:
            restored += len(dunning.restore_if_cleared(session, customer_id, actor=None, today=today))
    done["restored"] = done.get("restored", 0) + restored
    log.info("dunning for %s: %s", on_iso, done)
    return done
