"""The usage API over real accounting: what a reseller and a customer see of a service's usage, sessions
and CoA history, the customer's own alerts, an operator's Disconnect, and the reseller's RADIUS policy."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from app.services import services
from app.services.auth import users
from app.services.usage import views
from radius import coa, profiles
from radius import packet as rp
from tenants import tenant_context
from tests.conftest import host_of
from tests.radius.accounting_fixtures import INTERIM, START, STOP, Store, acct_nas, acct_packet, store  # noqa: F401
from tests.radius.test_coa import TestNas

MB = 2**20
PASSWORD = "Usage#Pass2026"
_n = itertools.count(1)


@pytest.fixture
def test_nas():
    nas = TestNas().start()
    yield nas
    nas.stop()


def user_headers(client, db, tenant, role: str = "Admin", **kwargs) -> dict:
    n = next(_n)
    with tenant_context(tenant), db.session() as s:
        users.create_user(s, username=f"ops{n}@usage.example", email=f"ops{n}@usage.example", role=role,
                          password=PASSWORD, **kwargs)
    host = host_of(tenant)
    token = client.post("/reseller/auth/login", json={"username": f"ops{n}@usage.example", "password": PASSWORD},
                        headers={"Host": host}).get_json()["token"]
    return {"Authorization": f"Bearer {token}", "Host": host}


def customer_headers(client, db, sub) -> dict:
    with tenant_context(sub.tenant), db.session() as s:
        customer_id = services.get(s, sub.service_id).customer_id
        users.set_portal_password(s, customer_id, PASSWORD)
    host = host_of(sub.tenant)
    token = client.post("/portal/auth/login", json={"portal_id": sub.portal_id, "password": PASSWORD},
                        headers={"Host": host}).get_json()["token"]
    return {"Authorization": f"Bearer {token}", "Host": host}


def today_of(db, tenant):
    with tenant_context(tenant), db.session() as s:
        return views.local_today(s)


def use(store, sub, upload_mb: int, download_mb: int, session_id: str = "u-1", status: str = INTERIM,  # noqa: F811
        **kwargs) -> None:
    assert all(store(acct_packet(sub.username, session_id, status, octets_in=upload_mb * MB,
                                 octets_out=download_mb * MB, session_time=600, **kwargs)))


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_json()
    assert response.content_type == "application/problem+json"
    return response.get_json()


def test_daily_usage_cycle_and_sessions_are_exact(client, db, store, subscriber):  # noqa: F811
    sub = subscriber(data_allowance_mb=100)
    headers = user_headers(client, db, sub.tenant)
    assert all(store(acct_packet(sub.username, "u-1", START, framed_ip="10.1.2.3")))
    use(store, sub, 8, 72, framed_ip="10.1.2.3")
    today = today_of(db, sub.tenant)

    body = client.get(f"/reseller/api/services/{sub.service_id}/usage",
                      query_string={"from": (today - timedelta(days=2)).isoformat(), "to": today.isoformat()},
                      headers=headers).get_json()
    assert body["days"] == [{"day": (today - timedelta(days=2)).isoformat(), "upload": 0, "download": 0},
                            {"day": (today - timedelta(days=1)).isoformat(), "upload": 0, "download": 0},
                            {"day": today.isoformat(), "upload": 8 * MB, "download": 72 * MB}]
    assert body["totals"] == {"upload": 8 * MB, "download": 72 * MB, "total": 80 * MB, "total_mb": "80.000"}
    cycle = body["cycle"]
    assert (cycle["used_octets"], cycle["used_mb"], cycle["allowance_mb"], cycle["remaining_mb"], cycle["percent"],
            cycle["state"], cycle["thresholds_crossed"]) == (80 * MB, "80.000", 100, "20.000", "80.0", "warning", [75])
    assert cycle["start"] <= today.isoformat() <= cycle["end"]

    default = client.get(f"/reseller/api/services/{sub.service_id}/usage", headers=headers).get_json()
    assert len(default["days"]) == 30 and default["to"] == today.isoformat()
    assert default["totals"]["total"] == 80 * MB

    sessions = client.get(f"/reseller/api/services/{sub.service_id}/sessions", headers=headers).get_json()
    assert sessions["total"] == 1
    [live] = sessions["items"]
    assert (live["status"], live["upload"], live["download"], live["framed_ip"], live["nas_name"],
            live["acct_session_id"], live["session_time"]) == ("Open", 8 * MB, 72 * MB, "10.1.2.3", "test NAS",
                                                               "u-1", 600)

    use(store, sub, 10, 110, status=STOP, cause="User-Request")  # 40 MB more: past the allowance
    assert all(store(acct_packet(sub.username, "u-2", START)))
    page = client.get(f"/reseller/api/services/{sub.service_id}/sessions", query_string={"per_page": 1, "page": 2},
                      headers=headers).get_json()
    assert page["total"] == 2 and [(x["acct_session_id"], x["status"], x["terminate_cause"], x["upload"])
                                   for x in page["items"]] == [("u-1", "Closed", "User-Request", 10 * MB)]
    closed = client.get(f"/reseller/api/services/{sub.service_id}/sessions", query_string={"status": "Open"},
                        headers=headers).get_json()
    assert [x["acct_session_id"] for x in closed["items"]] == ["u-2"]

    cycle = client.get(f"/reseller/api/services/{sub.service_id}/usage", headers=headers).get_json()["cycle"]
    assert (cycle["used_mb"], cycle["percent"], cycle["remaining_mb"], cycle["state"]) == \
        ("120.000", "120.0", "0.000", "limited")  # no top-up: fair use limited the service

    problem(client.get(f"/reseller/api/services/{sub.service_id}/usage",
                       query_string={"from": today.isoformat(), "to": (today - timedelta(days=1)).isoformat()},
                       headers=headers), 422)
    problem(client.get(f"/reseller/api/services/{sub.service_id}/usage",
                       query_string={"from": "2020-01-01", "to": today.isoformat()}, headers=headers), 422)


def test_an_unlimited_plan_shows_usage_without_a_percent(client, db, store, subscriber):  # noqa: F811
    sub = subscriber()
    assert all(store(acct_packet(sub.username, "n-1", START)))
    use(store, sub, 1, 3, session_id="n-1")
    cycle = client.get(f"/reseller/api/services/{sub.service_id}/usage",
                       headers=user_headers(client, db, sub.tenant)).get_json()["cycle"]
    assert (cycle["used_octets"], cycle["allowance_mb"], cycle["percent"], cycle["remaining_mb"], cycle["state"]) == \
        (4 * MB, None, None, None, "unlimited")


def test_other_resellers_and_restricted_users_see_nothing(client, db, store, subscriber, make_tenant):  # noqa: F811
    sub = subscriber(data_allowance_mb=100)
    use(store, sub, 1, 9)
    own = user_headers(client, db, sub.tenant)
    other_tenant = make_tenant("OTH")  # a reseller without any service
    other = user_headers(client, db, other_tenant)
    for path in ("usage", "sessions", "coa", "usage-thresholds"):
        assert client.get(f"/reseller/api/services/{sub.service_id}/{path}", headers=own).status_code == 200
        problem(client.get(f"/reseller/api/services/{sub.service_id}/{path}", headers=other), 404)
    problem(client.post(f"/reseller/api/services/{sub.service_id}/disconnect", json={}, headers=other), 404)
    # a token of one reseller is refused on another's host
    assert client.get(f"/reseller/api/services/{sub.service_id}/usage",
                      headers={**other, "Host": host_of(sub.tenant)}).status_code == 401

    with tenant_context(sub.tenant), db.session() as s:
        from app.services import customers

        someone_else = customers.create(s, first_name="Other", last_name="Customer").id
    limited = user_headers(client, db, sub.tenant, role="User", allowed_customer_ids=[someone_else])
    problem(client.get(f"/reseller/api/services/{sub.service_id}/usage", headers=limited), 404)
    problem(client.get(f"/reseller/api/services/{sub.service_id}/sessions", headers=limited), 404)


def test_customer_sees_own_usage_and_sets_own_alerts_only(client, db, store, subscriber, make_shop):  # noqa: F811
    sub = subscriber(data_allowance_mb=200)
    neighbour = subscriber(data_allowance_mb=200, shop=_shop_of(db, sub, make_shop))
    assert all(store(acct_packet(sub.username, "c-1", START)))
    use(store, sub, 10, 50, session_id="c-1")
    mine, theirs = customer_headers(client, db, sub), customer_headers(client, db, neighbour)

    [service] = client.get("/portal/api/usage", headers=mine).get_json()
    today = today_of(db, sub.tenant)
    assert (service["service_id"], service["status"], len(service["days"]), service["to"]) == \
        (sub.service_id, "Active", 30, today.isoformat())
    assert service["days"][-1] == {"day": today.isoformat(), "upload": 10 * MB, "download": 50 * MB}
    assert (service["cycle"]["used_mb"], service["cycle"]["percent"], service["cycle"]["state"]) == \
        ("60.000", "30.0", "ok")
    [other] = client.get("/portal/api/usage", headers=theirs).get_json()
    assert other["service_id"] == neighbour.service_id and other["totals"]["total"] == 0

    path = f"/portal/api/services/{sub.service_id}/usage-thresholds"
    put = client.put(path, json={"percents": [50, 40]}, headers=mine)
    assert put.status_code == 200, put.get_json()
    assert put.get_json() == {"service_id": sub.service_id, "percents": [40, 50], "platform": [75, 90, 100],
                              "effective": [40, 50, 75, 90, 100]}
    problem(client.get(path, headers=theirs), 404)
    problem(client.put(path, json={"percents": [10]}, headers=theirs), 404)
    problem(client.put("/portal/api/services/999999/usage-thresholds", json={"percents": [10]}, headers=mine), 404)
    assert client.get(path, headers=mine).get_json()["percents"] == [40, 50]
    [event] = [e for e in client.get("/portal/api/activity", headers=mine).get_json()
               if e["action"] == "usage_thresholds.set"]
    assert event["detail"] == {"service_id": sub.service_id, "percents": [40, 50]}
    # the reseller sees the same alerts, and the next accounting announces the customer's own 40 and 50 %
    assert client.get(f"/reseller/api/services/{sub.service_id}/usage-thresholds",
                      headers=user_headers(client, db, sub.tenant)).get_json()["percents"] == [40, 50]
    use(store, sub, 10, 100, session_id="c-1")  # 110 of 200 MB: 55 %
    [service] = client.get("/portal/api/usage", headers=mine).get_json()
    assert service["cycle"]["thresholds_crossed"] == [40, 50]
    # a reseller route is not a customer's
    assert client.get(f"/reseller/api/services/{sub.service_id}/usage", headers=mine).status_code == 403


def _shop_of(db, sub, make_shop):
    """The subscriber's shop again (same tenant and plan), for a second customer of the same reseller."""
    from app.models.catalogue import Plan
    from tests.provisioning.conftest import Shop

    with tenant_context(sub.tenant), db.session() as s:
        plan = s.get(Plan, services.get(s, sub.service_id).plan_id)
        s.expunge(plan)
    return Shop(sub.tenant, plan, 0, "")


@pytest.mark.parametrize("percents", [[0], [101], [10, 20, 30, 40, 50, 60], [50, 50], ["50"], [12.5], None, "50"])
def test_alert_thresholds_are_validated(client, db, subscriber, percents):
    sub = subscriber(data_allowance_mb=100)
    headers = user_headers(client, db, sub.tenant)
    body = problem(client.put(f"/reseller/api/services/{sub.service_id}/usage-thresholds",
                              json={"percents": percents}, headers=headers), 422)
    assert "percents" in str(body)
    assert client.get(f"/reseller/api/services/{sub.service_id}/usage-thresholds",
                      headers=headers).get_json()["percents"] == []


def test_thresholds_need_modify_and_readonly_users_cannot_change_them(client, db, subscriber):
    sub = subscriber(data_allowance_mb=100)
    readonly = user_headers(client, db, sub.tenant, role="Readonly")
    path = f"/reseller/api/services/{sub.service_id}/usage-thresholds"
    assert client.get(path, headers=readonly).status_code == 200
    problem(client.put(path, json={"percents": [60]}, headers=readonly), 403)
    admin = user_headers(client, db, sub.tenant)
    assert client.put(path, json={"percents": [60, 95]}, headers=admin).get_json()["effective"] == [60, 75, 90, 95, 100]
    assert client.put(path, json={"percents": []}, headers=admin).get_json()["percents"] == []


def test_radius_policy_round_trip_is_what_the_server_reads(client, db, make_tenant):
    tenant = make_tenant("POL")
    admin = user_headers(client, db, tenant)
    default = client.get("/reseller/api/radius/policy", headers=admin).get_json()
    assert default == {"session_timeout": 0, "interim_interval": 900, "stale_after_intervals": 3,
                       "session_retention_days": 180, "suspended_action": "reject",
                       "payment_page_address_list": "backhaul-payment-page", "payment_page_pool": None,
                       "payment_page_rate_kbps": {"download": 512, "upload": 256}}
    wanted = {"session_timeout": 86400, "interim_interval": 300, "suspended_action": "payment_page",
              "payment_page_address_list": "unpaid", "payment_page_pool": "captive",
              "payment_page_rate_kbps": {"download": 1024, "upload": 512}, "session_retention_days": 90}
    put = client.put("/reseller/api/radius/policy", json=wanted, headers=admin)
    assert put.status_code == 200, put.get_json()
    assert put.get_json() == {**wanted, "stale_after_intervals": 3}
    with tenant_context(tenant), db.session() as s:
        from app.services.usage.config import radius_settings

        server_view = profiles.policy(s)
        upkeep_view = radius_settings(s)
    assert server_view == {k: v for k, v in wanted.items() if k != "session_retention_days"}
    assert (upkeep_view["interim_interval"], upkeep_view["session_retention_days"]) == (300, 90)
    # PUT replaces: what is left out goes back to its default
    assert client.put("/reseller/api/radius/policy", json={"payment_page_address_list": None},
                      headers=admin).get_json() == {**default, "payment_page_address_list": None}
    with db.session() as s:
        from sqlalchemy import select

        from app.models import AuditEvent

        actions = s.execute(select(AuditEvent.action).where(AuditEvent.tenant_id == tenant.id)).scalars().all()
    assert actions.count("radius_policy.set") == 2
    spec = client.get("/api/openapi.json", headers={"Host": "console.test.example"}).get_json()
    assert "30 s" in str(spec["paths"]["/reseller/api/radius/policy"])


@pytest.mark.parametrize("body", [
    {"suspended_action": "drop"}, {"interim_interval": 10}, {"interim_interval": "900"}, {"session_timeout": -1},
    {"session_timeout": 2**31}, {"payment_page_rate_kbps": {"download": 512}},
    {"payment_page_rate_kbps": {"download": 0, "upload": 256}}, {"payment_page_address_list": ""},
    {"payment_page_pool": " leading-space"}, {"payment_page_address_list": "a\nb"}, {"colour": "blue"},
    {"stale_after_intervals": 0}, {"session_retention_days": True},
])
def test_radius_policy_is_validated(client, db, make_tenant, body):
    tenant = make_tenant("POV")
    admin = user_headers(client, db, tenant)
    problem(client.put("/reseller/api/radius/policy", json=body, headers=admin), 422)
    assert client.get("/reseller/api/radius/policy", headers=admin).get_json()["suspended_action"] == "reject"


def test_radius_policy_needs_settings_manage(client, db, make_tenant):
    tenant = make_tenant("POR")
    user = user_headers(client, db, tenant, role="User")
    assert client.get("/reseller/api/radius/policy", headers=user).status_code == 200
    problem(client.put("/reseller/api/radius/policy", json={}, headers=user), 403)


def test_operator_disconnect_reaches_the_router_and_is_in_the_history(client, db, acct_nas, test_nas,  # noqa: F811
                                                                      subscriber):
    store = Store(db, acct_nas(coa_port=test_nas.port))  # noqa: F811
    sub = subscriber()
    headers = user_headers(client, db, sub.tenant)
    path = f"/reseller/api/services/{sub.service_id}/disconnect"
    problem(client.post(path, json={}, headers=headers), 409)  # nothing live yet

    assert all(store(acct_packet(sub.username, "d-1", START, framed_ip="10.0.0.9")))
    response = client.post(path, json={"reason": "stuck session"}, headers=headers)
    assert response.status_code == 202, response.get_json()
    [queued] = response.get_json()
    assert (queued["kind"], queued["status"], queued["nas_ip"]) == ("Disconnect", "Pending", "127.0.0.1")
    assert queued["trigger"].startswith("disconnect by user ") and queued["trigger"].endswith(": stuck session")

    with tenant_context(sub.tenant), db.session() as s:
        assert coa.send(s, queued["id"]) == "ACK"
    [request] = test_nas.received
    assert request.code == rp.DISCONNECT_REQUEST
    assert (request.string(rp.USER_NAME), request.value("Acct-Session-Id"), request.value("Framed-IP-Address")) == \
        (sub.username, "d-1", "10.0.0.9")
    with tenant_context(sub.tenant), db.session() as s:
        assert services.get(s, sub.service_id).status == "Active"  # a disconnect is not a suspension

    test_nas.answer, test_nas.error_cause = "NAK", 503
    second = client.post(path, json={}, headers=headers).get_json()[0]
    with tenant_context(sub.tenant), db.session() as s:
        assert coa.send(s, second["id"]) == "NAK"
    history = client.get(f"/reseller/api/services/{sub.service_id}/coa", headers=headers).get_json()
    assert history["total"] == 2
    assert [(x["id"], x["status"], x["result"], x["error_cause"], x["error_cause_name"]) for x in history["items"]] == [
        (second["id"], "Done", "NAK", 503, "Session Context Not Found"), (queued["id"], "Done", "ACK", None, None)]
    assert history["items"][1]["attributes"]["Acct-Session-Id"] == ["d-1"]

    readonly = user_headers(client, db, sub.tenant, role="Readonly")
    problem(client.post(path, json={}, headers=readonly), 403)
    assert all(store(acct_packet(sub.username, "d-1", STOP, cause="Admin-Reset")))
    problem(client.post(path, json={}, headers=headers), 409)  # the session has ended
    problem(client.post(path, json={"reason": 5}, headers=headers), 422)


def test_usage_by_week_and_month_and_the_customers_own_service_view(client, db, store, subscriber, make_shop):  # noqa: F811
    from datetime import date

    from app.models.usage import UsageDaily

    sub = subscriber(data_allowance_mb=1000)
    neighbour = subscriber(shop=_shop_of(db, sub, make_shop))
    with tenant_context(sub.tenant), db.session() as s:  # earlier days, as the accounting store leaves them
        s.add_all([UsageDaily(service_id=sub.service_id, day=date(2026, 1, d), upload=d * MB, download=10 * d * MB)
                   for d in (1, 4, 5, 12, 31)] + [UsageDaily(service_id=sub.service_id, day=date(2026, 2, 2),
                                                             upload=MB, download=MB)])
    mine = customer_headers(client, db, sub)
    path = f"/portal/api/services/{sub.service_id}/usage"
    weeks = client.get(path, query_string={"from": "2026-01-01", "to": "2026-02-03", "group": "week"},
                       headers=mine).get_json()
    assert [(w["day"], w["upload"] // MB, w["download"] // MB) for w in weeks["days"]] == [
        ("2026-01-01", 5, 50),  # Thursday 1 to Sunday 4
        ("2026-01-05", 5, 50), ("2026-01-12", 12, 120), ("2026-01-19", 0, 0), ("2026-01-26", 31, 310),
        ("2026-02-02", 1, 1)]
    months = client.get(path, query_string={"from": "2025-12-15", "to": "2026-02-03", "group": "month"},
                        headers=mine).get_json()
    assert [(m["day"], m["upload"] // MB, m["download"] // MB) for m in months["days"]] == [
        ("2025-12-15", 0, 0), ("2026-01-01", 53, 530), ("2026-02-01", 1, 1)]
    assert months["totals"]["total"] == 54 * MB + 531 * MB
    problem(client.get(path, query_string={"group": "year"}, headers=mine), 422)
    problem(client.get(path, query_string={"from": "1999-12-31"}, headers=mine), 422)
    problem(client.get(path, headers=customer_headers(client, db, neighbour)), 404)

    use(store, sub, 2, 8, session_id="w-1", status=START)
    use(store, sub, 2, 8, session_id="w-1")
    today = client.get(path, headers=mine).get_json()
    assert today["days"][-1]["upload"] == 2 * MB and today["cycle"]["used_mb"] == "10.000"
