"""Commission disputes: opened within the statement's window (5 business days unless configured) and
refused after it, lines held out of the payout while disputed, settled Adjusted (a new line for the
difference, audited) or Rejected (the lines as they were), with documents attached through the API."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.models import AuditEvent
from app.models.commissions import CommissionLine
from app.models.payouts import CommissionAdjustment
from app.services.commissions import disputes, payouts
from app.services.errors import Conflict, Invalid
from tenants import tenant_context
from tests.commissions.payout_fixtures import (  # noqa: F401  (fixtures)
    add_line,
    line,
    payee,
    payouts_of,
    run_day,
    set_schedule,
    sign_in,
    staff_headers,
)

BUILT = datetime(2026, 2, 16, 2, tzinfo=UTC)  # a Monday: the statement is issued then
WITHIN = datetime(2026, 2, 23, 1, tzinfo=UTC)  # 5 business days later, an hour before the window closes
AFTER = datetime(2026, 2, 23, 3, tzinfo=UTC)


@pytest.fixture
def statement(db, payee):  # noqa: F811  (a fixture)
    """A reseller with a January statement of two lines (100.00 and 50.00), issued Monday 16 February."""
    who = payee()
    set_schedule(db, who.tenant, processing_day=16)
    first = add_line(db, who.tenant, "100.00", date(2026, 1, 5), customer_id=7)
    second = add_line(db, who.tenant, "50.00", date(2026, 1, 20), customer_id=7)
    run_day(db, who.tenant, date(2026, 2, 16), at=BUILT)
    [payout] = payouts_of(db, who.tenant)
    assert payout.dispute_window_ends_at == datetime(2026, 2, 23, 2, tzinfo=UTC)
    return who, payout, first, second


def open_on(db, tenant, line_ids, at=WITHIN, message="The rate for this customer is 12%, not 10%"):
    with db.session() as s, tenant_context(tenant):
        return disputes.open_dispute(s, line_ids, message, actor="admin@reseller", now=at).id


def resolve(db, tenant, dispute_id, outcome, amount=None, note="Checked against the agreement", at=WITHIN):
    with db.session() as s, tenant_context(tenant):
        return disputes.resolve(s, dispute_id, outcome=outcome, note=note, adjusted_amount=amount, actor="ops@isp",
                                now=at)


def trail(db, tenant, dispute_id):
    with db.session() as s, tenant_context(tenant):
        return s.execute(select(CommissionAdjustment).where(CommissionAdjustment.dispute_id == dispute_id)
                         .order_by(CommissionAdjustment.id)).scalars().all()


def test_a_dispute_within_the_window_holds_the_lines_out_of_the_payout(db, statement):
    who, payout, first, second = statement
    dispute_id = open_on(db, who.tenant, [first])
    assert (line(db, who.tenant, first).status, line(db, who.tenant, first).payout_id) == ("Disputed", None)
    [payout] = payouts_of(db, who.tenant)
    assert payout.amount == Decimal("50.00")
    with pytest.raises(Conflict, match="Disputed"):  # one dispute at a time per line
        open_on(db, who.tenant, [first])
    [entry] = trail(db, who.tenant, dispute_id)
    assert (entry.action, entry.before["status"], entry.after["status"], entry.actor) == (
        "line.disputed", "Approved", "Disputed", "admin@reseller")


def test_a_dispute_after_the_window_is_refused(db, statement):
    who, payout, first, _ = statement
    with pytest.raises(Conflict, match="window"):
        open_on(db, who.tenant, [first], at=AFTER)
    assert line(db, who.tenant, first).status == "Approved"


def test_the_window_is_configurable_in_business_days(db, payee):  # noqa: F811  (a fixture)
    who = payee()
    set_schedule(db, who.tenant, processing_day=16, dispute_window_days=1)
    add_line(db, who.tenant, "80.00", date(2026, 1, 5))
    run_day(db, who.tenant, date(2026, 2, 20), at=datetime(2026, 2, 20, 9, tzinfo=UTC))  # a Friday
    [payout] = payouts_of(db, who.tenant)
    assert payout.dispute_window_ends_at == datetime(2026, 2, 23, 9, tzinfo=UTC)  # the next Monday


def test_adjusted_makes_a_line_for_the_difference_and_audits_it(db, statement):
    who, payout, first, second = statement
    dispute_id = open_on(db, who.tenant, [first, second])
    resolve(db, who.tenant, dispute_id, "Adjusted", amount="180.00")
    assert {line(db, who.tenant, i).status for i in (first, second)} == {"Adjusted"}
    with db.session() as s, tenant_context(who.tenant):
        dispute = disputes.get(s, dispute_id)
        made = s.get(CommissionLine, dispute.adjustment_line_id)
        assert (dispute.status, dispute.disputed_amount, dispute.adjusted_amount) == (
            "Adjusted", Decimal("150.00"), Decimal("180.00"))
        assert (made.kind, made.amount, made.status, made.customer_id, made.payout_id) == (
            "adjustment", Decimal("30.00"), "Approved", 7, payout.id)
        logged = s.execute(select(AuditEvent).where(AuditEvent.tenant_id == who.tenant.id,
                                                    AuditEvent.action == "commission_dispute.adjusted")).scalar_one()
    assert logged.detail["adjusted_amount"] == "180.00" and logged.actor == "ops@isp"
    [payout] = payouts_of(db, who.tenant)  # still Scheduled: the lines and the difference are back in it
    assert (payout.gross, payout.adjustments, payout.amount) == (Decimal("150.00"), Decimal("30.00"),
                                                                 Decimal("180.00"))
    actions = [(e.action, e.line_id) for e in trail(db, who.tenant, dispute_id)]
    assert actions == [("line.disputed", first), ("line.disputed", second), ("line.adjusted", first),
                       ("line.adjusted", second), ("line.adjustment", made.id)]
    adjustment = trail(db, who.tenant, dispute_id)[-1]
    assert (adjustment.before, adjustment.after["amount"], adjustment.after["difference"], adjustment.reason) == (
        {"amount": "150.00"}, "180.00", "30.00", "Checked against the agreement")
    with pytest.raises(Conflict):
        resolve(db, who.tenant, dispute_id, "Rejected")


def test_rejected_puts_the_lines_back_as_they_were(db, statement):
    who, payout, first, _ = statement
    dispute_id = open_on(db, who.tenant, [first])
    resolve(db, who.tenant, dispute_id, "Rejected")
    restored = line(db, who.tenant, first)
    assert (restored.status, restored.payout_id) == ("Approved", payout.id)
    [payout] = payouts_of(db, who.tenant)
    assert payout.amount == Decimal("150.00")
    assert [e.action for e in trail(db, who.tenant, dispute_id)] == ["line.disputed", "line.rejected"]


def test_a_paid_line_adjusted_pays_the_difference_with_the_next_payout(db, statement):
    who, payout, first, _ = statement
    with db.session() as s, tenant_context(who.tenant):
        payouts.approve(s, payout.id, actor="ops@isp")
        payouts.mark_paid(s, payout.id, method="bank_transfer", reference="T-9", actor="ops@isp")
    dispute_id = open_on(db, who.tenant, [first])
    assert line(db, who.tenant, first).payout_id == payout.id  # paid in it; it stays there
    resolve(db, who.tenant, dispute_id, "Adjusted", amount="90.00")
    add_line(db, who.tenant, "60.00", date(2026, 2, 10))
    run_day(db, who.tenant, date(2026, 3, 16))
    _, march = payouts_of(db, who.tenant)
    assert (march.gross, march.adjustments, march.amount) == (Decimal("60.00"), Decimal("-10.00"), Decimal("50.00"))
    assert line(db, who.tenant, first).payout_id == payout.id


def test_bad_settlements_are_refused(db, statement):
    who, _, first, _ = statement
    dispute_id = open_on(db, who.tenant, [first])
    with pytest.raises(Invalid, match="adjusted_amount"):
        resolve(db, who.tenant, dispute_id, "Adjusted")
    with pytest.raises(Invalid, match="two decimal"):
        resolve(db, who.tenant, dispute_id, "Adjusted", amount="10.005")
    with pytest.raises(Invalid, match="outcome"):
        resolve(db, who.tenant, dispute_id, "Maybe")


def test_the_dispute_flow_through_the_api_with_an_attachment(app, db, statement):
    who, payout, first, second = statement
    client = app.test_client()
    reseller = sign_in(client, who.host, who.admin)
    # the window is measured from now: a statement issued now is open to disputes
    with db.session() as s, tenant_context(who.tenant):
        s.get(type(payout), payout.id).dispute_window_ends_at = datetime(2100, 1, 1, tzinfo=UTC)
    reply = client.post("/reseller/api/commissions/disputes", headers=reseller,
                        json={"line_ids": [first], "message": "Customer 7 pays 1,200.00, not 1,000.00"})
    assert reply.status_code == 201, reply.get_json()
    dispute = reply.get_json()
    assert dispute["status"] == "Open" and dispute["disputed_amount"] == "100.00"
    upload = client.post(f"/reseller/api/commissions/disputes/{dispute['id']}/attachments", headers=reseller,
                         data={"file": (io.BytesIO(b"%PDF-1.4\n% receipt\n"), "receipt.pdf")},
                         content_type="multipart/form-data")
    assert upload.status_code == 201, upload.get_json()
    attachment = upload.get_json()
    assert (attachment["file_name"], attachment["content_type"]) == ("receipt.pdf", "application/pdf")
    refused = client.post(f"/reseller/api/commissions/disputes/{dispute['id']}/attachments", headers=reseller,
                          data={"file": (io.BytesIO(b"MZ\x90\x00\x03binary"), "tool.exe")},
                          content_type="multipart/form-data")
    assert refused.status_code == 422
    got = client.get(f"/reseller/api/commissions/disputes/{dispute['id']}/attachments/{attachment['id']}",
                     headers=reseller)
    assert got.status_code == 200 and got.data.startswith(b"%PDF-1.4") and got.mimetype == "application/pdf"

    console = staff_headers(client, db)
    listed = client.get(f"/console/api/resellers/{who.code}/disputes?status=Open", headers=console).get_json()
    assert [d["id"] for d in listed["items"]] == [dispute["id"]]
    settled = client.post(f"/console/api/resellers/{who.code}/disputes/{dispute['id']}/resolve", headers=console,
                          json={"outcome": "Adjusted", "adjusted_amount": "120.00", "note": "Price confirmed"})
    assert settled.status_code == 200, settled.get_json()
    assert settled.get_json()["status"] == "Adjusted" and settled.get_json()["adjustment_line_id"]
    mine = client.get(f"/reseller/api/commissions/disputes/{dispute['id']}", headers=reseller).get_json()
    assert (mine["status"], mine["adjusted_amount"], mine["resolution_note"]) == ("Adjusted", "120.00",
                                                                                   "Price confirmed")
    assert [a["file_name"] for a in mine["attachments"]] == ["receipt.pdf"]


def test_attachments_are_checked_by_content_size_and_count(db, statement, monkeypatch):
    who, _, first, _ = statement
    dispute_id = open_on(db, who.tenant, [first])

    def attach(data: bytes, name: str = "evidence.csv"):
        with db.session() as s, tenant_context(who.tenant):
            return disputes.add_attachment(s, dispute_id, name, data, actor="admin@reseller")

    csv = attach(b"customer,paid\n7,1200.00\n")
    assert (csv.content_type, csv.file_name) == ("text/csv", "evidence.csv")
    assert attach(b"\x89PNG\r\n\x1a\n....", "../../etc/shot.png").file_name == "shot.png"
    for bad in (b"", b"<html><script>alert(1)</script></html>", b"MZ\x90\x00binary\x00"):
        with pytest.raises(Invalid):
            attach(bad)
    monkeypatch.setattr(disputes, "MAX_FILE", 10)
    with pytest.raises(Invalid, match="most allowed"):
        attach(b"%PDF-1.7 more than ten bytes")
    monkeypatch.setattr(disputes, "MAX_FILE", 5 * 1024 * 1024)
    attach(b"%PDF-1.7 one")
    attach(b"%PDF-1.7 two")
    attach(b"%PDF-1.7 three")
    with pytest.raises(Conflict, match="at most 5"):
        attach(b"%PDF-1.7 six")
    with db.session() as s, tenant_context(who.tenant):
        row, data = disputes.attachment(s, dispute_id, csv.id)
    assert data == b"customer,paid\n7,1200.00\n"
    resolve(db, who.tenant, dispute_id, "Rejected")
    with pytest.raises(Conflict, match="Open"):
        attach(b"%PDF-1.7 late")
