"""One reseller's commission as the master ISP sees it (the console's pages): what it has earned this month
and last, what is waiting to be paid, and its payouts and disputes that need a decision. Read in the
reseller's own schema, in a transaction of its own (the console's request has no tenant), with the same
functions the reseller's own commission pages and the API read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from app.db import Database
from app.models import Tenant as TenantRow
from app.services import periods
from app.services.commissions import disputes, payouts, rules, summary
from app.services.tenants import ref
from tenants import tenant_context

ZERO = Decimal("0.00")
UNPAID = ("Pending", "Approved")  # lines earned and not yet paid out


@dataclass(frozen=True)
class Commission:
    this_month: dict[str, Decimal] = field(default_factory=dict)  # currency -> net, rejected lines excluded
    last_month: dict[str, Decimal] = field(default_factory=dict)
    unpaid: dict[str, Decimal] = field(default_factory=dict)
    recurring_rate: Decimal | None = None  # the percent of its recurring rule in force today, if any
    scheduled_payouts: int = 0  # waiting for the master ISP's approval
    approved_payouts: int = 0  # approved, waiting to be paid
    open_disputes: int = 0


def _net(rows: list[dict], statuses: tuple[str, ...] | None = None) -> dict[str, Decimal]:
    found: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for row in rows:
        if row["status"] != "Rejected" and (statuses is None or row["status"] in statuses):
            found[row["currency"]] += row["amount"]
    return dict(sorted(found.items()))


@contextmanager
def in_schema(db: Database, row: TenantRow) -> Iterator[Session]:
    """A transaction of its own in the reseller's schema, committed when the block ends without error (its
    payouts, lines and disputes live there), as the console API's payout routes work."""
    with tenant_context(ref(row)), db.session() as session:
        yield session


def of(db: Database, row: TenantRow, today: date) -> Commission:
    this = periods.parse(f"{today:%Y-%m}")
    last = periods.parse(f"{this.first_day - timedelta(days=1):%Y-%m}")
    with in_schema(db, row) as s:
        rate = rules.recurring_rate(s, row, today)
        return Commission(
            this_month=_net(summary.totals(s, start=this.first_day, end=this.last_day)),
            last_month=_net(summary.totals(s, start=last.first_day, end=last.last_day)),
            unpaid=_net(summary.totals(s), UNPAID),
            recurring_rate=rate,
            scheduled_payouts=payouts.list_payouts(s, status="Scheduled", per_page=1)[1],
            approved_payouts=payouts.list_payouts(s, status="Approved", per_page=1)[1],
            open_disputes=disputes.list_disputes(s, status="Open", per_page=1)[1],
        )
