"""When a customer's next invoice comes, and when it will be due: the "next bill date" of the customer's
dashboard (self-care journey 000, "At-a-Glance Information").

A customer is billed on their billing date (cycles.py): the billing day of a month on which a cycle of one of
their live services begins (every month for a monthly service; every third from its anchor for a quarterly
one). A month already billed for the customer (an invoice with its billing key, runs.py) is behind them,
even when its billing date is today. The invoice is due `billing.payment_terms_days` after it is issued, as
`invoices.issue` and the runs date it. A customer with no live, activated service has no next invoice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Customer
from app.models.billing import Invoice
from app.models.provisioning import Service
from app.services.billing import cycles, invoices
from app.services.errors import NotFound
from app.services.settings import local_today

BILLED_STATUSES = ("Active", "Limited", "Suspended")
LOOK_AHEAD_MONTHS = 12  # the longest cycle: a yearly service is billed within the next 12 months


@dataclass(frozen=True)
class NextBill:
    on: date  # the billing date, the tenant's local date
    due_on: date


def next_bill(session: Session, customer_id: int, *, today: date | None = None) -> NextBill | None:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound("no such customer")
    live = session.execute(select(Service.activated_at, Service.billing_period)
                           .where(Service.customer_id == customer_id, Service.status.in_(BILLED_STATUSES),
                                  Service.activated_at.is_not(None))).all()
    if not live:
        return None
    today = today or local_today(session)
    zone = invoices.zone_of(session)
    anchors = [(cycles.anchor(invoices.local_date(activated_at, zone), customer.billing_day),
                cycles.cycle_months(period)) for activated_at, period in live]
    billed = set(session.execute(select(Invoice.billing_key).where(
        Invoice.customer_id == customer_id, Invoice.billing_key.is_not(None))).scalars())
    first = cycles.billing_date(cycles.period_key(today), customer.billing_day)
    for step in range(LOOK_AHEAD_MONTHS + 1):
        on = cycles.add_months(first, step)
        if on < today or f"{customer_id}:{cycles.period_key(on)}" in billed:
            continue
        if any(on >= anchor and cycles.is_boundary(on, anchor, months) for anchor, months in anchors):
            terms = int(invoices.billing_settings(session)["payment_terms_days"])
            return NextBill(on=on, due_on=on + timedelta(days=terms))
    return None
