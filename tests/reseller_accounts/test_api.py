"""The API: the master ISP's console sets up an account, records payments (Idempotency-Key honoured) and
decides emergency credit; a reseller sees its own account only and requests emergency credit."""

from __future__ import annotations

from sqlalchemy import func, select

from app.models.reseller_accounts import AccountEntry
from tests.auth.conftest import PASSWORD, bearer
from tests.billing.test_payments import finance_headers
from tests.reseller_accounts.conftest import add_charge

CONSOLE = "console.test.example"


def _staff(client, staff) -> dict:
    token = client.post("/console/auth/login", json={"email": staff, "password": PASSWORD},
                        headers={"Host": CONSOLE}).get_json()["token"]
    return bearer(token, CONSOLE)


def test_console_sets_up_and_shows_an_account(app, client, staff, make_tenant):
    tenant = make_tenant("CONS")
    headers = _staff(client, staff)
    path = f"/console/api/resellers/{tenant.code}/account"
    assert client.get(path, headers=headers).status_code == 404
    assert client.get("/console/api/resellers/NOPE_X/account", headers=headers).status_code == 404
    response = client.put(path, json={"currency": "KES", "credit_limit": "1000.00", "warning_percent": 70,
                                      "at_limit_new_customers": "approval"}, headers=headers)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["credit_limit"], body["warning_percent"], body["restriction_percent"]) == ("1000.00", 70, 90)
    assert (body["balance"], body["utilisation"], body["emergency_credit_max"]) == ("0.00", "0.00", "250.00")
    assert body["actions"] == {"new_customers": "allow", "services": "continue", "payments": "continue"}
    listed = {a["tenant_code"]: a for a in client.get("/console/api/resellers/accounts", headers=headers).get_json()}
    assert listed[tenant.code]["utilisation"] == "0.00" and listed[tenant.code]["open_alerts"] == []
    bad = client.put(path, json={"warning_percent": 95, "restriction_percent": 90}, headers=headers)
    assert bad.status_code == 422 and bad.headers["Content-Type"].startswith("application/problem+json")
    assert client.put(path, json={"credit_limit": 1000.5}, headers=headers).status_code == 422  # a float

    add_charge(_db(app), tenant.id, "1000.00")
    body = client.get(path, headers=headers).get_json()
    assert body["open_alerts"] == []  # a read evaluates nothing; a change of settings (or the daily job) does
    body = client.put(path, json={"at_limit_services": "continue"}, headers=headers).get_json()
    assert [a["level"] for a in body["open_alerts"]] == ["warning", "restriction", "limit"]
    assert (body["balance"], body["utilisation"], body["available"]) == ("1000.00", "100.00", "0.00")
    assert body["actions"]["new_customers"] == "approval"
    assert [t["reached"] for t in body["thresholds"]] == [True, True, True]
    listed = {a["tenant_code"]: a for a in client.get("/console/api/resellers/accounts", headers=headers).get_json()}
    assert (listed[tenant.code]["balance"], listed[tenant.code]["open_alerts"]) == \
        ("1000.00", ["warning", "restriction", "limit"])


def _db(app):
    from app.web import state

    with app.app_context():
        return state().db


def test_console_payments_honour_the_idempotency_key(app, client, staff, charged):
    acct = charged("1000.00", "400.00", "300.00")
    headers = {**_staff(client, staff), "Idempotency-Key": "pay-2026-11-A"}
    path = f"/console/api/resellers/{acct.tenant.code}/account/payments"
    body = {"amount": "500.00", "method": "bank_transfer", "reference": "FT99", "received_on": "2026-11-20"}
    first = client.post(path, json=body, headers=headers)
    assert first.status_code == 201, first.get_json()
    again = client.post(path, json=body, headers=headers)
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json() == first.get_json()
    payment = first.get_json()["payment"]
    assert (payment["amount"], payment["kind"]) == ("-500.00", "payment")
    assert [a["amount"] for a in payment["allocations"]] == ["400.00", "100.00"]  # oldest first
    assert first.get_json()["account"]["balance"] == "200.00"
    other = client.post(path, json={**body, "amount": "1.00"}, headers=headers)
    assert other.status_code == 422 and "different request" in other.get_json()["detail"]
    duplicate = client.post(path, json=body, headers=_staff(client, staff))  # same reference, no key
    assert duplicate.status_code == 409
    with _db(app).session() as s:
        assert s.execute(select(func.count()).select_from(AccountEntry)
                         .where(AccountEntry.account_id == acct.account_id, AccountEntry.kind == "payment")
                         ).scalar_one() == 1
    entries = client.get(f"/console/api/resellers/{acct.tenant.code}/account/entries?kind=charge",
                         headers=_staff(client, staff)).get_json()
    assert entries["total"] == 2 and all(e["kind"] == "charge" for e in entries["items"])


def test_a_reseller_sees_only_its_own_account(app, client, db, charged):
    mine, theirs = charged("1000.00", "100.00"), charged("5000.00", "4900.00")
    headers = finance_headers(app, db, mine.tenant)
    body = client.get("/reseller/api/account", headers=headers).get_json()
    assert (body["tenant_code"], body["balance"], body["credit_limit"]) == (mine.tenant.code, "100.00", "1000.00")
    entries = client.get("/reseller/api/account/entries", headers=headers).get_json()
    assert entries["total"] == 1 and entries["items"][0]["amount"] == "100.00"
    # the same token on the other reseller's host is refused; and there is no path naming another reseller
    from tests.conftest import host_of

    other_host = {**headers, "Host": host_of(theirs.tenant)}
    assert client.get("/reseller/api/account", headers=other_host).status_code == 401
    assert client.get(f"/console/api/resellers/{theirs.tenant.code}/account", headers=headers).status_code in (403, 404)
    theirs_body = client.get("/reseller/api/account", headers=finance_headers(app, db, theirs.tenant)).get_json()
    assert (theirs_body["tenant_code"], theirs_body["balance"]) == (theirs.tenant.code, "4900.00")


def test_emergency_credit_requested_by_the_reseller_and_approved_on_the_console(app, client, db, staff, charged):
    acct = charged("1000.00", "1000.00", at_limit_new_customers="suspend")
    reseller = finance_headers(app, db, acct.tenant)
    readonly = finance_headers(app, db, acct.tenant, role="Readonly")
    request = {"amount": "250.00", "reason": "month-end collections"}
    assert client.post("/reseller/api/account/emergency-credit", json=request, headers=readonly).status_code == 403
    too_much = client.post("/reseller/api/account/emergency-credit", json={**request, "amount": "250.01"},
                           headers=reseller)
    assert too_much.status_code == 422
    made = client.post("/reseller/api/account/emergency-credit", json=request, headers=reseller)
    assert made.status_code == 201 and made.get_json()["status"] == "requested"
    assert client.post("/reseller/api/account/emergency-credit", json=request, headers=reseller).status_code == 409
    credit_id = made.get_json()["id"]

    console = _staff(client, staff)
    base = f"/console/api/resellers/{acct.tenant.code}/account/emergency-credit"
    assert client.post(f"{base}/999999/approve", json={}, headers=console).status_code == 404
    approved = client.post(f"{base}/{credit_id}/approve", json={"note": "ok for 48h"}, headers=console)
    assert approved.status_code == 200 and approved.get_json()["active"] is True
    assert client.post(f"{base}/{credit_id}/reject", json={}, headers=console).status_code == 409
    mine = client.get("/reseller/api/account", headers=reseller).get_json()
    assert (mine["emergency_credit"], mine["utilisation"], mine["actions"]["new_customers"]) == \
        ("250.00", "80.00", "allow")
    listed = client.get("/reseller/api/account/emergency-credit", headers=readonly).get_json()
    assert [c["status"] for c in listed] == ["approved"]


def test_console_adjustments(client, staff, charged):
    acct = charged("1000.00", "400.00")
    headers = {**_staff(client, staff), "Idempotency-Key": "adj-1"}
    path = f"/console/api/resellers/{acct.tenant.code}/account/adjustments"
    made = client.post(path, json={"amount": "-100.00", "reason": "SLA credit"}, headers=headers)
    assert made.status_code == 201, made.get_json()
    assert client.post(path, json={"amount": "-100.00", "reason": "SLA credit"}, headers=headers).get_json() == \
        made.get_json()  # replayed, not applied twice
    body = made.get_json()
    assert (body["payment"]["kind"], body["payment"]["amount"], body["account"]["balance"]) == \
        ("adjustment", "-100.00", "300.00")
    assert client.post(path, json={"amount": "0", "reason": "x"}, headers=_staff(client, staff)).status_code == 422
