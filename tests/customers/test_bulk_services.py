"""The services of many customers at once: suspend, restore, change plan; per-customer and per-service
results, one failure never stopping the others, and only what the caller may see and do."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.services.auth import users
from tenants import tenant_context

BULK = "/customers/bulk/services"


def _services(out: dict) -> dict[int, dict]:
    return {s["id"]: s for customer in out["results"] for s in customer["services"]}


def _status(r, service_id: int) -> str:
    return r.get(f"/services/{service_id}").get_json()["status"]


@pytest.fixture
def town(reseller):
    """Two Nairobi customers with services in every live status, and one in Kisumu."""
    r = reseller()
    internet, voice = r.plan("internet"), r.plan("voice", wholesale_price="10.00")
    amina = r.make(first_name="Amina", last_name="Otieno", county="Nairobi")
    brian = r.make(first_name="Brian", last_name="Kiprono", county="Nairobi")
    kioko = r.make(first_name="Kioko", last_name="Mutua", county="Kisumu")
    s = {
        "amina_net": r.service(amina.id, internet, "Active"),
        "amina_voice": r.service(amina.id, voice, "Active"),
        "amina_old": r.service(amina.id, internet, "Terminated"),
        "brian_net": r.service(brian.id, internet, "Limited"),
        "brian_new": r.service(brian.id, internet, "Pending"),
        "kioko_net": r.service(kioko.id, internet, "Active"),
    }
    return r, {"amina": amina, "brian": brian, "kioko": kioko}, s, {"internet": internet, "voice": voice}


def test_suspend_over_a_filter_reports_every_customer_and_service(town):
    r, c, s, _ = town
    response = r.post(f"{BULK}/suspend", {"filter": {"county": "nairobi"}, "reason": "county-wide outage"})
    assert response.status_code == 200, response.get_json()
    out = response.get_json()
    assert out["action"] == "suspend" and out["customers"] == 2 and out["services"] == 4  # never the Terminated
    assert (out["changed"], out["unchanged"], out["refused"], out["failed"], out["not_found"]) == (3, 0, 1, 0, 0)
    by_customer = {x["id"]: x for x in out["results"]}
    assert by_customer[c["amina"].id]["outcome"] == "changed"
    assert by_customer[c["amina"].id]["portal_id"] == c["amina"].portal_id
    assert by_customer[c["brian"].id]["outcome"] == "failed"  # one service refused, the other still done
    services = _services(out)
    assert services[s["brian_net"]]["from_status"] == "Limited" and services[s["brian_net"]]["to_status"] == "Suspended"
    refused = services[s["brian_new"]]
    assert refused["outcome"] == "refused" and "Pending cannot be suspended" in refused["detail"]
    for name, status in [("amina_net", "Suspended"), ("amina_voice", "Suspended"), ("amina_old", "Terminated"),
                         ("brian_net", "Suspended"), ("brian_new", "Pending"), ("kioko_net", "Active")]:
        assert _status(r, s[name]) == status, name
    # each change is in the service's own history, with the reason and who did it
    history = r.get(f"/services/{s['amina_net']}").get_json()["history"]
    assert history[-1]["to_status"] == "Suspended" and history[-1]["reason"] == "county-wide outage"
    assert r.acc.username in history[-1]["actor"]
    # again: what is suspended already is reported unchanged
    again = r.post(f"{BULK}/suspend", {"ids": [c["amina"].id], "reason": "again"}).get_json()
    assert {x["outcome"] for x in _services(again).values()} == {"unchanged"}
    assert again["results"][0]["outcome"] == "unchanged"


def test_a_service_type_in_the_filter_narrows_the_services_too(town):
    r, c, s, _ = town
    out = r.post(f"{BULK}/suspend", {"filter": {"service_type": "voice"}, "reason": "voice upgrade"}).get_json()
    assert [x["id"] for x in out["results"]] == [c["amina"].id]
    assert list(_services(out)) == [s["amina_voice"]]
    assert _status(r, s["amina_voice"]) == "Suspended" and _status(r, s["amina_net"]) == "Active"


def test_restore_lifts_suspensions_only(town, db):
    r, c, s, _ = town
    r.post(f"{BULK}/suspend", {"ids": [c["amina"].id], "reason": "unpaid"})
    hold = r.service(c["kioko"].id, r.plan("internet"), "Active")
    held = r.post(f"/services/{hold}/requests", {"kind": "suspension", "payload": {
        "from": _today(r), "until": "2099-01-31"}})
    assert held.status_code == 201, held.get_json()
    assert _status(r, hold) == "Suspended"

    out = r.post(f"{BULK}/restore", {"filter": {}, "reason": "paid"}).get_json()
    services = _services(out)
    assert {k: services[s[k]]["outcome"] for k in ("amina_net", "amina_voice", "brian_net", "kioko_net")} == {
        "amina_net": "changed", "amina_voice": "changed", "brian_net": "unchanged", "kioko_net": "unchanged"}
    assert "fair-use" in services[s["brian_net"]]["detail"]
    assert services[hold]["outcome"] == "unchanged" and "vacation hold until 2099-01-31" in services[hold]["detail"]
    assert services[s["brian_new"]]["outcome"] == "refused"
    assert _status(r, s["amina_net"]) == "Active" and _status(r, s["brian_net"]) == "Limited"
    assert _status(r, hold) == "Suspended"


def _today(r) -> str:
    from app.services import pricing

    with r.db.session() as s, tenant_context(r.tenant):
        return pricing.today(s).isoformat()


def test_change_plan_moves_each_service_it_can_and_reports_the_others(town):
    r, c, s, plans = town
    faster = r.plan("internet", wholesale_price="80.00", regions=None)
    out = r.post(f"{BULK}/change-plan", {"filter": {"county": "Nairobi"}, "plan_code": faster.code,
                                         "reason": "network upgrade: everyone to 80 Mbit/s"}).get_json()
    services = _services(out)
    # internet services only (the plan's kind): Amina's voice is not touched
    assert set(services) == {s["amina_net"], s["brian_net"], s["brian_new"]}
    assert all(x["outcome"] == "changed" and x["to_plan_id"] == faster.id
               and x["from_plan_id"] == plans["internet"].id for x in services.values())
    active = r.get(f"/services/{s['amina_net']}").get_json()
    assert active["plan_code"] == faster.code and Decimal(active["price"]) == Decimal("80.00")  # today's price
    pending = r.get(f"/services/{s['brian_new']}").get_json()
    assert pending["plan_code"] == faster.code and pending["price"] is None  # priced when activated
    assert r.get(f"/services/{s['kioko_net']}").get_json()["plan_code"] == plans["internet"].code
    # tracked like any plan change: a completed request, with the reason
    [request] = r.get(f"/services/{s['amina_net']}/requests").get_json()
    assert (request["kind"], request["status"], request["note"]) == (
        "upgrade", "Completed", "network upgrade: everyone to 80 Mbit/s")
    # the same again: nothing to do
    again = r.post(f"{BULK}/change-plan", {"ids": [c["amina"].id], "plan_code": faster.code, "reason": "x"}).get_json()
    assert _services(again)[s["amina_net"]]["outcome"] == "unchanged"


def test_change_plan_refuses_a_service_where_the_plan_is_not_sold_and_goes_on(reseller):
    r = reseller()
    home = r.plan("internet")
    coastal = r.plan("internet", wholesale_price="50.00", regions=["Mombasa"])
    customer = r.make(county="Mombasa")
    inland = r.service(customer.id, home, "Active", region=None)
    seaside = r.service(customer.id, home, "Active", region="Mombasa")
    out = r.post(f"{BULK}/change-plan", {"ids": [customer.id], "plan_code": coastal.code,
                                         "reason": "coastal offer"}).get_json()
    services = _services(out)
    assert services[seaside]["outcome"] == "changed"
    assert services[inland]["outcome"] == "refused" and "not sold without a region" in services[inland]["detail"]
    assert out["results"][0]["outcome"] == "failed" and (out["changed"], out["refused"]) == (1, 1)
    [request] = r.get(f"/services/{seaside}/requests").get_json()
    assert request["kind"] == "downgrade"  # a cheaper plan
    assert r.get(f"/services/{inland}/requests").get_json() == []  # rolled back with its savepoint


def test_change_plan_where_requests_need_approval_is_approved_by_the_caller(reseller):
    r = reseller()
    r.setting("services", approval_required=["upgrade", "downgrade"])
    home, bigger = r.plan("internet"), r.plan("internet", wholesale_price="90.00")
    customer = r.make()
    service_id = r.service(customer.id, home, "Active")
    out = r.post(f"{BULK}/change-plan", {"ids": [customer.id], "plan_code": bigger.code, "reason": "upsell"})
    assert _services(out.get_json())[service_id]["outcome"] == "changed"
    [request] = r.get(f"/services/{service_id}/requests").get_json()
    assert request["status"] == "Completed" and r.acc.username in request["decided_by"]


def test_a_database_error_on_one_service_does_not_stop_the_others(town):
    """A real failure inside PostgreSQL (a trigger of this test's tenant refusing one row) is rolled back
    to that service's savepoint; the others are done and committed."""
    r, c, s, _ = town
    r.sql(f"""CREATE FUNCTION refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$
              BEGIN IF NEW.id = {s['amina_voice']} THEN RAISE EXCEPTION 'disk on fire'; END IF; RETURN NEW; END $$""")
    r.sql("CREATE TRIGGER refuse_one BEFORE UPDATE ON services FOR EACH ROW EXECUTE FUNCTION refuse_one()")
    out = r.post(f"{BULK}/suspend", {"ids": [c["amina"].id, c["kioko"].id], "reason": "test"}).get_json()
    services = _services(out)
    assert services[s["amina_voice"]]["outcome"] == "failed" and "disk" not in services[s["amina_voice"]]["detail"]
    assert services[s["amina_net"]]["outcome"] == services[s["kioko_net"]]["outcome"] == "changed"
    assert _status(r, s["amina_voice"]) == "Active"
    assert _status(r, s["amina_net"]) == _status(r, s["kioko_net"]) == "Suspended"
    assert [h["to_status"] for h in r.get(f"/services/{s['amina_voice']}").get_json()["history"]] == [
        "Pending", "Active"]  # nothing of the failed attempt is left


def test_who_may_do_what(reseller, db):
    admin = reseller()
    plan = admin.plan()
    mine, theirs = admin.make(first_name="Mine", last_name="One"), admin.make(first_name="Theirs", last_name="Two")
    my_service, their_service = admin.service(mine.id, plan, "Active"), admin.service(theirs.id, plan, "Active")
    # a user restricted to some customers acts on those only; others are not found, whatever the filter
    with db.session() as s, tenant_context(admin.tenant):
        users.create_user(s, username="field@reseller.example", email="field@reseller.example", role="Manager",
                          password="Str0ng#Pass", allowed_customer_ids=[mine.id])
    token = admin.client.post("/reseller/auth/login", json={"username": "field@reseller.example",
                                                            "password": "Str0ng#Pass"},
                              headers={"Host": admin.acc.host}).get_json()["token"]
    field = {"Authorization": f"Bearer {token}", "Host": admin.acc.host}
    out = admin.client.post(f"/reseller/api{BULK}/suspend", json={"filter": {}, "reason": "x"}, headers=field)
    assert [x["id"] for x in out.get_json()["results"]] == [mine.id]
    out = admin.client.post(f"/reseller/api{BULK}/suspend", json={"ids": [theirs.id], "reason": "x"}, headers=field)
    assert out.get_json()["results"] == [{"id": theirs.id, "portal_id": None, "outcome": "not_found", "services": []}]
    assert _status(admin, my_service) == "Suspended" and _status(admin, their_service) == "Active"
    # suspending is services.suspend, changing plans services.modify
    with db.session() as s, tenant_context(admin.tenant):
        users.create_role(s, name="Suspender", permissions_=["services.view", "services.suspend"])
        users.create_user(s, username="noc@reseller.example", email="noc@reseller.example", role="Suspender",
                          password="Str0ng#Pass")
    token = admin.client.post("/reseller/auth/login", json={"username": "noc@reseller.example",
                                                            "password": "Str0ng#Pass"},
                              headers={"Host": admin.acc.host}).get_json()["token"]
    noc = {"Authorization": f"Bearer {token}", "Host": admin.acc.host}
    body = {"ids": [theirs.id], "reason": "x"}
    assert admin.client.post(f"/reseller/api{BULK}/restore", json=body, headers=noc).status_code == 200
    refused = admin.client.post(f"/reseller/api{BULK}/change-plan", json={**body, "plan_code": plan.code}, headers=noc)
    assert refused.status_code == 403 and "services.modify" in refused.get_json()["detail"]


def test_bad_input_is_a_problem_that_says_what_is_wrong(town):
    r, c, _, plans = town
    ids = [c["amina"].id]
    for body, field in [({"reason": "x"}, "ids"), ({"ids": ids, "filter": {}, "reason": "x"}, "ids"),
                        ({"ids": [], "reason": "x"}, "ids"), ({"ids": ids}, "reason"),
                        ({"ids": ids, "reason": ""}, "reason"), ({"filter": {"service_type": "fibre"}, "reason": "x"},
                                                                 "filter")]:
        response = r.post(f"{BULK}/suspend", body)
        assert response.status_code == 422, body
        assert response.headers["Content-Type"] == "application/problem+json"
        assert field in response.get_json()["errors"]["json"], (body, response.get_json())
    unknown = r.post(f"{BULK}/change-plan", {"ids": ids, "plan_code": "NO-SUCH-PLAN", "reason": "x"})
    assert unknown.status_code == 422 and unknown.get_json()["errors"] == {"plan_code": ["not in your catalogue"]}
    assert "NO-SUCH-PLAN" in unknown.get_json()["detail"]
    mismatch = r.post(f"{BULK}/change-plan", {"filter": {"service_type": "voice"}, "plan_code": plans["internet"].code,
                                              "reason": "x"})
    assert mismatch.status_code == 422 and "is for internet services" in mismatch.get_json()["detail"]
    assert r.post(f"{BULK}/change-plan", {"ids": ids, "reason": "x"}).status_code == 422  # which plan?
