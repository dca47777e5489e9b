"""The demo's month of usage is drawn from the plan's bucket as accounting would draw it, so a demo
customer's cycle says what it used, in megabytes and in percent, in agreement."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from app.models.provisioning import Service
from app.services import demo
from app.services.usage import views
from tenants import tenant_context
from tenants.registry import directory


def test_a_demo_customers_cycle_counts_its_seeded_usage(db):
    demo.seed(db.session, "test.example")
    demo.seed_billing(db)  # in the order `backhaul demo` seeds: the resellers' accounts are set from the billing
    demo.seed_finance(db)
    with tenant_context(directory().by_code("ABC_ISP")), db.session() as s:
        service = s.execute(select(Service).where(Service.status == "Active").order_by(Service.id)).scalars().first()
        cycle = views.cycle(s, service)
    assert cycle["used_mb"] > 0 and cycle["allowance_mb"]
    expected = (Decimal(cycle["used_mb"]) * 100 / cycle["allowance_mb"]).quantize(Decimal("0.1"))
    assert Decimal(str(cycle["percent"])).quantize(Decimal("0.1")) == expected
