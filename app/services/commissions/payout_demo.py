"""The demo's payout schedules: how the master ISP pays each demo reseller its commissions.

ABC Internet is paid monthly on the 15th by bank transfer (at least 500 KES), its sub-reseller ABC East
monthly on the 20th to an M-PESA wallet (at least 50 KES), XYZ Networks quarterly on the 10th by wire (at
least 1,000 KES). Idempotent: a schedule the master ISP has set already is left as it is.
"""

from __future__ import annotations

from app.services.commissions import payouts
from tenants import tenant_context
from tenants.context import UnknownTenant
from tenants.registry import directory

SCHEDULES = {
    "ABC_ISP": {"frequency": "monthly", "processing_day": 15, "minimum_threshold": "500.00",
                "method": "bank_transfer", "currency": "KES",
                "details": {"account_name": "ABC Internet Ltd", "bank_name": "Equity Bank",
                            "account_number": "0140200000001"}},
    "ABC_EAST": {"frequency": "monthly", "processing_day": 20, "minimum_threshold": "50.00",
                 "method": "digital_wallet", "currency": "KES",
                 "details": {"wallet_provider": "M-PESA", "wallet_number": "254700000002"}},
    "XYZ_NET": {"frequency": "quarterly", "processing_day": 10, "minimum_threshold": "1000.00", "method": "wire",
                "currency": "KES",
                "details": {"account_name": "XYZ Networks", "bank_name": "KCB", "swift": "KCBLKENX",
                            "account_number": "1100000000003"}},
}


def seed_demo(db) -> list[dict]:
    """Set each demo reseller's payout schedule unless one is set (a missing reseller is skipped); returns what
    was set."""
    done = []
    for code, values in SCHEDULES.items():
        try:
            tenant = directory().by_code(code)
        except UnknownTenant:
            continue  # not part of this demo
        with tenant_context(tenant), db.session() as session:
            if payouts.schedule(session).configured:
                continue
            payouts.set_schedule(session, actor="demo", **values)
            done.append({"code": code, "frequency": values["frequency"],
                         "processing_day": values["processing_day"]})
    return done
