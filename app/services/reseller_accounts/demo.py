"""The demo's accounts with the master ISP: every demo reseller's wholesale charges accrued from the
demo's invoices, a credit limit each (XYZ_NET's set so that it sits past its warning threshold, to show
an alert), and one payment by ABC_ISP. Run after `app.services.demo.seed_billing`. Idempotent: charges
are keyed by service and period, the payment by its reference, and a limit already set is kept."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from app.models.reseller_accounts import AccountEntry
from app.services.reseller_accounts import accounts, charges, credit, payments
from tenants import tenant_context

LIMITS = {"ABC_ISP": Decimal("250000.00"), "ABC_EAST": Decimal("50000.00")}
WARNING_SHARE = Decimal("0.85")  # XYZ_NET: its balance is 85 % of its limit
PAYMENT_REFERENCE = "DEMO-WHOLESALE-ABC_ISP"


def seed_demo(db) -> list[dict]:
    from app.services.demo import RESELLERS
    from tenants.registry import directory

    done = []
    for spec in RESELLERS:
        tenant = directory().by_code(spec["code"])
        with tenant_context(tenant), db.session() as session:
            charges.accrue(session)
        with db.session() as session:
            account = accounts.find(session, tenant.id)
            if account is None or account.credit_limit is None:
                owed = credit.balance(session, tenant.id)
                limit = LIMITS.get(spec["code"]) or (
                    (owed / WARNING_SHARE).quantize(Decimal("1"), rounding=ROUND_HALF_UP) if owed > 0
                    else Decimal("10000.00"))
                accounts.configure(session, tenant.id, {"credit_limit": limit}, actor="demo")
        if spec["code"] == "ABC_ISP":
            with db.session() as session:
                paid = session.execute(select(AccountEntry.id).where(
                    AccountEntry.source_key == f"payment:{tenant.id}:{PAYMENT_REFERENCE}")).first()
                owed = credit.balance(session, tenant.id)
                if paid is None and owed > 0:
                    half = (owed / 2).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
                    payments.record(session, tenant.id, amount=half, method="bank_transfer",
                                    reference=PAYMENT_REFERENCE, notes="demo payment", actor="demo")
        with db.session() as session:
            done.append({"code": spec["code"], "balance": str(credit.balance(session, tenant.id)),
                         "utilisation": str(credit.utilisation(session, tenant.id))})
    return done
