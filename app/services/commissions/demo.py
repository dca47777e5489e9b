"""The demo's commissions: rules for ABC Internet, its sub-reseller ABC East and XYZ Networks, and the
lines their demo payments earn (the engine run over every payment received).

ABC East (8 % recurring, a fixed 300 KES per new customer) sells under ABC (15 %, 10 % of setup fees),
so every ABC East payment shows the pass-through: 8 % in ABC East's schema, 7 % in ABC's.
Idempotent: a rule of a kind the reseller already has is not added; lines are keyed.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.models import Tenant as TenantRow
from app.models.billing import Payment
from app.services.commissions import engine, rules
from tenants import tenant_context
from tenants.registry import directory

START = date(2026, 1, 1)
RULES = {
    "ABC_ISP": [
        {"kind": "recurring", "rate": "15.00"},
        {"kind": "setup", "rate": "10.00"},
        {"kind": "usage", "rate": "5.00"},
        {"kind": "retention", "amount": "500.00", "currency": "KES", "months": 6},
        {"kind": "performance", "tiers": [{"from": "0", "rate": "0.50"}, {"from": "500000", "rate": "1.00"},
                                          {"from": "2000000", "rate": "2.00"}]},
    ],
    "ABC_EAST": [
        {"kind": "recurring", "rate": "8.00"},
        {"kind": "setup", "amount": "300.00", "currency": "KES"},
        {"kind": "usage", "rate": "3.00"},
    ],
    "XYZ_NET": [
        {"kind": "recurring", "rate": "12.00"},
        {"kind": "retention", "amount": "400.00", "currency": "KES", "months": 12},
    ],
}
ORDER = ("ABC_ISP", "XYZ_NET", "ABC_EAST")  # a parent's rates before its sub-reseller's (rules.py checks)


def seed_demo(db) -> list[dict]:
    """Create the demo's missing rules, then compute the lines of every demo payment. Returns a summary."""
    done = []
    for code in ORDER:
        with db.session() as session:
            tenant = session.execute(select(TenantRow).where(TenantRow.code == code)).scalar_one_or_none()
            if tenant is None:
                continue
            have = {(r.kind, r.months) for r in rules.list_rules(session, tenant.id)}
            added = 0
            for spec in RULES[code]:
                spec = dict(spec)
                if (spec["kind"], spec.get("months")) in have:
                    continue
                rules.create(session, tenant.id, kind=spec.pop("kind"), effective_from=START, actor="demo", **spec)
                added += 1
        done.append({"code": code, "rules_added": added})
    for entry in done:
        tenant = directory().by_code(entry["code"])
        with tenant_context(tenant):
            with db.session() as session:
                ids = list(session.execute(select(Payment.id).where(Payment.status.in_(engine.KEPT))).scalars())
            entry["lines_added"] = engine.compute_many(db, ids).lines
    return done
