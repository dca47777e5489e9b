"""The e-mail of a credit alert to the reseller's admins.

The alert row is written wherever the evaluation ran (a console request, the daily job, the reseller's
own request) — all in `public`; the e-mail belongs in the reseller's own outbox, drawn in its brand, which
only a transaction in the reseller's schema can write. So the e-mail is queued after the alert's commit,
in a transaction of its own in the reseller's tenant context, that first claims the alert
(`notified_at`): an alert is e-mailed once, and one whose e-mail was lost (the process died between the
two commits) is picked up again by `notify_pending` in the daily job. At the limit, with payments set to
'escalate', the master ISP's staff are e-mailed too (the platform's outbox).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.models import Tenant as TenantRow
from app.models.base import utcnow
from app.models.reseller_accounts import CreditAlert, ResellerAccount
from app.services import tenants
from app.services.after_commit import AfterCommit
from app.services.notifications import queue_email
from tenants import tenant_context

log = logging.getLogger(__name__)
TEMPLATE = "reseller/credit_alert"
ESCALATION = "reseller/credit_escalation"
MEANING = {
    "warning": "the warning threshold",
    "restriction": "the restriction threshold",
    "limit": "the credit limit",
}


@dataclass(frozen=True)
class _Pending:
    engine: Engine
    tenant_id: int
    alert_id: int


def _engine(session: Session) -> Engine:
    bind = session.get_bind()
    return getattr(bind, "engine", bind)


def _deliver(item: _Pending) -> None:
    send(item.engine, item.tenant_id, item.alert_id)


_committed = AfterCommit("credit_alerts", _deliver, "credit alert e-mail")


def notify_after_commit(session: Session, tenant_id: int, alert_id: int) -> None:
    _committed.add(session, _Pending(_engine(session), tenant_id, alert_id))


def send(engine: Engine, tenant_id: int, alert_id: int) -> int:
    """Claim the alert and queue its e-mail to each of the reseller's admins; the number queued (0 when
    the alert was already e-mailed or was cleared before it could be)."""
    from app.services.reseller_accounts import credit

    with tenant_context(None), Session(bind=engine) as lookup:
        row = lookup.get(TenantRow, tenant_id)
        if row is None:
            return 0
        tenant = tenants.ref(row)
    with tenant_context(tenant), Session(bind=engine) as session:
        alert = session.execute(
            update(CreditAlert).where(CreditAlert.id == alert_id, CreditAlert.notified_at.is_(None),
                                      CreditAlert.cleared_at.is_(None))
            .values(notified_at=utcnow()).returning(CreditAlert)).scalar_one_or_none()
        if alert is None:
            return 0
        account = session.get(ResellerAccount, alert.account_id)
        standing = credit.standing_of(session, account)
        context = {"level": alert.level, "meaning": MEANING[alert.level], "threshold": str(alert.threshold),
                   "utilisation": str(alert.utilisation), "balance": str(standing.balance),
                   "credit_limit": str(account.credit_limit), "currency": account.currency,
                   "emergency_credit": str(standing.emergency_credit),
                   "actions": credit.actions(account, standing) if alert.level == "limit" else None,
                   "at": alert.crossed_at}
        addresses = admins(session)
        for to in addresses:
            queue_email(session, to=to, template=TEMPLATE, context=context)
        escalate = alert.level == "limit" and account.at_limit_payments == "escalate"
        session.commit()
    if escalate:
        _escalate(engine, tenant, context)
    return len(addresses)


def _escalate(engine: Engine, tenant, context: dict) -> None:
    """At the limit with payments set to 'escalate': the master ISP's staff hear of it too (collections),
    from the platform's outbox."""
    from app.models import StaffUser

    with tenant_context(None), Session(bind=engine) as session:
        staff = session.execute(select(StaffUser.email).where(StaffUser.is_active.is_(True))
                                .order_by(StaffUser.id)).scalars().all()
        for to in staff:
            queue_email(session, to=to, template=ESCALATION, context={**context, "reseller_code": tenant.code,
                                                                      "reseller_name": tenant.name})
        session.commit()


def admins(session: Session) -> list[str]:
    """The current tenant's active Admin users' addresses (the people who answer for its account)."""
    from app.models import Role, User

    return sorted(set(session.execute(
        select(User.email).join(Role, Role.id == User.role_id)
        .where(Role.name == "Admin", Role.builtin.is_(True), User.is_active.is_(True), User.email.is_not(None))
    ).scalars()))


def notify_pending(session: Session) -> int:
    """E-mail the open alerts whose e-mail never went (the daily job); the number of alerts handled."""
    rows = session.execute(select(CreditAlert.id, ResellerAccount.tenant_id)
                           .join(ResellerAccount, ResellerAccount.id == CreditAlert.account_id)
                           .where(CreditAlert.notified_at.is_(None), CreditAlert.cleared_at.is_(None))).all()
    engine = _engine(session)
    done = 0
    for alert_id, tenant_id in rows:
        try:
            send(engine, tenant_id, alert_id)
            done += 1
        except Exception:
            log.exception("credit alert %s of tenant %s not e-mailed", alert_id, tenant_id)
    return done
