"""The HTTP doors: staff-only catalogue management, a reseller's catalogue, prices, services, pools, equipment."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from app.services import catalogue
from tenants import tenant_context
from tests.auth.conftest import PASSWORD, bearer, reseller_login

CONSOLE = "console.test.example"
SEED = Path("/work/shared/seeds/001_02112c06f44ad205.txt")


@pytest.fixture
def staff_headers(app, staff):
    token = app.test_client().post("/console/auth/login", json={"email": staff, "password": PASSWORD},
                                   headers={"Host": CONSOLE}).get_json()["token"]
    return bearer(token, CONSOLE)


def _login(app, acc) -> dict:
    return bearer(reseller_login(app.test_client(), acc).get_json()["token"], acc.host)


@pytest.fixture
def reseller(app, db, accounts, make_plan):
    """An Admin of a tenant authorised for one internet plan (60.00 USD)."""
    acc = accounts()
    plan = make_plan()
    with db.session() as s:
        catalogue.authorise(s, plan.id, acc.tenant.id)
    return acc, plan, _login(app, acc)


def test_staff_manage_the_catalogue_and_resellers_may_not(client, staff_headers, accounts, app):
    made = client.post("/console/api/plans", headers=staff_headers, json={
        "code": "APITEST-20", "name": "Home 20", "kind": "internet", "download_kbps": 20000, "upload_kbps": 5000,
        "burst_download_kbps": 30000, "burst_threshold_download_kbps": 15000, "burst_time_seconds": 16,
        "data_allowance_mb": None, "fup_policy": "fair-use-1tb", "limited_download_kbps": 2000,
        "wholesale_price": "60.00", "currency": "usd", "billing_period": "monthly", "setup_fee": 25})
    assert made.status_code == 201, made.get_json()
    plan = made.get_json()
    assert (plan["wholesale_price"], plan["setup_fee"], plan["currency"]) == ("60.00", "25.00", "USD")
    changed = client.patch(f"/console/api/plans/{plan['id']}", headers=staff_headers, json={"wholesale_price": "65.50"})
    assert changed.get_json()["wholesale_price"] == "65.50"
    bad = client.post("/console/api/plans", headers=staff_headers, json={
        "code": "BAD", "name": "x", "kind": "internet", "wholesale_price": "1.001", "currency": "USD"})
    assert bad.status_code == 422

    acc = accounts()
    granted = client.post(f"/console/api/plans/{plan['id']}/authorisations", headers=staff_headers,
                          json={"tenant_code": acc.tenant.code, "regions": ["Nairobi"]})
    assert granted.status_code == 201 and granted.get_json()["regions"] == ["Nairobi"]
    listed = client.get(f"/console/api/plans/{plan['id']}/authorisations", headers=staff_headers).get_json()
    assert [a["tenant_id"] for a in listed] == [acc.tenant.id]

    reseller_headers = _login(app, acc)
    mine = client.get("/reseller/api/catalogue", headers=reseller_headers).get_json()
    assert [(p["code"], p["wholesale_price"], p["retail"]["price"], p["regions"]) for p in mine] == [
        ("APITEST-20", "65.50", "65.50", ["Nairobi"])]
    for method, path in (("GET", "/console/api/plans"), ("POST", "/console/api/plans"),
                         ("PATCH", f"/console/api/plans/{plan['id']}"),
                         ("POST", f"/console/api/plans/{plan['id']}/authorisations")):
        on_console = {**reseller_headers, "Host": CONSOLE}
        assert client.open(path, method=method, json={}, headers=on_console).status_code == 403
    assert client.delete(f"/console/api/plans/{plan['id']}/authorisations/{acc.tenant.id}",
                         headers=staff_headers).status_code == 204
    assert client.get("/reseller/api/catalogue", headers=reseller_headers).get_json() == []


def test_the_seed_pricing_json_over_the_api_and_the_preview(client, reseller):
    acc, plan, headers = reseller
    text = SEED.read_text()
    raw = re.search(r"\*\*Pricing Configuration:\*\*\s*```json\s*(\{.*?\})\s*```", text, re.S).group(1)
    # the seed's text as sent, with its ids (reseller 1, tariff 5) pointing at this test's rows
    raw = re.sub(r'"reseller_id": \d+', f'"reseller_id": {acc.tenant.id}', raw)
    raw = re.sub(r'"tariff_id": \d+', f'"tariff_id": {plan.id}', raw)
    config = json.loads(raw)
    made = client.post("/reseller/api/prices", headers={**headers, "Content-Type": "application/json"}, data=raw)
    assert made.status_code == 201, made.get_json()
    rule = made.get_json()
    assert (rule["markup_value"], rule["min_price"], rule["promotional_pricing"]["valid_until"]) == (
        "25.00", "50.00", "2024-03-31")
    query = f"plan_id={plan.id}&date=2024-02-15&customer_id={acc.customer_id}"
    preview = client.get(f"/reseller/api/prices/preview?{query}", headers=headers).get_json()
    assert (preview["base_price"], preview["promo_discount"], preview["price"], preview["rule_id"]) == (
        "75.00", "7.50", "67.50", rule["id"])
    assert client.get(f"/reseller/api/prices/preview?plan_id={plan.id}&date=2024-04-01",
                      headers=headers).get_json()["price"] == "75.00"
    refused = client.patch(f"/reseller/api/prices/{rule['id']}", headers=headers, json={"markup_value": 30})
    assert refused.status_code == 409 and refused.get_json()["type"] == "/problems/conflict"
    assert client.delete(f"/reseller/api/prices/{rule['id']}", headers=headers).status_code == 409
    assert [r["id"] for r in client.get("/reseller/api/prices", headers=headers).get_json()] == [rule["id"]]
    wrong = client.post("/reseller/api/prices", headers=headers, json={**config, "reseller_id": acc.tenant.id + 999})
    assert wrong.status_code == 422


def test_service_lifecycle_over_the_api(client, reseller):
    acc, plan, headers = reseller
    pool = client.post("/reseller/api/ip-pools", headers=headers, json={"name": "one", "cidr": "100.65.0.8/31"})
    assert pool.status_code == 201 and pool.get_json()["size"] == 2
    created = client.post(f"/reseller/api/customers/{acc.customer_id}/services", headers=headers,
                          json={"plan_id": plan.id, "installation_address": "12 Ngong Rd"})
    assert created.status_code == 201 and created.get_json()["status"] == "Pending"
    service_id = created.get_json()["id"]
    activated = client.post(f"/reseller/api/services/{service_id}/activate", headers=headers,
                            json={"static_ip": True, "reason": "installed"}).get_json()
    assert (activated["status"], activated["price"], activated["static_ip"], activated["network_username"]) == (
        "Active", "60.00", "100.65.0.8", acc.portal_id)
    assert len(activated["network_password"]) == 12
    shown = client.get(f"/reseller/api/services/{service_id}", headers=headers).get_json()
    assert "network_password" not in shown and activated["network_password"] not in json.dumps(shown)
    assert [h["to_status"] for h in shown["history"]] == ["Pending", "Active"]
    creds = client.put(f"/reseller/api/services/{service_id}/network-credentials", headers=headers, json={})
    assert creds.status_code == 200 and creds.get_json()["password"] != activated["network_password"]
    for action, status in (("limit", "Limited"), ("suspend", "Suspended"), ("restore", "Active")):
        moved = client.post(f"/reseller/api/services/{service_id}/{action}", headers=headers, json={"reason": action})
        assert moved.get_json()["status"] == status
    refused = client.post(f"/reseller/api/services/{service_id}/activate", headers=headers, json={})
    assert refused.status_code == 409
    listed = client.get(f"/reseller/api/customers/{acc.customer_id}/services", headers=headers).get_json()
    assert [s["id"] for s in listed] == [service_id]
    ended = client.post(f"/reseller/api/services/{service_id}/terminate", headers=headers, json={"reason": "left"})
    assert ended.get_json()["static_ip"] is None


def test_ip_pool_exhaustion_is_a_problem_409(client, reseller):
    acc, plan, headers = reseller
    client.post("/reseller/api/ip-pools", headers=headers, json={"name": "none", "cidr": "100.65.1.1/32",
                                                                 "excluded": ["100.65.1.1"]})
    service_id = client.post(f"/reseller/api/customers/{acc.customer_id}/services", headers=headers,
                             json={"plan_id": plan.id}).get_json()["id"]
    answer = client.post(f"/reseller/api/services/{service_id}/activate", headers=headers, json={"static_ip": True})
    assert answer.status_code == 409
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.get_json()["type"] == "/problems/ip-pool-exhausted"
    assert client.get(f"/reseller/api/services/{service_id}", headers=headers).get_json()["status"] == "Pending"


def test_requests_over_the_api(client, db, reseller, make_plan):
    from app.services.settings import put_setting

    acc, plan, headers = reseller
    bigger = make_plan(wholesale_price="90.00")
    with db.session() as s:
        catalogue.authorise(s, bigger.id, acc.tenant.id)
    with db.session() as s, tenant_context(acc.tenant):
        put_setting(s, "services", {"approval_required": ["upgrade"]})
    service_id = client.post(f"/reseller/api/customers/{acc.customer_id}/services", headers=headers,
                             json={"plan_id": plan.id}).get_json()["id"]
    client.post(f"/reseller/api/services/{service_id}/activate", headers=headers, json={})
    asked = client.post(f"/reseller/api/services/{service_id}/requests", headers=headers,
                        json={"kind": "upgrade", "payload": {"plan_id": bigger.id}})
    assert asked.status_code == 201 and asked.get_json()["status"] == "Pending"
    approved = client.post(f"/reseller/api/service-requests/{asked.get_json()['id']}/approve", headers=headers,
                           json={"note": "fine"}).get_json()
    assert approved["status"] == "Completed"
    service = client.get(f"/reseller/api/services/{service_id}", headers=headers).get_json()
    assert (service["plan_id"], service["price"]) == (bigger.id, "90.00")
    listed = client.get(f"/reseller/api/services/{service_id}/requests", headers=headers).get_json()
    assert [(r["kind"], r["status"], r["note"]) for r in listed] == [("upgrade", "Completed", "fine")]


def test_equipment_over_the_api(client, reseller):
    acc, plan, headers = reseller
    model = client.post("/reseller/api/equipment-models", headers=headers,
                        json={"vendor": "Huawei", "name": "HG8245H", "device_type": "ONT"}).get_json()
    item = client.post("/reseller/api/equipment", headers=headers,
                       json={"model_id": model["id"], "serial": "48575443ABCD", "mac": "00:1A:2B:3C:4D:5E"})
    assert item.status_code == 201 and item.get_json()["status"] == "in_stock"
    service_id = client.post(f"/reseller/api/customers/{acc.customer_id}/services", headers=headers,
                             json={"plan_id": plan.id}).get_json()["id"]
    item_id = item.get_json()["id"]
    assigned = client.patch(f"/reseller/api/equipment/{item_id}", headers=headers,
                            json={"action": "assign", "service_id": service_id}).get_json()
    assert (assigned["status"], assigned["customer_id"]) == ("assigned", acc.customer_id)
    assert client.patch(f"/reseller/api/equipment/{item_id}", headers=headers,
                        json={"action": "in_stock"}).status_code == 409
    client.post(f"/reseller/api/services/{service_id}/terminate", headers=headers, json={})
    assert client.get("/reseller/api/equipment?status=recovered", headers=headers).get_json()[0]["id"] == item_id


def test_tenant_b_neither_sees_a_services_nor_sells_a_plans(client, app, reseller, accounts):
    acc, plan, headers = reseller
    service_id = client.post(f"/reseller/api/customers/{acc.customer_id}/services", headers=headers,
                             json={"plan_id": plan.id}).get_json()["id"]
    other = accounts()
    other_headers = _login(app, other)
    assert client.get(f"/reseller/api/services/{service_id}", headers=other_headers).status_code in (404,)
    sold = client.post(f"/reseller/api/customers/{other.customer_id}/services", headers=other_headers,
                       json={"plan_id": plan.id})
    assert sold.status_code == 404
    assert client.get(f"/reseller/api/prices/preview?plan_id={plan.id}", headers=other_headers).status_code == 404
    assert client.get("/reseller/api/catalogue", headers=other_headers).get_json() == []
    # A's token on B's host is refused outright
    elsewhere = {**headers, "Host": other.host}
    assert client.get(f"/reseller/api/services/{service_id}", headers=elsewhere).status_code == 401


def test_a_user_limited_to_some_customers_sees_only_their_services(client, app, db, reseller):
    from app.services import customers
    from app.services.auth import users

    acc, plan, headers = reseller
    service_id = client.post(f"/reseller/api/customers/{acc.customer_id}/services", headers=headers,
                             json={"plan_id": plan.id}).get_json()["id"]
    with db.session() as s, tenant_context(acc.tenant):
        someone = customers.create(s, first_name="Other", last_name="Person").id
        users.create_user(s, username="narrow@reseller.example", email="narrow@reseller.example", role="Manager",
                          password=PASSWORD, allowed_customer_ids=[someone])
    token = client.post("/reseller/auth/login", json={"username": "narrow@reseller.example", "password": PASSWORD},
                        headers={"Host": acc.host}).get_json()["token"]
    narrow = bearer(token, acc.host)
    assert client.get(f"/reseller/api/services/{service_id}", headers=narrow).status_code == 404
    assert client.get(f"/reseller/api/customers/{acc.customer_id}/services", headers=narrow).status_code == 404
    assert client.post(f"/reseller/api/services/{service_id}/suspend", headers=narrow, json={}).status_code == 404


def test_a_user_role_may_look_but_not_provision(client, app, db, accounts, make_plan):
    acc = accounts(role="User")
    plan = make_plan()
    with db.session() as s:
        catalogue.authorise(s, plan.id, acc.tenant.id)
    headers = _login(app, acc)
    assert client.get("/reseller/api/catalogue", headers=headers).status_code == 200
    assert client.post(f"/reseller/api/customers/{acc.customer_id}/services", headers=headers,
                       json={"plan_id": plan.id}).status_code == 403
    assert client.post("/reseller/api/prices", headers=headers, json={}).status_code == 403


def test_values_postgresql_cannot_hold_are_refused_not_crashed_on(client, reseller):
    acc, plan, headers = reseller
    huge = 2**70
    assert client.get(f"/reseller/api/services/{huge}", headers=headers).status_code == 404
    assert client.get(f"/reseller/api/prices/preview?plan_id={huge}", headers=headers).status_code == 422
    assert client.post(f"/reseller/api/customers/{acc.customer_id}/services", headers=headers,
                       json={"plan_id": plan.id, "region": "Nai\x00robi"}).status_code == 422
    service_id = client.post(f"/reseller/api/customers/{acc.customer_id}/services", headers=headers,
                             json={"plan_id": plan.id}).get_json()["id"]
    for payload in ({"plan_id": huge}, {"plan_id": "7"}):
        answer = client.post(f"/reseller/api/services/{service_id}/requests", headers=headers,
                             json={"kind": "upgrade", "payload": payload})
        assert answer.status_code == 422
    answer = client.post(f"/reseller/api/services/{service_id}/requests", headers=headers,
                         json={"kind": "relocation", "payload": {"installation_address": "a\x00b"}})
    assert answer.status_code == 422
    rule = {"service_type": "internet", "tariff_id": plan.id, "markup_type": "fixed", "effective_from": "2025-01-01"}
    for value in ("1e30", "-5", "0.001"):
        assert client.post("/reseller/api/prices", headers=headers, json={**rule, "markup_value": value}
                           ).status_code == 422, value
