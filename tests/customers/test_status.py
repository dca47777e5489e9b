"""The customer lifecycle: the transition table, the history of every change, approval, bulk changes."""

import itertools

from app.services.customers import STATUSES, TRANSITIONS

# The table as the lifecycle of 001 §3.3 reads; written out here so that a change to it is deliberate.
EXPECTED = {
    "New": {"Active", "Pending", "Inactive"},
    "Pending": {"New", "Active", "Inactive"},
    "Active": {"Suspended", "Inactive"},
    "Suspended": {"Active", "Inactive"},
    "Inactive": set(),
}


def test_the_table_is_the_documented_one():
    assert set(STATUSES) == {"New", "Active", "Suspended", "Inactive", "Pending"}
    assert {k: set(v) for k, v in TRANSITIONS.items()} == EXPECTED


def test_every_transition_allowed_or_refused_as_the_table_says(reseller):
    r = reseller()
    for current, target in itertools.product(STATUSES, STATUSES):
        customer = r.make(status=current)
        response = r.status(customer.id, target, f"{current} to {target}")
        out = response.get_json()
        if target == current:
            assert response.status_code == 200 and out["outcome"] == "unchanged", (current, target, out)
        elif target in EXPECTED[current]:
            assert response.status_code == 200 and out["outcome"] == "changed", (current, target, out)
            assert out["customer"]["status"] == target and out["from_status"] == current
        else:
            assert response.status_code == 409, (current, target, out)
            assert out["type"] == "/problems/status-transition-refused"
            assert out["allowed"] == sorted(EXPECTED[current]) and out["from_status"] == current
            assert r.get(f"/customers/{customer.id}").get_json()["status"] == current


def test_history_says_who_when_and_why(reseller):
    r = reseller()
    customer = r.create()
    steps = [("Active", "installation done"), ("Suspended", "unpaid invoice INV-1"), ("Active", "paid"),
             ("Inactive", "moved to Mombasa")]
    for status, reason in steps:
        assert r.status(customer["id"], status, reason).status_code == 200
    history = r.get(f"/customers/{customer['id']}/history").get_json()
    assert [(h["from_status"], h["to_status"], h["reason"]) for h in history] == [
        (None, "New", "created"), ("New", "Active", "installation done"),
        ("Active", "Suspended", "unpaid invoice INV-1"), ("Suspended", "Active", "paid"),
        ("Active", "Inactive", "moved to Mombasa")]
    assert all(h["actor_kind"] == "user" and h["actor_id"] == r.acc.user_id and r.acc.username in h["actor"]
               for h in history)
    assert [h["at"] for h in history] == sorted(h["at"] for h in history)
    events = r.sql("SELECT action, detail->>'to_status', detail->>'reason' FROM activity_log "
                   "WHERE customer_id = :i AND action = 'customer.status_changed' ORDER BY id", i=customer["id"])
    assert [(e[1], e[2]) for e in events] == steps
    # and nothing leaves Inactive, with the reason why
    refused = r.status(customer["id"], "Active", "came back").get_json()
    assert refused["status"] == 409 and "Inactive is final" in refused["detail"]


def test_a_reason_is_needed(reseller):
    r = reseller()
    customer = r.create()
    assert r.post(f"/customers/{customer['id']}/status", {"status": "Active"}).status_code == 422
    assert r.post(f"/customers/{customer['id']}/status", {"status": "Active", "reason": "   "}).status_code == 422
    assert r.post(f"/customers/{customer['id']}/status", {"status": "Approved", "reason": "x"}).status_code == 422


def test_approval_flow(reseller):
    r = reseller()
    r.setting("customers", require_approval=True)
    pending = r.create(first_name="Baraka", last_name="Njoroge")
    assert pending["status"] == "Pending" and pending["approved_at"] is None
    assert r.get("/customers", status="Pending").get_json()["total"] == 1
    approved = r.post(f"/customers/{pending['id']}/approve", {"reason": "coverage confirmed"})
    assert approved.status_code == 200, approved.get_json()
    out = approved.get_json()
    assert (out["from_status"], out["to_status"], out["customer"]["status"]) == ("Pending", "New", "New")
    assert out["customer"]["approved_at"] and r.acc.username in out["customer"]["approved_by"]
    again = r.post(f"/customers/{pending['id']}/approve")
    assert again.status_code == 409 and "only a Pending customer" in again.get_json()["detail"]
    # straight to Active
    other = r.create(first_name="Faith", last_name="Chebet")
    out = r.post(f"/customers/{other['id']}/approve", {"activate": True}).get_json()
    assert out["customer"]["status"] == "Active" and out["customer"]["approved_by"]
    history = r.get(f"/customers/{other['id']}/history").get_json()
    assert [(h["from_status"], h["to_status"], h["reason"]) for h in history] == [
        (None, "Pending", "awaiting approval"), ("Pending", "Active", "approved")]
    actions = [a for (a,) in r.sql("SELECT action FROM activity_log WHERE customer_id = :i ORDER BY id", i=other["id"])]
    assert actions == ["customer.created", "customer.approved"]
    # without the setting, customers start New
    r.setting("customers", require_approval=False)
    assert r.create()["status"] == "New"


def test_bulk_status_reports_each_customer(reseller):
    r = reseller()
    active, new, suspended, inactive = (r.make(status=s) for s in ("Active", "New", "Suspended", "Inactive"))
    body = {"ids": [active.id, new.id, suspended.id, inactive.id, 999999, active.id],
            "status": "Suspended", "reason": "network maintenance in Westlands"}
    response = r.post("/customers/bulk/status", body)
    assert response.status_code == 200, response.get_json()
    out = response.get_json()
    by_id = {x["id"]: x for x in out["results"]}
    assert by_id[active.id]["outcome"] == "changed" and by_id[active.id]["portal_id"] == active.portal_id
    assert by_id[suspended.id]["outcome"] == "unchanged"
    assert by_id[new.id]["outcome"] == "refused" and "New → Suspended is not allowed" in by_id[new.id]["error"]
    assert by_id[inactive.id]["outcome"] == "refused"
    assert by_id[999999]["outcome"] == "not_found" and by_id[999999]["portal_id"] is None
    assert (out["requested"], out["changed"], out["unchanged"], out["refused"], out["not_found"]) == (5, 1, 1, 2, 1)
    statuses = dict(r.sql("SELECT id, status FROM customers WHERE id = ANY(:ids)",
                          ids=[active.id, new.id, suspended.id, inactive.id]))
    assert statuses == {active.id: "Suspended", new.id: "New", suspended.id: "Suspended", inactive.id: "Inactive"}
    changes = r.sql("SELECT customer_id, reason FROM customer_status_history WHERE from_status IS NOT NULL")
    assert changes == [(active.id, "network maintenance in Westlands")]


def test_bulk_status_over_a_filter(reseller):
    r = reseller()
    nairobi = [r.make(county="Nairobi", status="Active") for _ in range(3)]
    nairobi_new = r.make(county="Nairobi", status="New")
    kisumu = r.make(county="Kisumu", status="Active")
    out = r.post("/customers/bulk/status", {"filter": {"county": "nairobi", "status": ["Active", "New"]},
                                            "status": "Suspended", "reason": "county-wide outage"}).get_json()
    assert out["requested"] == 4 and out["changed"] == 3 and out["refused"] == 1
    assert {x["id"] for x in out["results"] if x["outcome"] == "changed"} == {c.id for c in nairobi}
    assert [x["id"] for x in out["results"] if x["outcome"] == "refused"] == [nairobi_new.id]
    assert r.get(f"/customers/{kisumu.id}").get_json()["status"] == "Active"
    # the approval rule holds in bulk too: leaving Pending records who approved
    pending = r.make(status="Pending")
    r.post("/customers/bulk/status", {"ids": [pending.id], "status": "Active", "reason": "batch approval"})
    approved = r.get(f"/customers/{pending.id}").get_json()
    assert approved["approved_at"] and r.acc.username in approved["approved_by"]


def test_bulk_needs_ids_or_a_filter(reseller):
    r = reseller()
    base = {"status": "Active", "reason": "x"}
    assert r.post("/customers/bulk/status", base).status_code == 422
    assert r.post("/customers/bulk/status", {**base, "ids": [1], "filter": {}}).status_code == 422
    assert r.post("/customers/bulk/status", {**base, "ids": []}).status_code == 422


def _history(r, customer_id) -> list[tuple]:
    return [(h["from_status"], h["to_status"], h["reason"], h["actor_kind"], h["actor_id"])
            for h in r.get(f"/customers/{customer_id}/history").get_json()]


def test_the_first_service_activated_makes_a_new_customer_active(reseller):
    r = reseller()
    plan = r.plan()
    customer = r.create()
    first, second = (r.service(customer["id"], plan) for _ in range(2))
    activated = r.post(f"/services/{first}/activate", {"reason": "installed"})
    assert activated.status_code == 200, activated.get_json()
    assert r.get(f"/customers/{customer['id']}").get_json()["status"] == "Active"
    # recorded like every status change: who (the user who activated), when, why
    assert _history(r, customer["id"]) == [(None, "New", "created", "user", r.acc.user_id),
                                           ("New", "Active", "first service activated", "user", r.acc.user_id)]
    logged = r.sql("SELECT detail->>'from_status', detail->>'to_status' FROM activity_log "
                   "WHERE customer_id = :i AND action = 'customer.status_changed'", i=customer["id"])
    assert logged == [("New", "Active")]
    # a second service changes nothing more
    assert r.post(f"/services/{second}/activate").status_code == 200
    assert len(_history(r, customer["id"])) == 2


def test_a_pending_customer_is_not_activated_by_a_service(reseller):
    """A Pending customer awaits approval: a service going live (installed ahead) does not approve them."""
    r = reseller()
    r.setting("customers", require_approval=True)
    plan = r.plan()
    customer = r.create()
    service_id = r.service(customer["id"], plan)
    assert r.post(f"/services/{service_id}/activate").status_code == 200
    assert r.get(f"/customers/{customer['id']}").get_json()["status"] == "Pending"
    assert [h[:3] for h in _history(r, customer["id"])] == [(None, "Pending", "awaiting approval")]
    # approved to New later, their next activation is what makes them Active (and says which service)
    r.post(f"/customers/{customer['id']}/approve", {"reason": "coverage confirmed"})
    later = r.service(customer["id"], plan)
    assert r.post(f"/services/{later}/activate").status_code == 200
    assert _history(r, customer["id"])[-1][:3] == ("New", "Active", f"service {later} activated")


def test_a_suspended_customer_stays_suspended_when_a_service_is_activated(reseller):
    r = reseller()
    plan = r.plan()
    customer = r.make(status="Suspended")
    service_id = r.service(customer.id, plan)
    assert r.post(f"/services/{service_id}/activate").status_code == 200
    assert r.get(f"/customers/{customer.id}").get_json()["status"] == "Suspended"
    assert len(_history(r, customer.id)) == 1
