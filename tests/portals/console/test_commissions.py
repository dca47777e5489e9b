"""The console's Commissions pages: every reseller's commission in a line; one reseller's payouts, approved
and then recorded as paid by staff (audited, as the API does it), its rules (added, with the rules service's
refusal next to the field), and its payout schedule."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.models import AuditEvent
from app.models.payouts import Payout
from tenants import tenant_context
from tests.portals.console.console_rig import CONSOLE, reseller_with_customer, scheduled_payout, staff_client
from tests.portals.signin import sign_in_staff
from tests.web.forms import csrf_of

pytestmark = pytest.mark.browser


def _status(db, tenant, payout_id: int) -> str:
    with db.session() as s, tenant_context(tenant):
        return s.get(Payout, payout_id).status


def test_staff_approve_a_payout_and_record_it_paid(page, live_server, db, demo, staff, make_tenant, look):
    partner = reseller_with_customer(db, make_tenant, earned=None)
    payout_id, number = scheduled_payout(db, partner.tenant)
    sign_in_staff(page, live_server)
    page.get_by_role("navigation", name="Sections").first.get_by_role("link", name="Commissions").click()
    page.get_by_label("Code or name").fill(partner.name)  # the session's many resellers fill several pages
    page.get_by_role("button", name="Search").click()
    line = page.locator("tr", has=page.get_by_role("link", name=partner.name, exact=True))
    expect(line.locator("td[data-label='Payouts to approve']")).to_have_text("1")
    look(page, "console-commissions")
    line.get_by_role("link", name=partner.name).click()
    expect(page.get_by_role("heading", name=f"Commissions of {partner.name}", level=1)).to_be_visible()
    look(page, "console-commissions-reseller")
    page.get_by_role("link", name=number).click()
    expect(page.get_by_role("heading", name=f"Payout {number}")).to_be_visible()
    expect(page.locator(".summary-list")).to_contain_text("640.00")
    look(page, "console-payout")
    page.get_by_label("Note (optional)").fill("Checked against the statement")
    page.get_by_role("button", name="Approve the payout").click()
    expect(page.get_by_text("The payout is approved for payment.")).to_be_visible()
    expect(page.locator(".page-head .tag")).to_have_text("Approved")
    assert _status(db, partner.tenant, payout_id) == "Approved"

    page.get_by_role("button", name="Record as paid").click()
    expect(page.locator("#reference-error")).to_have_text("Enter the payment's reference.")
    page.get_by_label("Reference").fill("EQB-2026-0042")
    page.get_by_role("button", name="Record as paid").click()
    expect(page.get_by_text("The payout is recorded as paid.")).to_be_visible()
    expect(page.locator(".page-head .tag")).to_have_text("Paid")
    assert _status(db, partner.tenant, payout_id) == "Paid"
    with db.session() as s:
        actions = s.execute(select(AuditEvent.action).where(AuditEvent.tenant_id == partner.tenant.id,
                                                            AuditEvent.action.like("payout.%"))).scalars().all()
    assert "payout.approved" in actions


def test_a_payout_is_approved_once_and_a_forged_post_changes_nothing(app, db, demo, staff, make_tenant):
    partner = reseller_with_customer(db, make_tenant, earned=None)
    payout_id, _number = scheduled_payout(db, partner.tenant)
    client = staff_client(app.test_client())
    url = f"/console/commissions/{partner.code}/payouts/{payout_id}"
    assert client.post(url + "/approve", headers={"Host": CONSOLE}, data={}).status_code == 422  # no CSRF token
    assert _status(db, partner.tenant, payout_id) == "Scheduled"
    token = csrf_of(client.get(url, headers={"Host": CONSOLE}).get_data(as_text=True))
    assert client.post(url + "/approve", headers={"Host": CONSOLE}, data={"csrf_token": token}).status_code == 302
    again = client.post(url + "/approve", headers={"Host": CONSOLE}, data={"csrf_token": token})
    assert again.status_code == 409 and "only a Scheduled payout is approved" in again.get_data(as_text=True)
    other = reseller_with_customer(db, make_tenant, earned=None)
    assert client.get(f"/console/commissions/{other.code}/payouts/{payout_id}",
                      headers={"Host": CONSOLE}).status_code == 404  # another reseller's payout is not found


def test_a_rule_is_added_and_the_services_refusal_shown(app, db, demo, staff, make_tenant):
    partner = reseller_with_customer(db, make_tenant, earned=None)
    client = staff_client(app.test_client())
    url = f"/console/commissions/{partner.code}/rules/new"
    token = csrf_of(client.get(url, headers={"Host": CONSOLE}).get_data(as_text=True))
    refused = client.post(url, headers={"Host": CONSOLE}, data={
        "csrf_token": token, "kind": "recurring", "effective_from": "2030-01-01"})
    assert refused.status_code == 422 and "a recurring rule is a percent" in refused.get_data(as_text=True)
    added = client.post(url, headers={"Host": CONSOLE}, data={
        "csrf_token": token, "kind": "recurring", "effective_from": "2030-01-01", "rate": "11"})
    assert added.status_code == 302
    page = client.get(f"/console/commissions/{partner.code}", headers={"Host": CONSOLE}).get_data(as_text=True)
    assert re.search(r"Recurring</td>\s*<td[^>]*>11(\.00+)? %", page)


def test_the_payout_schedule_is_changed_and_its_payment_details_kept(app, db, demo, staff, make_tenant):
    from app.services.commissions import payouts

    partner = reseller_with_customer(db, make_tenant, earned=None)
    scheduled_payout(db, partner.tenant)  # sets a schedule with bank details
    client = staff_client(app.test_client())
    url = f"/console/commissions/{partner.code}/schedule"
    token = csrf_of(client.get(url, headers={"Host": CONSOLE}).get_data(as_text=True))
    bad = client.post(url, headers={"Host": CONSOLE}, data={
        "csrf_token": token, "frequency": "quarterly", "processing_day": "31", "minimum_threshold": "100",
        "method": "wire", "currency": "KES", "dispute_window_days": "5"})
    assert bad.status_code == 422 and "Enter the day of the month, 1 to 28." in bad.get_data(as_text=True)
    done = client.post(url, headers={"Host": CONSOLE}, data={
        "csrf_token": token, "frequency": "quarterly", "processing_day": "10", "minimum_threshold": "100",
        "method": "wire", "currency": "KES", "dispute_window_days": "5"})
    assert done.status_code == 302
    with db.session() as s, tenant_context(partner.tenant):
        found = payouts.schedule(s)
    assert found.frequency == "quarterly" and found.method == "wire"
    assert found.details["account_number"] == "0140200000009"


def test_a_rule_is_changed_and_an_open_dispute_settled(app, db, demo, staff, make_tenant):
    from datetime import timedelta

    from app import clock
    from app.services.commissions import disputes, payouts, rules

    partner = reseller_with_customer(db, make_tenant, earned=None)
    client = staff_client(app.test_client())
    start = clock.today() + timedelta(days=30)
    with db.session() as s:
        rule = rules.create(s, partner.tenant.id, kind="usage", effective_from=start, rate="4", actor="test")
        rule_id = rule.id
    url = f"/console/commissions/{partner.code}/rules/{rule_id}/edit"
    shown = client.get(url, headers={"Host": CONSOLE}).get_data(as_text=True)
    assert 'value="4' in shown  # the rule's own terms, to change
    changed = client.post(url, headers={"Host": CONSOLE}, data={
        "csrf_token": csrf_of(shown), "kind": "usage", "effective_from": start.isoformat(), "rate": "6"})
    assert changed.status_code == 302
    with db.session() as s:
        assert rules.get(s, partner.tenant.id, rule_id).rate == 6  # not started yet: edited in place

    payout_id, _number = scheduled_payout(db, partner.tenant)
    with db.session() as s, tenant_context(partner.tenant):
        line_ids = [line.id for line in payouts.lines(s, payout_id)]
        dispute_id = disputes.open_dispute(s, line_ids, "The November rate was 15 %, not 12.5 %.",
                                           actor="admin@partner.example").id
    url = f"/console/commissions/{partner.code}/disputes/{dispute_id}"
    shown = client.get(url, headers={"Host": CONSOLE}).get_data(as_text=True)
    assert "The November rate was 15 %" in shown
    token = csrf_of(shown)
    missing = client.post(url + "/resolve", headers={"Host": CONSOLE}, data={
        "csrf_token": token, "outcome": "Adjusted", "note": "Checked the contract"})
    assert missing.status_code == 422 and "Enter what the disputed lines should come to." in missing.get_data(
        as_text=True)
    settled = client.post(url + "/resolve", headers={"Host": CONSOLE}, data={
        "csrf_token": token, "outcome": "Adjusted", "adjusted_amount": "768.00", "note": "Checked the contract"})
    assert settled.status_code == 302
    with db.session() as s, tenant_context(partner.tenant):
        found = disputes.get(s, dispute_id)
        assert found.status == "Adjusted" and found.adjusted_amount == 768
