"""Payment plans: a customer with a large balance asks to pay it in instalments; the reseller approves (with the
schedule proposed, or another) or declines; the daily check records each instalment reached or missed and ends
the plan, Completed or Defaulted.

    Pending ──approve──▶ Active ──(everything paid)──▶ Completed
       │                    └──(an instalment missed)──▶ Defaulted
       └──decline──▶ Declined

- Asking (`request_plan`): the reseller offers plans (`policy.enabled`), what the customer's open invoices owe
  is at least `min_balance`, in one currency, the number of instalments within the policy's bounds, and the
  customer has no plan Pending or Active (one at a time: two plans over the same invoices would each claim
  the same payments). The plan covers every open invoice of the customer at that moment.
- Approving (`approve`): the covered invoices and the amount are taken again as they are now (payments may
  have come in since the request); the schedule is `instalments` monthly instalments from `first_due_on`
  (default: the proposed number, the first a month from today), equal amounts rounded down to the cent with
  the last absorbing the rounding, or an explicit `schedule` of (due date, amount) that adds up to the amount.
- A dispute resolved with a payment plan (disputes.py) makes an Active plan at once over its invoice.
- While Active and in good standing (progress.py), dunning leaves its invoices alone (holds.py). Invoices
  issued after the approval are not covered: the plan is about the debt it was agreed on.

Money is Decimal throughout; every change is in the history and e-mailed to the customer (notices.py).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.models.arrangements import (
    PLAN_OPEN,
    PLAN_STATUSES,
    InvoiceDispute,
    PaymentPlan,
    PaymentPlanInstalment,
    PaymentPlanInvoice,
)
from app.models.base import utcnow
from app.models.billing import Invoice
from app.services.auth.principal import Principal
from app.services.billing import allocation, invoices
from app.services.billing.arrangements import history, listing, notices, progress
from app.services.billing.arrangements.holds import owed
from app.services.billing.arrangements.inputs import date_of, text
from app.services.billing.arrangements.policy import MAX_INSTALMENTS, PlanPolicy, policy
from app.services.errors import Conflict, Invalid, NotFound
from app.services.ids import valid_id
from app.services.money import CENT, money, round_money
from app.services.settings import local_today

ZERO = Decimal("0.00")
MAX_AHEAD = timedelta(days=366)  # the first instalment is due within a year
MAX_SPAN = timedelta(days=3 * 366)  # and the last within three (MAX_INSTALMENTS monthly)


class PlansNotOffered(Conflict):
    slug = "payment-plans-not-offered"
    title = "Payment plans are not offered"


class BalanceTooSmall(Conflict):
    slug = "balance-below-threshold"
    title = "The balance is below the payment plan threshold"


class PlanOpen(Conflict):
    slug = "payment-plan-open"
    title = "A payment plan is already open"


class PlanState(Conflict):
    slug = "payment-plan-state"
    title = "Not possible in the payment plan's state"


@dataclass(frozen=True)
class Offer:
    """What the customer may ask for now, and why not when they may not."""

    policy: PlanPolicy
    owed: Decimal
    currency: str | None
    currencies: int
    open_plan: PaymentPlan | None
    invoices: tuple[Invoice, ...]

    @property
    def refusal(self) -> str | None:
        """A msgid-like code of why not: None when the customer may ask."""
        if not self.policy.enabled:
            return "not_offered"
        if self.open_plan is not None:
            return "open_plan"
        if self.currencies > 1:
            return "several_currencies"
        if not self.invoices or self.owed < self.policy.min_balance:
            return "below_threshold"
        return None

    @property
    def eligible(self) -> bool:
        return self.refusal is None


# -- reading -----------------------------------------------------------------------------------------------

def get(session: Session, plan_id: int, *, lock: bool = False) -> PaymentPlan:
    if not valid_id(plan_id):
        raise NotFound("no such payment plan")
    query = select(PaymentPlan).where(PaymentPlan.id == plan_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    plan = session.execute(query).scalar_one_or_none()
    if plan is None:
        raise NotFound("no such payment plan")
    return plan


def own(session: Session, customer_id: int, plan_id: int) -> PaymentPlan:
    """One of the customer's plans; another customer's is not found, as if it did not exist."""
    plan = get(session, plan_id)
    if plan.customer_id != customer_id:
        raise NotFound("no such payment plan")
    return plan


def current_plan(session: Session, customer_id: int) -> PaymentPlan | None:
    return session.execute(select(PaymentPlan).where(PaymentPlan.customer_id == customer_id,
                                                     PaymentPlan.status.in_(PLAN_OPEN))).scalar_one_or_none()


def list_plans(session: Session, *, customer_id: int | None = None, status: str | None = None,
               visible: frozenset[int] | None = None, page: int = 1,
               per_page: int = 50) -> tuple[list[PaymentPlan], int]:
    """Plans newest first, filtered, one page of them with the total that matches."""
    return listing.newest_first(session, PaymentPlan, statuses=PLAN_STATUSES, status=status, customer_id=customer_id,
                                visible=visible, page=page, per_page=per_page)


def offer(session: Session, customer_id: int, *, lock: bool = False) -> Offer:
    found = allocation.open_invoices(session, customer_id, lock=lock)
    currencies = {i.currency for i in found}
    return Offer(policy=policy(session), owed=round_money(sum((owed(i) for i in found), ZERO)),
                 currency=next(iter(currencies)) if len(currencies) == 1 else None, currencies=len(currencies),
                 open_plan=current_plan(session, customer_id), invoices=tuple(found))


def covered(session: Session, plan_id: int) -> list[tuple[Invoice, Decimal]]:
    """The invoices a plan covers, oldest first, with what each owed when the plan was agreed."""
    return [(invoice, amount) for invoice, amount in session.execute(
        select(Invoice, PaymentPlanInvoice.owed).join(PaymentPlanInvoice, PaymentPlanInvoice.invoice_id == Invoice.id)
        .where(PaymentPlanInvoice.plan_id == plan_id).order_by(Invoice.due_on.nulls_last(), Invoice.id)).all()]


def view(session: Session, plan: PaymentPlan, today: date | None = None) -> dict:
    """A plan as the customer and the reseller see it: the invoices, the instalments (an Active plan's as they
    stand today, from the payments; an ended one's as they were recorded), what is paid and left, the
    dispute it came from, and its history."""
    today = today or local_today(session)
    rows = progress.instalments_of(session, plan.id)
    if plan.status == "Active":
        found = progress.standing(session, plan, today, rows=rows)
        instalments = [{"number": s.number, "due_on": s.due_on, "amount": s.amount, "status": s.status,
                        "paid_on": s.paid_on} for s in found.instalments]
        paid, remaining = found.paid, found.remaining
        next_due = next((i for i in instalments if i["status"] == "Due"), None)
    else:
        instalments = [{"number": r.number, "due_on": r.due_on, "amount": r.amount, "status": r.status,
                        "paid_on": r.paid_on} for r in rows]
        paid = remaining = next_due = None
    dispute_id = session.execute(select(InvoiceDispute.id).where(InvoiceDispute.payment_plan_id == plan.id)
                                 ).scalar_one_or_none()
    return {"plan": plan, "invoices": covered(session, plan.id), "instalments": instalments, "paid": paid,
            "remaining": remaining, "next_due": next_due, "dispute_id": dispute_id,
            "history": history.of_plan(session, plan.id)}


# -- asking ------------------------------------------------------------------------------------------------

def _count(value, low: int, high: int, field: str = "instalments") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Invalid(f"{field}: a whole number from {low} to {high}", field=field, minimum=low, maximum=high)
    return value


def request_plan(session: Session, customer_id: int, instalments, message=None, *,
                 principal: Principal | None = None) -> PaymentPlan:
    """The customer asks to pay their open invoices in `instalments` monthly instalments."""
    invoices.lock_customer(session, customer_id)
    found = offer(session, customer_id, lock=True)
    rules = found.policy
    refusal = found.refusal
    if refusal == "not_offered":
        raise PlansNotOffered("your provider does not offer payment plans")
    if refusal == "open_plan":
        raise PlanOpen(f"you have payment plan #{found.open_plan.id} already ({found.open_plan.status})",
                       plan_id=found.open_plan.id)
    if refusal == "several_currencies":
        raise Conflict("your open invoices are in several currencies: ask your provider for a plan")
    if refusal == "below_threshold":
        unit = f" {found.currency}" if found.currency else ""
        raise BalanceTooSmall(f"a payment plan is for a balance of at least {rules.min_balance}{unit}; your open "
                              f"invoices owe {found.owed}{unit}", min_balance=str(rules.min_balance),
                              owed=str(found.owed))
    count = _count(instalments, rules.min_instalments, rules.max_instalments)
    message = text(message, "message", required=False)
    plan = PaymentPlan(customer_id=customer_id, status="Pending", currency=found.currency, amount=found.owed,
                       proposed_instalments=count, message=message, requested_by=history.actor_of(principal))
    session.add(plan)
    session.flush()
    _cover(session, plan, list(found.invoices))
    history.record(session, principal, "payment_plan.requested", plan=plan, to_status="Pending", note=message,
                   amount=str(plan.amount), currency=plan.currency, instalments=count)
    notices.plan_changed(session, plan)
    return plan


def _cover(session: Session, plan: PaymentPlan, found: list[Invoice]) -> None:
    session.execute(delete(PaymentPlanInvoice).where(PaymentPlanInvoice.plan_id == plan.id))
    session.add_all([PaymentPlanInvoice(plan_id=plan.id, invoice_id=i.id, owed=owed(i)) for i in found])
    session.flush()


# -- the schedule ------------------------------------------------------------------------------------------

def months_after(day: date, months: int) -> date:
    """The same day `months` later, or that month's last day when it is shorter (31 January + 1: 28 or 29
    February); always counted from the first due date, so a short month never moves the later ones."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def split(amount: Decimal, count: int, first_due_on: date) -> list[tuple[date, Decimal]]:
    """`count` monthly instalments of `amount`: equal parts rounded down to the cent, the last one taking what
    the rounding left (1000.00 in 3: 333.33, 333.33, 333.34)."""
    each = (amount / count).quantize(CENT, rounding=ROUND_DOWN)
    if each <= ZERO:
        raise Invalid(f"instalments: {amount} cannot be paid in {count} instalments of at least 0.01",
                      field="instalments")
    amounts = [each] * (count - 1) + [amount - each * (count - 1)]
    return [(months_after(first_due_on, n), part) for n, part in enumerate(amounts)]


def _first_due(value, today: date) -> date:
    first = date_of(value, "first_due_on")
    if not today <= first <= today + MAX_AHEAD:
        raise Invalid(f"first_due_on: from today ({today}) to a year from now", field="first_due_on")
    return first


def schedule_for(amount: Decimal, today: date, *, instalments=None, first_due_on=None,
                 schedule=None) -> list[tuple[date, Decimal]]:
    """The schedule a reseller sets: explicit (dates ascending from today, amounts adding up to `amount`), or
    `instalments` monthly from `first_due_on` (a month from today unless given)."""
    if schedule is not None:
        if instalments is not None or first_due_on is not None:
            raise Invalid("schedule: give a schedule, or instalments and first_due_on, not both", field="schedule")
        if not isinstance(schedule, list | tuple) or not 1 <= len(schedule) <= MAX_INSTALMENTS:
            raise Invalid(f"schedule: 1 to {MAX_INSTALMENTS} instalments", field="schedule")
        out = []
        for n, item in enumerate(schedule):
            if not isinstance(item, dict) or set(item) - {"due_on", "amount"}:
                raise Invalid(f"schedule[{n}]: a due_on and an amount", field="schedule")
            due = date_of(item.get("due_on"), f"schedule[{n}].due_on")
            part = money(item.get("amount"), f"schedule[{n}].amount")
            if part <= ZERO:
                raise Invalid(f"schedule[{n}].amount: more than 0", field="schedule")
            out.append((due, part))
        dates = [d for d, _ in out]
        ascending = all(a < b for a, b in zip(dates, dates[1:], strict=False))
        if dates[0] < today or dates[-1] > today + MAX_SPAN or not ascending:
            raise Invalid("schedule: due dates from today on, within three years, each later than the one before",
                          field="schedule")
        total = sum((p for _, p in out), ZERO)
        if total != amount:
            raise Invalid(f"schedule: the instalments add up to {total}; the plan is for {amount}", field="schedule",
                          amount=str(amount))
        return out
    count = _count(instalments, 1, MAX_INSTALMENTS)
    first = _first_due(first_due_on, today) if first_due_on is not None else months_after(today, 1)
    return split(amount, count, first)


def _activate(session: Session, plan: PaymentPlan, found: list[Invoice], today: date, *, principal: Principal | None,
              note: str | None, instalments=None, first_due_on=None, schedule=None) -> PaymentPlan:
    currencies = {i.currency for i in found}
    if len(currencies) > 1:
        raise Conflict("the open invoices are in several currencies: one plan per currency is not supported")
    amount = round_money(sum((owed(i) for i in found), ZERO))
    if amount <= ZERO:
        raise Conflict("nothing is owed on the invoices any more: there is nothing to plan")
    if schedule is None and instalments is None:
        instalments = plan.proposed_instalments
    rows = schedule_for(amount, today, instalments=instalments, first_due_on=first_due_on, schedule=schedule)
    before = plan.status
    _cover(session, plan, found)
    plan.currency, plan.amount = currencies.pop(), amount
    plan.paid_before = round_money(sum((i.amount_paid for i in found), ZERO))
    session.execute(delete(PaymentPlanInstalment).where(PaymentPlanInstalment.plan_id == plan.id))
    session.add_all([PaymentPlanInstalment(plan_id=plan.id, number=n, due_on=due, amount=part)
                     for n, (due, part) in enumerate(rows, start=1)])
    plan.status, plan.decided_by, plan.decided_at = "Active", history.actor_of(principal), utcnow()
    plan.decision_note = note
    session.flush()
    history.record(session, principal, "payment_plan.approved", plan=plan, from_status=before, to_status="Active",
                   note=note, amount=str(amount), currency=plan.currency,
                   instalments=[{"number": n, "due_on": due.isoformat(), "amount": str(part)}
                                for n, (due, part) in enumerate(rows, start=1)],
                   invoices=[i.id for i in found])
    notices.plan_changed(session, plan)
    return plan


# -- the reseller's answer ---------------------------------------------------------------------------------

def approve(session: Session, plan_id: int, *, principal: Principal | None = None, instalments=None,
            first_due_on=None, schedule=None, note=None, today: date | None = None) -> PaymentPlan:
    """Pending → Active, over the customer's open invoices as they are now, with the schedule asked for or set."""
    invoices.lock_customer(session, get(session, plan_id).customer_id)
    plan = get(session, plan_id, lock=True)
    if plan.status != "Pending":
        raise PlanState(f"payment plan #{plan.id} is {plan.status}: only a Pending plan is approved",
                        plan_status=plan.status)
    note = text(note, "note", required=False)
    today = today or local_today(session)
    found = allocation.open_invoices(session, plan.customer_id)
    return _activate(session, plan, found, today, principal=principal, note=note, instalments=instalments,
                     first_due_on=first_due_on, schedule=schedule)


def decline(session: Session, plan_id: int, *, principal: Principal | None = None, note=None) -> PaymentPlan:
    """Pending → Declined, saying why (the customer is told)."""
    plan = get(session, plan_id, lock=True)
    if plan.status != "Pending":
        raise PlanState(f"payment plan #{plan.id} is {plan.status}: only a Pending plan is declined",
                        plan_status=plan.status)
    note = text(note, "note", required=True)
    plan.status, plan.decided_by, plan.decided_at, plan.decision_note = ("Declined", history.actor_of(principal),
                                                                         utcnow(), note)
    session.flush()
    history.record(session, principal, "payment_plan.declined", plan=plan, from_status="Pending",
                   to_status="Declined", note=note)
    notices.plan_changed(session, plan)
    return plan


def for_invoice(session: Session, customer_id: int, invoice: Invoice, *, principal: Principal | None,
                note: str | None, instalments=None, first_due_on=None, schedule=None,
                today: date | None = None) -> PaymentPlan:
    """An Active plan over one invoice at once: a dispute resolved with a payment plan (the caller holds the
    customer's row)."""
    existing = current_plan(session, customer_id)
    if existing is not None:
        raise PlanOpen(f"the customer has payment plan #{existing.id} already ({existing.status}): decide it first",
                       plan_id=existing.id)
    if invoice.status not in allocation.OPEN or owed(invoice) <= ZERO:
        raise Conflict(f"invoice {invoice.number} owes nothing: resolve with a credit, or reject")
    if instalments is None and schedule is None:
        raise Invalid("instalments: how many monthly instalments (or a schedule)", field="instalments")
    today = today or local_today(session)
    plan = PaymentPlan(customer_id=customer_id, status="Pending", currency=invoice.currency, amount=owed(invoice),
                       proposed_instalments=len(schedule) if isinstance(schedule, list | tuple) and schedule
                       else (instalments if isinstance(instalments, int) and instalments > 0 else 1),
                       requested_by=history.actor_of(principal))
    session.add(plan)
    session.flush()
    return _activate(session, plan, [invoice], today, principal=principal, note=note, instalments=instalments,
                     first_due_on=first_due_on, schedule=schedule)


# -- the daily check ---------------------------------------------------------------------------------------

def active_ids(session: Session) -> list[int]:
    return list(session.execute(select(PaymentPlan.id).where(PaymentPlan.status == "Active")
                                .order_by(PaymentPlan.id)).scalars())


def check_plan(session: Session, plan_id: int, today: date, rules: PlanPolicy | None = None) -> dict:
    """Record where one Active plan stands on `today`: instalments reached (Paid) or missed, then Completed when
    everything is paid, Defaulted when one was missed. Idempotent: what is recorded is not recorded again, and
    an ended plan is left alone."""
    rules = rules or policy(session)
    done = {"paid": 0, "missed": 0, "completed": 0, "defaulted": 0}
    plan = get(session, plan_id, lock=True)
    if plan.status != "Active":
        return done
    rows = progress.instalments_of(session, plan.id)
    found = progress.standing(session, plan, today, grace_days=rules.grace_days, rows=rows)
    for row, state in zip(rows, found.instalments, strict=True):
        if state.status == "Paid" and row.status != "Paid":
            row.status, row.paid_on = "Paid", state.paid_on
            history.record(session, None, "payment_plan.instalment_paid", plan=plan, number=row.number,
                           due_on=row.due_on.isoformat(), paid_on=state.paid_on.isoformat(), amount=str(row.amount))
            done["paid"] += 1
        elif state.status == "Missed" and row.status == "Due":
            row.status = "Missed"
            history.record(session, None, "payment_plan.instalment_missed", plan=plan, number=row.number,
                           due_on=row.due_on.isoformat(), amount=str(row.amount), paid=str(found.paid))
            done["missed"] += 1
    if found.settled:
        plan.status, plan.ended_on = "Completed", today
        history.record(session, None, "payment_plan.completed", plan=plan, from_status="Active",
                       to_status="Completed", paid=str(found.paid))
        done["completed"] += 1
    elif found.missed is not None:
        plan.status, plan.ended_on = "Defaulted", today
        history.record(session, None, "payment_plan.defaulted", plan=plan, from_status="Active",
                       to_status="Defaulted", number=found.missed.number, due_on=found.missed.due_on.isoformat(),
                       paid=str(found.paid))
        done["defaulted"] += 1
    session.flush()
    if plan.status != "Active":
        notices.plan_changed(session, plan, missed=found.missed if plan.status == "Defaulted" else None)
    return done


def check(session: Session, today: date | None = None) -> dict:
    """Every Active plan of the tenant, in the caller's transaction (the worker's actor commits plan by plan)."""
    today = today or local_today(session)
    rules = policy(session)
    total = {"paid": 0, "missed": 0, "completed": 0, "defaulted": 0}
    for plan_id in active_ids(session):
        for key, value in check_plan(session, plan_id, today, rules).items():
            total[key] += value
    return total
