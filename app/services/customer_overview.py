"""What a customer's dashboard shows of their own account, read in one place so that the page (and any
other door) shows the same figures: balance and credit, the next bill, what is unpaid, each live service
with its cycle's usage, and the latest payments.

Every read is by the signed-in customer's own id: a service of another customer is "not found", exactly as
one that does not exist. Unpaid means the invoices still owed (Issued, Partially Paid, Overdue; oldest due
first, as payments are allocated) and the pro-formas issued to the customer, which are quotes to pay rather
than debts (never posted to the ledger, billing/invoices.py). Terminated services are history, shown on the
services pages rather than here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Customer
from app.models.billing import Invoice, Payment
from app.models.catalogue import Plan
from app.models.provisioning import Service
from app.services import services as services_
from app.services.billing import invoices, next_bill, payments
from app.services.errors import NotFound
from app.services.selfcare import finance, my_services
from app.services.settings import local_today
from app.services.usage import rollup, views

RECENT_PAYMENTS = 5
CHART_DAYS = 30  # the days of usage a card charts
MAX_PROFORMAS = 20
SHOWN_STATUSES = ("Pending", "Active", "Suspended", "Limited")


@dataclass(frozen=True)
class ServiceCard:
    service: Service
    plan: Plan | None
    cycle: dict | None  # usage.views.cycle: used, allowance, percent, state, resets_on…
    days: list[dict] = field(default_factory=list)  # the last CHART_DAYS days: day, upload, download (octets)

    @property
    def reason(self) -> str | None:
        """Why the service is not Active, as the status change said (fair use, dunning, an operator)."""
        return self.service.status_reason if self.service.status != "Active" else None


@dataclass(frozen=True)
class Overview:
    customer: Customer
    currency: str
    balance: Decimal  # owed (negative: in credit)
    credit: Decimal
    next_bill: next_bill.NextBill | None
    unpaid: list[Invoice] = field(default_factory=list)
    proformas: list[Invoice] = field(default_factory=list)
    services: list[ServiceCard] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)

    @property
    def owed(self) -> Decimal:
        return sum((i.total - i.amount_paid for i in self.unpaid), Decimal("0.00"))


def _plans(session: Session, plan_ids: set[int]) -> dict[int, Plan]:
    if not plan_ids:
        return {}
    return {p.id: p for p in session.execute(select(Plan).where(Plan.id.in_(sorted(plan_ids)))).scalars()}


def _cards(session: Session, services: list[Service], now: datetime | None) -> list[ServiceCard]:
    """The cards of several services in a few queries whatever their number: their plans, cycles and days."""
    if not services:
        return []
    today: date = local_today(session, now)
    plans = _plans(session, {s.plan_id for s in services})
    found = views.cycles_of(session, services, now=now)
    days = rollup.daily_of(session, [s.id for s in services], today - timedelta(days=CHART_DAYS - 1), today)
    return [ServiceCard(s, plans.get(s.plan_id), found[s.id], days[s.id]) for s in services]


def overview(session: Session, customer_id: int, *, now: datetime | None = None) -> Overview:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound("no such customer")
    money = finance.balance(session, customer_id)  # the figures of GET /portal/api/balance
    live = [s for s in services_.list_for_customer(session, customer_id) if s.status in SHOWN_STATUSES]
    proformas = invoices.list_page(session, customer_id=customer_id, kind="proforma", status="Issued",
                                   per_page=MAX_PROFORMAS).items
    recent, _total = payments.list_payments(session, customer_id=customer_id, per_page=RECENT_PAYMENTS)
    return Overview(customer=customer, currency=money["currency"], balance=money["balance"], credit=money["credit"],
                    next_bill=next_bill.next_bill(session, customer_id), unpaid=money["open_invoices"],
                    proformas=proformas, services=_cards(session, live, now), payments=recent)


def service_card(session: Session, customer_id: int, service_id: int, *, now: datetime | None = None) -> ServiceCard:
    """One of the customer's own services, as its dashboard card shows it (the card refreshed alone)."""
    service = my_services.own_service(session, customer_id, service_id)
    if service.status not in SHOWN_STATUSES:
        raise NotFound("no such service")
    return _cards(session, [service], now)[0]
