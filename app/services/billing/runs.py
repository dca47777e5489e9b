"""Billing runs: one invoice per customer and period, for every billable customer of a tenant.

What a customer is billed in the run of a month ("2026-11"), on their billing date in it (cycles.py):

- one **recurring** line per service and cycle for the service's unbilled days up to the end of the
  period the run bills (prepaid: the cycle starting on the billing date; postpaid: the one that ended the
  day before). A service's days are billed from the day after its last billed day (the latest
  `period_end` of its recurring lines on issued or void invoices), or, for a service never billed, from
  its activation, but not from before the cycle preceding that period: a service activated on 20 Oct
  gets 20–31 Oct prorated (12/31) with the first November bill, and a service imported long after its
  activation is not billed for its past. Days after the service's termination are never billed. Lines
  of part of a cycle are prorated (proration.py). Quarterly and yearly services are billed only in the
  runs where one of their cycles starts.
- a **setup** line for a service billed for the first time that was activated within that window (once:
  a setup line already on an issued or void invoice is not repeated).
- **plan changes** (completed upgrade or downgrade requests) after a service's last bill and within the
  days it covered: the days from the change are credited at the old plan (what was charged for them)
  and charged at the new one (prorated). With postpaid billing, a plan change inside the period being
  billed splits its line at the change, at the old plan's full-cycle price before and the new after.
- prepaid days paid for and lost to a **termination** are credited.

Charges make the invoice (`billing_key` = "<customer id>:<period>", one more per other currency the
customer is billed in: "<customer id>:<period>:<currency>"); credits make credit notes against the
invoice that charged those days ("<customer id>:<period>:credit:<invoice id>"), spent at once on what the
customer owes. The invoice is issued at once: numbered, posted, due after the payment terms, and paid
from the customer's credit if they have some.

Why it is safe to run twice, or to kill half-way. The billing keys are unique, and a customer whose key
for the period exists is skipped, so a repeated or resumed run bills nobody twice. Customers are billed
in batches, each in one transaction: it reads and plans its bills without locking anything, then locks
the tenant's invoice counter (numbering.py), plans again whoever got a document meanwhile (another run, a
hand-made invoice: their history has changed), writes the invoices with the next numbers and the run's
progress with them, and commits: a killed worker loses only its open batch, with the numbers it had
taken, and two runs of one tenant cannot both bill the same days. A batch that fails is redone customer
by customer, each in its own transaction, and a customer that still fails is recorded in the run's
`errors` without stopping it. One worker at a time runs a given run (a PostgreSQL advisory lock held for
the run, freed by a killed worker's connection closing); a second job for it finds the lock taken and
leaves.

Why the counter is locked last. Issuing any invoice of the tenant, by hand or by a run, waits for that
lock; held while a batch planned, it made the tenant's invoicing wait for the slowest part of the run
(issue 13: a run of "3000-01" planned for ever and a hand-made invoice hung behind it). Locked last, it
is held for the writing of one batch only, and a batch is bounded twice: by customers (`BATCH`) and by
the lines it plans (`LINE_BUDGET`: a customer with years of unbilled days plans a line per cycle, so a
batch stops early, and the next ones are as small as what fitted). Memory is that of one batch, whatever
the period; the period itself is bounded to the tenant's months up to the next cycle (run_periods.py).

A run whose worker died. Its row still says `running`, but nobody holds its advisory lock any more (the
killed worker's connection is gone): `statuses` reports it as `stalled`, the API and the CLI show that,
and starting the period again queues it (`queued`) for a worker, which resumes it where it stopped.

Speed. The batch is written set-wise (one statement per table per batch, history looked up per batch),
because a run is 100,000 customers on a big reseller: see bench/billing.py. The PDFs of a run's invoices
are drawn on their first download, or at once by the workers when the `billing.prerender_pdfs` setting
is true (a run of 100,000 invoices would otherwise queue 100,000 renders).

Billed are services Active, Suspended or Limited (a suspension for non-payment does not stop the
contract), and Terminated ones for their last days; Pending ones are not.
"""

from __future__ import annotations

import gc
import json
import logging
import re
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cached_property, lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import Table, func, select, text, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app import clock
from app.db import Database
from app.models.billing import BillingRun, Invoice, InvoiceLine, InvoiceTax, LedgerEntry
from app.models.catalogue import Plan
from app.services import events
from app.services.after_commit import AfterCommit
from app.services.billing import allocation, invoices, numbering, proration, run_periods
from app.services.billing.cycles import (
    ONE_DAY,
    Period,
    add_months,
    anchor,
    billed_cycle,
    billing_day_of,
    cycle_containing,
    cycle_months,
    parse_period,
    period_key,
    split,
)
from app.services.billing.tax import LineSpec, Priced, Rate, active_rates, price_lines
from app.services.errors import Invalid, NotFound
from app.services.ids import valid_id
from app.services.money import round_money
from tenants import Tenant, current_tenant, require_tenant, tenant_context

log = logging.getLogger(__name__)
ZERO = Decimal("0.00")
LOOKBACK = timedelta(days=400)  # terminated services are looked at this long after (a yearly cycle and then some)
BATCH = 1000  # customers a transaction: bigger amortises the per-batch reads; smaller holds the counter less
LINE_BUDGET = 10_000  # invoice lines a batch plans at most (about 25 MB): a batch with years to catch up stops early
MAX_ERRORS = 1000


# -- what is billed --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Context:
    """What a run needs, read once: the period, the mode, the issue date and the tenant's rules."""

    period: str
    mode: str
    now: datetime  # the moment of issue (tests and backfills may set it; a run issues "now")
    today: date  # its local date: the issue date of the run's invoices
    zone: ZoneInfo
    terms_days: int
    inclusive: bool
    rates: tuple[Rate, ...]
    actor: str
    render_pdfs: bool
    invoice_format: str
    plan_names: dict = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, period: str, *, actor: str = "system", now: datetime | None = None) -> Context:
        parse_period(period)
        settings = invoices.billing_settings(session)
        mode = settings.get("mode") or "prepaid"
        if mode not in ("prepaid", "postpaid"):
            raise Invalid(f"the billing mode setting is {mode!r}: prepaid or postpaid", field="mode")
        zone = invoices.zone_of(session)
        now = now or clock.now()
        return cls(period=period, mode=mode, now=now, today=invoices.local_date(now, zone), zone=zone,
                   terms_days=int(settings["payment_terms_days"]), inclusive=bool(settings["prices_include_tax"]),
                   rates=tuple(active_rates(session)), actor=actor,
                   render_pdfs=bool(settings.get("prerender_pdfs", False)),
                   invoice_format=numbering.format_of(session, "invoice"))

    @cached_property
    def first_day(self) -> date:
        year, month = parse_period(self.period)
        return date(year, month, 1)

    def billing_date(self, billing_day: int | None) -> date:
        """A customer's billing date in the run's month."""
        return self.first_day.replace(day=billing_day_of(billing_day))


@dataclass(frozen=True)
class ServiceRow:
    id: int
    customer_id: int
    plan_id: int
    kind: str
    status: str
    price: Decimal
    setup_fee: Decimal | None
    currency: str
    billing_period: str
    activated_on: date
    terminated_on: date | None


@dataclass(frozen=True)
class LastLine:
    """A service's latest recurring line on an issued (or void) invoice."""

    line_id: int
    invoice_id: int
    period: Period
    amount: Decimal
    issued_at: datetime


@dataclass
class History:
    last: LastLine | None = None
    setup_billed: bool = False
    adjusted: set = field(default_factory=set)  # (kind, start, end) of proration and unused lines made
    plan_changes: list = field(default_factory=list)  # completed_at of upgrades and downgrades, oldest first


@dataclass(frozen=True)
class Credit:
    """Days charged on an earlier invoice and to be credited: a line of that invoice, and how much of it."""

    invoice_id: int
    line_id: int
    amount: Decimal
    description: str
    period: Period
    kind: str = "unused"


@dataclass
class Bill:
    customer_id: int
    charges: dict = field(default_factory=dict)  # currency -> [LineSpec]
    credits: list = field(default_factory=list)  # [Credit]

    @property
    def size(self) -> int:
        """Lines planned: what a batch's memory and writing time grow with."""
        return sum(len(lines) for lines in self.charges.values()) + len(self.credits)


@lru_cache(maxsize=4096)
def _day(value: date) -> str:
    return f"{value.day} {value:%b %Y}"


def _span(period: Period) -> str:
    return f"{_day(period.start)} – {_day(period.end)}"


def _local(moment: datetime | None, zone: ZoneInfo) -> date | None:
    return invoices.local_date(moment, zone)


def plan_service(ctx: Context, billing_day: int | None, service: ServiceRow, history: History,
                 plan_name: str) -> tuple[list[LineSpec], list[Credit]]:
    """The lines (charges) and credits of one service in this run (see the module docstring)."""
    months = cycle_months(service.billing_period)
    run_date = ctx.billing_date(billing_day)
    anchor_date = anchor(service.activated_on, billing_day)
    charges: list[LineSpec] = []
    credits: list[Credit] = []
    last = history.last
    terminated = service.terminated_on

    # adjustments of what the last bill charged in advance
    if last is not None and terminated is not None and terminated < last.period.end:
        unused = proration.unused_credit(last.amount, last.period, terminated)
        if unused and ("unused", unused[0].start, unused[0].end) not in history.adjusted and unused[1] > ZERO:
            days, amount = unused
            credits.append(Credit(last.invoice_id, last.line_id, amount, f"{plan_name}: unused days {_span(days)} "
                                  f"(terminated {_day(terminated)})", days))
    elif last is not None and last.amount != _charge(service.price, last.period, anchor_date, months):
        # charged at another price than the service has now: adjust for a plan change made after that bill
        changes = [at for at in history.plan_changes if at > last.issued_at
                   and _local(at, ctx.zone) <= last.period.end]
        if changes:
            changed_on = max(_local(changes[-1], ctx.zone), last.period.start)
            cycle = cycle_containing(changed_on, anchor_date, months)
            adjusted = proration.plan_change(last.amount, last.period, service.price, cycle, changed_on)
            if adjusted and ("unused", adjusted[0].start, adjusted[0].end) not in history.adjusted:
                days, old_part, new_part = adjusted
                if old_part > ZERO:
                    credits.append(Credit(last.invoice_id, last.line_id, old_part,
                                          f"{plan_name}: previous plan, {_span(days)} (plan changed)", days))
                if new_part > ZERO:
                    charges.append(LineSpec(description=f"{plan_name}: {_span(days)} (plan changed)",
                                            unit_price=new_part, service_id=service.id, service_kind=service.kind,
                                            kind="proration", period_start=days.start, period_end=days.end))

    # the recurring days
    target = billed_cycle(run_date, anchor_date, months, ctx.mode)
    if target is None:
        return charges, credits
    earliest = target.start if ctx.mode == "postpaid" else add_months(target.start, -months)
    start = last.period.end + ONE_DAY if last is not None else max(service.activated_on, earliest)
    start = max(start, service.activated_on)
    end = target.end if terminated is None else min(target.end, terminated)
    if start > end:
        return charges, credits
    recurring = []
    for part, cycle in split(Period(start, end), anchor_date, months):
        for piece, price in _priced_pieces(ctx, part, service, history, anchor_date, months):
            amount = proration.prorate(price, piece, cycle)
            label = f"{plan_name} ({_span(piece)})" if piece == cycle else \
                f"{plan_name} ({_span(piece)}, {piece.days} of {cycle.days} days)"
            recurring.append(LineSpec(description=label, unit_price=amount, service_id=service.id,
                                      service_kind=service.kind, kind="recurring", period_start=piece.start,
                                      period_end=piece.end))
    if recurring and not history.setup_billed and service.setup_fee and service.setup_fee > ZERO \
            and last is None and service.activated_on >= earliest:
        charges.append(LineSpec(description=f"{plan_name}: setup", unit_price=Decimal(service.setup_fee),
                                service_id=service.id, service_kind=service.kind, kind="setup"))
    return charges + recurring, credits


def _charge(price: Decimal, period: Period, anchor_date: date, months: int) -> Decimal | None:
    """What `period` would cost at `price` (None if it is not within one cycle)."""
    cycle = cycle_containing(period.start, anchor_date, months)
    return proration.prorate(price, period, cycle) if cycle.covers(period) else None


def _priced_pieces(ctx: Context, part: Period, service: ServiceRow, history: History, anchor_date: date,
                   months: int) -> list[tuple[Period, Decimal]]:
    """`part` at the service's price, or, postpaid, split at a plan change inside it: the old plan's price
    before the change, the current one from it. The old price is what the last bill charged for a whole
    cycle, so a split needs a last bill of a whole cycle (the usual case); otherwise the current price
    applies to the whole part."""
    last = history.last
    if ctx.mode != "postpaid" or last is None or last.period != cycle_containing(last.period.start, anchor_date,
                                                                                 months):
        return [(part, service.price)]
    changes = [_local(at, ctx.zone) for at in history.plan_changes if at > last.issued_at]
    inside = [day for day in changes if part.start < day <= part.end]
    if not inside or last.amount == service.price:
        return [(part, service.price)]
    changed_on = inside[-1]
    return [(Period(part.start, changed_on - ONE_DAY), last.amount), (Period(changed_on, part.end), service.price)]


def plan_customer(ctx: Context, customer_id: int, billing_day: int | None, services: list[ServiceRow],
                  histories: dict[int, History]) -> Bill:
    bill = Bill(customer_id)
    for service in services:
        name = ctx.plan_names.get(service.plan_id) or f"Service {service.id}"
        charges, credits = plan_service(ctx, billing_day, service, histories.get(service.id) or History(), name)
        if charges:
            bill.charges.setdefault(service.currency, []).extend(charges)
        bill.credits.extend(credits)
    return bill


# -- reading a batch -------------------------------------------------------------------------------------

def _since(first_day: date) -> datetime:
    since = date.fromordinal(max(first_day.toordinal() - LOOKBACK.days, 1))  # year 1 has no 400 days before it
    return datetime.combine(since, datetime.min.time(), UTC)


def candidates_query(first_day: date, *, after: int = 0, limit: int | None = None, billing_day: int | None = None):
    """Customers with a service to look at in this run, by id."""
    sql = """
        SELECT c.id FROM customers c
        WHERE c.id > :after AND EXISTS (
            SELECT 1 FROM services s WHERE s.customer_id = c.id AND s.activated_at IS NOT NULL
              AND s.price IS NOT NULL
              AND (s.status IN ('Active', 'Suspended', 'Limited')
                   OR (s.status = 'Terminated' AND s.terminated_at >= :since)))
    """
    params = {"after": after, "since": _since(first_day)}
    if billing_day is not None:
        sql += " AND COALESCE(c.billing_day, 1) = :day"
        params["day"] = billing_day
    sql += " ORDER BY c.id"
    if limit is not None:
        sql += " LIMIT :limit"
        params["limit"] = limit
    return text(sql), params


def _ids(ids: Iterable[int]) -> str:
    """Ids as one array literal for `ANY(CAST(:ids AS bigint[]))`: a thousand ids are one short string to
    send, not a thousand array elements for the driver to quote one by one."""
    return "{" + ",".join(str(int(i)) for i in ids) + "}"


def _services(session: Session, ctx: Context, customer_ids: list[int]) -> dict[int, list[ServiceRow]]:
    rows = session.execute(text("""
        SELECT id, customer_id, plan_id, kind, status, price, setup_fee, currency, billing_period,
               (activated_at AT TIME ZONE :zone)::date AS activated_on,
               (terminated_at AT TIME ZONE :zone)::date AS terminated_on
        FROM services WHERE customer_id = ANY(CAST(:ids AS bigint[])) AND activated_at IS NOT NULL AND price IS NOT NULL
          AND (status IN ('Active', 'Suspended', 'Limited') OR (status = 'Terminated' AND terminated_at >= :since))
        ORDER BY customer_id, id"""), {"ids": _ids(customer_ids), "since": _since(ctx.first_day),
                                       "zone": ctx.zone.key})
    found: dict[int, list[ServiceRow]] = defaultdict(list)
    for r in rows:
        found[r.customer_id].append(ServiceRow(
            r.id, r.customer_id, r.plan_id, r.kind, r.status, r.price, r.setup_fee, r.currency,
            r.billing_period, r.activated_on, r.terminated_on))
    return found


def _histories(session: Session, ctx: Context, service_ids: list[int]) -> dict[int, History]:
    histories: dict[int, History] = defaultdict(History)
    if not service_ids:
        return histories
    for r in session.execute(text("""
            SELECT DISTINCT ON (l.service_id) l.service_id, l.id, l.invoice_id, l.period_start, l.period_end,
                   l.amount, i.issued_at
            FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id
            WHERE l.service_id = ANY(CAST(:ids AS bigint[])) AND l.kind = 'recurring' AND i.kind = 'invoice'
              AND i.status <> 'Draft'
              AND l.period_start IS NOT NULL
            ORDER BY l.service_id, l.period_end DESC, l.id DESC"""), {"ids": _ids(service_ids)}):
        histories[r.service_id].last = LastLine(r.id, r.invoice_id, Period(r.period_start, r.period_end),
                                                Decimal(r.amount), r.issued_at)
    for r in session.execute(text("""
            SELECT l.service_id, l.kind, l.period_start, l.period_end
            FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id
            WHERE l.service_id = ANY(CAST(:ids AS bigint[])) AND l.kind IN ('setup', 'proration', 'unused')
              AND i.status <> 'Draft'"""),
            {"ids": _ids(service_ids)}):
        if r.kind == "setup":
            histories[r.service_id].setup_billed = True
        else:
            histories[r.service_id].adjusted.add((r.kind, r.period_start, r.period_end))
    for r in session.execute(text("""
            SELECT service_id, completed_at FROM service_requests
            WHERE service_id = ANY(CAST(:ids AS bigint[])) AND kind IN ('upgrade', 'downgrade') AND status = 'Completed'
              AND completed_at >= :since
            ORDER BY completed_at"""), {"ids": _ids(service_ids), "since": _since(ctx.first_day)}):
        histories[r.service_id].plan_changes.append(r.completed_at)
    return histories


def _plan_names(session: Session, ctx: Context, plan_ids: Iterable[int]) -> None:
    missing = sorted({p for p in plan_ids if p not in ctx.plan_names})
    if missing:
        for plan_id, name in session.execute(select(Plan.id, Plan.name).where(Plan.id.in_(missing))):
            ctx.plan_names[plan_id] = name


def _already_billed(session: Session, period: str, customer_ids: list[int]) -> set[int]:
    return set(session.execute(text("""
        SELECT DISTINCT customer_id FROM invoices
        WHERE customer_id = ANY(CAST(:ids AS bigint[])) AND (billing_key LIKE :exact OR billing_key LIKE :more)"""),
        {"ids": _ids(customer_ids), "exact": f"%:{period}", "more": f"%:{period}:%"}).scalars())


def _with_credit(session: Session, customer_ids: list[int]) -> list[int]:
    """Those of the customers with money of theirs not yet spent (a payment or a credit note)."""
    return list(session.execute(text("""
        SELECT p.customer_id FROM payments p
        WHERE p.customer_id = ANY(CAST(:ids AS bigint[])) AND p.status NOT IN ('pending', 'failed', 'reversed')
          AND p.amount - p.refunded_amount > COALESCE(
              (SELECT SUM(a.amount) FROM payment_allocations a WHERE a.payment_id = p.id), 0)
        UNION
        SELECT c.customer_id FROM invoices c
        WHERE c.customer_id = ANY(CAST(:ids AS bigint[])) AND c.kind = 'credit_note'
          AND c.status NOT IN ('Draft', 'Void')
          AND c.total > COALESCE((SELECT SUM(a.amount) FROM payment_allocations a WHERE a.credit_note_id = c.id), 0)
        ORDER BY 1"""), {"ids": _ids(customer_ids)}).scalars())


# -- writing a batch -------------------------------------------------------------------------------------

_ARRAY_TYPES: dict[tuple[str, str], str] = {}


def _array_type(table: Table, column: str) -> str:
    key = (table.name, column)
    if key not in _ARRAY_TYPES:
        compiled = table.c[column].type.compile(dialect=postgresql.dialect())
        _ARRAY_TYPES[key] = re.sub(r"\(.*?\)", "", compiled).strip() + "[]"
    return _ARRAY_TYPES[key]


def insert_rows(session: Session, table: Table, rows: list[dict], returning: tuple[str, ...] = ()) -> list:
    """Insert `rows` (dicts with the same keys) in one statement: `INSERT … SELECT FROM unnest(arrays)`,
    one array parameter per column. A short statement the driver prepares once, whatever the number of
    rows, rather than thousands of placeholders to parse, or a round trip per row."""
    if not rows:
        return []
    columns = list(rows[0])
    casts = ", ".join(f"CAST(%b AS {_array_type(table, c)})" for c in columns)
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({casts})"
    if returning:
        sql += f" ON CONFLICT DO NOTHING RETURNING {', '.join(returning)}"
    # the driver's own cursor, on the session's connection (same transaction): `%b` sends the arrays in
    # binary, which spares quoting every element of every array as text
    with session.connection().connection.cursor() as cursor:
        cursor.execute(sql, [[row[c] for row in rows] for c in columns])
        return cursor.fetchall() if returning else []



@dataclass
class BatchResult:
    customers: int = 0
    invoices: int = 0
    credit_notes: int = 0
    skipped: int = 0
    lines: int = 0  # lines planned (charges and credits): what the batch held in memory
    invoice_ids: list = field(default_factory=list)

    def add(self, other: BatchResult) -> None:
        self.customers += other.customers
        self.lines += other.lines
        self.invoices += other.invoices
        self.credit_notes += other.credit_notes
        self.skipped += other.skipped
        self.invoice_ids += other.invoice_ids


class BatchConflict(RuntimeError):
    """An invoice of the batch was written by someone else meanwhile: redo the batch one by one."""


def _documents(session: Session, customer_ids: list[int]) -> dict[int, int]:
    """How many issued (non-draft) documents each customer has. A count only grows (an issued document is
    never deleted nor made a draft again), so a changed count is a history that changed."""
    if not customer_ids:
        return {}
    return dict(session.execute(text("""
        SELECT customer_id, count(*) FROM invoices
        WHERE customer_id = ANY(CAST(:ids AS bigint[])) AND status <> 'Draft' GROUP BY customer_id"""),
        {"ids": _ids(customer_ids)}).all())


def _plan(session: Session, ctx: Context, customer_ids: list[int]) -> list[Bill]:
    """The bills of these customers (read set-wise, planned one by one), in their order."""
    if not customer_ids:
        return []
    days = dict(session.execute(text("SELECT id, billing_day FROM customers WHERE id = ANY(CAST(:ids AS bigint[]))"),
                                {"ids": _ids(customer_ids)}).all())
    services = _services(session, ctx, customer_ids)
    histories = _histories(session, ctx, [s.id for rows in services.values() for s in rows])
    _plan_names(session, ctx, (s.plan_id for rows in services.values() for s in rows))
    return [plan_customer(ctx, cid, days.get(cid), services.get(cid, []), histories) for cid in customer_ids]


def _plan_within(session: Session, ctx: Context, customer_ids: list[int], billed: set[int],
                 line_budget: int) -> tuple[list[Bill], int]:
    """Bills of the customers in order until they come to `line_budget` lines (the first customer always),
    and how many of `customer_ids` that handled (the billed ones among them are handled by skipping)."""
    todo = [c for c in customer_ids if c not in billed]
    bills: list[Bill] = []
    lines = 0
    for at in range(0, len(todo), 100):  # read a hundred at a time: no reads for customers the budget leaves out
        for bill in _plan(session, ctx, todo[at:at + 100]):
            if bills and lines >= line_budget:
                handled = customer_ids.index(bill.customer_id)
                return bills, handled
            bills.append(bill)
            lines += bill.size
    return bills, len(customer_ids)


def bill_customers(session: Session, ctx: Context, customer_ids: list[int], *,
                   line_budget: int | None = None) -> BatchResult:
    """Bill these customers, in the order given, for the run's period in the caller's transaction; when
    their bills come to more than `line_budget` lines, only the first of them (`customers` in the result:
    how many were handled; at least one). See the module docstring for the order of reads and locks."""
    result = BatchResult()
    if not customer_ids:
        return result
    billed = _already_billed(session, ctx.period, customer_ids)
    seen = _documents(session, [c for c in customer_ids if c not in billed])  # before the histories are read
    bills, result.customers = _plan_within(session, ctx, customer_ids, billed, line_budget or LINE_BUDGET)
    result.skipped = sum(1 for c in customer_ids[:result.customers] if c in billed)
    if not bills:
        return result
    planned = [bill.customer_id for bill in bills]

    numbering.lock(session, "invoice", ctx.today, fmt=ctx.invoice_format)  # held until this batch commits
    now = _documents(session, planned)
    changed = [c for c in planned if now.get(c, 0) != seen.get(c, 0)]
    if changed:  # a document was issued to them while we planned: plan them again, under the lock
        billed_now = _already_billed(session, ctx.period, changed)
        result.skipped += len(billed_now)
        again = {bill.customer_id: bill for bill in _plan(session, ctx, [c for c in changed if c not in billed_now])}
        bills = [again.get(bill.customer_id) if bill.customer_id in changed else bill for bill in bills]
        bills = [bill for bill in bills if bill is not None]
    made = _write_invoices(session, ctx, bills)
    result.lines = sum(bill.size for bill in bills)
    result.invoices = len(made)
    result.invoice_ids = [invoice_id for invoice_id, _ in made]
    for bill in bills:
        result.credit_notes += _write_credit_notes(session, ctx, bill)
    customers_billed = sorted({customer_id for _, customer_id in made})
    for customer_id in _with_credit(session, customers_billed):
        allocation.settle(session, customer_id, today=ctx.today)
    return result


def _keys(bill: Bill, period: str) -> dict[str, str]:
    """The billing key of each currency's invoice: the currency of the customer's first service has the
    plain key, others (rare) their own."""
    primary = next(iter(bill.charges))
    return {cur: f"{bill.customer_id}:{period}" if cur == primary else f"{bill.customer_id}:{period}:{cur}"
            for cur in bill.charges}


def _write_invoices(session: Session, ctx: Context, bills: list[Bill]) -> list[tuple[int, int]]:
    """Every bill's charges as issued invoices, set-wise; returns [(invoice id, customer id)]."""
    priced: list[tuple[Bill, str, str, Priced]] = []
    for bill in bills:
        if not bill.charges:
            continue
        for currency, key in _keys(bill, ctx.period).items():
            lines = price_lines(bill.charges[currency], ctx.rates, inclusive=ctx.inclusive)
            priced.append((bill, currency, key, lines))
    if not priced:
        return []
    block = numbering.take(session, "invoice", ctx.today, len(priced), fmt=ctx.invoice_format)
    numbers = block.numbers()
    now = ctx.now
    due = ctx.today + timedelta(days=ctx.terms_days)
    rows = []
    for (bill, currency, key, lines), number in zip(priced, numbers, strict=True):
        starts = [line.spec.period_start for line in lines.lines if line.spec.period_start]
        ends = [line.spec.period_end for line in lines.lines if line.spec.period_end]
        rows.append({"kind": "invoice", "series": "invoice", "number": number,
                     "status": "Issued" if lines.total > ZERO else "Paid", "customer_id": bill.customer_id,
                     "currency": currency, "period_start": min(starts) if starts else None,
                     "period_end": max(ends) if ends else None, "issued_at": now, "due_on": due,
                     "tax_inclusive": ctx.inclusive, "subtotal": lines.subtotal, "discount_total": lines.discount_total,
                     "tax_total": lines.tax_total, "total": lines.total, "amount_paid": ZERO, "billing_key": key,
                     "version": 1, "created_by": ctx.actor, "created_at": now, "updated_at": now})
        if lines.total < ZERO:
            raise Invalid(f"customer {bill.customer_id}: the bill comes to {lines.total}; a run makes no negative "
                          "invoice")
    inserted = insert_rows(session, Invoice.__table__, rows, returning=("id", "billing_key"))
    if len(inserted) != len(rows):
        raise BatchConflict("another transaction billed some of these customers meanwhile")
    ids = {key: invoice_id for invoice_id, key in inserted}
    line_rows, tax_rows, ledger_rows, made = [], [], [], []
    for (bill, currency, key, lines), row in zip(priced, rows, strict=True):
        invoice_id = ids[key]
        made.append((invoice_id, bill.customer_id))
        for position, line in enumerate(lines.lines):
            spec = line.spec
            line_rows.append({"invoice_id": invoice_id, "position": position, "service_id": spec.service_id,
                              "kind": spec.kind, "description": spec.description, "quantity": spec.quantity,
                              "unit_price": spec.unit_price, "discount": spec.discount, "amount": line.amount,
                              "tax_amount": line.tax, "period_start": spec.period_start,
                              "period_end": spec.period_end})
        for summary in lines.taxes:
            tax_rows.append({"invoice_id": invoice_id, "tax_rate_id": summary.rate.id, "name": summary.rate.name,
                             "rate": summary.rate.rate, "compound": summary.rate.compound, "base": summary.base,
                             "amount": summary.amount})
        if lines.total != ZERO:
            ledger_rows.append({"customer_id": bill.customer_id, "kind": "charge", "amount": round_money(lines.total),
                                "currency": currency, "description": f"Invoice {row['number']}",
                                "invoice_id": invoice_id, "payment_id": None, "reverses_id": None,
                                "actor": ctx.actor, "at": now})
    insert_rows(session, InvoiceLine.__table__, line_rows)
    insert_rows(session, InvoiceTax.__table__, tax_rows)
    insert_rows(session, LedgerEntry.__table__, ledger_rows)  # what ledger.post writes, one statement a batch
    for (bill, currency, key, lines), row in zip(priced, rows, strict=True):
        events.publish_after_commit(session, "invoice.issued", invoice_id=ids[key], customer_id=bill.customer_id,
                                    number=row["number"], total=str(lines.total), currency=currency)
        if ctx.render_pdfs:
            queue_after_commit(session, "render_invoice_pdf", ids[key])
    return made


def _write_credit_notes(session: Session, ctx: Context, bill: Bill) -> int:
    by_invoice: dict[int, list[Credit]] = defaultdict(list)
    for credit in bill.credits:
        by_invoice[credit.invoice_id].append(credit)
    made = 0
    for invoice_id, credits in sorted(by_invoice.items()):
        key = f"{bill.customer_id}:{ctx.period}:credit:{invoice_id}"
        invoice = invoices.get(session, invoice_id, lock=True)
        room = invoice.total - invoices.credited_total(session, invoice_id)
        lines = []
        for credit in credits:
            amount = min(credit.amount, room)
            if amount <= ZERO or invoice.status == "Void":
                continue
            room -= amount
            lines.append({"line_id": credit.line_id, "amount": amount, "description": credit.description,
                          "kind": credit.kind, "period_start": credit.period.start, "period_end": credit.period.end})
        if not lines:
            continue
        invoices.credit_note(session, invoice_id, reason=f"Billing run {ctx.period}", lines=lines, actor=ctx.actor,
                             today=ctx.today, billing_key=key, render=ctx.render_pdfs, lock=False)
        made += 1
    return made


# -- runs ------------------------------------------------------------------------------------------------

def get_run(session: Session, run_id: int) -> BillingRun:
    row = session.get(BillingRun, run_id) if valid_id(run_id) else None
    if row is None:
        raise NotFound("no such billing run")
    return row


def list_runs(session: Session, limit: int = 100) -> list[BillingRun]:
    return list(session.execute(select(BillingRun).order_by(BillingRun.period.desc()).limit(limit)).scalars())


def _held_locks(session: Session) -> set[int]:
    """The advisory locks (bigint keys) held in this database right now, by any connection."""
    return set(session.execute(text("""
        SELECT (classid::bigint << 32) | objid::bigint FROM pg_locks
        WHERE locktype = 'advisory' AND objsubid = 1 AND granted
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())""")).scalars())


def statuses(session: Session, rows: Iterable[BillingRun]) -> dict[int, str]:
    """Each run's status as people should see it: a `running` run that no worker holds is `stalled`."""
    rows = list(rows)
    held = _held_locks(session) if any(row.status == "running" for row in rows) else set()
    tenant = require_tenant()
    return {row.id: "stalled" if row.status == "running" and _lock_key(tenant, row.period) not in held
            else row.status for row in rows}


def _ensure_run(session: Session, period: str, requested_by: str) -> BillingRun:
    session.execute(insert(BillingRun).values(period=period, requested_by=requested_by)
                    .on_conflict_do_nothing(index_elements=["period"]))
    return session.execute(select(BillingRun).where(BillingRun.period == period).with_for_update()
                           .execution_options(populate_existing=True)).scalar_one()


def start(session: Session, period: str, *, requested_by: str = "system", enqueue: bool = True) -> BillingRun:
    """The run of `period` (made the first time), queued for a worker once this transaction commits.
    Starting a run again resumes it (a stalled one too), or, when it is done, bills whoever it did not bill
    yet. A period outside the tenant's billing months (run_periods.py) is refused before anything is made."""
    period = str(run_periods.check(session, period))
    row = _ensure_run(session, period, requested_by)
    if statuses(session, [row])[row.id] != "running":  # a worker on it carries on; a second job would leave
        row.status = "queued"
    row.requested_by = requested_by
    session.flush()
    if enqueue:
        queue_after_commit(session, "run_billing", row.id)
    return row


def _lock_key(tenant: Tenant, period: str) -> int:
    return zlib.crc32(f"{tenant.schema}:billing-run:{period}".encode()) - 2**31


def _update_run(session: Session, run_id: int, **values) -> None:
    session.execute(update(BillingRun).where(BillingRun.id == run_id).values(**values))


@dataclass(frozen=True)
class Progress:
    """Where a batch reports: the period's run row. A full run also counts the customers it has been
    through; the daily bill only adds its invoices and its errors."""

    run_id: int
    count_customers: bool = True


def _record_error(db: Database, progress: Progress, customer_id: int, exc: BaseException) -> None:
    message = str(exc.detail if hasattr(exc, "detail") else exc)[:500] or exc.__class__.__name__
    with db.session() as session:
        session.execute(text("""
            UPDATE billing_runs SET customers_done = customers_done + :done,
                errors = CASE WHEN jsonb_array_length(errors) < :cap THEN errors || CAST(:entry AS jsonb)
                              ELSE errors END
            WHERE id = :id"""), {"id": progress.run_id, "cap": MAX_ERRORS, "done": int(progress.count_customers),
                                  "entry": json.dumps([{"customer_id": customer_id, "error": message}])})


def _batch(db: Database, ctx: Context, progress: Progress | None, customer_ids: list[int]) -> BatchResult:
    with db.session() as session:
        result = bill_customers(session, ctx, customer_ids)
        if progress is not None:  # in the batch's own transaction: the row says exactly what is committed
            values = {"invoices_created": BillingRun.invoices_created + result.invoices}
            if progress.count_customers:
                values["customers_done"] = BillingRun.customers_done + result.customers
            _update_run(session, progress.run_id, **values)
        return result


def _process(db: Database, ctx: Context, progress: Progress | None, customer_ids: list[int]) -> BatchResult:
    """One batch in one transaction (or its first customers, up to the line budget: `customers` in the
    result); when it fails, each customer in a transaction of its own."""
    try:
        return _batch(db, ctx, progress, customer_ids)
    except Exception as exc:
        if len(customer_ids) == 1:
            if isinstance(exc, BatchConflict):  # billed by someone else meanwhile: looking again skips it
                try:
                    return _batch(db, ctx, progress, customer_ids)
                except Exception as again:
                    exc = again
            log.warning("billing customer %s for %s failed: %s", customer_ids[0], ctx.period, exc)
            if progress is not None:
                _record_error(db, progress, customer_ids[0], exc)
            return BatchResult(customers=1)
        log.info("a billing batch of %d failed (%s); billing its customers one by one", len(customer_ids), exc)
    total = BatchResult()
    for customer_id in customer_ids:
        total.add(_process(db, ctx, progress, [customer_id]))
    return total


def run(db: Database, run_id: int, *, batch_size: int = BATCH,
        on_batch: Callable[[BatchResult], None] | None = None, now: datetime | None = None) -> BillingRun | None:
    """Do (or resume) a billing run in the current tenant. Returns the finished run, or None when another
    worker holds it. `on_batch` is called after each committed batch (tests, benchmarks)."""
    tenant = require_tenant()
    with db.session() as session:
        period = get_run(session, run_id).period
    with db.engine.connect() as holder:
        got = holder.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _lock_key(tenant, period)}).scalar_one()
        holder.commit()
        if not got:
            log.info("billing run %s of %s is being done by another worker", period, tenant.code)
            return None
        # A run makes millions of short-lived objects; each full collection would also walk everything the
        # process holds (models, metadata, compiled templates). Frozen, those are left out until the end.
        gc.freeze()
        try:
            return _run_locked(db, run_id, batch_size, on_batch, now)
        except BaseException:
            with db.session() as session:  # a crash we saw (a kill is not seen: starting again resumes it)
                _update_run(session, run_id, status="failed")
            raise
        finally:
            gc.unfreeze()
            holder.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _lock_key(tenant, period)})
            holder.commit()


def _run_locked(db: Database, run_id: int, batch_size: int, on_batch, now: datetime | None) -> BillingRun:
    with db.session() as session:
        row = get_run(session, run_id)
        try:  # a run queued before periods were bounded, or by hand: refused before any work
            run_periods.check(session, row.period)
        except Invalid as exc:
            _update_run(session, run_id, status="failed", finished_at=clock.now(),
                        errors=[{"customer_id": None, "error": exc.detail}])
            return get_run(session, run_id)
        ctx = Context.load(session, row.period, actor=row.requested_by, now=now)
        query, params = candidates_query(ctx.first_day)
        total = session.execute(text(f"SELECT count(*) FROM ({query.text}) AS c"), params).scalar_one()
        _update_run(session, run_id, status="running", customers_total=total, customers_done=0, errors=[],
                    started_at=func.coalesce(BillingRun.started_at, clock.now()), finished_at=None)
    _bill_through(db, ctx, Progress(run_id), None, batch_size, on_batch)
    with db.session() as session:
        _update_run(session, run_id, status="done", finished_at=clock.now())
        return get_run(session, run_id)


def _bill_through(db: Database, ctx: Context, progress: Progress, billing_day: int | None, batch_size: int,
                  on_batch: Callable[[BatchResult], None] | None = None) -> BatchResult:
    """Every candidate of the period (with that billing day, if given), batch after batch, the ids read a
    page at a time. A batch cut short by the line budget makes the next page that size (the customers
    around it are likely alike), growing back towards `batch_size` while batches fit."""
    total = BatchResult()
    after, limit = 0, batch_size
    while True:
        with db.session() as session:
            query, params = candidates_query(ctx.first_day, after=after, limit=limit, billing_day=billing_day)
            ids = list(session.execute(query, params).scalars())
        if not ids:
            return total
        result = _process(db, ctx, progress, ids)
        handled = max(1, min(result.customers, len(ids)))
        if on_batch is not None:
            on_batch(result)
        total.add(replace(result, invoice_ids=[]))  # counts only: a day's ids are not kept
        after = ids[handled - 1]
        limit = handled if handled < len(ids) else min(batch_size, limit * 2)


def due_customers(session: Session, on: date) -> list[int]:
    """Customers whose billing day is `on`'s day (no billing day: the 1st) and who have a service to bill."""
    year, month = parse_period(period_key(on))
    query, params = candidates_query(date(year, month, 1), billing_day=on.day)
    return list(session.execute(query, params).scalars())


def bill_due(db: Database, on: date, *, batch_size: int = BATCH, actor: str = "scheduler",
             now: datetime | None = None) -> BatchResult:
    """Bill the customers whose billing date is `on`, for `on`'s month (the daily scheduler's job). Safe to
    repeat: the billing keys are shared with the month's full run."""
    period = period_key(on)
    with db.session() as session:
        ctx = Context.load(session, period, actor=actor, now=now)
        run_id = _ensure_run(session, period, actor).id
    return _bill_through(db, ctx, Progress(run_id, count_customers=False), on.day, batch_size)


# -- jobs after commit -----------------------------------------------------------------------------------

def queue_after_commit(session: Session, job: str, *args) -> None:
    """Send `worker.actors.billing.<job>(*args)` once this transaction commits (in this tenant); never for
    a transaction (or savepoint) that rolls back. If Redis is down then, a run is started again from the
    API or CLI, and a PDF is drawn on its first download."""
    _jobs.add(session, (job, args))


def dispatch(tenant: Tenant | None, job: str, *args) -> None:
    from worker.actors import billing as actors

    with tenant_context(tenant):
        getattr(actors, job).send(*args)


_jobs = AfterCommit("billing", lambda item: dispatch(current_tenant(), item[0], *item[1]), "billing job")

