"""Wholesale charges: what a reseller owes the master ISP for the services it sells.

For every recurring line of an issued customer invoice (a service, a period), the service's wholesale
price for that period accrues to the reseller's account once: the entry's `source_key`
"wholesale:<tenant id>:<service id>:<period start>" is unique, so the accrual can run any number of
times (daily, after a crash half-way) and leaves one charge per service and period.

The amount is the wholesale price snapshotted on the service at activation, prorated exactly as the
customer's line was (billing/proration.py: price × days ÷ days of the service's cycle, half-up to the
cent, once): a customer billed 12 of 31 days costs the reseller 12/31 of the wholesale price. The charge
is due `payment_terms_days` (Net 15 or Net 30) after the customer invoice's date, in the tenant's time
zone, whenever the accrual runs.

A charge whose customer invoice was voided afterwards is reversed (a new entry; the ledger is
append-only) and what payments had applied to it goes to the next oldest charges. Days credited to a
customer (plan changes, early terminations) and setup fees are not charged wholesale.

Runs in the reseller's tenant context: its invoices are read in its schema, the account is in `public`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.models.reseller_accounts import AccountEntry
from app.services.billing import invoices, runs
from app.services.billing.cycles import Period, anchor, cycle_containing, cycle_months
from app.services.billing.proration import prorate
from app.services.money import round_money
from app.services.reseller_accounts import accounts, payments
from tenants import require_tenant

log = logging.getLogger(__name__)

_UNACCRUED = text("""
    SELECT l.id AS line_id, l.service_id, l.period_start, l.period_end, l.description, i.id AS invoice_id,
           i.number, i.issued_at, s.wholesale_price, s.billing_period, s.activated_at, c.billing_day, p.currency
    FROM invoice_lines l
    JOIN invoices i ON i.id = l.invoice_id
    JOIN services s ON s.id = l.service_id
    JOIN customers c ON c.id = s.customer_id
    JOIN public.plans p ON p.id = s.plan_id
    WHERE l.kind = 'recurring' AND i.kind = 'invoice' AND i.status IN ('Issued', 'Partially Paid', 'Paid', 'Overdue')
      AND l.period_start IS NOT NULL AND l.period_end IS NOT NULL
      AND s.wholesale_price IS NOT NULL AND s.wholesale_price > 0
      AND NOT EXISTS (SELECT 1 FROM public.account_entries e
                      WHERE e.source_key = 'wholesale:' || CAST(:tenant AS text) || ':' || l.service_id || ':'
                                           || to_char(l.period_start, 'YYYY-MM-DD'))
    ORDER BY i.issued_at, l.id
""")

_VOIDED = text("""
    SELECT e.id FROM invoices i
    JOIN public.account_entries e ON e.account_id = :account AND e.invoice_id = i.id AND e.kind = 'charge'
    WHERE i.status = 'Void'
      AND NOT EXISTS (SELECT 1 FROM public.account_entries r WHERE r.reverses_id = e.id)
    ORDER BY e.id
""")


@dataclass
class Accrued:
    charged: int = 0
    amount: Decimal = Decimal("0.00")
    reversed: int = 0
    skipped: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"charged": self.charged, "amount": str(self.amount), "reversed": self.reversed,
                "skipped": self.skipped}


def source_key(tenant_id: int, service_id: int, period_start: date) -> str:
    return f"wholesale:{tenant_id}:{service_id}:{period_start.isoformat()}"


def wholesale_amount(price: Decimal, used: Period, billing_period: str, activated_on: date | None,
                     billing_day: int | None) -> Decimal:
    """The wholesale price for the days of `used`, prorated over the service's cycle as billing does."""
    anchor_date = anchor(activated_on or used.start, billing_day)
    cycle = cycle_containing(used.start, anchor_date, cycle_months(billing_period))
    if not cycle.covers(used):  # a line billing did not cut at the cycle (a manual invoice): whole price
        return round_money(price)
    return prorate(price, used, cycle)


def accrue(session: Session) -> Accrued:
    """Accrue the current tenant's unaccrued wholesale charges and reverse those of voided invoices; then
    apply waiting payments and evaluate the thresholds. Idempotent."""
    tenant = require_tenant()
    result = Accrued()
    zone = invoices.zone_of(session)
    rows = session.execute(_UNACCRUED, {"tenant": tenant.id}).all()
    account = accounts.find(session, tenant.id)
    if account is None and not rows:
        return result
    account = accounts.ensure(session, tenant.id, rows[0].currency if rows else accounts.DEFAULT_CURRENCY)
    account = accounts.get(session, tenant.id, lock=True)
    terms = timedelta(days=account.payment_terms_days)
    values = []
    for row in rows:
        if row.currency != account.currency:
            result.skipped.append(f"service {row.service_id} {row.period_start}: {row.currency}, account in "
                                  f"{account.currency}")
            continue
        used = Period(row.period_start, row.period_end)
        amount = wholesale_amount(row.wholesale_price, used, row.billing_period,
                                  invoices.local_date(row.activated_at, zone), row.billing_day)
        if amount <= 0:
            continue
        issued_on = invoices.local_date(row.issued_at, zone) or row.period_start
        values.append({"account_id": account.id, "kind": "charge", "amount": amount, "currency": account.currency,
                       "due_on": issued_on + terms, "source_key": source_key(tenant.id, row.service_id,
                                                                            row.period_start),
                       "service_id": row.service_id, "invoice_id": row.invoice_id, "period_start": row.period_start,
                       "period_end": row.period_end, "actor": "system",
                       "description": f"Wholesale: service {row.service_id}, {used} (invoice {row.number})"})
    # one short statement over arrays, as the billing run writes (the source key's conflict skips a charge
    # another accrual wrote meanwhile)
    made = [row[0] for row in runs.insert_rows(session, AccountEntry.__table__, values, returning=("amount",))]
    result.charged = len(made)
    result.amount = sum(made, Decimal("0.00"))
    for charge_id in session.execute(_VOIDED, {"account": account.id}).scalars():
        reverse(session, session.get(AccountEntry, charge_id), reason="customer invoice voided")
        result.reversed += 1
    payments.allocate(session, account)
    from app.services.reseller_accounts import credit

    credit.evaluate(session, tenant.id)
    if result.skipped:
        log.warning("wholesale accrual of %s skipped %d line(s) in another currency", tenant.code,
                    len(result.skipped))
    return result


def reverse(session: Session, charge: AccountEntry, *, reason: str, actor: str = "system") -> AccountEntry:
    """Reverse a charge (a new, opposite entry) and free what payments had applied to it."""
    entry = AccountEntry(account_id=charge.account_id, kind="reversal", amount=-charge.amount,
                         currency=charge.currency, source_key=f"reversal:{charge.source_key}",
                         service_id=charge.service_id, invoice_id=charge.invoice_id,
                         period_start=charge.period_start, period_end=charge.period_end, reverses_id=charge.id,
                         description=f"Reversal of entry {charge.id}: {reason}", actor=actor)
    session.add(entry)
    session.flush()
    payments.release(session, charge)
    return entry
