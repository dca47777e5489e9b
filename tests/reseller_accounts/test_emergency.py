"""Emergency credit: up to 25 % of the limit, requested by the reseller, approved by the master ISP,
counting for 48 hours from the approval; one open at a time."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from app.models.base import utcnow
from app.models.reseller_accounts import EmergencyCredit
from app.services import customers
from app.services.errors import Conflict, Invalid
from app.services.reseller_accounts import credit, emergency
from tenants import tenant_context
from worker.actors.reseller_accounts import run_daily

D = Decimal


def test_at_most_a_quarter_of_the_limit_and_only_with_a_limit(db, charged):
    acct = charged("1000.00", "900.00")
    for amount in ("250.01", "0", "-1", "12.345"):
        with pytest.raises(Invalid), db.session() as s:
            emergency.request(s, acct.tenant.id, amount=amount, reason="month end", actor="reseller")
    with pytest.raises(Invalid, match="reason"), db.session() as s:
        emergency.request(s, acct.tenant.id, amount="100.00", reason="  ", actor="reseller")
    unlimited = charged(None)
    with pytest.raises(Conflict, match="no credit limit"), db.session() as s:
        emergency.request(s, unlimited.tenant.id, amount="1.00", reason="x", actor="reseller")
    with db.session() as s:
        row = emergency.request(s, acct.tenant.id, amount="250.00", reason="month end", actor="reseller")
        assert (row.status, row.amount, row.expires_at) == ("requested", D("250.00"), None)


def test_approved_credit_counts_for_48_hours_and_lifts_the_refusal(db, charged):
    acct = charged("1000.00", "1000.00", at_limit_new_customers="suspend")
    tenant = acct.tenant
    with db.session() as s:
        credit_id = emergency.request(s, tenant.id, amount="250.00", reason="salary week", actor="reseller").id
    with pytest.raises(Conflict, match="already requested"), db.session() as s:
        emergency.request(s, tenant.id, amount="10.00", reason="again", actor="reseller")
    with db.session() as s:  # a request alone changes nothing
        assert credit.utilisation(s, tenant.id) == D("100.00")
        assert credit.new_customer_gate(s, tenant.id) == "refuse"
        approved = emergency.approve(s, tenant.id, credit_id, actor="ops@isp")
        assert approved.expires_at - approved.decided_at == timedelta(hours=48)
    with db.session() as s:
        assert credit.utilisation(s, tenant.id) == D("80.00")  # 1000 / (1000 + 250)
        assert credit.new_customer_gate(s, tenant.id) == "allow"
    with db.session() as s, tenant_context(tenant):
        assert customers.create(s, first_name="Juma", last_name="Ali").status == "New"
    with pytest.raises(Conflict, match="approved"), db.session() as s:
        emergency.reject(s, tenant.id, credit_id, actor="ops@isp")


def test_expiry_after_48_hours(db, charged):
    acct = charged("1000.00", "1000.00")
    tenant = acct.tenant
    with db.session() as s:
        credit_id = emergency.request(s, tenant.id, amount="200.00", reason="x", actor="reseller").id
        emergency.approve(s, tenant.id, credit_id, actor="ops@isp", now=utcnow() - timedelta(hours=47, minutes=59))
    with db.session() as s:
        assert credit.standing_of(s, emergency.accounts.get(s, tenant.id)).emergency_credit == D("200.00")
        later = utcnow() + timedelta(minutes=2)
        assert credit.active_emergency_credit(s, acct.account_id, later) == D("0.00")  # past 48 h: gone
        assert emergency.expire_due(s, later) == [acct.account_id]
        assert emergency.expire_due(s, later) == []  # once
    with db.session() as s:
        assert s.get(EmergencyCredit, credit_id).status == "expired"
        assert credit.utilisation(s, tenant.id) == D("100.00")
        # the expired one no longer blocks a new request
        assert emergency.request(s, tenant.id, amount="100.00", reason="again", actor="reseller").status == "requested"


def test_the_daily_job_expires_credits_and_reevaluates(db, charged):
    acct = charged("1000.00", "900.00")
    tenant = acct.tenant
    with db.session() as s:
        credit_id = emergency.request(s, tenant.id, amount="250.00", reason="x", actor="reseller").id
        emergency.approve(s, tenant.id, credit_id, actor="ops@isp", now=utcnow() - timedelta(hours=49))
    done = run_daily(db)
    assert done["expired"] >= 1 and tenant.code not in done["failed"]
    with db.session() as s:
        assert s.get(EmergencyCredit, credit_id).status == "expired"
        opened = [a.id for a in credit.open_alerts(s, acct.account_id)]
        assert [a.level for a in credit.open_alerts(s, acct.account_id)] == ["warning", "restriction"]  # 90 % again
    run_daily(db)  # the next day: still above, no new alert
    with db.session() as s:
        assert [a.id for a in credit.open_alerts(s, acct.account_id)] == opened


def test_rejection_and_the_limit_checked_again_at_approval(db, charged):
    acct = charged("1000.00")
    tenant = acct.tenant
    with db.session() as s:
        first = emergency.request(s, tenant.id, amount="250.00", reason="x", actor="reseller").id
        rejected = emergency.reject(s, tenant.id, first, actor="ops@isp", note="pay first")
        assert (rejected.status, rejected.approved_by, rejected.decision_note) == ("rejected", "ops@isp", "pay first")
        second = emergency.request(s, tenant.id, amount="250.00", reason="x", actor="reseller").id
    with db.session() as s:
        emergency.accounts.configure(s, tenant.id, {"credit_limit": "800.00"}, actor="ops@isp")
    with pytest.raises(Conflict, match="25 %"), db.session() as s:
        emergency.approve(s, tenant.id, second, actor="ops@isp")
