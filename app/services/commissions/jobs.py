"""Queueing commission work after the payment's transaction commits: `commission_payment` when money is
received, `reverse_commissions` when it goes back. Never for a rolled-back transaction; a message lost
(Redis down at that moment) is made good by the period close, which sweeps the month's payments."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.services.after_commit import AfterCommit
from tenants import Tenant, current_tenant, tenant_context


def queue_after_commit(session: Session, job: str, payment_id: int) -> None:
    """Send `worker.actors.commissions.<job>(payment_id)` in this tenant once the transaction commits."""
    _jobs.add(session, (job, payment_id))


def dispatch(tenant: Tenant | None, job: str, payment_id: int) -> None:
    from worker.actors import commissions as actors

    with tenant_context(tenant):
        getattr(actors, job).send(payment_id)


_jobs = AfterCommit("commissions", lambda item: dispatch(current_tenant(), *item), "commission job")
