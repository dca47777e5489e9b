"""The demo's accounts: charges accrued from the demo's invoices, limits, one payment; seeding twice
changes nothing."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from app.models.reseller_accounts import AccountEntry
from app.services import demo
from app.services.reseller_accounts import accounts, credit
from app.services.reseller_accounts.demo import seed_demo
from tenants.registry import directory


def _counts(db) -> dict:
    with db.session() as s:
        return dict(s.execute(select(AccountEntry.kind, func.count()).group_by(AccountEntry.kind)
                              .where(AccountEntry.source_key.like("wholesale:%") | AccountEntry.source_key.like(
                                  "payment:%DEMO%"))).all())


def test_demo_accounts(db, settings):
    demo.seed_staff(db.session)
    demo.seed(db.session, settings.base_domain)
    demo.seed_billing(db)
    first = {row["code"]: row for row in seed_demo(db)}
    counts = _counts(db)
    second = {row["code"]: row for row in seed_demo(db)}
    assert first == second and _counts(db) == counts  # idempotent
    assert set(first) == {"ABC_ISP", "XYZ_NET", "ABC_EAST"}
    with db.session() as s:
        abc = directory().by_code("ABC_ISP")
        account = accounts.get(s, abc.id)
        assert account.credit_limit == Decimal("250000.00")
        # the demo's own entries (the portal tests, which share the demo in a test process, add their own)
        kinds = {e.kind for e in s.execute(select(AccountEntry).where(
            AccountEntry.account_id == account.id,
            AccountEntry.source_key.like("wholesale:%") | AccountEntry.source_key.like("payment:%DEMO%"))).scalars()}
        assert kinds == {"charge", "payment"}
        xyz = directory().by_code("XYZ_NET")
        assert credit.balance(s, xyz.id) > 0
        assert [a.level for a in credit.open_alerts(s, accounts.get(s, xyz.id).id)] == ["warning"]
