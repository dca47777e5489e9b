"""Invoice disputes on the real database, through the customer's API and the reseller's: a dispute carries the
30 days of usage before the invoice, frozen, and the customer's documents (checked by content); it is resolved by
a credit note the ledger audit accepts, rejected and appealed once, escalated; dunning leaves the disputed amount
alone and chases the rest; another customer's invoice or dispute is not found; a Readonly user reads and cannot
answer. Every tenant made here is audited when the test ends (tests/billing/conftest.py)."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from app.models import Outbox
from app.models.arrangements import InvoiceDisputeUsage
from app.models.billing import DunningStep, Invoice
from app.services import services
from app.services.billing import dunning, invoices, payments
from app.services.billing.arrangements import business_days, documents
from app.services.settings import local_today
from tenants import tenant_context
from tests.billing.arrangements_rig import bill, case_fixture, customer, team, usage  # noqa: F401  (fixture)
from tests.billing.test_dunning import set_policy
from tests.provisioning.conftest import make_plan  # noqa: F401  (fixture)
from tests.web.test_email_links import SIGN_IN
from tests.web.test_email_links import _check as check_links

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _invoice(db, c, **kwargs) -> tuple[int, list[int]]:
    with db.session() as s, tenant_context(c.tenant):
        made = bill(s, c.customer_id, c.service_id, **kwargs)
        return made.id, [line.id for line in invoices.lines_of(s, made.id)]


def _open(client, c, headers, invoice_id, line_ids, **body):
    return client.post("/portal/api/disputes", headers=headers, json={
        "invoice_id": invoice_id, "line_ids": line_ids, "reason": "usage",
        "message": "I was away that week; the router was off.", **body})


def _mails(db, c, template: str) -> list[Outbox]:
    with db.session() as s, tenant_context(c.tenant):
        found = list(s.execute(select(Outbox).where(Outbox.template == template).order_by(Outbox.id)).scalars())
        s.expunge_all()
        return found


def test_a_dispute_carries_the_usage_before_the_invoice_frozen_and_documents_checked_by_content(db, client, case):
    c = case()
    invoice_id, (service_line, installation) = _invoice(db, c)
    me = customer(client, c)
    opened = _open(client, c, me, invoice_id, [service_line])
    assert opened.status_code == 201, opened.get_json()
    found = opened.get_json()
    with db.session() as s, tenant_context(c.tenant):
        today = local_today(s)
    assert found["status"] == "Open" and found["disputed_amount"] == "1000.00"
    assert found["opened_on"] == today.isoformat()
    assert found["expected_by"] == business_days.add_business_days(today, 10).isoformat()
    assert [line["line_id"] for line in found["lines"]] == [service_line]
    [evidence] = found["evidence"]
    assert evidence["service_id"] == c.service_id and len(evidence["days"]) == 30
    assert evidence["from"] == (today - timedelta(days=30)).isoformat()
    assert evidence["to"] == (today - timedelta(days=1)).isoformat()
    assert evidence["days"][-1]["download"] == 5000 * 2**20  # yesterday, the heavy day
    assert evidence["totals"]["download"] == (29 * 100 + 5000) * 2**20

    with db.session() as s, tenant_context(c.tenant):  # usage corrected later: the dispute keeps what it saw
        usage(s, c.service_id, today - timedelta(days=1), 1)
    again = client.get(f"/portal/api/disputes/{found['id']}", headers=me).get_json()
    assert again["evidence"][0]["days"][-1]["download"] == 5000 * 2**20

    sent = client.post(f"/portal/api/disputes/{found['id']}/attachments", headers=me,
                       data={"file": (io.BytesIO(PDF), "speed-test.pdf")}, content_type="multipart/form-data")
    assert sent.status_code == 201, sent.get_json()
    assert sent.get_json()["content_type"] == "application/pdf"
    disguised = client.post(f"/portal/api/disputes/{found['id']}/attachments", headers=me,
                            data={"file": (io.BytesIO(b"<html><script>alert(1)</script>"), "bill.pdf")},
                            content_type="multipart/form-data")
    assert disguised.status_code == 422 and disguised.get_json()["type"] == "/problems/unsupported-file"
    download = client.get(sent.get_json()["url"], headers=me)
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    with tenant_context(c.tenant):
        assert documents.path_of("x.pdf").parent.parts[-2] == c.tenant.schema  # under the tenant's own folder

    [mail] = _mails(db, c, "billing/dispute_update")
    assert "We have your dispute" in mail.subject and "ignore" not in mail.body_text
    assert business_days.add_business_days(today, 10).strftime("%Y") in mail.body_text
    check_links(client.application.test_client(), [mail], SIGN_IN, c.host)  # the dispute's page, after signing in
    listed = client.get("/portal/api/disputes", headers=me).get_json()
    assert listed["total"] == 1 and listed["items"][0]["status"] == "Open"
    with db.session() as s, tenant_context(c.tenant):
        rows = s.execute(select(func.count()).select_from(InvoiceDisputeUsage)).scalar_one()
    assert rows == 30


def test_a_line_is_disputed_once_and_only_lines_that_charge(db, client, case):
    c = case()
    invoice_id, (service_line, installation) = _invoice(db, c)
    me = customer(client, c)
    assert _open(client, c, me, invoice_id, [service_line]).status_code == 201
    twice = _open(client, c, me, invoice_id, [service_line, installation])
    assert twice.status_code == 409 and twice.get_json()["type"] == "/problems/line-already-disputed"
    assert _open(client, c, me, invoice_id, [987654321]).status_code == 422
    assert _open(client, c, me, invoice_id, [installation], reason="because").status_code == 422
    assert _open(client, c, me, invoice_id, [installation]).status_code == 201


def test_resolved_by_a_credit_note_the_ledger_agrees(db, client, case):
    c = case()
    invoice_id, (service_line, _) = _invoice(db, c)
    me, admin = customer(client, c), team(client, c)
    dispute = _open(client, c, me, invoice_id, [service_line]).get_json()
    reviewed = client.post(f"/reseller/api/billing-disputes/{dispute['id']}/review", headers=admin,
                           json={"note": "Checking the RADIUS records."})
    assert reviewed.status_code == 200 and reviewed.get_json()["status"] == "Under Review"
    resolved = client.post(f"/reseller/api/billing-disputes/{dispute['id']}/resolve",
                           headers={**admin, "Idempotency-Key": "resolve-1"},
                           json={"outcome": "usage_adjustment", "answer": "The router was off for a week.",
                                 "lines": [{"line_id": service_line, "amount": "250.00"}]})
    assert resolved.status_code == 200, resolved.get_json()
    body = resolved.get_json()
    assert body["status"] == "Resolved" and body["outcome"] == "usage_adjustment"
    assert body["credited_amount"] == "250.00" and body["credit_note_number"].startswith("CRN-")
    assert [e["to_status"] for e in body["history"]] == ["Open", "Under Review", "Resolved"]
    replay = client.post(f"/reseller/api/billing-disputes/{dispute['id']}/resolve",
                         headers={**admin, "Idempotency-Key": "resolve-1"},
                         json={"outcome": "usage_adjustment", "answer": "The router was off for a week.",
                               "lines": [{"line_id": service_line, "amount": "250.00"}]})
    assert replay.headers.get("Idempotent-Replayed") == "true"
    with db.session() as s, tenant_context(c.tenant):
        notes = list(s.execute(select(Invoice).where(Invoice.credited_invoice_id == invoice_id)).scalars())
        assert [(n.total, n.billing_key) for n in notes] == [(Decimal("250.00"), f"dispute:{dispute['id']}")]
        assert s.get(Invoice, invoice_id).amount_paid == Decimal("250.00")  # the credit is spent on it
    again = client.post(f"/reseller/api/billing-disputes/{dispute['id']}/reject", headers=admin,
                        json={"answer": "no"})
    assert again.status_code == 409 and again.get_json()["type"] == "/problems/dispute-state"
    mine = client.get(f"/portal/api/disputes/{dispute['id']}", headers=me).get_json()
    assert mine["outcome"] == "usage_adjustment" and mine["answer"] == "The router was off for a week."
    assert "actor" not in mine["history"][0]  # the customer does not see who in the team did what
    assert [m.subject for m in _mails(db, c, "billing/dispute_update")][-1].endswith("is resolved")


def test_rejected_then_appealed_once_and_escalated_to_management(db, client, case):
    c = case()
    invoice_id, (service_line, installation) = _invoice(db, c)
    me, admin = customer(client, c), team(client, c)
    first = _open(client, c, me, invoice_id, [service_line]).get_json()
    rejected = client.post(f"/reseller/api/billing-disputes/{first['id']}/reject", headers=admin,
                           json={"answer": "The usage is what the router reported."})
    assert rejected.status_code == 200 and rejected.get_json()["appealable"] is True
    appealed = client.post(f"/portal/api/disputes/{first['id']}/appeal", headers=me,
                           json={"message": "The router was unplugged; I have the photos."})
    assert appealed.status_code == 200, appealed.get_json()
    assert appealed.get_json()["status"] == "Escalated"
    final = client.post(f"/reseller/api/billing-disputes/{first['id']}/reject", headers=admin,
                        json={"answer": "Management looked again: the charge stands."}).get_json()
    assert final["status"] == "Rejected" and final["appealable"] is False
    twice = client.post(f"/portal/api/disputes/{first['id']}/appeal", headers=me, json={"message": "Again!"})
    assert twice.status_code == 409

    second = _open(client, c, me, invoice_id, [installation]).get_json()
    escalated = client.post(f"/reseller/api/billing-disputes/{second['id']}/escalate", headers=admin,
                            json={"note": "A field visit is needed."})
    assert escalated.status_code == 200 and escalated.get_json()["status"] == "Escalated"
    assert client.post(f"/reseller/api/billing-disputes/{second['id']}/escalate", headers=admin,
                       json={"note": "again"}).status_code == 409
    listed = client.get("/reseller/api/billing-disputes?status=Escalated", headers=admin).get_json()
    assert [d["id"] for d in listed["items"]] == [second["id"]]
    history = client.get(f"/reseller/api/billing-disputes/{first['id']}", headers=admin).get_json()["history"]
    assert [e["action"] for e in history] == ["dispute.opened", "dispute.rejected", "dispute.appealed",
                                              "dispute.rejected"]
    assert all(e["actor"] for e in history)


def test_dunning_leaves_the_disputed_amount_alone_and_chases_the_rest(db, client, case):
    c = case()
    with db.session() as s, tenant_context(c.tenant):
        set_policy(s, reminder_days=[1, 3], grace_days=2, action="limit")
    invoice_id, (service_line, installation) = _invoice(db, c, overdue_days=5)
    me, admin = customer(client, c), team(client, c)
    whole = _open(client, c, me, invoice_id, [service_line, installation])
    assert whole.status_code == 201, whole.get_json()
    with db.session() as s, tenant_context(c.tenant):
        done = dunning.run(s)
        assert done["reminders"] == 0 and done["actions"] == 0  # all of it is under dispute: held
        assert services.get(s, c.service_id).status == "Active"
        assert not s.execute(select(DunningStep).where(DunningStep.invoice_id == invoice_id)).first()
    client.post(f"/reseller/api/billing-disputes/{whole.get_json()['id']}/reject", headers=admin,
                json={"answer": "The charges are right."})
    with db.session() as s, tenant_context(c.tenant):
        done = dunning.run(s)  # the hold ended with the dispute: dunning resumes
        assert done["reminders"] == 1 and done["actions"] == 1
        assert services.get(s, c.service_id).status == "Limited"


def test_a_dispute_of_one_line_still_chases_the_other(db, client, case):
    c = case()
    with db.session() as s, tenant_context(c.tenant):
        set_policy(s, reminder_days=[1], grace_days=1, action="limit", late_fee_percent="10")
    invoice_id, (service_line, _) = _invoice(db, c, overdue_days=3)
    me = customer(client, c)
    assert _open(client, c, me, invoice_id, [service_line]).status_code == 201
    with db.session() as s, tenant_context(c.tenant):
        done = dunning.run(s)
        assert done["reminders"] == 1 and done["late_fees"] == 1 and done["actions"] == 1
        steps = {st.step: st.detail for st in dunning.history(s, c.customer_id)}
        assert steps["overdue"]["owed"] == "500.00"  # the installation only: 1500 owed, 1000 disputed
        assert steps["late_fee"]["amount"] == "50.00"  # 10 % of what is not disputed
    [reminder] = _mails(db, c, "billing/payment_reminder")
    assert "500.00 KES" in reminder.body_text


def test_a_held_invoice_never_dunned_does_not_keep_another_invoices_action(db, client, case):
    c = case()
    with db.session() as s, tenant_context(c.tenant):
        set_policy(s, reminder_days=[1], grace_days=1, action="suspend")
        other_id = bill(s, c.customer_id, None, overdue_days=4, other_price="300.00").id
    disputed_id, disputed_lines = _invoice(db, c, overdue_days=3)
    assert _open(client, c, customer(client, c), disputed_id, disputed_lines).status_code == 201
    with db.session() as s, tenant_context(c.tenant):
        dunning.run(s)
        assert services.get(s, c.service_id).status == "Suspended"  # for the other invoice
        steps = {(st.invoice_id, st.step) for st in dunning.history(s, c.customer_id)}
        assert (other_id, "action") in steps and not any(i == disputed_id for i, _ in steps)
        payments.record(s, customer_id=c.customer_id, amount="300.00", method="cash")  # oldest first: the other
        s.expire_all()
        assert s.get(Invoice, other_id).status == "Paid" and s.get(Invoice, disputed_id).status == "Overdue"
        assert services.get(s, c.service_id).status == "Active"  # the disputed invoice does not keep it held


def test_another_customers_invoice_and_dispute_are_not_found(db, client, case):
    c = case()
    invoice_id, line_ids = _invoice(db, c)
    me, them = customer(client, c), customer(client, c, c.other_portal_id)
    theirs = _open(client, c, them, invoice_id, line_ids)
    assert theirs.status_code == 404 and theirs.get_json()["type"] == "/problems/not-found"
    dispute = _open(client, c, me, invoice_id, line_ids[:1]).get_json()
    assert client.get(f"/portal/api/disputes/{dispute['id']}", headers=them).status_code == 404
    assert client.post(f"/portal/api/disputes/{dispute['id']}/appeal", headers=them,
                       json={"message": "x"}).status_code == 404
    assert client.post(f"/portal/api/disputes/{dispute['id']}/attachments", headers=them,
                       data={"file": (io.BytesIO(PDF), "x.pdf")}, content_type="multipart/form-data").status_code == 404
    assert client.get("/portal/api/disputes", headers=them).get_json()["total"] == 0
    other_reseller = case("DISX")
    assert client.get(f"/reseller/api/billing-disputes/{dispute['id']}",
                      headers=team(client, other_reseller)).status_code == 404


def test_a_readonly_user_reads_disputes_and_cannot_answer_them(db, client, case):
    c = case()
    invoice_id, line_ids = _invoice(db, c)
    dispute = _open(client, c, customer(client, c), invoice_id, line_ids[:1]).get_json()
    viewer = team(client, c, c.viewer)
    assert client.get(f"/reseller/api/billing-disputes/{dispute['id']}", headers=viewer).status_code == 200
    for action, body in (("resolve", {"outcome": "service_credit", "answer": "ok"}), ("reject", {"answer": "no"}),
                         ("review", {}), ("escalate", {"note": "x"})):
        refused = client.post(f"/reseller/api/billing-disputes/{dispute['id']}/{action}", headers=viewer, json=body)
        assert refused.status_code == 403, action
    assert client.get(f"/reseller/api/billing-disputes/{dispute['id']}", headers=viewer).get_json()["status"] == "Open"
