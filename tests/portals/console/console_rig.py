"""What the console's section tests set up, through the services, in tenants of their own (so the demo's
resellers, which every portal test shares, are left as they are): a reseller with a customer and this month's
commission, a payout waiting for approval, an emergency credit waiting for an answer, and a staff member
without `can_impersonate`."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from app import clock
from app.models.commissions import CommissionLine
from app.services import customers, demo, resellers
from app.services.auth import users
from app.services.commissions import payouts
from app.services.reseller_accounts import accounts, emergency
from tenants import tenant_context
from tests.conftest import host_of
from tests.web.forms import submit

CONSOLE = "console.test.example"
_n = itertools.count(1)


@dataclass
class Reseller:
    tenant: object
    host: str
    customer_id: int
    portal_id: str
    customer_name: str

    @property
    def code(self) -> str:
        return self.tenant.code

    @property
    def name(self) -> str:
        return self.tenant.name


def staff_client(client, email: str = demo.STAFF["email"]):
    """The Flask client signed in on the console as a person does, through its form."""
    signed = submit(client, "/console/login", CONSOLE, identifier=email, password=demo.DEMO_PASSWORD)
    assert signed.status_code == 302, signed.get_data(as_text=True)[:500]
    return client


def reseller_with_customer(db, make_tenant, *, commission: str = "12.50", earned: str | None = "150.00") -> Reseller:
    """A reseller of the master ISP with one customer and, `earned`, a commission line of this month."""
    tenant = make_tenant("CONS", name=f"Console Partner {next(_n)}")
    resellers.configure(db, tenant.code, commission_percent=Decimal(commission), actor="test")
    with db.session() as s, tenant_context(tenant):
        person = customers.create(s, first_name="Amani", last_name=f"Kariuki{next(_n)}",
                                  email=f"amani{next(_n)}@example.com", phone=f"+25472200{next(_n):04d}")
        customer_id, portal_id, name = person.id, person.portal_id, person.display_name
    if earned is not None:
        add_line(db, tenant, earned, clock.today(), customer_id=customer_id)
    return Reseller(tenant, host_of(tenant), customer_id, portal_id, name)


def add_line(db, tenant, amount: str, earned: date, *, status: str = "Pending", customer_id: int | None = None) -> int:
    """A commission line as the engine writes one (the engine's own tests cover how it is computed)."""
    n = next(_n)
    with db.session() as s, tenant_context(tenant):
        line = CommissionLine(reseller_id=tenant.id, customer_id=customer_id, source_tenant_id=tenant.id,
                              source_payment_id=n, kind="recurring", base_amount=Decimal(amount) * 8,
                              rate=Decimal("12.50"), amount=Decimal(amount), currency="KES", period_start=earned,
                              period_end=earned, status=status, source_key=f"console-test:{n}")
        s.add(line)
        s.flush()
        return line.id


def scheduled_payout(db, tenant) -> tuple[int, str]:
    """Last month's approved lines built into a payout waiting for the master ISP (Scheduled)."""
    today = clock.today()
    first = today.replace(day=1)
    last_month_end = first.fromordinal(first.toordinal() - 1)
    start = last_month_end.replace(day=1)
    with db.session() as s, tenant_context(tenant):
        payouts.set_schedule(s, frequency="monthly", processing_day=15, minimum_threshold="50.00",
                             method="bank_transfer", currency="KES", dispute_window_days=5,
                             details={"account_name": "Console Partner", "bank_name": "Equity Bank",
                                      "account_number": "0140200000009"}, actor="test")
    add_line(db, tenant, "640.00", start, status="Approved")
    with db.session() as s, tenant_context(tenant):
        [made] = payouts.build(s, start, last_month_end, actor="test",
                               now=datetime(today.year, today.month, today.day, 2, tzinfo=UTC))
        return made.id, made.number


def emergency_request(db, tenant, amount: str = "5000.00") -> int:
    """An account with a credit limit, and the reseller's request for emergency credit on it."""
    with db.session() as s:
        accounts.configure(s, tenant.id, {"credit_limit": Decimal("100000.00")}, actor="test")
        return emergency.request(s, tenant.id, amount=amount, reason="Fibre roll-out in Kisumu this week",
                                 actor="admin@partner.example").id


def staff_without_impersonation(db) -> str:
    email = f"helpdesk{next(_n)}@backhaul.example"
    with db.session() as s:
        users.create_staff(s, email=email, name="Help Desk", password=demo.DEMO_PASSWORD, can_impersonate=False)
    return email
