"""Dunning on the real database: reminders once per step however often the job runs, the action after the
grace period (Limited or Suspended) and its undoing the moment a payment clears the overdue balance, the
steps on the customer's history, a vacation hold left alone, late fees the ledger audit accepts.

Invoices and payments are made here the way their services post them (an issued invoice with its
charge; a payment with its ledger entry, then `allocation.settle`), so these tests do not wait on those
services; the payment service calls `dunning.restore_if_cleared` after allocating, as `pay` does here.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.models import ActivityEvent, Outbox
from app.models.base import utcnow
from app.models.billing import DunningStep, Invoice, LedgerEntry
from app.services import pricing, service_requests, services
from app.services.billing import dunning, ledger, payments
from app.services.errors import Invalid
from app.services.settings import put_setting
from tenants import tenant_context
from tests.provisioning.conftest import accounts  # noqa: F401  (fixture)

_numbers = itertools.count(1)


def overdue_invoice(s, customer_id: int, *, days: int, total: str = "1000.00", currency: str = "KES") -> Invoice:
    """An issued invoice that fell due `days` days ago, posted as the invoice service posts it."""
    today = pricing.today(s)
    invoice = Invoice(kind="invoice", series="INV", number=f"INV-T-{next(_numbers):06d}", status="Issued",
                      customer_id=customer_id, currency=currency, total=Decimal(total), subtotal=Decimal(total),
                      issued_at=utcnow() - timedelta(days=days + 14), due_on=today - timedelta(days=days))
    s.add(invoice)
    s.flush()
    ledger.post(s, customer_id=customer_id, kind="charge", amount=invoice.total, currency=currency,
                description=f"Invoice {invoice.number}", invoice_id=invoice.id)
    return invoice


def pay(s, customer_id: int, amount: str) -> None:
    """A cash payment through the payment service, which allocates it and then asks dunning to restore."""
    payments.record(s, customer_id=customer_id, amount=amount, method="cash", actor="user 1 (cashier)")


def set_policy(s, **changes):
    dunning.put_policy(s, {**dunning.Policy().as_setting(), **changes})


def steps(s, customer_id: int) -> list[str]:
    return [st.step for st in dunning.history(s, customer_id)]


def status(s, service_id: int) -> str:
    s.expire_all()
    return services.get(s, service_id).status


def emails(s, template: str) -> int:
    return s.execute(select(func.count()).select_from(Outbox).where(Outbox.template == template)).scalar_one()


def test_reminders_are_sent_once_per_step_even_when_the_job_runs_twice(db, billable):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        set_policy(s, reminder_days=[1, 3, 7], grace_days=7)
        invoice = overdue_invoice(s, b.customer_id, days=1)
        today = pricing.today(s)
        first = dunning.run(s, today)
        second = dunning.run(s, today)
        assert (first["reminders"], second["reminders"]) == (1, 0)
        assert steps(s, b.customer_id) == ["overdue", "reminder:1"]
        assert emails(s, "billing/payment_reminder") == 1
        s.refresh(invoice)
        assert invoice.status == "Overdue"
        assert status(s, b.service_id) == "Active"  # still within its grace
        dunning.run(s, today + timedelta(days=2))  # day 3
        dunning.run(s, today + timedelta(days=2))
        assert steps(s, b.customer_id) == ["overdue", "reminder:1", "reminder:3"]
        assert emails(s, "billing/payment_reminder") == 2
        mail = s.execute(select(Outbox).where(Outbox.template == "billing/payment_reminder")
                         .order_by(Outbox.id.desc())).scalars().first()
        assert invoice.number in mail.subject and "1,000.00 KES" in mail.body_text


def test_missed_days_send_only_the_latest_reminder(db, billable):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        set_policy(s, reminder_days=[1, 3, 7], grace_days=10)
        overdue_invoice(s, b.customer_id, days=5)  # the job did not run on days 1 to 4
        dunning.run(s)
        taken = {st.step: st.detail for st in dunning.history(s, b.customer_id)}
        assert set(taken) == {"overdue", "reminder:1", "reminder:3"}
        assert "skipped" in taken["reminder:1"] and "email" in taken["reminder:3"]["channels"]
        assert emails(s, "billing/payment_reminder") == 1


@pytest.mark.parametrize("action, held", [("limit", "Limited"), ("suspend", "Suspended")])
def test_after_the_grace_period_the_service_is_held_and_a_payment_restores_it_at_once(db, billable, action, held):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        set_policy(s, grace_days=7, action=action)
        invoice_id = overdue_invoice(s, b.customer_id, days=8).id
        dunning.run(s, pricing.today(s) - timedelta(days=1))
        assert status(s, b.service_id) == "Active"  # day 7: the last day of grace
    with db.session() as s, tenant_context(b.tenant):
        dunning.run(s)  # day 8
        assert status(s, b.service_id) == held
        action_step = s.execute(select(DunningStep).where(DunningStep.invoice_id == invoice_id,
                                                          DunningStep.step == "action")).scalar_one()
        assert action_step.detail["services"] == [
            {"id": b.service_id, "from": "Active", "from_reason": "test", "to": held}]
        assert emails(s, "billing/dunning_action") == 1
    with db.session() as s, tenant_context(b.tenant):
        pay(s, b.customer_id, "400.00")  # part of it: still overdue, still held
        assert status(s, b.service_id) == held
        pay(s, b.customer_id, "600.00")
        assert status(s, b.service_id) == "Active"
        restore = [st for st in dunning.history(s, b.customer_id) if st.step == "restore"]
        assert [st.detail["restored"] for st in restore] == [[b.service_id]]
        assert restore[0].detail["by"] == "user 1 (cashier)"
        pay(s, b.customer_id, "1.00")  # nothing left to restore
        assert dunning.restore_if_cleared(s, b.customer_id, actor="again") == []
        assert steps(s, b.customer_id)[-1] == "restore"
        history = [h.to_status for h in services.history(s, b.service_id)]
        assert history[-2:] == [held, "Active"]
        assert emails(s, "billing/service_restored") == 1


def test_every_step_is_on_the_customers_history(db, billable):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        set_policy(s, reminder_days=[1], grace_days=0, action="suspend", late_fee="50.00")
        overdue_invoice(s, b.customer_id, days=1)
        dunning.run(s)
        pay(s, b.customer_id, "1050.00")
        actions = list(s.execute(select(ActivityEvent.action).where(ActivityEvent.customer_id == b.customer_id)
                                 .order_by(ActivityEvent.id)).scalars())
        dunning_actions = [a for a in actions if a.startswith("dunning.")]
        assert dunning_actions == ["dunning.overdue", "dunning.reminder", "dunning.late_fee", "dunning.suspend",
                                   "dunning.restored"]
        assert "service.suspended" in actions and "service.active" in actions


def test_a_service_on_a_vacation_hold_is_not_restored_by_a_payment(db, billable):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        other = services.create(s, b.customer_id, b.plan.id)
        services.activate(s, other.id, reason="test")
        today = pricing.today(s)
        service_requests.create(s, other.id, "suspension", {"from": today.isoformat(),
                                                            "until": (today + timedelta(days=30)).isoformat()})
        assert status(s, other.id) == "Suspended"
        set_policy(s, grace_days=0, action="suspend")
        overdue_invoice(s, b.customer_id, days=3)
        dunning.run(s)
        assert status(s, b.service_id) == "Suspended"
        pay(s, b.customer_id, "1000.00")
        assert status(s, b.service_id) == "Active"
        assert status(s, other.id) == "Suspended"
        assert services.get(s, other.id).status_reason == service_requests.VACATION


def test_a_service_suspended_for_another_reason_after_dunning_limited_it_stays_suspended(db, billable):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        set_policy(s, grace_days=0, action="limit")
        overdue_invoice(s, b.customer_id, days=2)
        dunning.run(s)
        assert status(s, b.service_id) == "Limited"
        services.suspend(s, b.service_id, reason="fraud investigation")
        pay(s, b.customer_id, "1000.00")
        assert status(s, b.service_id) == "Suspended"
        restore = [st for st in dunning.history(s, b.customer_id) if st.step == "restore"]
        assert restore and restore[0].detail["kept"][0]["id"] == b.service_id


def test_a_fup_limited_service_goes_back_to_limited_not_to_full_speed(db, billable):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        services.limit(s, b.service_id, reason="FUP: allowance used up")
        set_policy(s, grace_days=0, action="suspend")
        overdue_invoice(s, b.customer_id, days=1)
        dunning.run(s)
        assert status(s, b.service_id) == "Suspended"
        pay(s, b.customer_id, "1000.00")
        service = services.get(s, b.service_id)
        assert (service.status, service.status_reason) == ("Limited", "FUP: allowance used up")


def test_an_invoice_still_in_grace_does_not_keep_the_service_held(db, billable):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        set_policy(s, grace_days=5, action="limit")
        overdue_invoice(s, b.customer_id, days=20, total="500.00")
        newer = overdue_invoice(s, b.customer_id, days=2, total="300.00")
        dunning.run(s)
        assert status(s, b.service_id) == "Limited"
        pay(s, b.customer_id, "500.00")  # the old one paid; the new one has days left
        s.refresh(newer)
        assert newer.status == "Overdue" and status(s, b.service_id) == "Active"


def test_a_debt_cleared_without_a_payment_is_restored_by_the_daily_run(db, billable):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        set_policy(s, grace_days=0, action="suspend")
        invoice = overdue_invoice(s, b.customer_id, days=4)
        dunning.run(s)
        assert status(s, b.service_id) == "Suspended"
        invoice.status = "Void"  # as invoices.void does: the charge reversed, the invoice void
        charge = s.execute(select(LedgerEntry).where(LedgerEntry.invoice_id == invoice.id)).scalar_one()
        ledger.reverse(s, charge.id, reason="void")
        assert dunning.run(s)["restored"] == 1
        assert status(s, b.service_id) == "Active"


@pytest.mark.parametrize("fee, percent, expected", [("50.00", None, "50.00"), (None, "2.5", "25.00"),
                                                    ("10.00", "1.25", "22.50")])
def test_late_fee_once_after_the_grace_period(db, billable, fee, percent, expected):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        set_policy(s, grace_days=3, late_fee=fee, late_fee_percent=percent, reminder_days=[])
        invoice = overdue_invoice(s, b.customer_id, days=3)
        dunning.run(s)
        assert ledger.balance(s, b.customer_id) == Decimal("1000.00")
        dunning.run(s, pricing.today(s) + timedelta(days=1))
        dunning.run(s, pricing.today(s) + timedelta(days=2))
        fees = [st.detail for st in dunning.history(s, b.customer_id) if st.step == "late_fee"]
        assert len(fees) == 1 and fees[0]["amount"] == expected
        fee_invoice = s.get(Invoice, fees[0]["fee_invoice_id"])
        assert (fee_invoice.status, fee_invoice.total) == ("Issued", Decimal(expected))
        assert fee_invoice.billing_key == f"late_fee:{invoice.id}"
        assert ledger.balance(s, b.customer_id) == Decimal("1000.00") + Decimal(expected)
        assert ledger.audit(s) == []


def test_a_disabled_policy_marks_invoices_overdue_and_does_nothing_else(db, billable):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        set_policy(s, enabled=False, grace_days=0)
        invoice = overdue_invoice(s, b.customer_id, days=30)
        dunning.run(s)
        s.refresh(invoice)
        assert invoice.status == "Overdue" and steps(s, b.customer_id) == ["overdue"]
        assert status(s, b.service_id) == "Active"


def test_a_customer_without_an_email_address_is_reminded_on_record(db, billable):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        from app.models import Customer

        s.get(Customer, b.customer_id).email = None
        set_policy(s, channels=["email", "sms"], reminder_days=[2])
        overdue_invoice(s, b.customer_id, days=2)
        dunning.run(s)
        reminder = next(st for st in dunning.history(s, b.customer_id) if st.step == "reminder:2")
        assert reminder.detail["channels"]["email"] == {"skipped": "the customer has no e-mail address"}
        assert "recorded" in reminder.detail["channels"]["sms"]
        assert emails(s, "billing/payment_reminder") == 0


@pytest.mark.parametrize("bad", [
    {"reminder_days": [3, 1]}, {"reminder_days": [0, 2]}, {"reminder_days": [1, 1]}, {"grace_days": -1},
    {"action": "terminate"}, {"late_fee": "-1.00"}, {"late_fee": "1.005"}, {"late_fee": 1.5},
    {"late_fee_percent": "101"}, {"channels": ["fax"]}, {"enabled": "yes"}, {"surprise": 1},
])
def test_the_policy_is_validated(db, billable, bad):
    b = billable()
    with db.session() as s, tenant_context(b.tenant), pytest.raises(Invalid):
        dunning.put_policy(s, {**dunning.Policy().as_setting(), **bad})


def test_a_broken_stored_policy_falls_back_to_the_defaults(db, billable):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        put_setting(s, "dunning", {"action": "explode"})
        assert dunning.policy(s) == dunning.Policy()


# -- the API ---------------------------------------------------------------------------------------------

@pytest.fixture
def admin(app, db, accounts, billable):  # noqa: F811
    """An Admin signed in to a tenant whose customer has an active service (1000.00 KES a month)."""
    from types import SimpleNamespace

    from tests.auth.conftest import bearer, reseller_login

    acc = accounts()
    b = billable(shop=SimpleNamespace(tenant=acc.tenant, plan=SimpleNamespace(id=0)))
    token = reseller_login(app.test_client(), acc).get_json()["token"]
    return b, bearer(token, acc.host)


def test_the_policy_through_the_api(client, admin):
    b, headers = admin
    assert client.get("/reseller/api/dunning/policy", headers=headers).get_json() == {
        "enabled": True, "reminder_days": [1, 3, 7], "channels": ["email"], "grace_days": 7, "action": "limit",
        "late_fee": None, "late_fee_percent": None}
    put = client.put("/reseller/api/dunning/policy", headers=headers, json={
        "reminder_days": [2, 5], "grace_days": 10, "action": "suspend", "late_fee": "75.00",
        "late_fee_percent": "1.5", "channels": ["email", "sms"]})
    assert put.status_code == 200, put.get_json()
    assert put.get_json()["late_fee"] == "75.00" and put.get_json()["reminder_days"] == [2, 5]
    for bad in ({"reminder_days": [5, 2]}, {"grace_days": -1}, {"action": "terminate"}, {"late_fee": "-5"},
                {"late_fee": 2.5}):
        refused = client.put("/reseller/api/dunning/policy", headers=headers, json=bad)
        assert refused.status_code == 422, bad
        assert refused.headers["Content-Type"].startswith("application/problem+json")
    assert client.get("/reseller/api/dunning/policy", headers=headers).get_json()["action"] == "suspend"


def test_a_customers_dunning_history_through_the_api(client, db, admin):
    b, headers = admin
    with db.session() as s, tenant_context(b.tenant):
        set_policy(s, grace_days=0, action="limit", reminder_days=[1])
        overdue_invoice(s, b.customer_id, days=1)
        dunning.run(s)
    found = client.get(f"/reseller/api/customers/{b.customer_id}/dunning", headers=headers)
    assert found.status_code == 200
    assert [st["step"] for st in found.get_json()] == ["overdue", "reminder:1", "action"]
    assert found.get_json()[-1]["detail"]["services"][0]["to"] == "Limited"
    assert client.get("/reseller/api/customers/999999/dunning", headers=headers).status_code == 404
