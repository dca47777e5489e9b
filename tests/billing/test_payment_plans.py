"""Payment plans on the real database, through the customer's API and the reseller's: asked for above the
reseller's threshold in the instalments it allows, approved into a schedule (the last instalment absorbing the
rounding, or the reseller's own), declined with a reason; dunning leaves the plan's invoices alone while the
instalments are paid on time (payments counted by the day they were received) and resumes the day after one is
missed; the daily job records it once however often it runs; another customer's plan is not found, and a Readonly
user cannot approve. The clock is moved from today (`clock.travel`), so the tests hold on any day."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from app import clock
from app.models import Outbox
from app.models.arrangements import ArrangementEvent
from app.models.billing import DunningStep, Invoice
from app.services import services
from app.services.billing import dunning, invoices, payments
from app.services.billing.arrangements import plans
from app.services.billing.arrangements.policy import PlanPolicy, put_policy
from app.services.settings import local_today, zone
from tenants import tenant_context
from tests.billing.arrangements_rig import bill, case_fixture, customer, team  # noqa: F401  (fixture)
from tests.billing.test_dunning import set_policy
from tests.provisioning.conftest import make_plan  # noqa: F401  (fixture)
from tests.web.test_email_links import SIGN_IN
from tests.web.test_email_links import _check as check_links
from worker import scheduler
from worker.actors.arrangements import payment_plans_daily


def _setup(db, c, *, overdue_days: int | None = 10, min_balance: str = "1000.00", **bill_kwargs) -> int:
    with db.session() as s, tenant_context(c.tenant):
        put_policy(s, {**PlanPolicy().as_setting(), "min_balance": min_balance, "grace_days": 3})
        set_policy(s, reminder_days=[1], grace_days=2, action="limit")
        return bill(s, c.customer_id, c.service_id, overdue_days=overdue_days, **bill_kwargs).id


def _ask(client, headers, instalments: int = 3, message: str = "My salary comes late this quarter."):
    return client.post("/portal/api/payment-plans", headers=headers,
                       json={"instalments": instalments, "message": message})


def _noon(db, c, day) -> datetime:
    """Noon of a local day of the reseller, as the clock is moved to it."""
    with db.session() as s, tenant_context(c.tenant):
        where = zone(s)
    return datetime.combine(day, time(12), tzinfo=where)


def _today(db, c):
    with db.session() as s, tenant_context(c.tenant):
        return local_today(s)


def _mails(db, c) -> list[str]:
    with db.session() as s, tenant_context(c.tenant):
        return list(s.execute(select(Outbox.subject).where(Outbox.template == "billing/payment_plan_update")
                              .order_by(Outbox.id)).scalars())


def test_a_plan_is_asked_for_above_the_threshold_in_the_instalments_allowed(db, client, case):
    c = case()
    _setup(db, c, min_balance="2000.00")  # owes 1500.00
    me = customer(client, c)
    offer = client.get("/portal/api/payment-plans/offer", headers=me).get_json()
    assert offer == {"eligible": False, "refusal": "below_threshold", "owed": "1500.00", "currency": "KES",
                     "min_balance": "2000.00", "min_instalments": 2, "max_instalments": 6, "open_plan_id": None}
    small = _ask(client, me)
    assert small.status_code == 409 and small.get_json()["type"] == "/problems/balance-below-threshold"
    with db.session() as s, tenant_context(c.tenant):
        put_policy(s, {"min_balance": "1000.00"})
    assert client.get("/portal/api/payment-plans/offer", headers=me).get_json()["eligible"] is True
    assert _ask(client, me, instalments=7).status_code == 422  # the policy allows 2 to 6
    asked = _ask(client, me)
    assert asked.status_code == 201, asked.get_json()
    plan = asked.get_json()
    assert plan["status"] == "Pending" and plan["amount"] == "1500.00" and plan["instalments"] == []
    assert [i["owed"] for i in plan["invoices"]] == ["1500.00"]
    again = _ask(client, me)
    assert again.status_code == 409 and again.get_json()["type"] == "/problems/payment-plan-open"
    assert client.get("/portal/api/payment-plans/offer", headers=me).get_json()["refusal"] == "open_plan"
    assert _mails(db, c) == ["We have your request for a payment plan"]
    with db.session() as s, tenant_context(c.tenant):
        sent = list(s.execute(select(Outbox).where(Outbox.template == "billing/payment_plan_update")).scalars())
        s.expunge_all()
    check_links(client.application.test_client(), sent, SIGN_IN, c.host)  # the plan's page, after signing in


def test_approved_into_instalments_the_last_absorbing_the_rounding(db, client, case):
    c = case()
    _setup(db, c, service_price="700.00", other_price="300.01")  # 1000.01 owed
    me, admin = customer(client, c), team(client, c)
    plan = _ask(client, me, instalments=3).get_json()
    today = _today(db, c)
    wrong = client.post(f"/reseller/api/payment-plans/{plan['id']}/approve", headers=admin,
                        json={"schedule": [{"due_on": today.isoformat(), "amount": "500.00"}]})
    assert wrong.status_code == 422 and wrong.get_json()["field"] == "schedule"
    approved = client.post(f"/reseller/api/payment-plans/{plan['id']}/approve", headers=admin,
                           json={"note": "Agreed on the phone."})
    assert approved.status_code == 200, approved.get_json()
    found = approved.get_json()
    assert found["status"] == "Active" and found["amount"] == "1000.01"
    assert [i["amount"] for i in found["instalments"]] == ["333.33", "333.33", "333.35"]
    assert [i["due_on"] for i in found["instalments"]] == [
        plans.months_after(today, n).isoformat() for n in (1, 2, 3)]
    assert [i["status"] for i in found["instalments"]] == ["Due", "Due", "Due"]
    assert found["next_due_on"] == found["instalments"][0]["due_on"] and found["remaining"] == "1000.01"
    assert client.post(f"/reseller/api/payment-plans/{plan['id']}/approve", headers=admin,
                       json={}).status_code == 409
    mine = client.get(f"/portal/api/payment-plans/{plan['id']}", headers=me).get_json()
    assert mine["decision_note"] == "Agreed on the phone." and "requested_by" not in mine
    assert _mails(db, c)[-1] == "Your payment plan is approved"


def test_the_reseller_may_set_another_schedule(db, client, case):
    c = case()
    _setup(db, c)
    me, admin = customer(client, c), team(client, c)
    plan = _ask(client, me, instalments=6).get_json()
    first = _today(db, c) + timedelta(days=7)
    found = client.post(f"/reseller/api/payment-plans/{plan['id']}/approve", headers=admin,
                        json={"instalments": 2, "first_due_on": first.isoformat()}).get_json()
    assert [(i["due_on"], i["amount"]) for i in found["instalments"]] == [
        (first.isoformat(), "750.00"), (plans.months_after(first, 1).isoformat(), "750.00")]
    assert found["proposed_instalments"] == 6


def test_paid_on_time_no_dunning_and_the_plan_completes(db, client, case):
    c = case()
    invoice_id = _setup(db, c)
    me, admin = customer(client, c), team(client, c)
    plan = _ask(client, me, instalments=2).get_json()
    today = _today(db, c)
    client.post(f"/reseller/api/payment-plans/{plan['id']}/approve", headers=admin,
                json={"instalments": 2, "first_due_on": (today + timedelta(days=5)).isoformat()})
    with db.session() as s, tenant_context(c.tenant):
        done = dunning.run(s, today)  # 10 days overdue, and left alone
        assert done["reminders"] == done["actions"] == 0
    with clock.travel(_noon(db, c, today + timedelta(days=5))), db.session() as s, tenant_context(c.tenant):
        payments.record(s, customer_id=c.customer_id, amount="750.00", method="mpesa")
        assert plans.check(s)["paid"] == 1
        assert dunning.run(s)["actions"] == 0
    second_day = plans.months_after(today + timedelta(days=5), 1)
    with clock.travel(_noon(db, c, second_day + timedelta(days=3))), db.session() as s, tenant_context(c.tenant):
        payments.record(s, customer_id=c.customer_id, amount="750.00", method="cash")  # on the last day of grace
        assert plans.check(s) == {"paid": 1, "missed": 0, "completed": 1, "defaulted": 0}
        assert dunning.run(s)["actions"] == 0
        assert services.get(s, c.service_id).status == "Active"
        assert not s.execute(select(DunningStep).where(DunningStep.invoice_id == invoice_id,
                                                       DunningStep.step != "overdue")).first()
    found = client.get(f"/portal/api/payment-plans/{plan['id']}", headers=me).get_json()
    assert found["status"] == "Completed"
    assert [i["status"] for i in found["instalments"]] == ["Paid", "Paid"]
    assert _mails(db, c)[-1] == "Your payment plan is complete"


def test_a_missed_instalment_ends_the_plan_and_dunning_resumes(db, client, case):
    c = case()
    invoice_id = _setup(db, c)
    me, admin = customer(client, c), team(client, c)
    plan = _ask(client, me, instalments=2).get_json()
    today = _today(db, c)
    client.post(f"/reseller/api/payment-plans/{plan['id']}/approve", headers=admin,
                json={"instalments": 2, "first_due_on": (today + timedelta(days=5)).isoformat()})
    late = today + timedelta(days=5 + 3 + 1)  # the first instalment's due date, its 3 grace days, then one more
    with clock.travel(_noon(db, c, late - timedelta(days=1))), db.session() as s, tenant_context(c.tenant):
        assert dunning.run(s)["actions"] == 0  # the last day of grace: still held
        payments.record(s, customer_id=c.customer_id, amount="700.00", method="cash")  # not enough
    with clock.travel(_noon(db, c, late)), db.session() as s, tenant_context(c.tenant):
        payments.record(s, customer_id=c.customer_id, amount="50.00", method="cash")  # too late for it
        done = dunning.run(s)  # before the daily check has run: the hold is already gone
        assert done["actions"] == 1 and services.get(s, c.service_id).status == "Limited"
    with clock.travel(_noon(db, c, late)), tenant_context(c.tenant):
        first = payment_plans_daily.fn(late.isoformat())
        again = payment_plans_daily.fn(late.isoformat())
    assert first == {"paid": 0, "missed": 1, "completed": 0, "defaulted": 1}
    assert again == {"paid": 0, "missed": 0, "completed": 0, "defaulted": 0}
    found = client.get(f"/reseller/api/payment-plans/{plan['id']}", headers=admin).get_json()
    assert found["status"] == "Defaulted" and found["ended_on"] == late.isoformat()
    assert [i["status"] for i in found["instalments"]] == ["Missed", "Due"]
    assert [e["action"] for e in found["history"]] == ["payment_plan.requested", "payment_plan.approved",
                                                       "payment_plan.instalment_missed", "payment_plan.defaulted"]
    assert _mails(db, c)[-1] == "Your payment plan has ended: an instalment was missed"
    with db.session() as s, tenant_context(c.tenant):
        assert s.execute(select(func.count()).select_from(ArrangementEvent)
                         .where(ArrangementEvent.plan_id == plan["id"])).scalar_one() == 4
        assert s.get(Invoice, invoice_id).amount_paid == Decimal("750.00")


def test_the_daily_check_is_one_of_the_schedulers_daily_jobs(db, client, case):
    assert ("worker.actors.arrangements", "payment_plans_daily") in scheduler.DAILY_JOBS
    c = case()
    _setup(db, c, overdue_days=None)
    plan = _ask(client, customer(client, c), instalments=2).get_json()
    client.post(f"/reseller/api/payment-plans/{plan['id']}/approve", headers=team(client, c), json={})
    today = _today(db, c)
    with tenant_context(c.tenant):
        assert payment_plans_daily.fn(today.isoformat()) == {"paid": 0, "missed": 0, "completed": 0, "defaulted": 0}


def test_declined_with_a_reason(db, client, case):
    c = case()
    _setup(db, c)
    me, admin = customer(client, c), team(client, c)
    plan = _ask(client, me).get_json()
    assert client.post(f"/reseller/api/payment-plans/{plan['id']}/decline", headers=admin, json={}).status_code == 422
    declined = client.post(f"/reseller/api/payment-plans/{plan['id']}/decline", headers=admin,
                           json={"note": "Please pay the installation first."})
    assert declined.status_code == 200 and declined.get_json()["status"] == "Declined"
    assert _mails(db, c)[-1] == "Your request for a payment plan was declined"
    assert client.get("/portal/api/payment-plans/offer", headers=me).get_json()["eligible"] is True  # may ask again


def test_a_dispute_resolved_with_a_payment_plan(db, client, case):
    c = case()
    invoice_id = _setup(db, c)
    me, admin = customer(client, c), team(client, c)
    with db.session() as s, tenant_context(c.tenant):
        line_ids = [line.id for line in invoices.lines_of(s, invoice_id)]
    dispute = client.post("/portal/api/disputes", headers=me, json={
        "invoice_id": invoice_id, "line_ids": line_ids[:1], "reason": "price", "message": "Too dear."}).get_json()
    resolved = client.post(f"/reseller/api/billing-disputes/{dispute['id']}/resolve", headers=admin,
                           json={"outcome": "payment_plan", "answer": "The price stands; pay it in three.",
                                 "instalments": 3})
    assert resolved.status_code == 200, resolved.get_json()
    plan_id = resolved.get_json()["payment_plan_id"]
    plan = client.get(f"/portal/api/payment-plans/{plan_id}", headers=me).get_json()
    assert plan["status"] == "Active" and plan["dispute_id"] == dispute["id"]
    assert [i["amount"] for i in plan["instalments"]] == ["500.00", "500.00", "500.00"]
    with db.session() as s, tenant_context(c.tenant):
        assert dunning.run(s)["actions"] == 0  # the plan holds what the dispute held


def test_another_customers_plan_is_not_found_and_a_readonly_user_cannot_approve(db, client, case):
    c = case()
    _setup(db, c)
    me, them = customer(client, c), customer(client, c, c.other_portal_id)
    plan = _ask(client, me).get_json()
    assert client.get(f"/portal/api/payment-plans/{plan['id']}", headers=them).status_code == 404
    assert client.get("/portal/api/payment-plans", headers=them).get_json()["total"] == 0
    viewer = team(client, c, c.viewer)
    assert client.get(f"/reseller/api/payment-plans/{plan['id']}", headers=viewer).status_code == 200
    assert client.post(f"/reseller/api/payment-plans/{plan['id']}/approve", headers=viewer,
                       json={}).status_code == 403
    assert client.put("/reseller/api/payment-plans/policy", headers=viewer, json={}).status_code == 403
    elsewhere = team(client, case("PLNX"))
    assert client.get(f"/reseller/api/payment-plans/{plan['id']}", headers=elsewhere).status_code == 404


def test_the_policy_is_checked(db, client, case):
    c = case()
    admin = team(client, c)
    bad = client.put("/reseller/api/payment-plans/policy", headers=admin,
                     json={"min_instalments": 6, "max_instalments": 3})
    assert bad.status_code == 422 and bad.get_json()["field"] == "max_instalments"
    assert client.put("/reseller/api/payment-plans/policy", headers=admin,
                      json={"min_balance": "12.345"}).status_code == 422
    put = client.put("/reseller/api/payment-plans/policy", headers=admin,
                     json={"min_balance": "5000.00", "max_instalments": 12})
    assert put.status_code == 200 and put.get_json() == {"enabled": True, "min_balance": "5000.00",
                                                          "min_instalments": 2, "max_instalments": 12,
                                                          "grace_days": 3}
    assert client.get("/reseller/api/payment-plans/policy", headers=admin).get_json() == put.get_json()
