"""Commission payouts: the reseller's payout schedule, the payout of each period, and its payment.

The daily job (`run_day`, worker/actors/payouts.py) does nothing until the schedule's processing day of a
month that follows the end of a period of its frequency (monthly: every month for the month before;
quarterly: January, April, July, October; bi-annual: January and July; annual: January). From that day on
(so a day missed while the workers were down is caught up later in the month) it:

1. approves the Pending lines earned up to the period's end (disputed lines are Disputed, not Pending);
2. builds one payout per currency of the payable lines — Approved or Adjusted, in no payout yet, earned up
   to the period's end — plus the lines of payouts carried over before. A payout below the schedule's
   minimum is 'Carried over': its lines roll into the next payout, which then pays both.

A payout is unique per (period, currency), and the build holds the tenant's payout counter row locked, so
the job can run any number of times, concurrently or after a crash, and builds each payout once. Its
number comes from that counter (gap-free, `PO-<year>-<000001>`), and its statement is issued when it is
built: the reseller may dispute its lines until the window closes (5 business days unless the schedule
says otherwise; see disputes.py). The statement is e-mailed to the reseller's Admins then, and again as
the payment confirmation when the payout is paid (payout_mail.py).

The totals are a function of the payout's lines, recomputed whenever lines leave or join it (`totals`):
`gross` = lines earned within the period (reversals, negative, net here), `adjustments` = lines made by
settled disputes, `carried_in` = lines earned before the period (carried over, approved late), and
`amount` = their sum. Amounts are the lines' own two-place Decimals summed, so nothing is rounded here; the
one rounding is the conversion at payment time (`mark_paid`), half-up to the cent.

The minimum is compared with the amount in the lines' currency: the rate of a conversion is known only when
the payout is paid, never before (issue 7: "currency conversion at payment time").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import case, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app import clock
from app.models import Counter
from app.models.commissions import CommissionLine
from app.models.payouts import FREQUENCIES, METHODS, CommissionAdjustment, Payout, PayoutSchedule
from app.services import audit
from app.services.auth import crypto
from app.services.errors import Conflict, Invalid, NotFound
from app.services.money import CENT, money, round_money, to_decimal
from app.services.settings import get_setting, local_today
from tenants import require_tenant

PAYABLE = ("Approved", "Adjusted")
ZERO = Decimal("0.00")
RATE = Decimal("1E-8")  # a rate's places (numeric(18, 8))
MIN_THRESHOLD, MAX_THRESHOLD = Decimal("50"), Decimal("1000")
DETAIL_KEYS = ("account_name", "account_number", "bank_name", "branch", "swift", "iban", "wallet_provider",
               "wallet_number", "mailing_address")
# the month a period of each frequency ends in, by its number (1-12); the payout follows in the next month
_PERIOD_MONTHS = {"monthly": 1, "quarterly": 3, "bi-annual": 6, "annual": 12}


@dataclass(frozen=True)
class Schedule:
    frequency: str
    processing_day: int
    minimum_threshold: Decimal
    method: str
    currency: str
    dispute_window_days: int
    details: dict | None
    configured: bool  # False: the defaults, the master ISP has not set one
    updated_at: datetime | None = None
    updated_by: str | None = None


def utcnow() -> datetime:
    return clock.now()




# -- the schedule ----------------------------------------------------------------------------------------

def schedule(session: Session) -> Schedule:
    """The reseller's payout schedule, or the defaults (monthly on the 15th, minimum 50, bank transfer, in
    the reseller's currency, 5 business days to dispute) while the master ISP has set none."""
    row = session.get(PayoutSchedule, 1)
    if row is None:
        return Schedule("monthly", 15, Decimal("50.00"), "bank_transfer", get_setting(session, "currency") or "USD",
                        5, None, False)
    details = json.loads(crypto.decrypt(row.details_encrypted)) if row.details_encrypted else None
    return Schedule(row.frequency, row.processing_day, row.minimum_threshold, row.method, row.currency,
                    row.dispute_window_days, details, True, row.updated_at, row.updated_by)


def _details(value) -> dict | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - set(DETAIL_KEYS):
        raise Invalid(f"details: a mapping of {', '.join(DETAIL_KEYS)}", field="details")
    cleaned = {}
    for key, item in value.items():
        if item is None or item == "":
            continue
        if not isinstance(item, str) or len(item) > 200 or "\x00" in item:
            raise Invalid(f"details.{key}: text of at most 200 characters", field=f"details.{key}")
        cleaned[key] = item.strip()
    return cleaned or None


def set_schedule(session: Session, *, frequency: str, processing_day: int, minimum_threshold, method: str,
                 currency: str, dispute_window_days: int = 5, details: dict | None = None,
                 actor: str) -> Schedule:
    """Set the reseller's schedule (the master ISP's decision); the payment details are encrypted at rest."""
    if frequency not in FREQUENCIES:
        raise Invalid(f"frequency: one of {', '.join(FREQUENCIES)}", field="frequency")
    if method not in METHODS:
        raise Invalid(f"method: one of {', '.join(METHODS)}", field="method")
    if not isinstance(processing_day, int) or isinstance(processing_day, bool) or not 1 <= processing_day <= 28:
        raise Invalid("processing_day: a day of the month from 1 to 28", field="processing_day")
    threshold = money(minimum_threshold, "minimum_threshold")
    if not MIN_THRESHOLD <= threshold <= MAX_THRESHOLD:
        raise Invalid("minimum_threshold: from 50 to 1000 (in the payout currency)", field="minimum_threshold")
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha() or not currency.isascii():
        raise Invalid("currency: an ISO 4217 code such as KES", field="currency")
    if not isinstance(dispute_window_days, int) or not 1 <= dispute_window_days <= 30:
        raise Invalid("dispute_window_days: from 1 to 30 business days", field="dispute_window_days")
    cleaned = _details(details)
    values = {"frequency": frequency, "processing_day": processing_day, "minimum_threshold": threshold,
              "method": method, "currency": currency.upper(), "dispute_window_days": dispute_window_days,
              "details_encrypted": crypto.encrypt(json.dumps(cleaned, sort_keys=True)) if cleaned else None,
              "updated_by": actor, "updated_at": utcnow()}
    before = schedule(session)
    session.execute(insert(PayoutSchedule).values(id=1, **values)
                    .on_conflict_do_update(index_elements=[PayoutSchedule.id], set_=values))
    session.expire_all()
    after = schedule(session)
    audit.record(session, actor, "payout_schedule.set", require_tenant().id,
                 before=_public(before), after=_public(after))
    return after


def _public(found: Schedule) -> dict:
    """The schedule for an audit entry: everything but the payment details themselves."""
    return {"frequency": found.frequency, "processing_day": found.processing_day,
            "minimum_threshold": str(found.minimum_threshold), "method": found.method, "currency": found.currency,
            "dispute_window_days": found.dispute_window_days, "has_details": bool(found.details)}


def masked(details: dict | None) -> dict | None:
    """Payment details as the reseller's own screens show them: the last four characters of each."""
    if not details:
        return None
    return {key: ("•" * max(len(value) - 4, 0)) + value[-4:] for key, value in details.items()}


# -- periods and business days ----------------------------------------------------------------------------

def _month_start(year: int, month: int) -> date:
    while month < 1:
        year, month = year - 1, month + 12
    return date(year, month, 1)


def period_due(frequency: str, on: date) -> tuple[date, date] | None:
    """The period of `frequency` whose payout falls in `on`'s month, or None in a month without one."""
    months = _PERIOD_MONTHS[frequency]
    if (on.month - 1) % months:
        return None
    start = _month_start(on.year, on.month - months)
    return start, date(on.year, on.month, 1) - timedelta(days=1)


def add_business_days(moment: datetime, days: int) -> datetime:
    """`moment` moved on by `days` working days (Monday to Friday), keeping the time of day."""
    found, left = moment, days
    while left > 0:
        found += timedelta(days=1)
        if found.weekday() < 5:
            left -= 1
    return found


# -- building --------------------------------------------------------------------------------------------

def _counter_name(on: date) -> str:
    return f"number:payout:{on.year}"


def _lock(session: Session, on: date) -> None:
    """Hold the tenant's payout counter row until the transaction ends: one build at a time per tenant."""
    name = _counter_name(on)
    session.execute(insert(Counter).values(name=name, value=0).on_conflict_do_nothing(index_elements=[Counter.name]))
    session.execute(select(Counter.value).where(Counter.name == name).with_for_update())


def _next_number(session: Session, on: date) -> str:
    value = session.execute(
        insert(Counter).values(name=_counter_name(on), value=1)
        .on_conflict_do_update(index_elements=[Counter.name], set_={"value": Counter.value + 1})
        .returning(Counter.value)).scalar_one()
    return f"PO-{on.year}-{value:06d}"


def totals(session: Session, payout: Payout) -> Payout:
    """Recompute the payout's figures from the lines it holds now."""
    line = CommissionLine
    gross, adjustments, carried = session.execute(
        select(func.coalesce(func.sum(case((line.kind == "adjustment", None),
                                           (line.period_start >= payout.period_start, line.amount))), 0),
               func.coalesce(func.sum(case((line.kind == "adjustment", line.amount))), 0),
               func.coalesce(func.sum(case((line.kind == "adjustment", None),
                                           (line.period_start < payout.period_start, line.amount))), 0))
        .where(line.payout_id == payout.id)).one()
    payout.gross, payout.adjustments, payout.carried_in = (Decimal(v).quantize(CENT) for v in
                                                           (gross, adjustments, carried))
    payout.amount = payout.gross + payout.adjustments + payout.carried_in
    return payout


def approve_pending(session: Session, until: date, actor: str = "system") -> int:
    """Approve the Pending lines earned up to `until` (one audit entry for the batch)."""
    ids = session.execute(
        update(CommissionLine).where(CommissionLine.status == "Pending", CommissionLine.period_start <= until)
        .values(status="Approved", updated_at=utcnow()).returning(CommissionLine.id)).scalars().all()
    if ids:
        session.add(CommissionAdjustment(action="lines.approved", actor=actor, reason=f"period closed on {until}",
                                         before={"status": "Pending"},
                                         after={"status": "Approved", "lines": len(ids), "until": until.isoformat()}))
    return len(ids)


def build(session: Session, start: date, end: date, *, actor: str = "system",
          now: datetime | None = None) -> list[Payout]:
    """Build the payouts of the period `start`..`end` (one per currency) that do not exist yet; returns the
    payouts made now. Approves nothing: see `run_day`."""
    now = now or utcnow()
    today = local_today(session, now)
    _lock(session, today)
    plan = schedule(session)
    line = CommissionLine
    carried = session.execute(select(Payout).where(Payout.status == "Carried over", Payout.carried_into_id.is_(None))
                              .order_by(Payout.id)).scalars().all()
    currencies = set(session.execute(
        select(line.currency).distinct().where(line.payout_id.is_(None), line.status.in_(PAYABLE),
                                               line.period_start <= end)).scalars())
    currencies |= {p.currency for p in carried}
    made = []
    for currency in sorted(currencies):
        exists = session.execute(select(Payout.id).where(Payout.period_start == start, Payout.period_end == end,
                                                         Payout.currency == currency)).scalar_one_or_none()
        if exists is not None:
            continue
        payout = Payout(number=_next_number(session, today), period_start=start, period_end=end, currency=currency,
                        minimum_threshold=plan.minimum_threshold, status="Scheduled", statement_issued_at=now,
                        dispute_window_ends_at=add_business_days(now, plan.dispute_window_days))
        session.add(payout)
        session.flush()
        mine = [p.id for p in carried if p.currency == currency]
        session.execute(update(line).where(line.payout_id.is_(None), line.status.in_(PAYABLE),
                                           line.currency == currency, line.period_start <= end)
                        .values(payout_id=payout.id, updated_at=now))
        if mine:
            session.execute(update(line).where(line.payout_id.in_(mine), line.status.in_(PAYABLE))
                            .values(payout_id=payout.id, updated_at=now))
            session.execute(update(Payout).where(Payout.id.in_(mine)).values(carried_into_id=payout.id))
        totals(session, payout)
        if payout.amount < plan.minimum_threshold:
            payout.status = "Carried over"
        session.add(CommissionAdjustment(
            action="payout.built", payout_id=payout.id, actor=actor, reason=f"period {start} to {end}",
            after={"number": payout.number, "status": payout.status, "amount": str(payout.amount),
                   "carried_from": mine}))
        made.append(payout)
    session.flush()
    from app.services.commissions import payout_mail  # it draws statements, which read payouts

    for payout in made:
        payout_mail.statement_issued(session, payout)
    return made


def run_day(session: Session, on: date, *, actor: str = "system", now: datetime | None = None) -> dict:
    """The daily job for the tenant's local day `on`: on or after the processing day of a month that follows
    a period's end, approve that period's Pending lines and build its payouts (idempotent)."""
    plan = schedule(session)
    due = period_due(plan.frequency, on)
    if due is None or on.day < plan.processing_day:
        return {"period": None, "approved": 0, "payouts": []}
    start, end = due
    approved = approve_pending(session, end, actor)
    made = build(session, start, end, actor=actor, now=now)
    return {"period": f"{start.isoformat()}/{end.isoformat()}", "approved": approved,
            "payouts": [{"number": p.number, "status": p.status, "amount": str(p.amount)} for p in made]}


# -- reading, approving, paying --------------------------------------------------------------------------

def get(session: Session, payout_id: int, *, for_update: bool = False) -> Payout:
    query = select(Payout).where(Payout.id == payout_id)
    found = session.execute(query.with_for_update() if for_update else query).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no payout #{payout_id}")
    return found


def list_payouts(session: Session, *, status: str | None = None, page: int = 1,
                 per_page: int = 50) -> tuple[list[Payout], int]:
    query = select(Payout)
    if status:
        query = query.where(Payout.status == status)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(query.order_by(Payout.period_end.desc(), Payout.id.desc())
                           .offset((page - 1) * per_page).limit(per_page)).scalars().all()
    return list(rows), total


def lines(session: Session, payout_id: int) -> list[CommissionLine]:
    return list(session.execute(select(CommissionLine).where(CommissionLine.payout_id == payout_id)
                                .order_by(CommissionLine.period_start, CommissionLine.id)).scalars())


def approve(session: Session, payout_id: int, *, actor: str, note: str | None = None) -> Payout:
    """The master ISP approves a Scheduled payout for payment."""
    payout = get(session, payout_id, for_update=True)
    if payout.status != "Scheduled":
        raise Conflict(f"payout {payout.number} is {payout.status}: only a Scheduled payout is approved")
    payout.status, payout.approved_at, payout.approved_by = "Approved", utcnow(), actor
    session.add(CommissionAdjustment(action="payout.approved", payout_id=payout.id, actor=actor, reason=note,
                                     before={"status": "Scheduled"},
                                     after={"status": "Approved", "amount": str(payout.amount)}))
    audit.record(session, actor, "payout.approved", require_tenant().id, payout=payout.number,
                 amount=str(payout.amount), currency=payout.currency)
    return payout


def mark_paid(session: Session, payout_id: int, *, method: str, reference: str, actor: str,
              payout_currency: str | None = None, fx_rate=None, paid_at: datetime | None = None) -> Payout:
    """Record that an Approved payout was paid: how, with which reference, and — when it was paid in another
    currency than its lines' — at which rate (payout currency per unit of the lines' currency), taken now,
    at payment time. The converted amount is rounded half-up to the cent. Its lines become Paid."""
    payout = get(session, payout_id, for_update=True)
    if payout.status != "Approved":
        raise Conflict(f"payout {payout.number} is {payout.status}: only an Approved payout is paid")
    if method not in METHODS:
        raise Invalid(f"method: one of {', '.join(METHODS)}", field="method")
    if not isinstance(reference, str) or not reference.strip() or len(reference) > 120:
        raise Invalid("reference: the bank, wire, cheque or wallet reference, 1 to 120 characters", field="reference")
    target = (payout_currency or schedule(session).currency).upper()
    if len(target) != 3 or not target.isalpha() or not target.isascii():
        raise Invalid("payout_currency: an ISO 4217 code such as USD", field="payout_currency")
    if target == payout.currency:
        rate = Decimal(1) if fx_rate is None else to_decimal(fx_rate, "fx_rate")
        if rate != 1:
            raise Invalid("fx_rate: a payout in the lines' own currency has the rate 1", field="fx_rate")
    else:
        if fx_rate is None:
            raise Invalid(f"fx_rate: the rate of {payout.currency} to {target} at payment time is needed",
                          field="fx_rate")
        rate = to_decimal(fx_rate, "fx_rate")
        if rate <= 0 or rate >= Decimal(10) ** 10 or rate != rate.quantize(RATE):
            raise Invalid("fx_rate: a positive rate with at most 8 decimals", field="fx_rate")
    rate = rate.quantize(RATE)  # as stored: what the answer, the audit entry and the statement show
    now = utcnow()
    payout.status, payout.method, payout.reference = "Paid", method, reference.strip()
    payout.payout_currency, payout.fx_rate = target, rate
    payout.converted_amount = round_money(payout.amount * rate)
    payout.paid_at, payout.paid_by = paid_at or now, actor
    paid = session.execute(update(CommissionLine).where(CommissionLine.payout_id == payout.id,
                                                        CommissionLine.status.in_(PAYABLE))
                           .values(status="Paid", updated_at=now).returning(CommissionLine.id)).scalars().all()
    after = {"status": "Paid", "amount": str(payout.amount), "payout_currency": target, "fx_rate": str(rate),
             "converted_amount": str(payout.converted_amount), "method": method, "reference": payout.reference,
             "lines": len(paid)}
    session.add(CommissionAdjustment(action="payout.paid", payout_id=payout.id, actor=actor,
                                     before={"status": "Approved"}, after=after))
    audit.record(session, actor, "payout.paid", require_tenant().id, payout=payout.number, **after)
    from app.services.commissions import payout_mail

    session.flush()
    payout_mail.payout_paid(session, payout)
    return payout


def history(session: Session, *, payout_id: int | None = None, dispute_id: int | None = None,
            line_id: int | None = None) -> list[CommissionAdjustment]:
    """The audit trail of a payout, a dispute or a line, oldest first."""
    query = select(CommissionAdjustment)
    if payout_id is not None:
        query = query.where(CommissionAdjustment.payout_id == payout_id)
    if dispute_id is not None:
        query = query.where(CommissionAdjustment.dispute_id == dispute_id)
    if line_id is not None:
        query = query.where(CommissionAdjustment.line_id == line_id)
    return list(session.execute(query.order_by(CommissionAdjustment.id)).scalars())

