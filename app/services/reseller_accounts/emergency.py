"""Emergency credit: a reseller at its limit asks for more room, for a short while ("Credit Limit
Operations" in 001: 48 hours, up to 25 % of the limit, with approval).

The reseller requests an amount (at most 25 % of its credit limit; an account without a limit has nothing
to extend); the master ISP approves or rejects it. An approved credit adds to the limit for 48 hours from
the approval, then expires: it stops counting at `expires_at` whatever the daily job does, and the daily
job marks it `expired` and re-evaluates the thresholds. A reseller has at most one open credit
(requested or approved, a unique index): a second request waits for the first to end.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models.base import utcnow
from app.models.reseller_accounts import EmergencyCredit, ResellerAccount
from app.services.errors import Conflict, Invalid, NotFound
from app.services.money import money, round_money
from app.services.reseller_accounts import accounts

DURATION = timedelta(hours=48)
MAX_SHARE = Decimal("0.25")


def maximum(account: ResellerAccount) -> Decimal | None:
    return None if account.credit_limit is None else round_money(account.credit_limit * MAX_SHARE)


def expire_due(session: Session, now: datetime | None = None, *, account_id: int | None = None) -> list[int]:
    """Mark approved credits past their expiry as expired; the ids of the accounts concerned."""
    query = (update(EmergencyCredit).where(EmergencyCredit.status == "approved",
                                           EmergencyCredit.expires_at <= (now or utcnow()))
             .values(status="expired").returning(EmergencyCredit.account_id))
    if account_id is not None:
        query = query.where(EmergencyCredit.account_id == account_id)
    return sorted(set(session.execute(query).scalars()))


def request(session: Session, tenant_id: int, *, amount, reason: str, actor: str) -> EmergencyCredit:
    account = accounts.get(session, tenant_id, lock=True)
    ceiling = maximum(account)
    if ceiling is None:
        raise Conflict("this account has no credit limit, so there is nothing to extend")
    value = money(amount, "amount")
    if value <= 0 or value > ceiling:
        raise Invalid(f"amount: more than 0 and at most 25 % of the credit limit ({ceiling} {account.currency})",
                      field="amount", maximum=str(ceiling))
    reason = (reason or "").strip()
    if not reason or len(reason) > 2000:
        raise Invalid("reason: why the credit is needed (up to 2000 characters)", field="reason")
    expire_due(session, account_id=account.id)
    credit = EmergencyCredit(account_id=account.id, amount=value, reason=reason, requested_by=actor)
    try:
        with session.begin_nested():
            session.add(credit)
            session.flush()
    except IntegrityError:
        raise Conflict("an emergency credit is already requested or active for this account") from None
    return credit


def get(session: Session, tenant_id: int, credit_id: int, *, lock: bool = False) -> EmergencyCredit:
    account = accounts.get(session, tenant_id)
    query = select(EmergencyCredit).where(EmergencyCredit.id == credit_id, EmergencyCredit.account_id == account.id)
    if lock:
        query = query.with_for_update()
    credit = session.execute(query).scalar_one_or_none()
    if credit is None:
        raise NotFound("no such emergency credit for this reseller")
    return credit


def list_credits(session: Session, tenant_id: int) -> list[EmergencyCredit]:
    account = accounts.find(session, tenant_id)
    if account is None:
        return []
    return list(session.execute(select(EmergencyCredit).where(EmergencyCredit.account_id == account.id)
                                .order_by(EmergencyCredit.id.desc())).scalars())


def _decide(session: Session, tenant_id: int, credit_id: int, actor: str, note: str | None) -> EmergencyCredit:
    credit = get(session, tenant_id, credit_id, lock=True)
    if credit.status != "requested":
        raise Conflict(f"this emergency credit is {credit.status}; only a requested one can be decided",
                       status=credit.status)
    credit.approved_by, credit.decided_at = actor, utcnow()
    credit.decision_note = (note or "").strip()[:2000] or None
    return credit


def approve(session: Session, tenant_id: int, credit_id: int, *, actor: str, note: str | None = None,
            now: datetime | None = None) -> EmergencyCredit:
    """Approve: the credit counts for 48 hours from now. The amount is checked again against the limit,
    which may have changed since the request."""
    from app.services.reseller_accounts import credit as credit_rules

    account = accounts.get(session, tenant_id, lock=True)
    credit = _decide(session, tenant_id, credit_id, actor, note)
    ceiling = maximum(account)
    if ceiling is None or credit.amount > ceiling:
        raise Conflict(f"the amount is more than 25 % of the credit limit now ({ceiling}); reject it and ask for a "
                       "new request", maximum=str(ceiling) if ceiling is not None else None)
    credit.decided_at = now or credit.decided_at
    credit.status, credit.expires_at = "approved", credit.decided_at + DURATION
    session.flush()
    credit_rules.evaluate(session, tenant_id)
    return credit


def reject(session: Session, tenant_id: int, credit_id: int, *, actor: str, note: str | None = None) -> EmergencyCredit:
    credit = _decide(session, tenant_id, credit_id, actor, note)
    credit.status = "rejected"
    session.flush()
    return credit
