"""The credit limit: utilisation, the actions at 100 % for new customers and new services, alerts once
per crossing (e-mailed to the reseller's admins), and existing services never touched."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from app.models import Outbox
from app.models.provisioning import Service
from app.models.reseller_accounts import CreditAlert
from app.services import customers, services
from app.services.auth import users
from app.services.errors import Invalid
from app.services.reseller_accounts import accounts as account_svc
from app.services.reseller_accounts import credit, payments
from tenants import tenant_context
from tests.reseller_accounts.conftest import add_charge

D = Decimal


def _new_customer(db, tenant):
    with db.session() as s, tenant_context(tenant):
        return customers.create(s, first_name="Neema", last_name="Njeri", email="neema@example.com")


def test_utilisation_is_the_balance_over_the_limit_and_none_without_a_limit(db, charged, make_tenant):
    acct = charged("1000.00", "333.33", "100.00")
    with db.session() as s:
        assert credit.balance(s, acct.tenant.id) == D("433.33")
        assert credit.utilisation(s, acct.tenant.id) == D("43.33")
    unlimited = charged(None, "5000.00")
    nothing = make_tenant("NONE")
    with db.session() as s:
        assert credit.utilisation(s, unlimited.tenant.id) is None
        assert credit.new_customer_gate(s, unlimited.tenant.id) == "allow"
        assert (credit.balance(s, nothing.id), credit.utilisation(s, nothing.id)) == (D("0.00"), None)


@pytest.mark.parametrize(("setting", "gate"), [("suspend", "refuse"), ("approval", "approval"), ("continue", "allow")])
def test_below_the_limit_new_customers_are_allowed_whatever_the_setting(db, charged, setting, gate):
    acct = charged("1000.00", "999.99", at_limit_new_customers=setting)
    with db.session() as s:
        assert credit.new_customer_gate(s, acct.tenant.id) == "allow"
    assert _new_customer(db, acct.tenant).status == "New"
    add_charge(db, acct.tenant.id, "0.01")  # exactly at the limit
    with db.session() as s:
        assert credit.new_customer_gate(s, acct.tenant.id) == gate


def test_at_the_limit_suspend_refuses_new_customers_with_a_clear_problem(db, charged):
    acct = charged("1000.00", "1200.00", at_limit_new_customers="suspend")
    with pytest.raises(credit.CreditLimitReached, match="credit limit") as refused:
        _new_customer(db, acct.tenant)
    assert refused.value.status == 409 and refused.value.slug == "credit-limit-reached"
    with db.session() as s, tenant_context(acct.tenant):
        assert customers.find_by_email(s, "neema@example.com") is None  # nothing was created
    with db.session() as s:  # a payment brings it below the limit: new customers again
        payments.record(s, acct.tenant.id, amount="300.00", method="bank_transfer", actor="test")
    assert _new_customer(db, acct.tenant).status == "New"


def test_at_the_limit_approval_creates_the_customer_pending(db, charged):
    acct = charged("1000.00", "1000.00", at_limit_new_customers="approval")
    customer = _new_customer(db, acct.tenant)
    assert customer.status == "Pending"
    with db.session() as s, tenant_context(acct.tenant):
        reasons = [h.reason for h in customers.history(s, customer.id)]
    assert reasons == ["awaiting approval: credit limit with the provider reached"]


def test_at_the_limit_continue_lets_new_customers_through(db, charged):
    acct = charged("1000.00", "1500.00", at_limit_new_customers="continue")
    assert _new_customer(db, acct.tenant).status == "New"


def test_restrict_stops_new_activations_and_never_touches_existing_services(db, make_shop, charged):
    shop = make_shop("RESTR")
    with db.session() as s, tenant_context(shop.tenant):
        live = services.create(s, shop.customer_id, shop.plan.id)
        services.activate(s, live.id, reason="test")
        waiting = services.create(s, shop.customer_id, shop.plan.id)
        live_id, waiting_id = live.id, waiting.id
    acct = charged("1000.00", "1000.00", tenant=shop.tenant, at_limit_services="restrict",
                   at_limit_new_customers="continue")
    with pytest.raises(credit.CreditLimitReached, match="no new service"), db.session() as s, \
            tenant_context(shop.tenant):
        services.activate(s, waiting_id, reason="test")
    from worker.actors.reseller_accounts import run_daily

    run_daily(db)
    with db.session() as s, tenant_context(shop.tenant):
        assert s.get(Service, live_id).status == "Active"  # existing customers are protected
        assert s.get(Service, waiting_id).status == "Pending"
    with db.session() as s:
        account_svc.configure(s, acct.tenant.id, {"at_limit_services": "review"}, actor="test")
    with db.session() as s, tenant_context(shop.tenant):
        assert services.activate(s, waiting_id, reason="test")[0].status == "Active"


def _alerts(db, account_id) -> list[tuple[str, bool]]:
    with db.session() as s:
        return [(a.level, a.cleared_at is None) for a in s.execute(
            select(CreditAlert).where(CreditAlert.account_id == account_id).order_by(CreditAlert.id)).scalars()]


def _mails(db, tenant) -> list[tuple[str, str]]:
    with db.session() as s, tenant_context(tenant):
        return [(o.to_address, o.subject) for o in s.execute(
            select(Outbox).where(Outbox.template == "reseller/credit_alert").order_by(Outbox.id)).scalars()]


def test_an_alert_is_raised_once_per_crossing_and_e_mailed_to_the_admins(db, charged, make_tenant):
    tenant = make_tenant("ALRT")
    with db.session() as s, tenant_context(tenant):
        users.create_user(s, username="boss@alrt.example", email="boss@alrt.example", role="Admin",
                          password="Str0ng#Pass")
        users.create_user(s, username="clerk@alrt.example", email="clerk@alrt.example", role="User",
                          password="Str0ng#Pass")
    acct = charged("1000.00", tenant=tenant)
    add_charge(db, tenant.id, "850.00")
    with db.session() as s:
        opened = credit.evaluate(s, tenant.id)
        assert [(a.level, a.threshold, a.utilisation) for a in opened] == [("warning", D("80"), D("85.00"))]
    for _ in range(2):  # staying above: no second alert
        with db.session() as s:
            assert credit.evaluate(s, tenant.id) == []
    mails = _mails(db, tenant)
    assert len(mails) == 1 and mails[0][0] == "boss@alrt.example" and "warning threshold" in mails[0][1]

    add_charge(db, tenant.id, "100.00")  # 95 %: the restriction threshold too, the warning still open
    with db.session() as s:
        assert [a.level for a in credit.evaluate(s, tenant.id)] == ["restriction"]
    with db.session() as s:  # the payment evaluates at once: back to 45 %, both cleared
        payments.record(s, tenant.id, amount="500.00", method="mpesa", reference="QK12AB", actor="test")
    assert _alerts(db, acct.account_id) == [("warning", False), ("restriction", False)]

    add_charge(db, tenant.id, "400.00")  # crossing again: new alerts
    with db.session() as s:
        assert [a.level for a in credit.evaluate(s, tenant.id)] == ["warning"]
    add_charge(db, tenant.id, "200.00")  # 105 %: restriction and limit
    with db.session() as s:
        assert [a.level for a in credit.evaluate(s, tenant.id)] == ["restriction", "limit"]
    assert _alerts(db, acct.account_id) == [("warning", False), ("restriction", False), ("warning", True),
                                            ("restriction", True), ("limit", True)]
    assert len(_mails(db, tenant)) == 5  # one per alert, to the one Admin
    assert "credit limit" in _mails(db, tenant)[-1][1]


def test_settings_are_validated(db, charged):
    acct = charged("1000.00")
    bad = [{"warning_percent": 49}, {"warning_percent": 96}, {"restriction_percent": 74},
           {"restriction_percent": 100}, {"warning_percent": 90, "restriction_percent": 90},
           {"warning_percent": 95}, {"credit_limit": "0"}, {"credit_limit": "-5"}, {"credit_limit": "1.005"},
           {"credit_limit": 10.5}, {"payment_terms_days": 45}, {"at_limit_new_customers": "maybe"},
           {"at_limit_services": "suspend"}, {"at_limit_payments": "ignore"}, {"currency": "shilling"},
           {"grace_days": 3}]
    for values in bad:
        with pytest.raises(Invalid), db.session() as s:
            account_svc.configure(s, acct.tenant.id, values, actor="test")
    with db.session() as s:
        account = account_svc.configure(s, acct.tenant.id, {"warning_percent": 50, "restriction_percent": 75,
                                                            "payment_terms_days": 15}, actor="test")
        assert (account.warning_percent, account.restriction_percent, account.payment_terms_days) == (50, 75, 15)


def test_escalate_tells_the_master_isp_staff_at_the_limit(db, charged, staff):
    from app.models import PlatformOutbox

    acct = charged("1000.00", "990.00", at_limit_payments="escalate")
    with db.session() as s:
        credit.evaluate(s, acct.tenant.id)  # 99 %: warning and restriction, nobody at the master ISP told

    def told() -> list[str]:
        with db.session() as s:
            return [o.subject for o in s.execute(select(PlatformOutbox).where(
                PlatformOutbox.to_address == staff, PlatformOutbox.template == "reseller/credit_escalation")).scalars()]

    assert told() == []
    add_charge(db, acct.tenant.id, "10.00")
    with db.session() as s:
        assert [a.level for a in credit.evaluate(s, acct.tenant.id)] == ["limit"]
    assert told() == [f"Reseller {acct.tenant.code} has reached its credit limit (100.00 %)"]
