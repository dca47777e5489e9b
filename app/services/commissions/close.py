"""The period close of one tenant's month: what is earned over a period rather than per payment, and a
sweep that completes what the per-payment jobs may have missed. Run by `commissions_daily` on the first
local day of the next month, in the tenant's context; safe to run again at any time (every line has its
key, and the sweep is the engine's own idempotent path).

1. **Sweep**: the month's payments go through `engine.compute_many` again (a message lost while Redis
   was down, a worker killed between two earners), and the payments refunded or reversed in the month
   through `reversal.reverse_many`.
2. **Usage** (pass-through, like recurring): per customer, the part of the month's payment allocations
   that paid usage and top-up lines — allocation × (those lines with their tax) / invoice total — at the
   usage rates in force on the month's last day. Key `use:<tenant>:<customer>:<YYYY-MM>`. An allocation
   undone in the month (refund) counts negative in that month.
3. **Retention** (the tenant's own customers, no pass-through: the bonus rewards the reseller that kept
   the customer): each retention rule in force on the last day pays its fixed amount once per customer
   who is Active and whose first service was activated at least `months` months before the month's end.
   Key `ret:<tenant>:<customer>:<rule>`.
4. **Performance** (the tenant's own volume, no pass-through): the month's received payments net of
   refunds, per currency; the highest tier the volume reaches gives the rate for the whole volume.
   One line per rule, month and currency: `perf:<tenant>:<rule>:<YYYY-MM>:<currency>`.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import text

from app.db import Database
from app.services.commissions import reversal
from app.services.commissions import rules as rule_svc
from app.services.commissions.engine import (
    HUNDRED,
    ZERO,
    Level,
    branch,
    compute_many,
    month_of,
    rate_book,
    round_half_up,
    split,
    tenant_zone,
    write_lines,
)
from tenants import require_tenant

_MONTH_PAYMENTS = text("""
    SELECT id FROM payments
    WHERE status IN ('succeeded', 'partially_refunded', 'refunded')
      AND received_at >= (CAST(:start AS date)::timestamp AT TIME ZONE :zone)
      AND received_at < (CAST(:after AS date)::timestamp AT TIME ZONE :zone)
    ORDER BY id
""")
_MONTH_TAKEN_BACK = text("""
    SELECT payment_id FROM refunds
    WHERE at >= (CAST(:start AS date)::timestamp AT TIME ZONE :zone)
      AND at < (CAST(:after AS date)::timestamp AT TIME ZONE :zone)
    UNION
    SELECT payment_id FROM ledger_entries
    WHERE kind = 'reversal' AND payment_id IS NOT NULL
      AND at >= (CAST(:start AS date)::timestamp AT TIME ZONE :zone)
      AND at < (CAST(:after AS date)::timestamp AT TIME ZONE :zone)
""")
_USAGE = text("""
    WITH paid AS (
        SELECT a.invoice_id, SUM(a.amount) AS amount FROM payment_allocations a
        WHERE a.payment_id IS NOT NULL
          AND a.at >= (CAST(:start AS date)::timestamp AT TIME ZONE :zone)
          AND a.at < (CAST(:after AS date)::timestamp AT TIME ZONE :zone)
        GROUP BY a.invoice_id
    ), share AS (
        SELECT i.id, i.customer_id, i.currency, i.total,
               SUM(l.amount + l.tax_amount) FILTER (WHERE l.kind IN ('usage', 'topup')) AS usage
        FROM invoices i JOIN invoice_lines l ON l.invoice_id = i.id
        WHERE i.id IN (SELECT invoice_id FROM paid) AND i.kind = 'invoice' AND i.total > 0
        GROUP BY i.id
    )
    SELECT s.customer_id, s.currency, SUM(p.amount * s.usage / s.total) AS base
    FROM paid p JOIN share s ON s.id = p.invoice_id
    WHERE s.usage > 0
    GROUP BY s.customer_id, s.currency
    ORDER BY s.customer_id
""")
_KEPT_CUSTOMERS = text("""
    SELECT c.id FROM customers c
    WHERE c.status = 'Active'
      AND (SELECT MIN(s.activated_at) FROM services s WHERE s.customer_id = c.id)
          < (CAST(:cutoff AS date)::timestamp AT TIME ZONE :zone)
    ORDER BY c.id
""")
_VOLUME = text("""
    SELECT currency, SUM(amount - refunded_amount) FROM payments
    WHERE status IN ('succeeded', 'partially_refunded', 'refunded')
      AND received_at >= (CAST(:start AS date)::timestamp AT TIME ZONE :zone)
      AND received_at < (CAST(:after AS date)::timestamp AT TIME ZONE :zone)
    GROUP BY currency ORDER BY currency
""")


@dataclass
class Closed:
    period: str
    payments: int = 0
    payment_lines: int = 0
    reversed: int = 0
    usage: int = 0
    retention: int = 0
    performance: int = 0


def months_before(day: date, months: int) -> date:
    """The same day `months` months earlier (the month's last day when it is shorter)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def previous_month(day: date) -> tuple[int, int]:
    last = day.replace(day=1) - timedelta(days=1)
    return last.year, last.month


def close(db: Database, year: int, month: int) -> Closed:
    """Close the current tenant's month (idempotent); returns what was written this time."""
    source = require_tenant().id
    start, end = month_of(date(year, month, 1))
    after = end + timedelta(days=1)
    done = Closed(period=f"{year:04d}-{month:02d}")
    with db.session() as session:
        zone = tenant_zone(session)
        window = {"start": start, "after": after, "zone": zone}
        payment_ids = list(session.execute(_MONTH_PAYMENTS, window).scalars())
        taken_back = list(session.execute(_MONTH_TAKEN_BACK, window).scalars())
        usage = session.execute(_USAGE, window).all()
        tree = branch(session, source)
        book = rate_book(session, tree, end, end, kinds=("usage",))
        own = rule_svc.effective(session, [source], "performance", end)
        retention = [r for r in rule_svc.overlapping(session, [source], end, end, ("retention",))]
        kept = {rule.id: list(session.execute(_KEPT_CUSTOMERS, {
            "cutoff": months_before(end, rule.months) + timedelta(days=1), "zone": zone}).scalars())
            for rule in retention}
        volume = session.execute(_VOLUME, window).all()
    outcome = compute_many(db, payment_ids)
    done.payments, done.payment_lines = outcome.payments, outcome.lines
    done.reversed = outcome.reversed + (reversal.reverse_many(db, taken_back) if taken_back else 0)

    by_earner: dict[int, list[dict]] = defaultdict(list)
    for customer_id, currency, raw in usage:
        base = round_half_up(Decimal(raw))
        levels = []
        for tenant_id in tree.ids:
            rule = book.rule(tenant_id, "usage", end)
            levels.append(Level(tenant_id, None) if rule is None else
                          Level(tenant_id, round_half_up(base * rule.rate / HUNDRED), rule.rate, rule.id))
        for level, amount, share in split(levels):
            if amount > ZERO:
                by_earner[level.tenant_id].append(_row(level.tenant_id, source, customer_id, "usage", base, share,
                                                       amount, currency, start, end, level.rule_id,
                                                       f"use:{source}:{customer_id}:{done.period}"))
    done.usage = write_lines(db, tree, by_earner)

    mine: list[dict] = []
    for rule in retention:
        for customer_id in kept[rule.id]:
            mine.append(_row(source, source, customer_id, "retention", Decimal(rule.amount), None,
                             Decimal(rule.amount), rule.currency, start, end, rule.id,
                             f"ret:{source}:{customer_id}:{rule.id}",
                             note=f"customer kept {rule.months} months"))
    done.retention = write_lines(db, tree, {source: mine})

    perf: list[dict] = []
    rule = own.get(source)
    if rule is not None:
        tiers = rule_svc.parse_tiers(rule.tiers)
        for currency, raw in volume:
            base = Decimal(raw)
            reached = [t for t in tiers if base >= t.start]
            if base <= ZERO or not reached:
                continue
            tier = reached[-1]
            amount = round_half_up(base * tier.rate / HUNDRED)
            if amount > ZERO:
                perf.append(_row(source, source, None, "performance", base, tier.rate, amount, currency, start,
                                 end, rule.id, f"perf:{source}:{rule.id}:{done.period}:{currency}",
                                 note=f"volume {base} {currency} reached the tier from {tier.start}"))
    done.performance = write_lines(db, tree, {source: perf})
    return done


def _row(earner: int, source: int, customer_id: int | None, kind: str, base: Decimal, rate: Decimal | None,
         amount: Decimal, currency: str, start: date, end: date, rule_id: int | None, key: str,
         note: str | None = None) -> dict:
    return {"reseller_id": earner, "customer_id": customer_id, "source_tenant_id": source, "source_payment_id": None,
            "rule_id": rule_id, "kind": kind, "base_amount": base, "rate": rate, "amount": amount,
            "currency": currency, "period_start": start, "period_end": end, "source_key": key, "note": note}


def daily(db: Database, on: date) -> dict | None:
    """The scheduler's daily call: on the first local day of a month, close the month before."""
    if on.day != 1:
        return None
    return asdict(close(db, *previous_month(on)))
