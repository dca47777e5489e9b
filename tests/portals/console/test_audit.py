"""The console's audit log: staff find what was done on the platform (a reseller suspended and reactivated,
with the reason), filtered by reseller and action, and download it."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import expect

from app.services import resellers
from tests.portals.console.console_rig import CONSOLE, reseller_with_customer, staff_client
from tests.portals.signin import sign_in_staff

pytestmark = pytest.mark.browser


def test_staff_filter_the_audit_log_by_reseller_and_action(page, live_server, db, demo, staff, make_tenant, look):
    partner = reseller_with_customer(db, make_tenant, earned=None)
    resellers.set_status(db, partner.code, "Suspended", reason="Chargebacks under review", actor="staff 1 (Ops)")
    resellers.set_status(db, partner.code, "Active", reason="Cleared", actor="staff 1 (Ops)")
    sign_in_staff(page, live_server)
    page.get_by_role("navigation", name="Sections").first.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name="Audit log", level=1)).to_be_visible()
    page.get_by_label("Reseller").select_option(label=f"{partner.name} ({partner.code})")
    page.get_by_label("Action starts with").fill("tenant.status")
    page.get_by_role("button", name="Show").click()
    table = page.get_by_role("table", name="Audit events: 2")
    expect(table).to_be_visible()
    expect(table.locator("tbody tr").first).to_contain_text("Cleared")  # newest first
    expect(table.locator("tbody tr").nth(1)).to_contain_text("Chargebacks under review")
    expect(table.get_by_role("link", name=partner.code).first).to_be_visible()
    look(page, "console-audit")


def test_the_audit_log_checks_its_filters_and_exports_every_row(app, db, demo, staff, make_tenant):
    partner = reseller_with_customer(db, make_tenant, earned=None)
    resellers.set_status(db, partner.code, "Suspended", reason="Export me", actor="staff 1 (Ops)")
    resellers.set_status(db, partner.code, "Active", reason=None, actor="staff 1 (Ops)")
    client = staff_client(app.test_client())
    bad = client.get("/console/audit?start=2026-12-10&end=2026-12-01", headers={"Host": CONSOLE})
    assert bad.status_code == 422 and "The last day must be on or after the first day." in bad.get_data(as_text=True)
    exported = client.get(f"/console/audit?action=tenant.status&actor=OPS&format=csv&reseller={partner.tenant.id}",
                          headers={"Host": CONSOLE})
    assert exported.status_code == 200
    text = exported.get_data(as_text=True)
    rows = [r for r in csv.reader(io.StringIO(text.lstrip("\ufeff"))) if "tenant.status" in r]
    assert len(rows) == 2 and any("Export me" in cell for cell in rows[1])


def test_the_filters_match_what_was_typed_literally(db, make_tenant):
    """A % or _ typed in a filter is that character, not a wildcard of the database's."""
    from app.services import audit_log

    partner = reseller_with_customer(db, make_tenant, earned=None)
    resellers.set_status(db, partner.code, "Suspended", reason="Literal", actor="ops_100% (Ops)")
    resellers.set_status(db, partner.code, "Active", reason=None, actor="opsX100 (Ops)")
    with db.session() as session:
        found = [e.actor for e in audit_log.search(session, tenant_id=partner.tenant.id, actor="ops_100%")[0]]
        assert found == ["ops_100% (Ops)"]
        assert audit_log.search(session, tenant_id=partner.tenant.id, action="tenant_status")[1] == 0
        assert audit_log.search(session, tenant_id=partner.tenant.id, action="tenant.status")[1] == 2
