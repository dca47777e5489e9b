"""The master ISP's decisions on a reseller's account, each with its audit entry, so that the console's API and
its pages record the same: the account's settings (credit limit, thresholds, actions at the limit, payment
terms) and the answer to an emergency credit request."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.models.reseller_accounts import EmergencyCredit, ResellerAccount
from app.services import audit
from app.services.reseller_accounts import accounts, emergency


def configure(session: Session, tenant_id: int, values: dict, *, actor: str) -> ResellerAccount:
    account = accounts.configure(session, tenant_id, values, actor=actor)
    audit.record(session, actor, "reseller_account.configured", tenant_id,
                 changes={k: str(v) for k, v in values.items()})
    return account


def decide_emergency_credit(session: Session, tenant_id: int, credit_id: int, *, approve: bool, actor: str,
                            note: str | None = None) -> EmergencyCredit:
    """Approve (it counts on top of the limit for 48 hours from now) or reject a requested emergency credit."""
    decide = emergency.approve if approve else emergency.reject
    row = decide(session, tenant_id, credit_id, actor=actor, note=note)
    audit.record(session, actor, f"reseller_account.emergency_credit.{row.status}", tenant_id,
                 credit_id=row.id, amount=str(row.amount))
    return row
