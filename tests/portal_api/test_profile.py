"""The customer's profile through /portal/api: what they see, the fields their reseller lets them change
(checked as the reseller's own changes are), sites, and contacts read-only unless the reseller allows."""

from sqlalchemy import select

from app.models import ActivityEvent, Customer
from app.services.auth import users
from app.services.auth.permissions import BUILTIN_ROLES
from tenants import tenant_context
from tests.auth.conftest import PASSWORD, bearer
from tests.portal_api.conftest import api_key, impersonate, reseller_admin


def _customer(db, p, customer_id=None) -> Customer:
    with db.session() as s, tenant_context(p.tenant):
        row = s.get(Customer, customer_id or p.customer_id)
        s.expunge(row)
        return row


def test_the_profile_shows_the_customer_and_what_they_may_change(client, portal):
    p = portal()
    body = client.get("/portal/api/profile", headers=p.headers)
    assert body.status_code == 200
    found = body.get_json()
    assert found["portal_id"] == p.portal_id and found["email"] == p.email and found["id"] == p.customer_id
    assert "phone" in found["editable_fields"] and "national_id" not in found["editable_fields"]
    assert found["contacts_editable"] is False and found["pending_email"] is None
    assert found["communication"] == {"preferred_channel": None, "language": None, "marketing_opt_in": False}


def test_the_customer_changes_their_phones_and_preferences_as_the_reseller_would(client, db, portal):
    p = portal()
    changed = client.patch("/portal/api/profile", headers=p.headers, json={
        "phone": "0722 000 111", "alternate_phone": "+254 733-000-222", "city": "  Nakuru ",
        "communication": {"preferred_channel": "sms", "language": "sw"}})
    assert changed.status_code == 200, changed.get_json()
    found = changed.get_json()
    assert found["phone"] == "0722000111" and found["alternate_phone"] == "+254733000222"
    assert found["city"] == "Nakuru"
    assert found["communication"] == {"preferred_channel": "sms", "language": "sw", "marketing_opt_in": False}
    again = client.patch("/portal/api/profile", headers=p.headers, json={"communication": {"marketing_opt_in": True}})
    assert again.get_json()["communication"] == {"preferred_channel": "sms", "language": "sw",
                                                 "marketing_opt_in": True}  # merged, not replaced
    row = _customer(db, p)
    assert row.extra["alternate_phone"] == "+254733000222" and row.phone == "0722000111"
    with db.session() as s, tenant_context(p.tenant):
        logged = s.execute(select(ActivityEvent).where(ActivityEvent.customer_id == p.customer_id,
                                                       ActivityEvent.action == "customer.updated")).scalars().all()
    assert logged and logged[0].actor.startswith("customer ")


def test_bad_values_and_fields_the_reseller_keeps_are_refused_by_name_and_nothing_changes(client, db, portal):
    p = portal()
    bad = client.patch("/portal/api/profile", headers=p.headers, json={
        "phone": "call me", "alternate_phone": "12", "mpesa_number": "0712345678", "latitude": "-1.29",
        "communication": {"preferred_channel": "pigeon", "language": "fr"}})
    assert bad.status_code == 422
    problem = bad.get_json()
    assert bad.content_type == "application/problem+json"
    errors = problem["errors"]
    assert set(errors) >= {"phone", "alternate_phone", "mpesa_number", "communication"}
    assert "not let this be changed" in errors["mpesa_number"][0]
    assert any("preferred_channel" in e for e in errors["communication"])
    assert _customer(db, p).phone == "+254712000001"
    for field in ("national_id", "first_name", "status", "email", "credit_limit"):
        refused = client.patch("/portal/api/profile", headers=p.headers, json={field: "X1234567"})
        assert refused.status_code == 422, field
    row = _customer(db, p)
    assert row.first_name == "Wanjiru" and row.national_id is None and row.email == p.email


def test_the_reseller_chooses_the_editable_fields(client, db, portal):
    p = portal()
    admin = reseller_admin(client, db, p)
    assert client.get("/reseller/api/portal-settings", headers=admin).get_json()["contacts_editable"] is False
    set_ = client.put("/reseller/api/portal-settings", headers=admin,
                      json={"editable_fields": ["mpesa_number", "latitude", "longitude"]})
    assert set_.status_code == 200 and set_.get_json()["editable_fields"] == ["latitude", "longitude", "mpesa_number"]
    assert client.put("/reseller/api/portal-settings", headers=admin,
                      json={"editable_fields": ["national_id"]}).status_code == 422
    assert client.patch("/portal/api/profile", headers=p.headers, json={"phone": "0722000111"}).status_code == 422
    ok = client.patch("/portal/api/profile", headers=p.headers,
                      json={"mpesa_number": "0712 345 678", "latitude": "-1.2920661", "longitude": "36.8219"})
    assert ok.status_code == 200, ok.get_json()
    assert ok.get_json()["mpesa_number"] == "254712345678" and ok.get_json()["latitude"] == "-1.292066"
    half = client.patch("/portal/api/profile", headers=p.headers, json={"latitude": None})
    assert half.status_code == 422 and "pairs" in half.get_json()["detail"]  # the reseller API's own rule


def test_settings_need_the_settings_permission(client, db, portal):
    p = portal()
    assert "settings.manage" not in BUILTIN_ROLES["User"]
    with db.session() as s, tenant_context(p.tenant):
        users.create_user(s, username="support@papi.example", email="support@papi.example", role="User",
                          password=PASSWORD)
    token = client.post("/reseller/auth/login", json={"username": "support@papi.example", "password": PASSWORD},
                        headers={"Host": p.host}).get_json()["token"]
    assert client.put("/reseller/api/portal-settings", json={"contacts_editable": True},
                      headers=bearer(token, p.host)).status_code == 403
    assert client.put("/reseller/api/portal-settings", json={"contacts_editable": True},
                      headers=p.headers).status_code == 403  # a customer is no reseller user


def test_a_read_only_key_reads_the_profile_and_changes_nothing(client, portal):
    p = portal()
    read = api_key(client, p, "read")
    assert client.get("/portal/api/profile", headers=read).status_code == 200
    assert client.patch("/portal/api/profile", headers=read, json={"phone": "0722000111"}).status_code == 403
    write = api_key(client, p, "read_write")
    assert client.patch("/portal/api/profile", headers=write, json={"phone": "0722000111"}).status_code == 200


def test_sites_are_the_addresses_of_live_services(client, portal):
    p = portal()
    sites = client.get("/portal/api/sites", headers=p.headers).get_json()
    assert sites == [{"address": "Moi Avenue 1, Nairobi", "region": None, "service_ids": [p.service_id]}]


def test_contacts_are_read_only_unless_the_reseller_lets_customers_edit_them(client, db, portal):
    from app.services import contacts

    p = portal()
    with db.session() as s, tenant_context(p.tenant):
        mine = contacts.create(s, p.customer_id, {"name": "Jane Mwangi", "phone": "0711000222"}).id
        theirs = contacts.create(s, p.other_customer_id, {"name": "Someone Else"}).id
    listed = client.get("/portal/api/contacts", headers=p.headers).get_json()
    assert [c["id"] for c in listed] == [mine] and listed[0]["phone"] == "254711000222"
    assert client.get(f"/portal/api/contacts/{mine}", headers=p.headers).status_code == 200
    for method in ("get", "patch", "delete"):  # another customer's contact does not exist, whatever the rules
        answer = getattr(client, method)(f"/portal/api/contacts/{theirs}", headers=p.headers, json={"name": "X"})
        assert answer.status_code == 404, method
    refused = client.post("/portal/api/contacts", headers=p.headers, json={"name": "New One"})
    assert refused.status_code == 403 and refused.get_json()["type"].endswith("/not-allowed-by-provider")
    assert client.patch(f"/portal/api/contacts/{mine}", headers=p.headers, json={"name": "J"}).status_code == 403

    client.put("/reseller/api/portal-settings", headers=reseller_admin(client, db, p), json={"contacts_editable": True})
    made = client.post("/portal/api/contacts", headers=p.headers,
                       json={"name": "Tech Person", "email": "tech@example.com", "is_primary": True})
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["customer_id"] == p.customer_id
    assert client.patch(f"/portal/api/contacts/{mine}", headers=p.headers,
                        json={"name": "Jane W. Mwangi"}).get_json()["name"] == "Jane W. Mwangi"
    assert client.delete(f"/portal/api/contacts/{mine}", headers=p.headers).status_code == 204
    assert client.delete(f"/portal/api/contacts/{theirs}", headers=p.headers).status_code == 404
    assert [c["name"] for c in client.get("/portal/api/contacts", headers=p.headers).get_json()] == ["Tech Person"]
    assert client.get("/portal/api/contact-types", headers=p.headers).status_code == 200


def test_support_staff_signed_in_as_the_customer_may_fix_their_phone(app, client, portal, staff):
    p = portal()
    support = impersonate(app, client, p, staff)
    answer = support.patch("/portal/api/profile", headers={"Host": p.host}, json={"phone": "0722000999"})
    assert answer.status_code == 200 and answer.get_json()["phone"] == "0722000999"
