"""Scheduled reports, e-mailed: `reports_daily(on_iso)`, sent by the scheduler every local day of each
tenant (tenant-scoped: the tenant travels in the message). It also keeps the dashboard's closed months
(app/services/reports/dashboard.py `warm`), so that nobody's first view of a month reads the whole year.

Idempotent per (schedule, run date): app/services/reports/schedules.py inserts the run's row in the
transaction that queues the e-mails, so the same day run twice, or retried after a crash, sends each
report once. The e-mails themselves go through the outbox (worker/actors/email.py) with the report file
attached.

A report's file over many tenants, asked for from a page (app/services/reports/export_jobs.py):
`report_export(user_id, job_id)` for a team member's (tenant-scoped), `report_export_platform(user_id, job_id)`
for a member of staff's (no tenant: the scope is the platform's). Idempotent as the job is.
"""

from __future__ import annotations

import logging
from datetime import date

import dramatiq

from app.services.reports import dashboard, export_jobs, schedules
from tenants import require_tenant
from worker import broker as runtime

log = logging.getLogger(__name__)

OPTIONS = {"queue_name": "daily", "max_retries": 3, "min_backoff": 60_000, "max_backoff": 900_000,
           "time_limit": 3_600_000}


@dramatiq.actor(broker=runtime.broker, **OPTIONS)
def reports_daily(on_iso: str) -> list[int]:
    db, on = runtime.database(), date.fromisoformat(on_iso)
    runs = schedules.run_due(db, on)
    kept = dashboard.warm(db, require_tenant(), on)
    log.info("scheduled reports for %s: %d sent; %d dashboard months kept", on_iso, len(runs), kept)
    return runs


EXPORT_OPTIONS = {"queue_name": "bulk", "max_retries": 3, "min_backoff": 5_000, "max_backoff": 120_000,
                  "time_limit": 1_800_000}


@dramatiq.actor(broker=runtime.broker, **EXPORT_OPTIONS)
def report_export(user_id: int, job_id: str) -> str:
    tenant = require_tenant()
    outcome = export_jobs.run(runtime.database(), report_export.broker.client, export_jobs.Owner.team(tenant, user_id),
                              job_id)
    log.info("report export %s of user %s in %s: %s", job_id, user_id, tenant.code, outcome)
    return outcome


@dramatiq.actor(broker=runtime.broker, tenant_scoped=False, **EXPORT_OPTIONS)
def report_export_platform(user_id: int, job_id: str) -> str:
    outcome = export_jobs.run(runtime.database(), report_export_platform.broker.client,
                              export_jobs.Owner.staff(user_id), job_id)
    log.info("report export %s of staff member %s: %s", job_id, user_id, outcome)
    return outcome
