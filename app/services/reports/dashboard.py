"""The reseller dashboard: the business in a dozen figures, each with twelve months of history for charts.

How the history is computed. Every figure is either a flow (new customers, invoiced, collected,
commission earned: what happened in a month) or a stock (customers, MRR, receivables: what stood at a
month's end). Flows are sums of dated rows bucketed by month. A stock is read as it is now, and its value
at the end of an earlier month is now minus every change dated after that month:

    stock(end of month k) = stock(now) − Σ changes in the months after k

The changes come from the append-only records the services already keep: customer and service status
history, the ledger, payment allocations. So the latest point is always exactly the live figure and every
query is one set-based pass (`width_bucket` over the month boundaries).

A closed month never changes again (rows are stamped with their posting time, and a month counts as
closed a day after its end), so its flows and month-end stocks are kept in `report_months` the first time
they are computed; a view then reads the stocks now and the month so far only (through the `at` indexes
of the ledger and allocations). With a year of ledger for 100,000 customers that is the difference
between seconds and a fraction of one (bench/reports.py). Rows written into a closed month by hand (an
import) need that month's `report_months` rows deleted; they are recomputed on the next view.

Known approximations, stated so nobody is surprised: MRR history uses each service's current price (an
upgrade re-prices the past); customers deleted outright disappear from the past too; credit utilisation
history uses today's credit limit and leaves out emergency credit.

Definitions (also in the README): active = customer status Active; churned = moved to Inactive;
MRR = prices of Active and Limited services normalised to a month (quarterly ÷ 3, yearly ÷ 12);
ARPU = MRR ÷ active customers; invoiced = the ledger's invoice entries (invoices, credit notes, voids);
collected = the ledger's payment entries (payments less refunds and reversals); collection rate =
collected ÷ invoiced in the month; receivables = what is still open on issued invoices. Money is per
currency, Decimal, rounded half-up to cents at the end (never before adding up).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.db import Database
from app.models.base import utcnow
from app.models.reports import ReportMonth
from app.services.billing.invoices import zone_of
from app.services.money import round_money
from app.services.reports.periods import Months, add_months
from app.services.reports.scope import Scope, each
from app.services.reseller_accounts import accounts as reseller_accounts
from app.services.reseller_accounts import credit
from tenants import Tenant

Money = dict[str, Decimal]
PER_MONTH = {"monthly": Decimal(1), "quarterly": Decimal(3), "yearly": Decimal(12)}
HUNDRED = Decimal(100)
PERCENT = Decimal("0.01")
ZERO = Decimal("0.00")
TICKETS_SOURCE = "tickets not built yet"

_B = "CAST(:b AS timestamptz[])"
_CUSTOMERS_NOW = text("SELECT count(*), count(*) FILTER (WHERE status = 'Active') FROM customers")
_CREATED = text(f"SELECT width_bucket(created_at, {_B}), count(*) FROM customers WHERE created_at >= :first "
                "GROUP BY 1")
_STATUS = text(f"""
    SELECT width_bucket(at, {_B}),
           count(*) FILTER (WHERE to_status = 'Active') - count(*) FILTER (WHERE from_status = 'Active'),
           count(*) FILTER (WHERE to_status = 'Inactive' AND from_status IS DISTINCT FROM 'Inactive')
    FROM customer_status_history WHERE at >= :first GROUP BY 1""")
_MRR_NOW = text("""
    SELECT currency, billing_period, sum(price) FROM services
    WHERE status IN ('Active', 'Limited') AND price IS NOT NULL GROUP BY 1, 2""")
_MRR_CHANGES = text(f"""
    SELECT width_bucket(h.at, {_B}), s.currency, s.billing_period,
           coalesce(sum(s.price) FILTER (WHERE h.to_status IN ('Active', 'Limited')), 0)
           - coalesce(sum(s.price) FILTER (WHERE h.from_status IN ('Active', 'Limited')), 0)
    FROM service_status_history h JOIN services s ON s.id = h.service_id
    WHERE h.at >= :first AND s.price IS NOT NULL GROUP BY 1, 2, 3""")
_RECEIVABLE_NOW = text("""
    SELECT currency, sum(total - amount_paid) FROM invoices
    WHERE kind = 'invoice' AND status IN ('Issued', 'Partially Paid', 'Overdue') GROUP BY 1""")
# invoice entries: invoices, credit notes and voids (payment_id NULL); payment entries: payments, refunds and
# reversals of payments. `billed` is the part on invoices proper (their charges, and the voids of those),
# which is what receivables are made of; no join: a reversal's own entry says what it reversed.
_LEDGER = text(f"""
    SELECT width_bucket(l.at, {_B}), l.currency,
           coalesce(sum(l.amount) FILTER (WHERE l.invoice_id IS NOT NULL AND l.payment_id IS NULL), 0),
           coalesce(sum(l.amount) FILTER (WHERE l.payment_id IS NULL AND l.invoice_id IS NOT NULL AND (
               l.kind = 'charge' OR (l.kind = 'reversal' AND (
                   SELECT r.kind FROM ledger_entries r WHERE r.id = l.reverses_id) = 'charge'))), 0),
           coalesce(-sum(l.amount) FILTER (WHERE l.payment_id IS NOT NULL), 0)
    FROM ledger_entries l
    WHERE l.at >= :first GROUP BY 1, 2""")
# the rule of app/services/commissions/summary.py `earned`, for twelve months in one query
_COMMISSION = text("""
    SELECT date_trunc('month', period_start)::date, sum(amount) FROM commission_lines
    WHERE status <> 'Rejected' AND period_start >= :start AND period_start < :end GROUP BY 1""")
_ACCOUNT_MOVES = text(f"""
    SELECT width_bucket(at, {_B}), sum(amount) FROM public.account_entries WHERE account_id = :account GROUP BY 1""")
_ALLOCATED = text(f"""
    SELECT width_bucket(a.at, {_B}), i.currency, sum(a.amount)
    FROM payment_allocations a JOIN invoices i ON i.id = a.invoice_id
    WHERE a.at >= :first GROUP BY 1, 2""")


def _add(a: Money, b: Money, sign: int = 1) -> Money:
    out = dict(a)
    for currency, amount in b.items():
        out[currency] = out.get(currency, ZERO) + sign * amount
    return out


@dataclass
class Parts:
    """What one tenant contributes, before anything is divided or rounded. Stocks are series of month-end
    values (the last one: now); flows are indexed by `width_bucket`: 1..n are the months (0 and n + 1,
    before and after the window, stay unused)."""

    n: int
    customers: list[int] = field(default_factory=list)
    active: list[int] = field(default_factory=list)
    mrr: list[Money] = field(default_factory=list)
    receivable: list[Money] = field(default_factory=list)
    created: list[int] = field(default_factory=list)
    churned: list[int] = field(default_factory=list)
    invoiced: list[Money] = field(default_factory=list)
    collected: list[Money] = field(default_factory=list)
    commission: list[Decimal] = field(default_factory=list)
    utilisation: Decimal | None = None
    utilisation_series: list[Decimal | None] | None = None

    def __post_init__(self) -> None:
        for name in ("customers", "active"):
            if not getattr(self, name):
                setattr(self, name, [0] * self.n)
        for name in ("mrr", "receivable"):
            if not getattr(self, name):
                setattr(self, name, [{} for _ in range(self.n)])
        for name in ("created", "churned"):
            if not getattr(self, name):
                setattr(self, name, [0] * (self.n + 2))
        for name in ("invoiced", "collected"):
            if not getattr(self, name):
                setattr(self, name, [{} for _ in range(self.n + 2)])
        if not self.commission:
            self.commission = [ZERO] * (self.n + 2)

    def __add__(self, other: Parts) -> Parts:
        def pairs(name: str, add=lambda x, y: x + y) -> list:
            return [add(x, y) for x, y in zip(getattr(self, name), getattr(other, name), strict=True)]

        return Parts(
            self.n, pairs("customers"), pairs("active"), pairs("mrr", _add), pairs("receivable", _add),
            pairs("created"), pairs("churned"), pairs("invoiced", _add), pairs("collected", _add),
            pairs("commission"),
            self.utilisation if self.utilisation is not None else other.utilisation,
            self.utilisation_series if self.utilisation_series is not None else other.utilisation_series,
        )


def _monthly(currency_period_amounts) -> dict[str, Money]:
    """Rows of (bucket or None, currency, billing period, amount) → {bucket: {currency: monthly amount}}."""
    out: dict = {}
    for bucket, currency, period, amount in currency_period_amounts:
        per = out.setdefault(bucket, {})
        per[currency] = per.get(currency, ZERO) + Decimal(amount) / PER_MONTH[period]
    return out


# A closed month as kept in `report_months`: its flows and its month-end stocks (money as decimal strings).
_INTS = ("created", "churned", "customers", "active")
_MONIES = ("invoiced", "collected", "mrr", "receivable")
_STOCKS = ("customers", "active", "mrr", "receivable")
CLOSE_GRACE = timedelta(days=1)  # a month is closed a day after it ends: no transaction still posts into it


def _cached(session: Session, months: Months) -> dict[int, dict]:
    rows = session.execute(select(ReportMonth.month, ReportMonth.data).where(
        ReportMonth.zone == months.zone.key, ReportMonth.month.in_(months.starts))).all()
    index = {start: i for i, start in enumerate(months.starts, start=1)}
    return {index[month]: data for month, data in rows}


def _load(p: Parts, k: int, data: dict) -> None:
    for name in _INTS:
        getattr(p, name)[k - 1 if name in _STOCKS else k] = int(data[name])
    for name in _MONIES:
        getattr(p, name)[k - 1 if name in _STOCKS else k] = {c: Decimal(v) for c, v in data[name].items()}


def _dump(p: Parts, k: int) -> dict:
    out = {name: getattr(p, name)[k - 1 if name in _STOCKS else k] for name in _INTS}
    for name in _MONIES:
        out[name] = {c: str(v) for c, v in getattr(p, name)[k - 1 if name in _STOCKS else k].items()}
    return out


def read(session: Session, tenant: Tenant, months: Months, *, with_credit: bool = False,
         now: datetime | None = None) -> Parts:
    """The current tenant's parts (its schema is the session's search_path).

    Closed months come from `report_months` when it has them. From the first month it lacks, flows are
    read from the records and month-end stocks worked back from now (one pass per source, bucketed by
    month); the closed months so read are stored for the next view. With every closed month kept, a view
    reads the stocks now and the month so far only. Commission lines are always read: a period close
    adds the previous month's bonuses after that month has ended.
    """
    now = now or utcnow()
    n = len(months)
    p = Parts(n)
    cached = _cached(session, months)
    live = min((k for k in range(1, n + 1) if k not in cached), default=n + 1)
    b = {"b": months.boundaries, "first": months.boundaries[live - 1]}
    customers, active = session.execute(_CUSTOMERS_NOW).one()
    mrr = _monthly((None, c, per, a) for c, per, a in session.execute(_MRR_NOW)).get(None, {})
    receivable = {c: Decimal(a) for c, a in session.execute(_RECEIVABLE_NOW)}
    active_change, mrr_change = [0] * (n + 2), [{} for _ in range(n + 2)]
    receivable_change = [{} for _ in range(n + 2)]
    for k, count in session.execute(_CREATED, b):
        p.created[k] += count
    for k, change, churned in session.execute(_STATUS, b):
        active_change[k] += change
        p.churned[k] += churned
    for k, currency, invoiced, billed, collected in session.execute(_LEDGER, b):
        p.invoiced[k] = _add(p.invoiced[k], {currency: Decimal(invoiced)})
        receivable_change[k] = _add(receivable_change[k], {currency: Decimal(billed)})
        p.collected[k] = _add(p.collected[k], {currency: Decimal(collected)})
    if live < n:  # month-end stocks to work back: what changed since (not needed for "now" alone)
        for k, money in _monthly(session.execute(_MRR_CHANGES, b)).items():
            mrr_change[k] = money
        for k, currency, allocated in session.execute(_ALLOCATED, b):
            receivable_change[k] = _add(receivable_change[k], {currency: Decimal(allocated)}, -1)
    # month n is now; month k < n is now less what changed in the months after it (n + 1: dated later)
    for k in range(n, live - 1, -1):
        if k < n:
            customers -= p.created[k + 1]
            active -= active_change[k + 1]
            mrr = _add(mrr, mrr_change[k + 1], -1)
            receivable = _add(receivable, receivable_change[k + 1], -1)
        p.customers[k - 1], p.active[k - 1], p.mrr[k - 1], p.receivable[k - 1] = customers, active, mrr, receivable
    for k, data in cached.items():
        if k < live:
            _load(p, k, data)
    closed = [k for k in range(live, n + 1) if months.boundaries[k] <= now - CLOSE_GRACE and k not in cached]
    if closed:
        session.execute(insert(ReportMonth).values([
            {"month": months.starts[k - 1], "zone": months.zone.key, "data": _dump(p, k)} for k in closed
        ]).on_conflict_do_nothing())
    window = {"start": months.starts[0], "end": add_months(months.starts[-1], 1)}
    for k, amount in session.execute(_COMMISSION, window):
        p.commission[months.starts.index(k) + 1] = Decimal(amount)
    if with_credit:
        p.utilisation = credit.utilisation(session, tenant.id)
        p.utilisation_series = _utilisation_series(session, tenant.id, months, p.utilisation)
    return p


def _utilisation_series(session: Session, tenant_id: int, months: Months,
                        current: Decimal | None) -> list[Decimal | None] | None:
    """The account's balance at each month's end over today's credit limit (None: no limit); the last
    point is the utilisation now, with emergency credit, as the credit gates see it."""
    account = reseller_accounts.find(session, tenant_id)
    if account is None or account.credit_limit is None:
        return None
    moves = dict(session.execute(_ACCOUNT_MOVES, {"b": months.boundaries, "account": account.id}).all())
    out, owed = [], Decimal(moves.get(0, 0))  # bucket 0: everything before the window
    for k in range(1, len(months) + 1):
        owed += Decimal(moves.get(k, 0))
        out.append((max(owed, ZERO) * HUNDRED / account.credit_limit).quantize(PERCENT, ROUND_HALF_UP))
    out[-1] = current
    return out


# -- presenting -----------------------------------------------------------------------------------------
def _money(value: Money) -> dict[str, str]:
    return {c: str(round_money(v)) for c, v in sorted(value.items())}


def _series(months: Months, values: list, fmt=lambda v: v) -> list[dict]:
    return [{"month": label, "value": fmt(v)} for label, v in zip(months.labels(), values, strict=True)]


def _ratio(top: Money, bottom: Money | int) -> dict[str, str | None]:
    """top ÷ bottom per currency (bottom a count or amounts per currency), half-up to 0.01."""
    out = {}
    for currency, amount in sorted(top.items()):
        under = bottom if isinstance(bottom, int) else bottom.get(currency, ZERO)
        out[currency] = None if under <= 0 else str((amount / under).quantize(PERCENT, ROUND_HALF_UP))
    return out


def _percent(top: Money, bottom: Money) -> dict[str, str | None]:
    out = {}
    for currency in sorted(set(top) | set(bottom)):
        under = bottom.get(currency, ZERO)
        share = top.get(currency, ZERO) * HUNDRED / under if under > 0 else None
        out[currency] = None if share is None else str(share.quantize(PERCENT, ROUND_HALF_UP))
    return out


def figures(parts: Parts, months: Months) -> dict:
    """The dashboard's figures from (summed) parts: value now (or this month) and the monthly series."""
    n = len(months)
    flow = slice(1, n + 1)
    invoiced, collected = parts.invoiced[flow], parts.collected[flow]
    return {
        "customers_total": {"unit": "count", "value": parts.customers[-1], "series": _series(months, parts.customers)},
        "customers_active": {"unit": "count", "value": parts.active[-1], "series": _series(months, parts.active)},
        "customers_new": {"unit": "count", "value": parts.created[n], "series": _series(months, parts.created[flow])},
        "customers_churned": {"unit": "count", "value": parts.churned[n],
                              "series": _series(months, parts.churned[flow])},
        "mrr": {"unit": "money", "value": _money(parts.mrr[-1]), "series": _series(months, parts.mrr, _money)},
        "arpu": {"unit": "money", "value": _ratio(parts.mrr[-1], parts.active[-1]),
                 "series": [{"month": m, "value": _ratio(v, a)}
                            for m, v, a in zip(months.labels(), parts.mrr, parts.active, strict=True)]},
        "commission_earned": {"unit": "money", "value": str(round_money(parts.commission[n])),
                              "series": _series(months, parts.commission[flow], lambda v: str(round_money(v)))},
        "outstanding_receivables": {"unit": "money", "value": _money(parts.receivable[-1]),
                                    "series": _series(months, parts.receivable, _money)},
        "invoiced": {"unit": "money", "value": _money(invoiced[-1]), "series": _series(months, invoiced, _money)},
        "collected": {"unit": "money", "value": _money(collected[-1]), "series": _series(months, collected, _money)},
        "collection_rate": {"unit": "percent", "value": _percent(collected[-1], invoiced[-1]),
                            "series": [{"month": m, "value": _percent(c, i)}
                                       for m, c, i in zip(months.labels(), collected, invoiced, strict=True)]},
        "open_tickets": {"unit": "count", "value": 0, "source": TICKETS_SOURCE,
                         "series": _series(months, [0] * n)},
        "credit_utilisation": {
            "unit": "percent", "value": None if parts.utilisation is None else str(parts.utilisation),
            "series": _series(months, parts.utilisation_series or [None] * n,
                              lambda v: None if v is None else str(v))},
    }


def build(db: Database, scope: Scope, today: date, zone: ZoneInfo, *, now: datetime | None = None) -> dict:
    """The dashboard of a scope: every tenant read in its own schema, the parts summed, then presented.
    Credit utilisation is the root tenant's own account (a reseller's credit is not summed with its
    sub-resellers'; the platform view has none)."""
    months = Months.ending(today, zone)
    total = Parts(len(months))
    root_id = scope.root.id if scope.root is not None else None
    for _tenant, parts in each(db, scope, lambda s, t: read(s, t, months, with_credit=t.id == root_id, now=now)):
        total = total + parts
    return {
        "scope": {"tenant": scope.root.code if scope.root else None, "consolidated": scope.consolidated,
                  "tenants": scope.codes(), "label": scope.label},
        "as_of": today,
        "time_zone": zone.key,
        "period": {"start": months.starts[-1], "end": today},
        "months": months.labels(),
        "figures": figures(total, months),
    }


def warm(db: Database, tenant: Tenant, today: date) -> int:
    """Keep the current tenant's closed months (on its own clock) in `report_months`, so that the first
    view of a month is as quick as the next; the daily job calls it. Returns how many months are kept."""
    with db.session() as session:
        months = Months.ending(today, zone_of(session))
        read(session, tenant, months)
        return len(_cached(session, months))

