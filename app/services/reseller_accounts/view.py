"""An account as the console and the reseller see it: settings, standing, alerts, emergency credit."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Tenant as TenantRow
from app.models.base import utcnow
from app.models.reseller_accounts import AccountEntry, CreditAlert, EmergencyCredit, ResellerAccount
from app.services.reseller_accounts import accounts, credit, emergency, payments

SETTINGS = ("currency", "credit_limit", "warning_percent", "restriction_percent", "at_limit_new_customers",
            "at_limit_services", "at_limit_payments", "payment_terms_days", "updated_at", "updated_by")
ALERT = ("id", "level", "threshold", "utilisation", "crossed_at", "cleared_at", "notified_at")
CREDIT = ("id", "amount", "status", "reason", "requested_by", "requested_at", "approved_by", "decided_at",
          "decision_note", "expires_at")
ENTRY = ("id", "kind", "amount", "currency", "at", "due_on", "service_id", "invoice_id", "period_start", "period_end",
         "method", "reference", "reverses_id", "description", "actor")


def alert_out(alert: CreditAlert) -> dict:
    return {c: getattr(alert, c) for c in ALERT}


def credit_out(row: EmergencyCredit) -> dict:
    now = utcnow()
    return {**{c: getattr(row, c) for c in CREDIT},
            "active": row.status == "approved" and row.expires_at is not None and row.expires_at > now}


def summary(session: Session, tenant_id: int, today: date | None = None) -> dict:
    account: ResellerAccount = accounts.get(session, tenant_id)
    standing = credit.standing_of(session, account)
    code = session.execute(select(TenantRow.code).where(TenantRow.id == tenant_id)).scalar_one()
    exact = standing.exact
    return {
        "tenant_code": code, **{c: getattr(account, c) for c in SETTINGS},
        "balance": standing.balance, "overdue": payments.overdue(session, account.id, today or utcnow().date()),
        "emergency_credit": standing.emergency_credit, "emergency_credit_max": emergency.maximum(account),
        "available": standing.available, "utilisation": standing.utilisation,
        "thresholds": [{"level": level, "percent": percent, "reached": exact is not None and exact >= percent}
                       for level, percent in credit.thresholds(account)],
        "actions": credit.actions(account, standing),
        "open_alerts": [alert_out(a) for a in credit.open_alerts(session, account.id)],
        "alerts": [alert_out(a) for a in credit.recent_alerts(session, account.id)],
        "emergency_credits": [credit_out(c) for c in emergency.list_credits(session, tenant_id)[:20]],
    }


def entries_page(session: Session, tenant_id: int, *, kind: str | None = None, page: int = 1,
                 per_page: int = 50) -> dict:
    account = accounts.get(session, tenant_id)
    rows, total = payments.list_entries(session, account.id, kind=kind, page=page, per_page=per_page)
    return {"items": entries_out(session, rows), "total": total, "page": page, "per_page": per_page}


def entries_out(session: Session, rows: list[AccountEntry]) -> list[dict]:
    allocations = payments.allocations_of(session, [r.id for r in rows])
    return [{**{c: getattr(r, c) for c in ENTRY}, "allocations": allocations.get(r.id, [])} for r in rows]


def overview(session: Session, today: date | None = None) -> list[dict]:
    """Every reseller's account in a line (the master ISP's collections view), most used credit first."""
    rows = session.execute(select(ResellerAccount, TenantRow.code).join(TenantRow, TenantRow.id ==
                                                                        ResellerAccount.tenant_id)).all()
    today = today or utcnow().date()
    out = []
    for account, code in rows:
        standing = credit.standing_of(session, account)
        out.append({"tenant_code": code, "currency": account.currency, "credit_limit": account.credit_limit,
                    "balance": standing.balance, "overdue": payments.overdue(session, account.id, today),
                    "emergency_credit": standing.emergency_credit, "utilisation": standing.utilisation,
                    "open_alerts": [a.level for a in credit.open_alerts(session, account.id)],
                    "actions": credit.actions(account, standing)})
    return sorted(out, key=lambda r: (r["utilisation"] is None, -(r["utilisation"] or 0), r["tenant_code"]))
