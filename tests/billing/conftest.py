"""A reseller with billable customers, and the ledger audit that runs after every billing test.

Every tenant a billing test makes through `make_tenant` (directly or through `make_shop` /
`billable`) is audited when the test ends: the documents and the ledger must agree
(app/services/billing/ledger.py `audit`), whatever the test did.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import Decimal

import pytest

from app.services import customers, services
from app.services.billing import ledger
from tenants import tenant_context
from tests.provisioning.conftest import make_plan, make_shop  # noqa: F401  (fixtures)

_n = itertools.count(1)


@pytest.fixture
def make_tenant(make_tenant, db):
    """The root `make_tenant`, remembering each tenant so the ledger audit can check it afterwards."""
    made = []

    def make(*args, **kwargs):
        tenant = make_tenant(*args, **kwargs)
        made.append(tenant)
        return tenant

    yield make
    problems = []
    for tenant in made:
        with db.session() as s, tenant_context(tenant):
            problems += [f"{tenant.code}: {p}" for p in ledger.audit(s)]
    assert not problems, "the ledger and the documents disagree:\n" + "\n".join(problems)


@dataclass
class Billable:
    tenant: object
    plan: object
    customer_id: int
    service_id: int


@pytest.fixture
def billable(db, make_shop, make_plan):  # noqa: F811
    """A customer with one active monthly internet service at a known retail price (1000.00 KES unless
    told), billing day 1 unless told."""

    def make(price: str = "1000.00", billing_day: int = 1, currency: str = "KES", period: str = "monthly",
             shop=None, **customer_fields) -> Billable:
        plan = make_plan(wholesale_price=price, currency=currency, billing_period=period)
        shop = shop or make_shop("BILL", plan=plan)
        with db.session() as s, tenant_context(shop.tenant):
            if shop.plan.id != plan.id:
                from app.services import catalogue

                catalogue.authorise(s, plan.id, shop.tenant.id)
            customer = customers.create(s, first_name="Amina", last_name=f"Hassan{next(_n)}",
                                        email=f"amina{next(_n)}@example.com", billing_day=billing_day,
                                        **customer_fields)
            service = services.create(s, customer.id, plan.id)
            services.activate(s, service.id, reason="test")
            service.price = Decimal(price)  # the retail price under test, whatever the price rules say
            return Billable(shop.tenant, plan, customer.id, service.id)

    return make
