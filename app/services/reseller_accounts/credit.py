"""Credit: the balance a reseller owes the master ISP, how much of its credit that uses, the alerts at
each threshold, and what happens at 100 % ("Credit Limit Impact & Controls" in 001).

    utilisation = balance ÷ (credit limit + active emergency credit) × 100, half-up to 0.01 %, never below 0

Thresholds: warning (default 80 %), restriction (default 90 %), limit (100 %). An alert is raised once per
crossing: the open alert of a level (one at most, a unique index) stays open while the utilisation stays at
or above it, is cleared when it drops below, and only a new crossing opens a new one.

At 100 % (the actions are the master ISP's settings per reseller):
- new customers: `suspend` → refused (`CreditLimitReached`, 409), `approval` → created Pending awaiting
  approval, `continue` → allowed;
- services: `restrict` → no new service is activated; `review` and `continue` let activations through.
  Existing customers are protected: nothing here ever suspends a service;
- payments: `escalate` → the limit alert is e-mailed to the master ISP's staff too (alerts.py); `review`
  and `continue` are shown with the account (`actions`) for the master ISP's collections. None of them
  stops the reseller's own customers' payments.

Utilisation is computed live from the ledger, so the gates answer correctly between two daily runs (a
payment lifts a refusal at once, an emergency credit counts from its approval to its expiry).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.models.base import utcnow
from app.models.reseller_accounts import CreditAlert, EmergencyCredit, ResellerAccount
from app.services.errors import Conflict
from app.services.reseller_accounts import accounts, alerts

ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
PERCENT = Decimal("0.01")


class CreditLimitReached(Conflict):
    slug = "credit-limit-reached"
    title = "Credit limit reached"


@dataclass(frozen=True)
class Standing:
    """An account's position at a moment."""

    balance: Decimal
    emergency_credit: Decimal
    available: Decimal | None  # credit left before 100 % (None: no limit)
    utilisation: Decimal | None  # rounded, for showing
    exact: Decimal | None  # unrounded, what the thresholds compare
    at_limit: bool


def _balance(session: Session, account_id: int) -> Decimal:
    """The sum of the account's entries, as the trigger on `account_entries` keeps it (read afresh: the
    trigger, not the ORM, writes it)."""
    return session.execute(select(ResellerAccount.balance).where(ResellerAccount.id == account_id)).scalar_one()


def active_emergency_credit(session: Session, account_id: int, now: datetime | None = None) -> Decimal:
    """Approved emergency credit not yet past its expiry (the status flips to expired in the daily job,
    but the credit stops counting at `expires_at` whatever the job does)."""
    return session.execute(select(func.coalesce(func.sum(EmergencyCredit.amount), ZERO)).where(
        EmergencyCredit.account_id == account_id, EmergencyCredit.status == "approved",
        EmergencyCredit.expires_at > (now or utcnow()))).scalar_one()


def standing_of(session: Session, account: ResellerAccount, now: datetime | None = None) -> Standing:
    balance = _balance(session, account.id)
    emergency = active_emergency_credit(session, account.id, now)
    if account.credit_limit is None:
        return Standing(balance, emergency, None, None, None, False)
    ceiling = account.credit_limit + emergency
    used = max(balance, ZERO) * HUNDRED / ceiling
    utilisation = used.quantize(PERCENT, rounding=ROUND_HALF_UP)
    return Standing(balance, emergency, ceiling - balance, utilisation, used, used >= HUNDRED)


def balance(session: Session, tenant_id: int) -> Decimal:
    """What the reseller owes the master ISP now (negative: it is in credit); 0.00 without an account."""
    account = accounts.find(session, tenant_id)
    return ZERO if account is None else _balance(session, account.id)


def utilisation(session: Session, tenant_id: int) -> Decimal | None:
    """Percent of the credit in use (limit plus active emergency credit); None without a limit."""
    account = accounts.find(session, tenant_id)
    return None if account is None else standing_of(session, account).utilisation


def thresholds(account: ResellerAccount) -> list[tuple[str, Decimal]]:
    return [("warning", Decimal(account.warning_percent)), ("restriction", Decimal(account.restriction_percent)),
            ("limit", HUNDRED)]


def evaluate(session: Session, tenant_id: int, now: datetime | None = None) -> list[CreditAlert]:
    """Open the alerts of the thresholds the utilisation is at or above, clear those it dropped below;
    returns the alerts opened now (each e-mailed to the reseller's admins once this commits). Accounts are
    locked while evaluated, so two evaluations at once cannot both open the same alert."""
    account = accounts.find(session, tenant_id, lock=True)
    if account is None:
        return []
    now = now or utcnow()
    standing = standing_of(session, account, now)
    level_now, exact = standing.utilisation, standing.exact
    opened = []
    for level, threshold in thresholds(account):
        if exact is not None and exact >= threshold:
            new_id = session.execute(
                insert(CreditAlert).values(account_id=account.id, level=level, threshold=threshold,
                                           utilisation=level_now, crossed_at=now)
                .on_conflict_do_nothing(index_elements=[CreditAlert.account_id, CreditAlert.level],
                                        index_where=CreditAlert.cleared_at.is_(None))
                .returning(CreditAlert.id)).scalar_one_or_none()
            if new_id is not None:
                opened.append(session.get(CreditAlert, new_id))
                alerts.notify_after_commit(session, tenant_id, new_id)
        else:
            session.execute(update(CreditAlert).where(CreditAlert.account_id == account.id,
                                                      CreditAlert.level == level, CreditAlert.cleared_at.is_(None))
                            .values(cleared_at=now))
    return opened


def open_alerts(session: Session, account_id: int) -> list[CreditAlert]:
    return list(session.execute(select(CreditAlert).where(CreditAlert.account_id == account_id,
                                                          CreditAlert.cleared_at.is_(None))
                                .order_by(CreditAlert.crossed_at, CreditAlert.id)).scalars())


def recent_alerts(session: Session, account_id: int, limit: int = 50) -> list[CreditAlert]:
    return list(session.execute(select(CreditAlert).where(CreditAlert.account_id == account_id)
                                .order_by(CreditAlert.crossed_at.desc(), CreditAlert.id.desc()).limit(limit)).scalars())


def actions(account: ResellerAccount, standing: Standing) -> dict:
    """What applies now: the settings' actions when at the limit, otherwise everything goes on."""
    if not standing.at_limit:
        return {"new_customers": "allow", "services": "continue", "payments": "continue"}
    new = {"suspend": "refuse", "approval": "approval", "continue": "allow"}[account.at_limit_new_customers]
    return {"new_customers": new, "services": account.at_limit_services, "payments": account.at_limit_payments}


def new_customer_gate(session: Session, tenant_id: int) -> str:
    """'allow', 'approval' (create the customer Pending, awaiting approval) or 'refuse' for a new customer of
    `tenant_id` (the customer creation path asks, in the reseller's transaction)."""
    account = accounts.find(session, tenant_id)
    if account is None or account.credit_limit is None:
        return "allow"
    return actions(account, standing_of(session, account))["new_customers"]


def check_new_customer(session: Session, tenant_id: int) -> bool:
    """Raise `CreditLimitReached` when new customers are refused; True when the new customer must await
    approval."""
    gate = new_customer_gate(session, tenant_id)
    if gate == "refuse":
        raise CreditLimitReached(
            "the credit limit with your provider is reached: new customers cannot be created until a payment"
            " brings the balance below the limit (or emergency credit is approved)", gate=gate)
    return gate == "approval"


def check_service_activation(session: Session, tenant_id: int) -> None:
    """Refuse a new activation at the limit when services are 'restrict'ed; never touches live services."""
    account = accounts.find(session, tenant_id)
    if account is None or account.credit_limit is None:
        return
    if actions(account, standing_of(session, account))["services"] == "restrict":
        raise CreditLimitReached("the credit limit with your provider is reached: no new service can be activated"
                                 " until a payment brings the balance below the limit; existing services go on")
