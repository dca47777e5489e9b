"""A reseller with wholesale charges on its account with the master ISP.

`charged(limit, amounts…)` makes a reseller whose account (in KES) holds charges of the given amounts,
due on the given days, without going through billing (the accrual has its own tests); the billing
fixtures (`billable`, `make_shop`, `make_plan`) are here for the accrual itself.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from app.models.reseller_accounts import AccountEntry
from app.services.reseller_accounts import accounts as account_svc
from tests.billing.conftest import billable, make_tenant  # noqa: F401  (fixtures)
from tests.provisioning.conftest import accounts, make_plan, make_shop, staff  # noqa: F401  (fixtures)

_n = itertools.count(1)


@dataclass
class Charged:
    tenant: object
    account_id: int


def add_charge(db, tenant_id: int, amount: str, due_on: date = date(2026, 11, 30)) -> int:
    """A wholesale charge posted straight to the account (as the accrual would)."""
    with db.session() as s:
        account = account_svc.get(s, tenant_id)
        entry = AccountEntry(account_id=account.id, kind="charge", amount=Decimal(amount), currency=account.currency,
                             due_on=due_on, source_key=f"test:{tenant_id}:{next(_n)}", description="test charge")
        s.add(entry)
        s.flush()
        return entry.id


@pytest.fixture
def charged(db, make_tenant):  # noqa: F811
    def make(limit: str | None = "1000.00", *amounts: str, tenant=None, **settings) -> Charged:
        tenant = tenant or make_tenant("ACCT")
        with db.session() as s:
            account = account_svc.configure(s, tenant.id, {"currency": "KES", "credit_limit": limit, **settings},
                                         actor="test")
            account_id = account.id
        for amount in amounts:
            add_charge(db, tenant.id, amount)
        return Charged(tenant, account_id)

    return make
