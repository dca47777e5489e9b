"""The console's Reseller accounts pages: every reseller's account with the master ISP, the emergency credit
requests waiting (approved here, in force for 48 hours, audited), and a reseller's credit limit changed,
with the service's rules next to the field."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.models import AuditEvent
from app.services.reseller_accounts import accounts, emergency
from tests.portals.console.console_rig import CONSOLE, emergency_request, reseller_with_customer, staff_client
from tests.portals.signin import sign_in_staff
from tests.web.forms import csrf_of

pytestmark = pytest.mark.browser


def test_staff_approve_an_emergency_credit(page, live_server, db, demo, staff, make_tenant, look):
    partner = reseller_with_customer(db, make_tenant, earned=None)
    credit_id = emergency_request(db, partner.tenant, "5000.00")
    sign_in_staff(page, live_server)
    page.get_by_role("navigation", name="Sections").first.get_by_role("link", name="Reseller accounts").click()
    waiting = page.get_by_role("region", name="Emergency credit requests")
    row = waiting.locator("tr", has=page.get_by_role("link", name=partner.name, exact=True))
    expect(row).to_contain_text("5,000.00")
    expect(row).to_contain_text("Fibre roll-out in Kisumu")
    look(page, "console-accounts")
    row.get_by_role("link", name="Answer").click()
    expect(page.get_by_role("heading", name="Emergency credit of", level=1)).to_contain_text(partner.name)
    look(page, "console-emergency-credit")
    page.get_by_label("Note (optional)").fill("Approved for the roll-out")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("The emergency credit is approved for 48 hours.")).to_be_visible()
    expect(page.get_by_role("table", name=f"Emergency credits of {partner.name}")).to_contain_text("Approved")
    look(page, "console-account")
    with db.session() as s:
        decided = emergency.get(s, partner.tenant.id, credit_id)
        assert decided.status == "approved" and decided.expires_at is not None
        assert s.execute(select(AuditEvent).where(AuditEvent.tenant_id == partner.tenant.id, AuditEvent.action ==
                                                  "reseller_account.emergency_credit.approved")).first() is not None


def test_a_declined_request_and_a_credit_limit_changed(app, db, demo, staff, make_tenant):
    partner = reseller_with_customer(db, make_tenant, earned=None)
    credit_id = emergency_request(db, partner.tenant, "2000.00")
    client = staff_client(app.test_client())
    url = f"/console/accounts/{partner.code}/emergency-credit/{credit_id}"
    token = csrf_of(client.get(url, headers={"Host": CONSOLE}).get_data(as_text=True))
    assert client.post(url + "/decline", headers={"Host": CONSOLE}, data={"csrf_token": token,
                                                                         "note": "Pay first"}).status_code == 302
    again = client.post(url + "/approve", headers={"Host": CONSOLE}, data={"csrf_token": token})
    assert again.status_code == 409  # answered already
    with db.session() as s:
        assert emergency.get(s, partner.tenant.id, credit_id).status == "rejected"

    settings = f"/console/accounts/{partner.code}/settings"
    token = csrf_of(client.get(settings, headers={"Host": CONSOLE}).get_data(as_text=True))
    fields = {"csrf_token": token, "currency": "KES", "credit_limit": "150000", "warning_percent": "90",
              "restriction_percent": "85", "at_limit_new_customers": "approval", "at_limit_services": "review",
              "at_limit_payments": "continue", "payment_terms_days": "15"}
    refused = client.post(settings, headers={"Host": CONSOLE}, data=fields)
    assert refused.status_code == 422 and "must be above warning_percent" in refused.get_data(as_text=True)
    assert client.post(settings, headers={"Host": CONSOLE}, data={**fields, "restriction_percent": "95"}
                       ).status_code == 302
    with db.session() as s:
        account = accounts.get(s, partner.tenant.id)
        assert account.credit_limit == Decimal("150000.00") and account.payment_terms_days == 15
    shown = client.get(f"/console/accounts/{partner.code}", headers={"Host": CONSOLE}).get_data(as_text=True)
    assert "150,000.00" in shown
    assert client.get("/console/accounts/NOPE_NOT_HERE", headers={"Host": CONSOLE}).status_code == 404
