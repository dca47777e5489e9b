"""The demo's commissions: rules for ABC, ABC East and XYZ, and the lines of the demo payments."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from app.models.commissions import CommissionLine
from app.services import demo
from app.services.commissions import demo as commission_demo
from tenants import tenant_context
from tenants.registry import directory


def test_demo_commissions_pass_through_and_seeding_again_adds_nothing(db):
    demo.seed(db.session, "test.example")
    demo.seed_billing(db)
    commission_demo.seed_demo(db)
    again = commission_demo.seed_demo(db)
    assert all(entry["rules_added"] == 0 and entry["lines_added"] == 0 for entry in again)
    east, abc = directory().by_code("ABC_EAST"), directory().by_code("ABC_ISP")
    with db.session() as s, tenant_context(east):
        [own] = s.query(CommissionLine).filter_by(kind="recurring", source_tenant_id=east.id).all()
    with db.session() as s, tenant_context(abc):
        [passed] = s.query(CommissionLine).filter_by(kind="recurring", source_tenant_id=east.id).all()
    assert own.source_payment_id == passed.source_payment_id
    assert (own.rate, passed.rate) == (Decimal("8"), Decimal("7"))
    base = own.base_amount
    assert own.amount + passed.amount == (base * Decimal("0.15")).quantize(Decimal("0.01"), ROUND_HALF_UP)
