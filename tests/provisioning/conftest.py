"""A reseller with a wholesale catalogue to sell from: plans made on the platform, authorised for the tenant."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import Decimal

import pytest

from app.services import catalogue, customers
from tenants import tenant_context
from tests.auth.conftest import PASSWORD, accounts, bearer, reseller_login, staff  # noqa: F401

_n = itertools.count(1)


@pytest.fixture
def make_plan(db):
    """A wholesale plan with a unique code (kind internet, 60.00 USD monthly unless told)."""

    def make(kind: str = "internet", wholesale_price: str = "60.00", **fields):
        values = {"name": f"{kind} plan", "currency": "USD", "billing_period": "monthly", **fields}
        if kind == "internet":
            values.setdefault("download_kbps", 20000)
            values.setdefault("upload_kbps", 5000)
        with db.session() as s:
            return catalogue.create_plan(s, code=f"P{next(_n)}-{kind[:3]}", kind=kind,
                                         wholesale_price=Decimal(wholesale_price), **values)

    return make


@dataclass
class Shop:
    tenant: object
    plan: object
    customer_id: int
    portal_id: str


@pytest.fixture
def make_shop(db, make_tenant, make_plan):
    """A tenant authorised for one internet plan, with one customer."""

    def make(prefix: str = "SHOP", plan=None, **tenant_kwargs):
        tenant = make_tenant(prefix, **tenant_kwargs)
        plan = plan or make_plan()
        with db.session() as s:
            catalogue.authorise(s, plan.id, tenant.id)
        with db.session() as s, tenant_context(tenant):
            customer = customers.create(s, first_name="Achieng", last_name="Otieno", email="achieng@example.com")
            return Shop(tenant, plan, customer.id, customer.portal_id)

    return make


def add_customer(db, tenant, **fields):
    with db.session() as s, tenant_context(tenant):
        values = {"first_name": "Baraka", "last_name": "Kamau", **fields}
        return customers.create(s, **values).id


__all__ = ["PASSWORD", "Shop", "accounts", "add_customer", "bearer", "reseller_login", "staff"]
