"""The reports: rows and totals over a date range, with filters, for one tenant or a consolidated scope.

| report                | source (the current tenant's schema)      | one row per                                |
| --------------------- | ----------------------------------------- | ------------------------------------------ |
| `revenue`             | ledger invoice entries                    | month, currency                            |
| `collections`         | ledger payment entries (+ payment method) | month, method, currency                    |
| `commissions`         | commission lines (by `period_start`)      | month, kind, status, currency              |
| `churn`               | customers and their status history        | month                                      |
| `service_distribution`| services live at some point of the range  | kind, plan, status, currency               |
| `customers_by_status` | each customer's status at the range's end | status                                     |

Revenue and collections read the ledger itself, so their totals are the ledger's by construction: revenue
is what invoices, credit notes and voids posted (`net` = invoiced − credit notes − voided), collections
what payments, refunds and payment reversals posted (`net` = received − refunded − reversed). Months are
months of the reseller's clock. Every row carries the reseller's code, so a consolidated report (a parent
with its descendants, or the platform) is the tenants' rows one after the other, with totals over all.

Money: Decimal, each row's amounts rounded half-up to cents (only the service MRR needs it: the rest are
sums of amounts already in cents), totals added up from the rows as shown, per currency.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.db import Database
from app.models.billing import PAYMENT_METHODS
from app.models.commissions import LINE_KINDS, LINE_STATUSES
from app.models.provisioning import SERVICE_STATUSES
from app.models.reports import REPORT_NAMES
from app.models.tenant import CUSTOMER_STATUSES
from app.services.errors import Invalid, NotFound
from app.services.money import round_money
from app.services.reports.periods import DateRange
from app.services.reports.scope import Scope, each
from app.services.resellers import SERVICE_KINDS

ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
PERCENT = Decimal("0.01")


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    type: str  # text | int | money | percent | month | date


def _choice(name: str, choices: tuple[str, ...]) -> Callable[[str], str]:
    def clean(value: str) -> str:
        if value not in choices:
            raise Invalid(f"{name}: one of {', '.join(choices)}", field=name)
        return value
    return clean


def _currency(value: str) -> str:
    value = str(value).strip().upper()
    if len(value) != 3 or not value.isalpha() or not value.isascii():
        raise Invalid("currency: a three-letter ISO code", field="currency")
    return value


def _words(name: str) -> Callable[[str], str]:
    def clean(value: str) -> str:
        value = str(value).strip()
        if not value or len(value) > 100:
            raise Invalid(f"{name}: 1 to 100 characters", field=name)
        return value
    return clean


@dataclass(frozen=True)
class Report:
    name: str
    title: str
    columns: tuple[Column, ...]
    filters: dict[str, Callable[[str], str]]
    sql: str  # with :lower, :upper (instants), :start, :end (dates), :zone and the filters' own parameters
    where: dict[str, str]  # filter -> SQL condition added where `/*filters*/` stands
    total_by: tuple[str, ...] = ()  # totals are per value of these (the currency)
    finish: Callable[[dict], None] | None = None  # fills a row's or a total's derived columns

    @property
    def sums(self) -> list[str]:
        return [c.key for c in self.columns if c.type in ("int", "money")]


_MONTH = "date_trunc('month', {0} AT TIME ZONE :zone)::date"


def _churn_rate(row: dict) -> None:
    start = row.get("customers_at_start") or 0
    row["churn_rate"] = (Decimal(row["churned"]) * HUNDRED / start).quantize(PERCENT, ROUND_HALF_UP) \
        if start > 0 else None


REPORTS: dict[str, Report] = {r.name: r for r in (
    Report(
        "revenue", "Revenue",
        (Column("month", "Month", "month"), Column("currency", "Currency", "text"),
         Column("invoices", "Invoices", "int"), Column("invoiced", "Invoiced", "money"),
         Column("credit_notes", "Credit notes", "money"), Column("voided", "Voided", "money"),
         Column("net", "Net revenue", "money")),
        {"currency": _currency},
        f"""SELECT {_MONTH.format('l.at')} AS month, l.currency,
                   count(*) FILTER (WHERE l.kind = 'charge') AS invoices,
                   coalesce(sum(l.amount) FILTER (WHERE l.kind = 'charge'), 0) AS invoiced,
                   coalesce(-sum(l.amount) FILTER (WHERE l.kind = 'credit'), 0) AS credit_notes,
                   coalesce(-sum(l.amount) FILTER (WHERE l.kind = 'reversal'), 0) AS voided,
                   sum(l.amount) AS net
            FROM ledger_entries l
            WHERE l.invoice_id IS NOT NULL AND l.payment_id IS NULL AND l.at >= :lower AND l.at < :upper
                  /*filters*/
            GROUP BY 1, 2 ORDER BY 1, 2""",
        {"currency": "l.currency = :currency"}, ("currency",)),
    Report(
        "collections", "Collections",
        (Column("month", "Month", "month"), Column("method", "Method", "text"), Column("currency", "Currency", "text"),
         Column("payments", "Payments", "int"), Column("received", "Received", "money"),
         Column("refunded", "Refunded", "money"), Column("reversed", "Reversed", "money"),
         Column("net", "Net collected", "money")),
        {"currency": _currency, "method": _choice("method", PAYMENT_METHODS)},
        f"""SELECT {_MONTH.format('l.at')} AS month, p.method, l.currency,
                   count(*) FILTER (WHERE l.kind = 'payment') AS payments,
                   coalesce(-sum(l.amount) FILTER (WHERE l.kind = 'payment'), 0) AS received,
                   coalesce(sum(l.amount) FILTER (WHERE l.kind = 'refund'), 0) AS refunded,
                   coalesce(sum(l.amount) FILTER (WHERE l.kind = 'reversal'), 0) AS reversed,
                   -sum(l.amount) AS net
            FROM ledger_entries l JOIN payments p ON p.id = l.payment_id
            WHERE l.at >= :lower AND l.at < :upper /*filters*/
            GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""",
        {"currency": "l.currency = :currency", "method": "p.method = :method"}, ("currency",)),
    Report(
        "commissions", "Commissions",
        (Column("month", "Month", "month"), Column("kind", "Kind", "text"), Column("status", "Status", "text"),
         Column("currency", "Currency", "text"), Column("lines", "Lines", "int"),
         Column("base_amount", "Base amount", "money"), Column("amount", "Amount", "money"),
         Column("earned", "Earned", "money")),
        {"currency": _currency, "kind": _choice("kind", LINE_KINDS), "status": _choice("status", LINE_STATUSES)},
        """SELECT date_trunc('month', period_start)::date AS month, kind, status, currency, count(*) AS lines,
                  sum(base_amount) AS base_amount, sum(amount) AS amount,
                  CASE WHEN status = 'Rejected' THEN 0 ELSE sum(amount) END AS earned
           FROM commission_lines WHERE period_start BETWEEN :start AND :end /*filters*/
           GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4""",
        {"currency": "currency = :currency", "kind": "kind = :kind", "status": "status = :status"}, ("currency",)),
    Report(
        "churn", "Customer churn",
        (Column("month", "Month", "month"), Column("customers_at_start", "Customers at start", "int"),
         Column("new", "New", "int"), Column("churned", "Churned", "int"), Column("reactivated", "Reactivated", "int"),
         Column("churn_rate", "Churn rate %", "percent")),
        {"category": _words("category")},
        """WITH months AS (
               SELECT m::date AS month, greatest(m AT TIME ZONE :zone, :lower) AS lo,
                      least((m + interval '1 month') AT TIME ZONE :zone, :upper) AS hi
               FROM generate_series(date_trunc('month', CAST(:start AS date)), CAST(:end AS date),
                                    interval '1 month') AS m),
           c AS (SELECT id, created_at FROM customers WHERE true /*filters*/),
           h AS (SELECT h.at, (h.to_status = 'Inactive' AND h.from_status IS DISTINCT FROM 'Inactive') AS left_,
                        (h.from_status = 'Inactive' AND h.to_status <> 'Inactive') AS back
                 FROM customer_status_history h JOIN c ON c.id = h.customer_id
                 WHERE h.at < :upper AND (h.to_status = 'Inactive' OR h.from_status = 'Inactive'))
           SELECT months.month,
                  (SELECT count(*) FROM c WHERE c.created_at < months.lo)
                  - (SELECT count(*) FILTER (WHERE left_) - count(*) FILTER (WHERE back) FROM h
                     WHERE h.at < months.lo) AS customers_at_start,
                  (SELECT count(*) FROM c WHERE c.created_at >= months.lo AND c.created_at < months.hi) AS new,
                  (SELECT count(*) FROM h WHERE left_ AND h.at >= months.lo AND h.at < months.hi) AS churned,
                  (SELECT count(*) FROM h WHERE back AND h.at >= months.lo AND h.at < months.hi) AS reactivated
           FROM months ORDER BY 1""",
        {"category": "lower(category) = lower(:category)"}, (), _churn_rate),
    Report(
        "service_distribution", "Service distribution",
        (Column("kind", "Kind", "text"), Column("plan_code", "Plan", "text"), Column("plan_name", "Plan name", "text"),
         Column("status", "Status", "text"), Column("currency", "Currency", "text"),
         Column("services", "Services", "int"), Column("mrr", "MRR", "money")),
        {"currency": _currency, "kind": _choice("kind", SERVICE_KINDS), "status": _choice("status", SERVICE_STATUSES)},
        """SELECT s.kind, p.code AS plan_code, p.name AS plan_name, s.status, s.currency, count(*) AS services,
                  coalesce(sum(s.price / CASE s.billing_period WHEN 'quarterly' THEN 3 WHEN 'yearly' THEN 12
                                                                ELSE 1 END)
                           FILTER (WHERE s.status IN ('Active', 'Limited')), 0) AS mrr
           FROM services s LEFT JOIN public.plans p ON p.id = s.plan_id
           WHERE s.created_at < :upper AND (s.terminated_at IS NULL OR s.terminated_at >= :lower) /*filters*/
           GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 4, 5""",
        {"currency": "s.currency = :currency", "kind": "s.kind = :kind", "status": "s.status = :status"},
        ("currency",)),
    Report(
        "customers_by_status", "Customers by status",
        (Column("status", "Status", "text"), Column("customers", "Customers", "int"),
         Column("new_in_range", "New in range", "int"), Column("share", "Share %", "percent")),
        {"category": _words("category"), "county": _words("county")},
        """SELECT coalesce(h.to_status, c.status) AS status, count(*) AS customers,
                  count(*) FILTER (WHERE c.created_at >= :lower) AS new_in_range
           FROM customers c LEFT JOIN LATERAL (
               SELECT to_status FROM customer_status_history
               WHERE customer_id = c.id AND at < :upper ORDER BY at DESC, id DESC LIMIT 1) h ON true
           WHERE c.created_at < :upper /*filters*/
           GROUP BY 1""",
        {"category": "lower(c.category) = lower(:category)", "county": "lower(c.county) = lower(:county)"}),
)}
assert set(REPORTS) == set(REPORT_NAMES)  # the schedules' CHECK constraint names the same reports

STATUS_ORDER = {s: i for i, s in enumerate(CUSTOMER_STATUSES)}


def get(name: str) -> Report:
    report = REPORTS.get(name)
    if report is None:
        raise NotFound(f"no report {name!r}; the reports are {', '.join(REPORTS)}")
    return report


def clean_filters(report: Report, filters: dict) -> dict:
    """The filters cleaned; one the report does not take is refused, not ignored (a typo would
    otherwise silently widen the report)."""
    out = {}
    for key, value in filters.items():
        if value is None:
            continue
        if key not in report.filters:
            taken = ", ".join(report.filters) or "none"
            raise Invalid(f"{key}: the {report.name} report takes no such filter (it takes: {taken})", field=key)
        out[key] = report.filters[key](value)
    return out


@dataclass
class Table:
    report: Report
    range: DateRange
    filters: dict
    scope: str
    rows: list[dict] = field(default_factory=list)
    totals: list[dict] = field(default_factory=list)
    generated_at: datetime | None = None

    @property
    def columns(self) -> tuple[Column, ...]:
        return (Column("reseller", "Reseller", "text"), *self.report.columns)


def rows_of(session: Session, report: Report, range_: DateRange, filters: dict) -> list[dict]:
    """The current tenant's rows, amounts as Decimal (money rounded half-up to cents)."""
    conditions = "".join(f" AND {report.where[k]}" for k in filters)
    sql = report.sql.replace("/*filters*/", conditions)
    out = []
    for row in session.execute(text(sql), {**range_.params, **filters}).mappings():
        values = dict(row)
        for column in report.columns:
            if column.type == "money":
                values[column.key] = round_money(Decimal(values[column.key] or 0))
        if report.finish is not None:
            report.finish(values)
        out.append(values)
    if report.name == "customers_by_status":
        _shares(out)
        out.sort(key=lambda r: STATUS_ORDER.get(r["status"], 99))
    return out


def _shares(rows: list[dict]) -> None:
    total = sum(r["customers"] for r in rows)
    for row in rows:
        row["share"] = (Decimal(row["customers"]) * HUNDRED / total).quantize(PERCENT, ROUND_HALF_UP) \
            if total else None


def totals_of(report: Report, rows: list[dict]) -> list[dict]:
    """The sum of every count and amount column, one total per currency when the report has one."""
    groups: dict[tuple, dict] = {}
    for row in rows:
        key = tuple(row[k] for k in report.total_by)
        total = groups.setdefault(key, {**dict(zip(report.total_by, key, strict=True)),
                                        **{c: 0 if t == "int" else ZERO for c, t in _sum_types(report)}})
        for column in report.sums:
            total[column] += row[column] or 0
    out = [groups[k] for k in sorted(groups)]
    for total in out:
        if report.finish is not None:
            report.finish(total)
        if report.name == "customers_by_status":
            total["share"] = HUNDRED.quantize(PERCENT) if total["customers"] else None
    if report.name == "churn" and out:  # customers at start: of the first month, not a sum over months
        first = [r for r in rows if r["month"] == rows[0]["month"]] if rows else []
        out[0]["customers_at_start"] = sum(r["customers_at_start"] for r in first)
        _churn_rate(out[0])
    return out or [{**{k: None for k in report.total_by}, **{c: 0 if t == "int" else ZERO
                                                             for c, t in _sum_types(report)}}]


def _sum_types(report: Report) -> list[tuple[str, str]]:
    return [(c.key, c.type) for c in report.columns if c.type in ("int", "money")]


def run(db: Database, scope: Scope, name: str, range_: DateRange, filters: dict, *,
        now: datetime | None = None, progress: Callable[[int], None] | None = None) -> Table:
    """A report over a scope: each tenant's rows read in its own schema, tagged with its code. `progress` hears
    how many tenants are done after each one (the export job's bar)."""
    report = get(name)
    filters = clean_filters(report, filters)
    table = Table(report, range_, filters, scope.label, generated_at=now)
    for done, (tenant, rows) in enumerate(each(db, scope, lambda s, _t: rows_of(s, report, range_, filters)), 1):
        table.rows.extend({"reseller": tenant.code, **row} for row in rows)
        if progress is not None:
            progress(done)
    table.totals = totals_of(report, table.rows)
    return table


def plain(value, type_: str):
    """A cell for JSON: money and percentages as decimal strings (never floats), months as YYYY-MM."""
    if value is None:
        return None
    if type_ in ("money", "percent"):
        return str(value)
    if type_ == "month":
        return value.strftime("%Y-%m")
    if type_ == "date" and isinstance(value, date):
        return value.isoformat()
    return value


def as_json(table: Table) -> dict:
    columns = table.columns
    return {
        "report": table.report.name,
        "title": table.report.title,
        "scope": table.scope,
        "from": table.range.start,
        "to": table.range.end,
        "time_zone": table.range.zone.key,
        "filters": table.filters,
        "columns": [{"key": c.key, "title": c.title, "type": c.type} for c in columns],
        "rows": [{c.key: plain(r.get(c.key), c.type) for c in columns} for r in table.rows],
        "totals": [{c.key: plain(t.get(c.key), c.type) for c in columns if c.key in t} for t in table.totals],
    }
