"""Customers' bulk status changes, on the worker: `bulk_status(user_id, job_id)` carries a job of
app/services/customers/bulk_jobs.py to its end, a chunk at a time (tenant-scoped: the tenant travels in the
message). Idempotent as the job is: a retried message finds the chunks done and goes on from there.
"""

from __future__ import annotations

import logging

import dramatiq

from app.services.customers import bulk_jobs
from tenants import require_tenant
from worker import broker as runtime

log = logging.getLogger(__name__)

OPTIONS = {"queue_name": "bulk", "max_retries": 5, "min_backoff": 5_000, "max_backoff": 300_000,
           "time_limit": 3_600_000}


@dramatiq.actor(broker=runtime.broker, **OPTIONS)
def bulk_status(user_id: int, job_id: str) -> str:
    outcome = bulk_jobs.run(runtime.database(), bulk_status.broker.client, require_tenant(), user_id, job_id)
    log.info("bulk status job %s of user %s: %s", job_id, user_id, outcome)
    return outcome

