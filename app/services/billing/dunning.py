"""Dunning: what happens, day by day, to a customer whose invoice is overdue — and how it is undone.

The reseller's policy is its setting `dunning`:

    {"enabled": true, "reminder_days": [1, 3, 7], "channels": ["email"], "grace_days": 7,
     "action": "limit", "late_fee": "50.00", "late_fee_percent": "2.5"}

Counting in days past the due date (an invoice due on the 10th is 1 day overdue on the 11th, in the
reseller's time zone), `run` takes these steps for every overdue invoice, each at most once — the unique
key (invoice, step) of `dunning_steps` is what makes the daily job safe to run twice, or after a crash:

- `overdue`      the invoice is marked Overdue (its status says so from then on);
- `reminder:<d>` on day d of `reminder_days`: an e-mail to the customer (channel `email`, when they have
                 an address) — `sms` is recorded until an SMS sender exists. When the job missed days,
                 only the latest reminder due is sent; the earlier ones are recorded as skipped, so a
                 customer never gets three reminders in one morning;
- `late_fee`     once the grace period is over (day > `grace_days`): `late_fee` plus `late_fee_percent`
                 of what is still owed on the invoice, when either is set;
- `action`       at the same time: `limit` moves the customer's Active services to Limited (reduced
                 speed, so they can still reach the payment page), `suspend` moves Active and Limited
                 ones to Suspended. Which services, from which status and with which reason, is kept in
                 the step's `detail`: that is what restoration undoes, and nothing else.
- `restore`      see below.

Restoration (`restore_if_cleared`, called by the payment service after it allocates a payment, and by
`run` for debts cleared another way: a credit note, a void) happens at once when nothing the policy acts
on is left: no open invoice past its grace period. Only the services that dunning moved are restored,
and only if they are still as dunning left them (same status, same reason): a service put on a vacation
hold, or suspended by staff for another reason since, stays as it is. A service that was Limited by its
fair-usage policy before dunning suspended it goes back to Limited, not to full speed.

A late fee is an invoice of its own (billing key `late_fee:<invoice>`, so one per dunned invoice), and
is not dunned itself: the fee follows its invoice, grows no fees of its own, and does not keep a
service held once the invoice it is for is paid.

Disputes and payment plans (app/services/billing/arrangements/holds.py): an amount under an active dispute
is not dunned (reminders and late fees count only the rest), an invoice wholly disputed or covered by an Active
plan in good standing takes no new step, and such an invoice dunning never acted on does not keep another
invoice's action in place. A hold does not undo a step already taken (see that package's docstring for why).

Every step is on the customer's history (`activity_log`, actions `dunning.*`), and every status change
is also in the service's status history and published as `service.status_changed` (app/services/
services.py), which the RADIUS service turns into CoA / Disconnect.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import and_, exists, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, aliased

from app.models import Customer
from app.models.billing import DunningStep, Invoice
from app.models.provisioning import Service
from app.services import activity, pricing, services
from app.services.auth.principal import Principal
from app.services.billing import allocation, invoices
from app.services.billing.arrangements import holds as arranged
from app.services.errors import Invalid, ServiceError
from app.services.money import HUNDRED, money, round_money
from app.services.settings import get_setting, put_setting

log = logging.getLogger(__name__)

SETTING = "dunning"
ACTIONS = ("limit", "suspend")
CHANNELS = ("email", "sms")
REASON_PREFIX = "dunning:"
LATE_FEE_KEY = "late_fee:"  # billing_key prefix of a late-fee invoice
MAX_DAYS = 365
ZERO = Decimal("0.00")


# -- the policy --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Policy:
    enabled: bool = True
    reminder_days: tuple[int, ...] = (1, 3, 7)
    channels: tuple[str, ...] = ("email",)
    grace_days: int = 7
    action: str = "limit"
    late_fee: Decimal | None = None
    late_fee_percent: Decimal | None = None

    def as_setting(self) -> dict:
        """The JSON stored (money as strings: JSON has no decimals, and a float would lose cents)."""
        return {"enabled": self.enabled, "reminder_days": list(self.reminder_days), "channels": list(self.channels),
                "grace_days": self.grace_days, "action": self.action,
                "late_fee": None if self.late_fee is None else str(self.late_fee),
                "late_fee_percent": None if self.late_fee_percent is None else str(self.late_fee_percent)}

    def late_fee_for(self, owed: Decimal) -> Decimal:
        fee = (self.late_fee or ZERO) + (owed * self.late_fee_percent / HUNDRED if self.late_fee_percent else ZERO)
        return round_money(fee)


def _int(value, field: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= MAX_DAYS:
        raise Invalid(f"{field}: a whole number of days from {minimum} to {MAX_DAYS}", field=field)
    return value


def validate(raw: dict) -> Policy:
    """A policy from JSON (the API's body, or what is stored), checked: reminder days positive and
    ascending, grace ≥ 0, action limit|suspend, fees Decimal ≥ 0 (percent ≤ 100). Missing keys take the
    defaults, so a stored policy from before a key existed still reads."""
    if not isinstance(raw, dict):
        raise Invalid("the dunning policy is an object")
    unknown = set(raw) - set(Policy.__dataclass_fields__)
    if unknown:
        raise Invalid(f"unknown key(s): {', '.join(sorted(unknown))}", field=sorted(unknown)[0])
    default = Policy()
    enabled = raw.get("enabled", default.enabled)
    if not isinstance(enabled, bool):
        raise Invalid("enabled: true or false", field="enabled")
    days = raw.get("reminder_days", list(default.reminder_days))
    if not isinstance(days, list | tuple) or len(days) > 20:
        raise Invalid("reminder_days: a list of at most 20 days", field="reminder_days")
    days = tuple(_int(d, "reminder_days", 1) for d in days)
    if any(b <= a for a, b in zip(days, days[1:], strict=False)):
        raise Invalid("reminder_days: ascending, each day once", field="reminder_days")
    channels = raw.get("channels", list(default.channels))
    if not isinstance(channels, list | tuple) or any(c not in CHANNELS for c in channels):
        raise Invalid(f"channels: any of {', '.join(CHANNELS)}", field="channels")
    action = raw.get("action", default.action)
    if action not in ACTIONS:
        raise Invalid(f"action: one of {', '.join(ACTIONS)}", field="action")
    fee = raw.get("late_fee")
    fee = None if fee is None else money(fee, "late_fee")
    percent = raw.get("late_fee_percent")
    percent = None if percent is None else money(percent, "late_fee_percent")
    if (fee is not None and fee < ZERO) or (percent is not None and not ZERO <= percent <= HUNDRED):
        raise Invalid("late fees are not negative, and a percentage is at most 100",
                      field="late_fee" if fee is not None and fee < ZERO else "late_fee_percent")
    return Policy(enabled=enabled, reminder_days=days, channels=tuple(dict.fromkeys(channels)),
                  grace_days=_int(raw.get("grace_days", default.grace_days), "grace_days", 0), action=action,
                  late_fee=fee or None, late_fee_percent=percent or None)


def policy(session: Session) -> Policy:
    """The current tenant's policy. A stored value that no longer validates (edited by hand) falls back
    to the defaults for the daily job rather than stopping every reseller's dunning — and says so."""
    stored = get_setting(session, SETTING) or {}
    try:
        return validate(stored)
    except Invalid as exc:
        log.error("dunning policy is invalid (%s); using the defaults", exc.detail)
        return Policy()


def put_policy(session: Session, raw: dict, *, principal: Principal | None = None) -> Policy:
    found = validate(raw)
    put_setting(session, SETTING, found.as_setting())
    activity.record(session, principal, None, "dunning.policy_changed", policy=found.as_setting())
    return found


# -- the daily run -----------------------------------------------------------------------------------

def _days_overdue(invoice: Invoice, today: date) -> int:
    return (today - invoice.due_on).days if invoice.due_on is not None else 0


def _dunned():
    """Invoices dunning looks at: real invoices, not the late fees it issued itself."""
    return and_(Invoice.kind == "invoice",
                (Invoice.billing_key.is_(None)) | (~Invoice.billing_key.startswith(LATE_FEE_KEY)))


def _take(session: Session, invoice: Invoice, step: str, detail: dict) -> DunningStep | None:
    """Claim a step: the row is inserted first, so that of two runs at once only one goes on (the other
    waits on the unique index, then finds the step taken and does nothing)."""
    step_id = session.execute(
        insert(DunningStep).values(invoice_id=invoice.id, customer_id=invoice.customer_id, step=step, detail=detail)
        .on_conflict_do_nothing(constraint="uq_dunning_steps_invoice_step").returning(DunningStep.id)
    ).scalar_one_or_none()
    return session.get(DunningStep, step_id) if step_id is not None else None


def _record(session: Session, principal: Principal | None, invoice: Invoice, action: str, **detail) -> None:
    activity.record(session, principal, invoice.customer_id, action, invoice_id=invoice.id,
                    invoice_number=invoice.number, **detail)


def run(session: Session, today: date | None = None) -> dict:
    """The daily dunning of the current tenant, in the caller's transaction (the worker's actor commits
    customer by customer instead: `due_customers` + `run_customer`). Idempotent: a second run the same
    day finds every step taken and sends nothing."""
    today = today or pricing.today(session)
    rules = policy(session)
    done = _counts()
    invoices.mark_overdue(session, today)
    for customer_id in due_customers(session, today):
        _merge(done, run_customer(session, customer_id, today, rules))
    for customer_id in held_customers(session):
        done["restored"] += len(restore_if_cleared(session, customer_id, actor=None, today=today))
    session.flush()
    return done


def _counts() -> dict:
    return {"overdue": 0, "reminders": 0, "late_fees": 0, "actions": 0, "restored": 0, "failed": 0}


def _merge(total: dict, part: dict) -> dict:
    for key, value in part.items():
        total[key] = total.get(key, 0) + value
    return total


def due_customers(session: Session, today: date) -> list[int]:
    """Customers with an open invoice past its due date: the ones today's run looks at."""
    return list(session.execute(
        select(Invoice.customer_id).where(_dunned(), Invoice.status.in_(allocation.OPEN), Invoice.due_on < today)
        .distinct().order_by(Invoice.customer_id)).scalars())


def _lock_customer(session: Session, customer_id: int) -> Customer | None:
    """The customer's row first, then their invoices: the order the payment service locks in, so that a
    payment and this customer's dunning wait for each other instead of deadlocking."""
    return session.execute(select(Customer).where(Customer.id == customer_id).with_for_update()).scalar_one_or_none()


def run_customer(session: Session, customer_id: int, today: date, rules: Policy | None = None) -> dict:
    """Dun one customer's overdue invoices, in a savepoint: one that cannot be dunned (a service in a state
    nothing can move) is logged and rolled back alone, and the others go on."""
    rules = rules or policy(session)
    done = _counts()
    try:
        with session.begin_nested():
            if _lock_customer(session, customer_id) is None:
                return done
            overdue = [i for i in allocation.open_invoices(session, customer_id)
                       if not (i.billing_key or "").startswith(LATE_FEE_KEY)
                       and allocation.status_for(i, today) == "Overdue"]
            taken = _steps_taken(session, [i.id for i in overdue])
            held = arranged.held_amounts(session, overdue, today)
            for invoice in overdue:
                if not arranged.wholly_held(invoice, held):
                    _dun(session, invoice, today, rules, taken.get(invoice.id, set()), done,
                         held.get(invoice.id, ZERO))
    except ServiceError as exc:
        done = {**_counts(), "failed": 1}
        log.warning("dunning of customer %s stopped: %s", customer_id, exc.detail)
    return done


def _steps_taken(session: Session, invoice_ids: list[int]) -> dict[int, set[str]]:
    taken: dict[int, set[str]] = {}
    if invoice_ids:
        for invoice_id, step in session.execute(select(DunningStep.invoice_id, DunningStep.step)
                                                .where(DunningStep.invoice_id.in_(invoice_ids))):
            taken.setdefault(invoice_id, set()).add(step)
    return taken


def _dun(session: Session, invoice: Invoice, today: date, rules: Policy, taken: set[str], done: dict,
         held: Decimal = ZERO) -> None:
    days = _days_overdue(invoice, today)
    owed = round_money(invoice.total - invoice.amount_paid - held)  # `held`: under dispute, not dunned
    if invoice.status != "Overdue":
        invoice.status = "Overdue"
        invoice.version += 1
    if "overdue" not in taken and _take(session, invoice, "overdue", {"due_on": invoice.due_on.isoformat(),
                                                                      "owed": str(owed)}):
        _record(session, None, invoice, "dunning.overdue", due_on=invoice.due_on.isoformat(), owed=str(owed),
                currency=invoice.currency)
        done["overdue"] += 1
    if not rules.enabled:
        return
    customer = session.get(Customer, invoice.customer_id)
    reached = [d for d in rules.reminder_days if d <= days]
    for day in reached:
        if f"reminder:{day}" in taken:
            continue
        if day != reached[-1]:
            if _take(session, invoice, f"reminder:{day}", {"skipped": f"day {days} came before it was sent"}):
                _record(session, None, invoice, "dunning.reminder_skipped", day=day, days_overdue=days)
            continue
        step = _take(session, invoice, f"reminder:{day}", {})
        if step is not None:  # claimed first, sent second: a concurrent run that lost the claim sends nothing
            step.detail = _remind(session, invoice, customer, days, owed, rules, today)
            _record(session, None, invoice, "dunning.reminder", day=day, **step.detail)
            done["reminders"] += 1
    if days <= rules.grace_days:
        return
    if "late_fee" not in taken and (rules.late_fee or rules.late_fee_percent):
        fee = rules.late_fee_for(owed)
        if fee > ZERO:
            step = _take(session, invoice, "late_fee", {"amount": str(fee), "currency": invoice.currency})
            if step is not None:
                step.detail = {**step.detail, **_post_late_fee(session, invoice, fee, today)}
                _record(session, None, invoice, "dunning.late_fee", **step.detail)
                done["late_fees"] += 1
    if "action" not in taken:
        step = _take(session, invoice, "action", {"action": rules.action})
        if step is not None:
            step.detail = _act(session, invoice, customer, rules.action, days, owed)
            _record(session, None, invoice, f"dunning.{rules.action}", days_overdue=days, owed=str(owed),
                    services=[s["id"] for s in step.detail["services"]])
            done["actions"] += 1


# -- reminders ---------------------------------------------------------------------------------------

def _remind(session: Session, invoice: Invoice, customer: Customer, days: int, owed: Decimal, rules: Policy,
            today: date) -> dict:
    """Send (queue) the reminder on each channel; returns what was done, for the step and the history."""
    result: dict = {"days_overdue": days, "owed": str(owed), "currency": invoice.currency, "channels": {}}
    action_on = invoice.due_on.toordinal() + rules.grace_days + 1
    context = {"name": customer.display_name, "portal_id": customer.portal_id, "invoice_number": invoice.number,
               "amount": str(owed), "currency": invoice.currency, "due_on": invoice.due_on.isoformat(),
               "days_overdue": days, "action": rules.action,
               "action_on": date.fromordinal(action_on).isoformat() if action_on > today.toordinal() else None,
               "portal_url": _portal_url(session)}
    for channel in rules.channels:
        if channel == "email":
            if customer.email:
                row = _email(session, customer.email, "billing/payment_reminder", context)
                result["channels"]["email"] = {"to": customer.email, "outbox_id": row.id}
            else:
                result["channels"]["email"] = {"skipped": "the customer has no e-mail address"}
        else:
            result["channels"][channel] = {"recorded": "no SMS sender yet"}
    return result


def _email(session: Session, to: str, template: str, context: dict):
    from app.services.notifications.outbox import queue_email

    return queue_email(session, to=to, template=template, context=context)


def _portal_url(session: Session) -> str | None:
    from app.config import Settings
    from app.services.branding import rendering
    from tenants import current_tenant

    tenant = current_tenant()
    host = rendering.primary_host(session, tenant.id) if tenant is not None else None
    return f"{Settings.from_env().public_url(host)}/portal" if host else None


# -- late fees ---------------------------------------------------------------------------------------

def _post_late_fee(session: Session, invoice: Invoice, fee: Decimal, today: date) -> dict:
    """Charge the fee as a small issued invoice of its own (invoices.py numbers it, posts it and spends
    any credit on it), so that it is on a document, is paid like any invoice and shows in statements.
    Its billing key `late_fee:<invoice>` makes it unique per dunned invoice, whatever happens to the
    step's row. Not taxed: a late-payment fee is compensation for the delay, not a supply."""
    draft = invoices.create_draft(session, invoice.customer_id, [{
        "description": f"Late payment fee, invoice {invoice.number}", "unit_price": fee, "quantity": 1,
        "kind": "late_fee", "taxable": False}], currency=invoice.currency, actor="dunning",
        notes=f"Invoice {invoice.number} was not paid by {invoice.due_on.isoformat()}.")
    draft.billing_key = f"{LATE_FEE_KEY}{invoice.id}"
    issued = invoices.issue(session, draft.id, actor="dunning", today=today)
    return {"fee_invoice_id": issued.id, "fee_invoice_number": issued.number}


# -- the action and its undoing ----------------------------------------------------------------------

def _reason(invoice: Invoice) -> str:
    return f"{REASON_PREFIX} invoice {invoice.number or invoice.id} overdue"


def _act(session: Session, invoice: Invoice, customer: Customer, action: str, days: int, owed: Decimal) -> dict:
    reason = _reason(invoice)
    movable = ("Active",) if action == "limit" else ("Active", "Limited")
    moved = []
    for service in session.execute(select(Service).where(Service.customer_id == invoice.customer_id,
                                                         Service.status.in_(movable))
                                   .order_by(Service.id).with_for_update()).scalars().all():
        before, before_reason = service.status, service.status_reason
        if action == "limit":
            services.limit(session, service.id, reason=reason)
        else:
            services.suspend(session, service.id, reason=reason)
        moved.append({"id": service.id, "from": before, "from_reason": before_reason, "to": service.status})
    if moved and customer.email:
        _email(session, customer.email, "billing/dunning_action", {
            "name": customer.display_name, "portal_id": customer.portal_id, "invoice_number": invoice.number,
            "amount": str(owed), "currency": invoice.currency, "action": action, "days_overdue": days,
            "portal_url": _portal_url(session)})
    return {"action": action, "reason": reason, "days_overdue": days, "owed": str(owed), "services": moved}


def blocking_invoices(session: Session, customer_id: int, today: date | None = None) -> list[Invoice]:
    """The customer's open invoices past their grace period: while any is left, dunning holds."""
    today = today or pricing.today(session)
    rules = policy(session)
    found = session.execute(select(Invoice).where(Invoice.customer_id == customer_id, _dunned(),
                                                  Invoice.status.in_(allocation.OPEN),
                                                  Invoice.due_on.is_not(None))).scalars()
    blocking = [i for i in found if allocation.status_for(i, today) == "Overdue"
                and _days_overdue(i, today) > rules.grace_days]
    held = arranged.held_amounts(session, blocking, today)
    acted = _steps_taken(session, [i.id for i in blocking if arranged.wholly_held(i, held)])
    return [i for i in blocking if not arranged.wholly_held(i, held) or "action" in acted.get(i.id, set())]


def held_customers(session: Session) -> list[int]:
    """Customers with services dunning holds and has not restored yet."""
    restore = aliased(DunningStep)
    return list(session.execute(
        select(DunningStep.customer_id).where(DunningStep.step == "action", ~exists().where(
            restore.invoice_id == DunningStep.invoice_id, restore.step == "restore"))
        .distinct().order_by(DunningStep.customer_id)).scalars())


def held_services(session: Session, customer_id: int | None = None) -> dict[int, dict]:
    """Services dunning holds now (limited or suspended by it, not yet restored), by id, with the step's
    record of them. `topups` asks this before a data top-up lifts a Limited service."""
    restore = aliased(DunningStep)
    query = select(DunningStep).where(DunningStep.step == "action", ~exists().where(
        restore.invoice_id == DunningStep.invoice_id, restore.step == "restore"))
    if customer_id is not None:
        query = query.where(DunningStep.customer_id == customer_id)
    held: dict[int, dict] = {}
    for step in session.execute(query.order_by(DunningStep.id)).scalars():
        for moved in step.detail.get("services", ()):
            held[moved["id"]] = {**moved, "reason": step.detail.get("reason"), "invoice_id": step.invoice_id}
    return held


def holds(session: Session, service: Service) -> bool:
    """Whether `service` is, right now, as dunning left it (and so is dunning's to undo, nobody else's)."""
    record = held_services(session, service.customer_id).get(service.id)
    return bool(record and service.status == record["to"] and service.status_reason == record["reason"])


def _actor(actor: Principal | str | None) -> tuple[Principal | None, str]:
    if isinstance(actor, Principal):
        return actor, actor.actor
    return None, actor or "system"


def restore_if_cleared(session: Session, customer_id: int, *, actor: Principal | str | None = None,
                       today: date | None = None) -> list[int]:
    """Restore at once what dunning did to the customer's services, if nothing it acts on is left (no
    open invoice past its grace period). Returns the ids of the services restored (often none).

    Called by the payment service after it allocated a payment, in the same transaction: the services
    are Active when the payment commits, and RADIUS hears of it right after (`service.status_changed`).
    Safe to call any time and twice: a `restore` step per invoice is taken once."""
    today = today or pricing.today(session)
    principal, by = _actor(actor)
    _lock_customer(session, customer_id)
    restore = aliased(DunningStep)
    held = session.execute(
        select(DunningStep).where(DunningStep.customer_id == customer_id, DunningStep.step == "action",
                                  ~exists().where(restore.invoice_id == DunningStep.invoice_id,
                                                  restore.step == "restore"))
        .order_by(DunningStep.id.desc()).with_for_update()).scalars().all()
    if not held or blocking_invoices(session, customer_id, today):
        return []
    restored: list[int] = []
    for step in held:  # newest first: a later step's move is undone before an earlier one's
        invoice = session.get(Invoice, step.invoice_id)
        claim = _take(session, invoice, "restore", {"by": by})
        if claim is None:
            continue  # restored by a concurrent call
        done, kept = [], []
        for moved in step.detail.get("services", ()):
            outcome = _undo(session, moved, step.detail.get("reason"), principal)
            (done if outcome is None else kept).append({"id": moved["id"], **({} if outcome is None
                                                                              else {"kept": outcome})})
        claim.detail = {"by": by, "restored": [d["id"] for d in done], "kept": kept}
        _record(session, principal, invoice, "dunning.restored", by=by, services=[d["id"] for d in done],
                kept=kept)
        restored += [d["id"] for d in done]
    if restored:
        customer = session.get(Customer, customer_id)
        if customer.email:
            _email(session, customer.email, "billing/service_restored", {
                "name": customer.display_name, "portal_id": customer.portal_id, "portal_url": _portal_url(session)})
    session.flush()
    return restored


def _undo(session: Session, moved: dict, reason: str | None, principal: Principal | None) -> str | None:
    """Undo one service's move; returns why not when it is no longer dunning's to undo."""
    service = session.get(Service, moved["id"], with_for_update=True)
    if service is None:
        return "the service is gone"
    if service.status != moved["to"] or service.status_reason != reason:
        return f"now {service.status} ({service.status_reason or 'no reason'}), not by dunning"
    services.restore(session, service.id, reason=f"{REASON_PREFIX} overdue balance cleared", principal=principal)
    previous = moved.get("from_reason")
    if moved.get("from") == "Limited" and not (previous or "").startswith(REASON_PREFIX):
        services.limit(session, service.id, reason=previous, principal=principal)  # its FUP limit, as it was
    return None


def history(session: Session, customer_id: int) -> list[DunningStep]:
    """Every dunning step of a customer, oldest first."""
    return list(session.execute(select(DunningStep).where(DunningStep.customer_id == customer_id)
                                .order_by(DunningStep.at, DunningStep.id)).scalars())


def steps_of(session: Session, invoice_ids: Iterable[int]) -> list[DunningStep]:
    return list(session.execute(select(DunningStep).where(DunningStep.invoice_id.in_(list(invoice_ids)))
                                .order_by(DunningStep.id)).scalars())
