"""Resellers' accounts with the master ISP (app/services/reseller_accounts/): the daily run and the
accrual of one tenant.

- `reseller_accounts_daily(on_iso)`, platform-scoped (sent once a UTC day by the scheduler, like
  `platform_daily`): for every tenant, in its own context and transaction, the wholesale charges of its
  issued invoices not yet accrued (and reversals of voided ones); then emergency credits past their 48
  hours are marked expired, every account's thresholds evaluated (alerts once per crossing), alerts whose
  e-mail was lost sent, and old idempotency keys forgotten. A tenant that fails is logged and skipped.
- `accrue_wholesale()`, tenant-scoped: the same accrual for the tenant in the message (after a billing run,
  or by hand: `accrue_wholesale.send()` inside the tenant's context).

Both are idempotent: a charge's source key is unique, an alert is opened once per crossing, an expired
credit is expired once.
"""

from __future__ import annotations

import logging

import dramatiq

from worker import broker as runtime

log = logging.getLogger(__name__)

OPTIONS = {"queue_name": "daily", "max_retries": 3, "min_backoff": 60_000, "max_backoff": 900_000,
           "time_limit": 3_600_000}


@dramatiq.actor(broker=runtime.broker, **OPTIONS)
def accrue_wholesale() -> dict:
    from app.services.reseller_accounts import charges

    with runtime.database().session() as session:
        return charges.accrue(session).as_dict()


def run_daily(db) -> dict:
    """The daily work for every tenant (the actor's body; callable from tests and the CLI)."""
    from sqlalchemy import select

    from app.models.reseller_accounts import ResellerAccount
    from app.services.reseller_accounts import alerts, charges, credit, emergency, idempotency
    from tenants import tenant_context
    from worker.scheduler import all_tenants

    done = {"charged": 0, "reversed": 0, "expired": 0, "alerts": 0, "resent": 0, "failed": []}
    for tenant in all_tenants(db):
        try:
            with tenant_context(tenant), db.session() as session:
                result = charges.accrue(session)
            done["charged"] += result.charged
            done["reversed"] += result.reversed
        except Exception:
            log.exception("wholesale accrual of %s failed", tenant.code)
            done["failed"].append(tenant.code)
    with tenant_context(None):
        with db.session() as session:
            done["expired"] = len(emergency.expire_due(session))
            idempotency.purge_expired(session)
        with db.session() as session:
            tenant_ids = session.execute(select(ResellerAccount.tenant_id).order_by(ResellerAccount.id)).scalars().all()
        for tenant_id in tenant_ids:
            with db.session() as session:
                done["alerts"] += len(credit.evaluate(session, tenant_id))
        with db.session() as session:
            done["resent"] = alerts.notify_pending(session)
    return done


@dramatiq.actor(broker=runtime.broker, tenant_scoped=False, **OPTIONS)
def reseller_accounts_daily(on_iso: str) -> dict:
    done = run_daily(runtime.database())
    log.info("reseller accounts for %s: %s", on_iso, done)
    return done
