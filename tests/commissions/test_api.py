"""The commission API: rules in the master ISP's console, and a reseller's lines and totals."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

from app import clock
from app.services.auth import users
from app.services.commissions import engine
from tenants import tenant_context
from tests.auth.conftest import PASSWORD
from tests.commissions.conftest import new_customer, pay
from tests.conftest import host_of
from tests.resellers.conftest import CONSOLE, sign_in, staff_headers

_n = itertools.count(1)


def _user(db, tenant, role="Admin", **kwargs) -> str:
    n = next(_n)
    with db.session() as s, tenant_context(tenant):
        user, _ = users.create_user(s, username=f"u{n}@comm.example", email=f"u{n}@comm.example", role=role,
                                    password=PASSWORD, **kwargs)
    return user.username


def test_staff_manage_a_resellers_rules(db, client, make_tenant, staff):
    tenant = make_tenant("RA")
    headers = staff_headers(client, staff)
    base = f"/console/api/resellers/{tenant.code}/commission-rules"
    reply = client.post(base, json={"kind": "recurring", "rate": "15.00", "effective_from": "2026-01-01"},
                        headers=headers)
    assert reply.status_code == 201, reply.get_json()
    rule = reply.get_json()
    assert (rule["kind"], rule["rate"], rule["effective_until"], rule["tenant_id"]) == ("recurring", "15.0000", None,
                                                                                      tenant.id)
    perf = client.post(base, json={"kind": "performance", "effective_from": "2026-01-01",
                                   "tiers": [{"from": "0", "rate": 1}, {"from": "100000", "rate": "2.5"}]},
                       headers=headers)
    assert perf.status_code == 201, perf.get_json()
    assert perf.get_json()["tiers"] == [{"from": "0", "rate": "1.0000"}, {"from": "100000", "rate": "2.5000"}]
    clash = client.post(base, json={"kind": "recurring", "rate": "12", "effective_from": "2026-06-01"},
                        headers=headers)
    assert clash.status_code == 409
    assert clash.headers["Content-Type"].startswith("application/problem+json")
    bad = client.post(base, json={"kind": "retention", "amount": "100.00", "effective_from": "2026-01-01"},
                      headers=headers)
    assert bad.status_code == 422
    listed = client.get(base, headers=headers).get_json()
    assert [r["kind"] for r in listed] == ["performance", "recurring"]
    assert client.get(f"{base}?kind=recurring&on=2025-12-31", headers=headers).get_json() == []

    changed = client.patch(f"{base}/{rule['id']}", json={"rate": "16"}, headers=headers)
    assert changed.status_code == 200, changed.get_json()
    successor = changed.get_json()
    assert successor["id"] != rule["id"] and successor["rate"] == "16.0000"
    assert successor["effective_from"] == clock.now().date().isoformat()
    ended = client.delete(f"{base}/{successor['id']}", headers=headers).get_json()
    assert ended["deleted"] is False and ended["rule"]["effective_until"] is not None
    assert client.get(f"/console/api/resellers/NOPE_{next(_n)}/commission-rules", headers=headers).status_code == 404
    assert client.patch(f"{base}/999999999", json={"rate": "1"}, headers=headers).status_code == 404


def test_a_reseller_cannot_touch_rules(db, client, make_tenant):
    tenant = make_tenant("RA")
    headers = sign_in(client, host_of(tenant), _user(db, tenant))
    reply = client.get(f"/console/api/resellers/{tenant.code}/commission-rules",
                       headers={**headers, "Host": CONSOLE})
    assert reply.status_code in (401, 403, 404)


def _earned(db, branch):
    first = new_customer(db, branch.c)
    second = new_customer(db, branch.c)
    ids = [pay(db, branch.c, first, "1000.00", at=datetime(2026, 3, 5, 9, tzinfo=UTC)),
           pay(db, branch.c, second, "200.00", at=datetime(2026, 3, 6, 9, tzinfo=UTC)),
           pay(db, branch.c, first, "300.00", at=datetime(2026, 4, 2, 9, tzinfo=UTC))]
    with tenant_context(branch.c):
        engine.compute_many(db, ids)
    return first, second


def test_lines_filtered_and_paged_with_their_total(db, client, tree):
    branch = tree()
    first, second = _earned(db, branch)
    headers = sign_in(client, host_of(branch.b), _user(db, branch.b, "Readonly"))
    page = client.get("/reseller/api/commissions?period=2026-03&per_page=1", headers=headers).get_json()
    assert (page["total"], len(page["items"]), page["per_page"]) == (2, 1, 1)
    line = page["items"][0]
    assert (line["kind"], line["source_tenant_id"], line["reseller_id"]) == ("recurring", branch.c.id, branch.b.id)
    assert (line["period_start"], line["period_end"], line["status"]) == ("2026-03-01", "2026-03-31", "Pending")
    mine = client.get(f"/reseller/api/commissions?customer_id={first}&source_tenant_id={branch.c.id}",
                      headers=headers).get_json()
    assert sorted(i["amount"] for i in mine["items"]) == ["15.00", "50.00"]
    assert client.get("/reseller/api/commissions?kind=setup", headers=headers).get_json()["total"] == 0
    assert client.get("/reseller/api/commissions?start=2026-04-01&end=2026-04-30",
                      headers=headers).get_json()["total"] == 1
    assert client.get("/reseller/api/commissions?period=2026-13", headers=headers).status_code == 422
    assert client.get("/reseller/api/commissions?period=2026-03&start=2026-03-01",
                      headers=headers).status_code == 422


def test_summary_totals_by_kind_and_status(db, client, tree):
    branch = tree()
    _earned(db, branch)
    headers = sign_in(client, host_of(branch.a), _user(db, branch.a))
    march = client.get("/reseller/api/commissions/summary?period=2026-03", headers=headers).get_json()
    assert march["start"] == "2026-03-01" and march["end"] == "2026-03-31"
    assert march["totals"] == [{"kind": "recurring", "status": "Pending", "currency": "USD", "count": 2,
                                "amount": "60.00"}]
    assert march["net"] == [{"currency": "USD", "amount": "60.00"}]
    everything = client.get("/reseller/api/commissions/summary", headers=headers).get_json()
    assert everything["net"] == [{"currency": "USD", "amount": "75.00"}]
    with tenant_context(branch.a):
        from app.services.commissions import summary

        with db.session() as s:
            assert summary.earned(s, date(2026, 3, 1), date(2026, 3, 31)) == 60


def test_a_user_limited_to_some_customers_sees_only_their_lines(db, client, tree):
    branch = tree()
    first, second = _earned(db, branch)
    headers = sign_in(client, host_of(branch.c), _user(db, branch.c, "User", allowed_customer_ids=[second]))
    page = client.get("/reseller/api/commissions", headers=headers).get_json()
    assert [i["customer_id"] for i in page["items"]] == [second]
    totals = client.get("/reseller/api/commissions/summary", headers=headers).get_json()
    assert totals["net"] == [{"currency": "USD", "amount": "20.00"}]
    # a sub-reseller's lines are not the parent's own customers: a limited user of B sees none
    limited = sign_in(client, host_of(branch.b), _user(db, branch.b, "User", allowed_customer_ids=[second]))
    assert client.get("/reseller/api/commissions", headers=limited).get_json()["total"] == 0
