"""Which months a billing run may bill: from the tenant's first month to its next billing cycle.

Why bounded. A run bills each service's unbilled days up to the end of the cycle the period names (runs.py),
one line per cycle; a run for "3000-01" on a tenant billed this month planned some 11,700 lines per
service, and a run for "9999-12" died on the year 10000. Both were accepted from any user allowed to bill.

- **Latest: the next month** on the tenant's clock (`clock.today(zone)`). A prepaid reseller bills the
  coming month before it starts; no cycle after that has begun, so nothing later can be owed yet.
- **Earliest: the month of the tenant's first record of business**: the earliest of its first customer's
  creation and the earliest activation of any service; with neither, the tenant's own creation. The
  activations count because a reseller migrating its history imports its customers today, with services
  activated years ago, and may bill its back months; going by the customers' creation alone would refuse
  that. Before that month a run has nothing to bill, so a period there is a typo (2062 for 2026) rather
  than a wish, and saying so beats queueing a run that bills nobody.

A bad period is refused in `runs.start` (API and CLI both go through it) and again by the worker, before
any work, for a run queued by an older version.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from app import clock
from app.services import periods
from app.services.billing import invoices
from app.services.periods import Month
from tenants import require_tenant


@dataclass(frozen=True)
class Window:
    earliest: Month
    latest: Month

    def check(self, month: Month) -> Month:
        return periods.within(month, self.earliest, self.latest, why="a billing run bills from the tenant's "
                              "first customer or service up to the next billing cycle")


def window(session: Session) -> Window:
    """The months the current tenant's runs may bill, as of now."""
    zone = invoices.zone_of(session)
    first = session.execute(text("""
        SELECT COALESCE(
            LEAST((SELECT min(created_at) FROM customers), (SELECT min(activated_at) FROM services)),
            (SELECT created_at FROM public.tenants WHERE id = :tenant))"""),
        {"tenant": require_tenant().id}).scalar_one()
    today = clock.today(zone)
    latest = Month.of(today).shifted(1) or periods.LAST
    earliest = Month.of(invoices.local_date(first, zone)) if first is not None else Month.of(today)
    return Window(min(earliest, latest), latest)


def check(session: Session, period: str) -> Month:
    """The month `period` names, if a run of the current tenant may bill it; Invalid (422) otherwise."""
    return window(session).check(periods.parse(period))
