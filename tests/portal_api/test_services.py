"""The customer's services through /portal/api: what they see, plan changes previewed before they are
asked for, change requests with their status, and the network password behind the portal password."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from app.models import ActivityEvent
from app.models.provisioning import EquipmentItem, EquipmentModel, Service
from app.services import catalogue
from app.services.settings import put_setting
from tenants import tenant_context
from tests.portal_api.conftest import api_key, impersonate


def _service(db, p, service_id=None) -> Service:
    with db.session() as s, tenant_context(p.tenant):
        row = s.get(Service, service_id or p.service_id)
        s.expunge(row)
        return row


def test_the_customer_sees_their_services_and_nobody_elses(client, db, portal):
    p = portal()
    with db.session() as s, tenant_context(p.tenant):
        model = EquipmentModel(vendor="MikroTik", name="hAP ac2", device_type="router")
        s.add(model)
        s.flush()
        s.add(EquipmentItem(model_id=model.id, serial="SN-PORTAL-1", status="assigned", customer_id=p.customer_id,
                            service_id=p.service_id))
    listed = client.get("/portal/api/services", headers=p.headers).get_json()
    assert [x["id"] for x in listed] == [p.service_id]
    one = listed[0]
    assert one["status"] == "Active" and one["price"] == "1000.00" and one["currency"] == "KES"
    assert one["plan"]["name"] == "Home 10" and one["plan"]["download_kbps"] == 10_000
    assert one["network_username"] == p.portal_id and one["has_network_password"] is True
    assert "network_password" not in one and "wholesale_price" not in one
    detail = client.get(f"/portal/api/services/{p.service_id}", headers=p.headers).get_json()
    assert detail["equipment"] == [{"id": detail["equipment"][0]["id"], "serial": "SN-PORTAL-1", "mac": None,
                                    "vendor": "MikroTik", "model": "hAP ac2", "device_type": "router",
                                    "assigned_at": None}]
    assert detail["next_renewal_on"] is not None
    for path in (f"/portal/api/services/{p.other_service_id}", f"/portal/api/services/{p.other_service_id}/requests",
                 f"/portal/api/services/{p.other_service_id}/plan-options",
                 f"/portal/api/services/{p.other_service_id}/plan-change-preview?plan_id={p.fast.id}",
                 "/portal/api/services/99999999999"):
        assert client.get(path, headers=p.headers).status_code == 404, path
    refused = client.post(f"/portal/api/services/{p.other_service_id}/requests", headers=p.headers,
                          json={"kind": "cancellation", "payload": {}})
    assert refused.status_code == 404 and _service(db, p, p.other_service_id).status == "Active"


def test_another_resellers_host_refuses_the_customers_credentials(client, portal):
    p, q = portal(), portal("PAPIB")
    answer = client.get("/portal/api/services", headers={**p.headers, "Host": q.host})
    assert answer.status_code == 401
    # ids are per reseller: the same number on the customer's own host is their own service, never q's
    seen = client.get(f"/portal/api/services/{q.service_id}", headers=p.headers).get_json()
    assert seen["network_username"] == p.portal_id != q.portal_id


def test_plan_options_are_priced_for_the_customer_and_marked(client, portal):
    p = portal()
    options = client.get(f"/portal/api/services/{p.service_id}/plan-options", headers=p.headers).get_json()
    assert [(o["plan"]["id"], o["price"], o["kind"], o["difference"]) for o in options] == [
        (p.fast.id, "2000.00", "upgrade", "1000.00")]


@pytest.mark.clock("2026-11-21T09:00:00Z")
def test_the_preview_shows_the_difference_and_the_rest_of_the_cycle(client, db, portal):
    p = portal()  # activated today (21 Nov), billing day 1: the cycle is 1–30 Nov, 10 days left
    preview = client.get(f"/portal/api/services/{p.service_id}/plan-change-preview",
                         query_string={"plan_id": p.fast.id}, headers=p.headers)
    assert preview.status_code == 200, preview.get_json()
    found = preview.get_json()
    assert found["kind"] == "upgrade" and found["needs_approval"] is False
    assert (found["current_price"], found["new_price"], found["difference"]) == ("1000.00", "2000.00", "1000.00")
    assert found["effective_on"] == "2026-11-21"
    assert found["proration"] == {"period_start": "2026-11-21", "period_end": "2026-11-30", "days": 10,
                                  "cycle_days": 30, "credit": "333.33", "charge": "666.67", "net": "333.34"}
    later = client.get(f"/portal/api/services/{p.service_id}/plan-change-preview",
                       query_string={"plan_id": p.fast.id, "effective": "next_cycle"}, headers=p.headers).get_json()
    assert later["effective_on"] == "2026-12-01" and later["proration"] is None
    assert _service(db, p).plan_id == p.home.id  # a preview changes nothing
    for bad in ({"plan_id": p.home.id}, {"plan_id": "x"}, {"plan_id": p.fast.id, "effective": "someday"}, {}):
        answer = client.get(f"/portal/api/services/{p.service_id}/plan-change-preview", query_string=bad,
                            headers=p.headers)
        assert answer.status_code == 422, bad
    assert client.get(f"/portal/api/services/{p.service_id}/plan-change-preview", query_string={"plan_id": 999999},
                      headers=p.headers).status_code == 404


def test_an_upgrade_is_done_and_its_price_is_the_new_plans(client, db, portal):
    p = portal()
    made = client.post(f"/portal/api/services/{p.service_id}/requests", headers=p.headers,
                       json={"kind": "upgrade", "payload": {"plan_id": p.fast.id}})
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["status"] == "Completed" and "requested_by" not in made.get_json()
    service = _service(db, p)
    assert service.plan_id == p.fast.id and service.price == Decimal("2000.00")
    listed = client.get("/portal/api/service-requests", headers=p.headers).get_json()
    assert [r["id"] for r in listed] == [made.get_json()["id"]]
    of_service = client.get(f"/portal/api/services/{p.service_id}/requests", headers=p.headers).get_json()
    assert [(r["kind"], r["status"], r["payload"]["plan_id"]) for r in of_service] == [
        ("upgrade", "Completed", p.fast.id)]


def test_a_downgrade_cannot_be_sent_as_an_upgrade_to_skip_approval(client, db, portal):
    p = portal()
    with db.session() as s, tenant_context(p.tenant):
        put_setting(s, "services", {"approval_required": ["downgrade"]})
    client.post(f"/portal/api/services/{p.service_id}/requests", headers=p.headers,
                json={"kind": "upgrade", "payload": {"plan_id": p.fast.id}})
    sneaky = client.post(f"/portal/api/services/{p.service_id}/requests", headers=p.headers,
                         json={"kind": "upgrade", "payload": {"plan_id": p.home.id}})
    assert sneaky.status_code == 422 and "downgrade" in sneaky.get_json()["detail"]
    assert _service(db, p).plan_id == p.fast.id
    preview = client.get(f"/portal/api/services/{p.service_id}/plan-change-preview",
                         query_string={"plan_id": p.home.id}, headers=p.headers).get_json()
    assert preview["kind"] == "downgrade" and preview["needs_approval"] is True and preview["difference"] == "-1000.00"
    asked = client.post(f"/portal/api/services/{p.service_id}/requests", headers=p.headers,
                        json={"kind": "downgrade", "payload": {"plan_id": p.home.id}})
    assert asked.status_code == 201 and asked.get_json()["status"] == "Pending"
    assert _service(db, p).plan_id == p.fast.id  # waits for the reseller
    withdrawn = client.post(f"/portal/api/service-requests/{asked.get_json()['id']}/cancel", headers=p.headers)
    assert withdrawn.status_code == 200 and withdrawn.get_json()["status"] == "Cancelled"
    assert client.post(f"/portal/api/service-requests/{asked.get_json()['id']}/cancel",
                       headers=p.headers).status_code == 409


def test_a_plan_the_reseller_does_not_sell_is_not_found(client, db, portal, make_plan):
    p = portal()
    unsold = make_plan(wholesale_price="500.00", currency="KES")
    answer = client.post(f"/portal/api/services/{p.service_id}/requests", headers=p.headers,
                         json={"kind": "downgrade", "payload": {"plan_id": unsold.id}})
    assert answer.status_code == 404
    with db.session() as s:
        catalogue.authorise(s, unsold.id, p.tenant.id, regions=["Mombasa"])
    assert [o["plan"]["id"] for o in client.get(f"/portal/api/services/{p.service_id}/plan-options",
                                                headers=p.headers).get_json()] == [p.fast.id]


@pytest.mark.clock("2026-11-21T09:00:00Z")
def test_vacation_hold_relocation_and_cancellation_go_through_the_requests(client, db, portal):
    p = portal()
    hold = client.post(f"/portal/api/services/{p.service_id}/requests", headers=p.headers,
                       json={"kind": "suspension", "payload": {"from": "2026-12-01", "until": "2026-12-20"}})
    assert hold.status_code == 201 and hold.get_json()["status"] == "Completed"
    service = _service(db, p)
    assert (str(service.vacation_from), str(service.vacation_until)) == ("2026-12-01", "2026-12-20")
    past = client.post(f"/portal/api/services/{p.service_id}/requests", headers=p.headers,
                       json={"kind": "suspension", "payload": {"from": "2026-01-01", "until": "2026-01-02"}})
    assert past.status_code == 422
    moved = client.post(f"/portal/api/services/{p.service_id}/requests", headers=p.headers,
                        json={"kind": "relocation", "payload": {"installation_address": "Tom Mboya St 5"}})
    assert moved.status_code == 201 and _service(db, p).installation_address == "Tom Mboya St 5"
    assert client.get("/portal/api/sites", headers=p.headers).get_json()[0]["address"] == "Tom Mboya St 5"
    ended = client.post(f"/portal/api/services/{p.service_id}/requests", headers=p.headers,
                        json={"kind": "cancellation", "payload": {"reason": "moving abroad"},
                              "effective": "next_cycle"})
    assert ended.status_code == 201 and ended.get_json()["status"] == "Approved"
    assert ended.get_json()["effective_on"] == "2026-12-01" and _service(db, p).status == "Active"


def test_a_read_only_key_reads_services_and_asks_for_nothing(client, portal):
    p = portal()
    read = api_key(client, p, "read")
    assert client.get(f"/portal/api/services/{p.service_id}", headers=read).status_code == 200
    assert client.post(f"/portal/api/services/{p.service_id}/requests", headers=read,
                       json={"kind": "cancellation", "payload": {}}).status_code == 403


def test_support_staff_signed_in_as_the_customer_may_ask_for_a_change(app, client, db, portal, staff):
    p = portal()
    support = impersonate(app, client, p, staff)
    made = support.post(f"/portal/api/services/{p.service_id}/requests", headers={"Host": p.host},
                        json={"kind": "upgrade", "payload": {"plan_id": p.fast.id}})
    assert made.status_code == 201 and _service(db, p).plan_id == p.fast.id


# -- the network password ------------------------------------------------------------------------------

def _reveal(client, p, password, headers=None):
    return client.post(f"/portal/api/services/{p.service_id}/network-password", json={"password": password},
                       headers=headers or p.headers)


def _log(db, p, action):
    with db.session() as s, tenant_context(p.tenant):
        return s.execute(select(ActivityEvent).where(ActivityEvent.customer_id == p.customer_id,
                                                     ActivityEvent.action == action)).scalars().all()


def test_the_network_password_is_shown_after_the_portal_password_and_logged(client, db, portal):
    from tests.auth.conftest import PASSWORD

    p = portal()
    wrong = _reveal(client, p, "not my password")
    assert wrong.status_code == 422 and wrong.get_json()["errors"] == {"password": ["not correct"]}
    assert len(_log(db, p, "service.network_password_refused")) == 1  # kept, though the request failed
    shown = _reveal(client, p, PASSWORD)
    assert shown.status_code == 200
    assert shown.get_json() == {"service_id": p.service_id, "username": p.portal_id, "password": p.network_password}
    assert len(_log(db, p, "service.network_password_revealed")) == 1
    with db.session() as s, tenant_context(p.tenant):
        before = s.get(Service, p.service_id).network_password_encrypted
    assert client.put(f"/portal/api/services/{p.service_id}/network-credentials", headers=p.headers,
                      json={"password": "Changed#123"}).status_code in (404, 405)  # never changed here
    assert _service(db, p).network_password_encrypted == before
    other = client.post(f"/portal/api/services/{p.other_service_id}/network-password", json={"password": PASSWORD},
                        headers=p.headers)
    assert other.status_code == 404


def test_wrong_passwords_are_limited_like_sign_ins(client, portal):
    from tests.auth.conftest import PASSWORD

    p = portal()
    for _ in range(5):
        assert _reveal(client, p, "guess").status_code == 422
    assert _reveal(client, p, "guess").status_code == 429
    assert _reveal(client, p, PASSWORD).status_code == 429  # the right one too, for the rest of the window
    assert client.get("/portal/api/services", headers=p.headers).status_code == 200  # the session is not locked


def test_only_the_customers_own_session_reveals_it(app, client, portal, staff):
    from tests.auth.conftest import PASSWORD

    p = portal()
    assert _reveal(client, p, PASSWORD, api_key(client, p, "read_write")).status_code == 403
    assert _reveal(client, p, PASSWORD, api_key(client, p, "read")).status_code == 403
    support = impersonate(app, client, p, staff)
    assert support.post(f"/portal/api/services/{p.service_id}/network-password", json={"password": PASSWORD},
                        headers={"Host": p.host}).status_code == 403
