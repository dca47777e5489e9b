"""The commission engine: a customer's payment → commission lines for the payer's reseller and every
ancestor of it, each line written in the schema of the reseller who earns it.

**Pass-through along the tree.** For a payment to tenant C (child of B, child of A) each level k has a
rate r_k (C first). The cumulative amount earned up to level k is R_k = round(base × r_k / 100); C earns
R_C, B earns R_B − R_C, A earns R_A − R_B. So B's own rate is what B and everything below it earn
together, the parent earns only the difference, nothing is counted twice, and any depth works. A level
with no rate earns nothing, and a level whose amount is below what is already earned beneath it earns
nothing too (never a negative line: the running maximum is what is subtracted); rule validation
prevents that case anyway (rules.py). The line records the earner's own share of the rate
(r_k − the highest rate beneath it), so base × rate ≈ amount for every line.

**Rounding.** Half-up to the cent, the platform's one rule (DESIGN.md; app/services/money.py), applied to
the *cumulative* amounts and never to the differences: the lines of one payment therefore always add up
to exactly round(base × top rate / 100), whatever the depth. The "Commission Calculation" example of the
specification (base 99.99 at 15.00 % → 14.99) is the *truncated* value of 14.9985; half-up gives 15.00.
We keep half-up: truncating would make commissions the one amount of the platform rounded differently
from the invoices, taxes and reports it is reconciled with, and it would shave up to a cent off every
line, always in the master ISP's favour. Every field of that JSON is a column of the line (see
summary.py) — only its last cent follows our rule.

**Base.** Recurring: the payment's amount as received (tax included), the "percent of customer payments"
of the specification. Simple to check against a receipt, and independent of how the payment was
allocated to invoices, which can change later (a voided invoice, a refund). Setup: the customer's setup
fees (the `setup` lines of their invoices, before tax) for a percent rule, or a fixed amount, once per
customer, on their first payment. Usage (close.py): what was paid in the period towards usage and top-up
lines. Refunds take commission back in proportion (reversal.py).

**Which rate.** The rule in force on the payment's local day (the payer tenant's time zone); for recurring,
a tenant without a rule that day has its `commission_percent` (set by its parent); a fixed setup amount in
another currency than the payment's is skipped. The period of a payment's lines is the calendar month of
that local day, as in the specification's JSON.

**Writing.** The computation reads in the paying tenant's context; then each earner's lines are written
in that earner's own `tenant_context`, one transaction per earner, `INSERT … ON CONFLICT (source_key)
DO NOTHING`. Keys: `pay:<tenant>:<payment>:recurring`, `set:<tenant>:<customer>` (setup: once per customer
whatever payment brings it). A crash between two earners' transactions is completed by the retry, which
writes only what is missing; running a payment twice gives one set of lines.

**Bulk.** `compute_many` takes any number of payments of the current tenant: one read for all of them
(payments, first-payment flags, setup fees), the branch's rules read once, and one multi-row insert per
earner — the same path for one payment (the actor), a month (the period close) and the benchmark.
"""

from __future__ import annotations

import calendar
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.db import Database
from app.models import Tenant as TenantRow
from app.models.commissions import CommissionLine, CommissionRule
from app.services.billing.runs import insert_rows
from app.services.commissions import rules as rule_svc
from app.services.settings import zone
from tenants import Tenant, require_tenant, tenant_context

log = logging.getLogger(__name__)

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
HUNDRED = Decimal(100)
KEPT = ("succeeded", "partially_refunded", "refunded")
BATCH = 5_000


def round_half_up(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def month_of(day: date) -> tuple[date, date]:
    return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])


@dataclass(frozen=True)
class Level:
    """One earner in a payment's branch: the tenant, its entitlement (cumulative amount), its rate."""

    tenant_id: int
    entitlement: Decimal | None
    rate: Decimal | None = None
    rule_id: int | None = None


def split(levels: list[Level]) -> list[tuple[Level, Decimal, Decimal | None]]:
    """Pass-through: (level, amount it earns, its own share of the rate), payer's level first. Amounts are
    differences of the running maximum of the cumulative entitlements, so never negative and summing to
    the largest entitlement."""
    out = []
    earned, top_rate = ZERO, Decimal(0)
    for level in levels:
        if level.entitlement is None:
            out.append((level, ZERO, None))
            continue
        amount = level.entitlement - earned if level.entitlement > earned else ZERO
        share = None
        if level.rate is not None:
            share = level.rate - top_rate if level.rate > top_rate else Decimal(0)
            top_rate = max(top_rate, level.rate)
        out.append((level, amount, share))
        earned = max(earned, level.entitlement)
    return out


# -- the branch of the tree -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Branch:
    """The paying tenant and its ancestors (nearest first), as registry rows and as contexts."""

    rows: list[TenantRow]

    @property
    def ids(self) -> list[int]:
        return [row.id for row in self.rows]

    def context(self, tenant_id: int) -> Tenant:
        row = next(r for r in self.rows if r.id == tenant_id)
        return Tenant(id=row.id, code=row.code, name=row.name, schema=row.schema_name, status=row.status,
                      parent_id=row.parent_id)


_ANCESTRY = text("""
    WITH RECURSIVE up AS (
        SELECT id, parent_id, 0 AS hops FROM public.tenants WHERE id = :id
        UNION ALL
        SELECT t.id, t.parent_id, up.hops + 1 FROM public.tenants t JOIN up ON t.id = up.parent_id
        WHERE up.hops < 32
    )
    SELECT id FROM up ORDER BY hops
""")


def branch(session: Session, tenant_id: int) -> Branch:
    ids = list(session.execute(_ANCESTRY, {"id": tenant_id}).scalars())
    rows = {row.id: row for row in session.execute(select(TenantRow).where(TenantRow.id.in_(ids))).scalars()}
    return Branch([rows[i] for i in ids])


class RateBook:
    """The branch's rules read once, answering "rate of tenant T for kind K on day D" from memory."""

    def __init__(self, branch: Branch, rules: list[CommissionRule]):
        self.branch = branch
        self.rules = rules
        self._cache: dict[tuple[int, str, date], CommissionRule | None] = {}

    def rule(self, tenant_id: int, kind: str, on: date) -> CommissionRule | None:
        key = (tenant_id, kind, on)
        if key not in self._cache:
            self._cache[key] = rule_svc.in_force(self.rules, tenant_id, kind, on)
        return self._cache[key]

    def recurring(self, tenant_id: int, on: date) -> tuple[Decimal | None, int | None]:
        rule = self.rule(tenant_id, "recurring", on)
        if rule is not None:
            return rule.rate, rule.id
        row = next(r for r in self.branch.rows if r.id == tenant_id)
        return (Decimal(row.commission_percent) if row.commission_percent is not None else None), None


def rate_book(session: Session, branch: Branch, start: date, end: date, kinds=("recurring", "setup")) -> RateBook:
    return RateBook(branch, rule_svc.overlapping(session, branch.ids, start, end, kinds))


# -- reading the payments ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class PaymentRow:
    id: int
    customer_id: int
    amount: Decimal
    currency: str
    status: str
    refunded_amount: Decimal
    day: date
    first: bool
    setup_fee: Decimal


_PAYMENTS = text("""
    SELECT p.id, p.customer_id, p.amount, p.currency, p.status, p.refunded_amount,
           (p.received_at AT TIME ZONE :zone)::date AS day,
           NOT EXISTS (SELECT 1 FROM payments q
                       WHERE q.customer_id = p.customer_id
                         AND q.status IN ('succeeded', 'partially_refunded', 'refunded')
                         AND (q.received_at, q.id) < (p.received_at, p.id)) AS first
    FROM payments p
    WHERE p.id = ANY(CAST(:ids AS bigint[])) AND p.status IN ('succeeded', 'partially_refunded', 'refunded')
    ORDER BY p.id
""")
_SETUP_FEES = text("""
    SELECT i.customer_id, SUM(l.amount) FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id
    WHERE i.customer_id = ANY(CAST(:ids AS bigint[])) AND l.kind = 'setup' AND i.kind = 'invoice'
      AND i.status NOT IN ('Draft', 'Void')
    GROUP BY i.customer_id
""")


def tenant_zone(session: Session) -> str:
    """The tenant's zone by name, for SQL's AT TIME ZONE (an unknown setting falls back to UTC, as in Python)."""
    return zone(session).key


def read_payments(session: Session, payment_ids: list[int]) -> list[PaymentRow]:
    """The payments (of the current tenant) that earn commission, with what the engine needs of each."""
    rows = session.execute(_PAYMENTS, {"ids": payment_ids, "zone": tenant_zone(session)}).all()
    firsts = sorted({r[1] for r in rows if r[7]})
    fees = dict(session.execute(_SETUP_FEES, {"ids": firsts}).all()) if firsts else {}
    return [PaymentRow(pid, customer, amount, currency, status, refunded, day, first, fees.get(customer) or ZERO)
            for pid, customer, amount, currency, status, refunded, day, first in rows]


# -- computing --------------------------------------------------------------------------------------------
def _line(earner: int, source: int, payment: PaymentRow, kind: str, base: Decimal, share: Decimal | None,
          amount: Decimal, rule_id: int | None, key: str) -> dict:
    start, end = month_of(payment.day)
    return {"reseller_id": earner, "customer_id": payment.customer_id, "source_tenant_id": source,
            "source_payment_id": payment.id, "rule_id": rule_id, "kind": kind, "base_amount": base,
            "rate": share, "amount": amount, "currency": payment.currency, "period_start": start,
            "period_end": end, "source_key": key}


def lines_for(book: RateBook, source: int, payment: PaymentRow) -> list[dict]:
    """The lines one payment earns along the branch (zero amounts left out)."""
    out = []
    recurring = []
    for tenant_id in book.branch.ids:
        rate, rule_id = book.recurring(tenant_id, payment.day)
        recurring.append(Level(tenant_id, None if rate is None else round_half_up(payment.amount * rate / HUNDRED),
                               rate, rule_id))
    for level, amount, share in split(recurring):
        if amount > ZERO:
            out.append(_line(level.tenant_id, source, payment, "recurring", payment.amount, share, amount,
                             level.rule_id, f"pay:{source}:{payment.id}:recurring"))
    if payment.first:
        setup = []
        for tenant_id in book.branch.ids:
            rule = book.rule(tenant_id, "setup", payment.day)
            if rule is None:
                setup.append(Level(tenant_id, None))
            elif rule.rate is not None:
                setup.append(Level(tenant_id, round_half_up(payment.setup_fee * rule.rate / HUNDRED), rule.rate,
                                   rule.id))
            elif rule.currency == payment.currency:
                setup.append(Level(tenant_id, Decimal(rule.amount), None, rule.id))
            else:
                log.warning("setup rule #%s is in %s, payment #%s in %s: skipped", rule.id, rule.currency,
                            payment.id, payment.currency)
                setup.append(Level(tenant_id, None))
        for level, amount, share in split(setup):
            if amount > ZERO:
                out.append(_line(level.tenant_id, source, payment, "setup", payment.setup_fee, share, amount,
                                 level.rule_id, f"set:{source}:{payment.customer_id}"))
    return out


def write_lines(db: Database, branch: Branch, by_earner: dict[int, list[dict]]) -> int:
    """Each earner's lines in its own schema and transaction; lines already there are left alone."""
    written = 0
    for earner, rows in by_earner.items():
        if not rows:
            continue
        with tenant_context(branch.context(earner)), db.session() as session:
            for at in range(0, len(rows), BATCH):
                written += len(insert_rows(session, CommissionLine.__table__, rows[at:at + BATCH], returning=("id",)))
    return written


@dataclass
class Outcome:
    payments: int = 0
    lines: int = 0
    reversed: int = 0


def compute_many(db: Database, payment_ids: list[int], *, batch: int = BATCH) -> Outcome:
    """Commission lines for these payments of the current tenant (idempotent). Payments that do not earn
    (pending, failed, reversed) are skipped; refunds already made are taken back at once (reversal.py),
    so a payment computed late, after its refund, nets to what it should."""
    from app.services.commissions import reversal

    source = require_tenant().id
    outcome = Outcome()
    ids = sorted(set(payment_ids))
    for at in range(0, len(ids), batch):
        chunk = ids[at:at + batch]
        with db.session() as session:
            payments = read_payments(session, chunk)
            if not payments:
                continue
            tree = branch(session, source)
            book = rate_book(session, tree, min(p.day for p in payments), max(p.day for p in payments))
        by_earner: dict[int, list[dict]] = defaultdict(list)
        for payment in payments:
            for row in lines_for(book, source, payment):
                by_earner[row["reseller_id"]].append(row)
        outcome.payments += len(payments)
        outcome.lines += write_lines(db, tree, by_earner)
        refunded = [p.id for p in payments if p.refunded_amount > ZERO]
        if refunded:
            outcome.reversed += reversal.reverse_many(db, refunded)
    return outcome


def compute_payment(db: Database, payment_id: int) -> Outcome:
    return compute_many(db, [payment_id])
