"""Asking M-PESA how an STK push ended when its callback did not come (app/services/billing/gateways/stk_push.py).

`query_stk_push(request_id, attempt)` is tenant-scoped and sent, delayed, once the push's transaction has
committed: 2 minutes after the push, then 5 and 10 minutes after each question that found it still
being processed (`stk_push.QUERY_AFTER`). It is idempotent: a payment settled meanwhile (by its callback,
or by an earlier copy of this message) is left alone, and only the copy whose question was the
`attempt`-th sends the next one, so a message delivered twice never doubles the questions. After the last
question without an answer the payment fails as `no_answer`; a late callback saying paid still confirms it.

The Daraja token is cached in the broker's Redis, under the tenant's key (tenants.storage.redis_key).
"""

from __future__ import annotations

import logging

import dramatiq

from app.services.billing.gateways import stk_push
from worker import broker as runtime

log = logging.getLogger(__name__)


@dramatiq.actor(broker=runtime.broker, queue_name="billing", max_retries=3, min_backoff=30_000,
                max_backoff=300_000, time_limit=120_000)
def query_stk_push(request_id: int, attempt: int = 1) -> None:
    last = attempt >= len(stk_push.QUERY_AFTER)
    with runtime.database().session() as session:
        asked = stk_push.query_status(session, request_id, redis=runtime.broker.client, final=last)
    log.info("M-PESA status query %d for payment request %d: %s", attempt, request_id, asked.status)
    if asked.status == "pending" and not last and asked.queries == attempt:
        query_stk_push.send_with_options(args=(request_id, attempt + 1), delay=stk_push.QUERY_AFTER[attempt] * 60_000)
