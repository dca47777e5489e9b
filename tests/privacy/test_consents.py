"""Consents and cookies: every consent is off until the customer gives it; each change is a row of a record that
cannot be edited (who, when, through which door and key, to which wording); a read-only key reads and never
changes one, and support staff signed in as the customer cannot consent for them; bad input changes nothing;
the reseller reads a customer's consents (never another reseller's customer, nor one a limited user may not
see) and who consents to a purpose. The cookie list names every cookie the web door sets, none optional."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from app.models.privacy import ConsentEvent
from app.services import customers
from app.services.auth import users
from app.services.errors import Invalid
from app.services.privacy import consents, cookies
from tenants import tenant_context
from tests.auth.conftest import PASSWORD
from tests.privacy.conftest import api_key, impersonate, reseller_admin
from tests.web.forms import submit

API = "/portal/api/privacy/consents"


def _rows(db, p) -> list[ConsentEvent]:
    with db.session() as s, tenant_context(p.tenant):
        return list(s.execute(select(ConsentEvent).where(ConsentEvent.customer_id == p.customer_id)
                              .order_by(ConsentEvent.id)).scalars())


def _by_purpose(body: dict) -> dict:
    return {c["purpose"]: c for c in body["consents"]}


def test_consents_are_off_until_given_and_each_change_is_recorded_once(client, db, portal):
    p = portal()
    first = client.get(API, headers=p.headers).get_json()
    assert [c["purpose"] for c in first["consents"]] == ["marketing_email", "marketing_sms", "third_party_sharing"]
    assert all(c["granted"] is False and c["changed_at"] is None for c in first["consents"])
    assert first["history"] == []
    assert client.put(API, json={"marketing_email": False}, headers=p.headers).status_code == 200
    assert _rows(db, p) == []  # off already: nothing to record

    given = client.put(API, json={"marketing_email": True}, headers=p.headers).get_json()
    email = _by_purpose(given)["marketing_email"]
    assert email["granted"] is True and email["door"] == "api" and email["via"] == "session"
    assert email["agreed_version"] == consents.PURPOSES["marketing_email"].version == email["wording_version"]
    assert p.portal_id in email["actor"]
    assert _by_purpose(given)["marketing_sms"]["granted"] is False
    client.put(API, json={"marketing_email": True}, headers=p.headers)  # the same again: no new row
    changed = client.put(API, json={"marketing_email": False, "marketing_sms": True}, headers=p.headers).get_json()
    assert {k: c["granted"] for k, c in _by_purpose(changed).items()} == {
        "marketing_email": False, "marketing_sms": True, "third_party_sharing": False}
    assert [(e["purpose"], e["granted"]) for e in changed["history"]] == [
        ("marketing_sms", True), ("marketing_email", False), ("marketing_email", True)]  # newest first
    assert len(_rows(db, p)) == 3


def test_a_read_only_key_reads_and_a_read_write_key_consents_as_a_key(client, db, portal):
    p = portal()
    read, write = api_key(client, p, "read"), api_key(client, p, "read_write")
    assert client.get(API, headers=read).status_code == 200
    assert client.put(API, json={"third_party_sharing": True}, headers=read).status_code == 403
    assert _rows(db, p) == []
    made = client.put(API, json={"third_party_sharing": True}, headers=write).get_json()
    assert _by_purpose(made)["third_party_sharing"]["via"] == "api_key"


def test_support_staff_signed_in_as_the_customer_cannot_consent_for_them(app, client, db, portal, staff):
    p = portal()
    support = impersonate(app, client, p, staff)
    assert support.get(API, headers={"Host": p.host}).status_code == 200
    refused = support.put(API, json={"marketing_email": True}, headers={"Host": p.host})
    assert refused.status_code == 403 and refused.get_json()["type"] == "/problems/customer-only"
    assert _rows(db, p) == []


@pytest.mark.parametrize("body", [{"marketing_email": "yes"}, {"marketing_email": 1}, {"newsletters": True},
                                  {"marketing_email": True, "marketing_sms": None}])
def test_bad_input_is_refused_and_changes_nothing(client, db, portal, body):
    p = portal()
    answer = client.put(API, json=body, headers=p.headers)
    assert answer.status_code == 422 and answer.content_type == "application/problem+json"
    assert _rows(db, p) == []


def test_the_service_refuses_unknown_purposes_by_name(db, portal):
    p = portal()
    from app.services.auth.principal import Principal

    me = Principal(kind="customer", id=p.customer_id, name=p.portal_id, tenant_id=p.tenant.id)
    with pytest.raises(Invalid) as refused, db.session() as s, tenant_context(p.tenant):
        consents.change(s, p.customer_id, {"marketing_email": True, "telepathy": True}, actor=me, door="portal")
    assert refused.value.extra["errors"] == {"telepathy": ["unknown purpose"]}
    assert _rows(db, p) == []


def test_the_record_cannot_be_edited_and_goes_only_with_its_customer(client, db, portal):
    p = portal()
    client.put(API, json={"marketing_email": True}, headers=p.headers)
    for statement in ("UPDATE consent_events SET granted = false", "DELETE FROM consent_events"):
        with pytest.raises(DBAPIError, match="append-only"), db.session() as s, tenant_context(p.tenant):
            s.execute(text(statement))
    assert [r.granted for r in _rows(db, p)] == [True]
    with db.session() as s, tenant_context(p.tenant):  # a customer with nothing financial is deleted outright
        lone = customers.create(s, first_name="Neema", last_name="Otieno")
        users.set_portal_password(s, lone.id, PASSWORD)
        s.add(ConsentEvent(customer_id=lone.id, purpose="marketing_sms", granted=True, actor="test", door="portal",
                           via="session", wording_version="2026-12"))
    with db.session() as s, tenant_context(p.tenant):
        assert customers.delete(s, lone.id).outcome == "deleted"
    with db.session() as s, tenant_context(p.tenant):
        assert s.execute(select(ConsentEvent).where(ConsentEvent.customer_id == lone.id)).first() is None


def test_the_reseller_reads_a_customers_consents_and_who_consents(client, db, portal):
    p = portal()
    admin = reseller_admin(client, db, p)
    client.put(API, json={"marketing_sms": True}, headers=p.headers)
    read = client.get(f"/reseller/api/privacy/customers/{p.customer_id}/consents", headers=admin)
    assert read.status_code == 200
    assert _by_purpose(read.get_json())["marketing_sms"]["granted"] is True
    assert len(read.get_json()["history"]) == 1

    def consenting(purpose: str) -> set[int]:
        with db.session() as s, tenant_context(p.tenant):
            return set(s.execute(consents.consenting(purpose)).scalars())

    assert consenting("marketing_sms") == {p.customer_id} and consenting("marketing_email") == set()
    client.put(API, json={"marketing_sms": False}, headers=p.headers)
    assert consenting("marketing_sms") == set()

    assert client.get("/reseller/api/privacy/customers/999999/consents", headers=admin).status_code == 404
    other = portal("PRIVB")  # another reseller, whose customer ids are its own: never this customer's record
    other_admin = reseller_admin(client, db, other)
    elsewhere = client.get(f"/reseller/api/privacy/customers/{p.customer_id}/consents", headers=other_admin)
    assert elsewhere.status_code == 404 or elsewhere.get_json()["history"] == []
    assert client.get(f"/reseller/api/privacy/customers/{p.customer_id}/consents",
                      headers={**other_admin, "Host": p.host}).status_code == 401
    with db.session() as s, tenant_context(p.tenant):
        limited, _ = users.create_user(s, username="limited@reseller.example", email="limited@reseller.example",
                                       role="User", password=PASSWORD, allowed_customer_ids=[p.other_customer_id])
    token = client.post("/reseller/auth/login", json={"username": limited.username, "password": PASSWORD},
                        headers={"Host": p.host}).get_json()["token"]
    assert client.get(f"/reseller/api/privacy/customers/{p.customer_id}/consents",
                      headers={"Authorization": f"Bearer {token}", "Host": p.host}).status_code == 404


def test_the_cookie_list_names_every_cookie_the_web_door_sets_and_none_is_optional(app, client, db, portal):
    from app.web.auth import DEVICE_COOKIE, SESSION_COOKIE

    assert cookies.names() == {SESSION_COOKIE, DEVICE_COOKIE, app.config["SESSION_COOKIE_NAME"]}
    assert cookies.optional() == ()
    p = portal()
    browser = app.test_client()
    signed = submit(browser, "/login", p.host, identifier=p.portal_id, password=PASSWORD)
    assert signed.status_code == 302
    set_here = {c.key: c for c in browser._cookies.values()}
    assert set(set_here) <= cookies.names() and SESSION_COOKIE in set_here
    device = next(h for h in signed.headers.getlist("Set-Cookie") if h.startswith(f"{DEVICE_COOKIE}="))
    assert f"Max-Age={cookies.DEVICE_DAYS * 24 * 3600}" in device
    listed = client.get("/portal/api/privacy/cookies", headers=p.headers).get_json()
    assert {c["name"] for c in listed["cookies"]} == cookies.names()
    assert listed["optional"] == 0 and [c["name"] for c in listed["storage"]] == ["htmx-current-path-for-history"]
