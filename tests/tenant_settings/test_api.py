"""The settings API, `/reseller/api/settings`: every setting read as one document, some changed with PATCH;
a bad value is refused by its path with the service's message and nothing is stored; the values reach what
reads them (the Portal IDs of new customers, the RADIUS policy's own API); one reseller's change leaves
another's settings alone; who lacks `settings.manage` can neither read nor change them."""

from __future__ import annotations

import pytest

from app.services.auth import users
from app.services.tenant_settings import M
from tenants import tenant_context
from tests.conftest import host_of

PASSWORD = "Settings-Test-9!"


@pytest.fixture
def reseller(client, db, make_tenant):
    def make():
        tenant = make_tenant("SET")
        host = host_of(tenant)
        tokens = {}
        for role in ("Admin", "User"):
            name = f"{role.lower()}@{tenant.code.lower()}.example"
            with db.session() as s, tenant_context(tenant):
                users.create_user(s, username=name, email=name, role=role, password=PASSWORD)
            answer = client.post("/reseller/auth/login", json={"username": name, "password": PASSWORD},
                                 headers={"Host": host})
            tokens[role] = {"Authorization": f"Bearer {answer.get_json()['token']}", "Host": host}
        return tenant, tokens
    return make


def test_every_setting_is_read_with_its_default(client, reseller):
    tenant, h = reseller()
    found = client.get("/reseller/api/settings", headers=h["Admin"])
    assert found.status_code == 200
    body = found.get_json()
    assert body["portal_id_format"] == {"prefix": "SET", "digits": 6}
    assert body["timezone"] == "UTC" and body["currency"] == "USD" and body["language"] == "en"
    assert body["billing"]["payment_terms_days"] == 14 and body["billing"]["mode"] == "prepaid"
    assert body["payments"]["retry_days"] == [1, 3, 7, 14]
    assert body["radius"]["interim_interval"] == 900 and body["radius"]["suspended_action"] == "reject"
    assert body["customers"] == {"require_approval": False, "login_with_email": False}
    assert "phone" in body["portal"]["editable_fields"]


def test_a_patch_changes_what_it_names_and_keeps_the_rest(client, reseller):
    tenant, h = reseller()
    changed = client.patch("/reseller/api/settings", headers=h["Admin"], json={
        "timezone": "Africa/Nairobi", "currency": "kes", "language": "sw",
        "portal_id_format": {"prefix": "abc", "digits": 8},
        "billing": {"payment_terms_days": 30, "invoice_format": "F-{YY}{MM}-{0000}"},
        "payments": {"retry_days": [7, 1, 3]},
        "portal": {"support_email": "Help@ABC.example", "editable_fields": ["phone", "mpesa_number"]},
        "radius": {"interim_interval": 300, "suspended_action": "payment_page"}})
    assert changed.status_code == 200, changed.get_json()
    body = client.get("/reseller/api/settings", headers=h["Admin"]).get_json()
    assert body["timezone"] == "Africa/Nairobi" and body["currency"] == "KES" and body["language"] == "sw"
    assert body["portal_id_format"] == {"prefix": "ABC", "digits": 8}
    assert body["billing"]["payment_terms_days"] == 30 and body["billing"]["invoice_format"] == "F-{YY}{MM}-{0000}"
    assert body["billing"]["proforma_format"] == "PRO-{YYYY}-{000000}"  # not named: kept
    assert body["payments"]["retry_days"] == [1, 3, 7]
    assert body["portal"]["support_email"] == "help@abc.example" and body["portal"]["title"] == tenant.name
    assert body["portal"]["editable_fields"] == ["phone", "mpesa_number"]
    assert body["radius"]["interim_interval"] == 300 and body["radius"]["session_retention_days"] == 180
    # the RADIUS policy's own API reads what was stored here
    policy = client.get("/reseller/api/radius/policy", headers=h["Admin"]).get_json()
    assert policy["interim_interval"] == 300 and policy["suspended_action"] == "payment_page"
    # and the portal rules' API the editable fields
    rules = client.get("/reseller/api/portal-settings", headers=h["Admin"]).get_json()
    assert rules["editable_fields"] == ["phone", "mpesa_number"]


@pytest.mark.parametrize(("body", "path", "message"), [
    ({"timezone": "Mars/Olympus_Mons"}, "timezone", M["timezone"]),
    ({"portal_id_format": {"prefix": "AB1"}}, "portal_id_format.prefix", M["prefix"]),
    ({"portal_id_format": {"digits": 3}}, "portal_id_format.digits", M["digits"]),
    ({"portal_id_format": {"digits": 13}}, "portal_id_format.digits", M["digits"]),
    ({"currency": "KESH"}, "currency", M["currency"]),
    ({"currency": "XXQ"}, "currency", M["currency"]),
    ({"billing": {"payment_terms_days": -1}}, "billing.payment_terms_days", M["terms"]),
    ({"billing": {"payment_terms_days": True}}, "billing.payment_terms_days", M["terms"]),
    ({"billing": {"mode": "sometimes"}}, "billing.mode", M["mode"]),
    ({"billing": {"invoice_format": "INV-{YYYY}"}}, "billing.invoice_format",
     "a number format has exactly one counter such as {000000}"),
    ({"payments": {"retry_days": [0, 3]}}, "payments.retry_days", M["retry"]),
    ({"language": "xx"}, "language", M["language"]),
    ({"portal": {"editable_fields": ["national_id"]}}, "portal.editable_fields", M["editable"]),
    ({"portal": {"support_email": "nobody"}}, "portal.support_email", M["email"]),
    ({"radius": {"interim_interval": 10}}, "radius.interim_interval", M["interim"]),
    ({"customers": {"require_approval": "yes"}}, "customers.require_approval", M["boolean"]),
])
def test_a_bad_value_is_refused_by_its_path_and_nothing_is_stored(client, reseller, body, path, message):
    tenant, h = reseller()
    before = client.get("/reseller/api/settings", headers=h["Admin"]).get_json()
    refused = client.patch("/reseller/api/settings", headers=h["Admin"], json={**body, "timezone": "Africa/Nairobi"}
                           if "timezone" not in body else body)
    assert refused.status_code == 422
    assert refused.content_type == "application/problem+json"
    assert refused.get_json()["errors"][path] == [message]
    assert client.get("/reseller/api/settings", headers=h["Admin"]).get_json() == before


def test_every_bad_value_is_named_at_once(client, reseller):
    tenant, h = reseller()
    refused = client.patch("/reseller/api/settings", headers=h["Admin"],
                           json={"timezone": "Nowhere", "billing": {"payment_terms_days": -5}})
    assert set(refused.get_json()["errors"]) == {"timezone", "billing.payment_terms_days"}


def test_a_name_that_is_no_setting_is_refused(client, reseller):
    tenant, h = reseller()
    assert client.patch("/reseller/api/settings", headers=h["Admin"], json={"colour": "red"}).status_code == 422
    assert client.patch("/reseller/api/settings", headers=h["Admin"],
                        json={"billing": {"tax_rate": 16}}).status_code == 422


def test_new_customers_get_portal_ids_in_the_new_format(client, db, reseller):
    from app.services.portal_ids import next_portal_id

    tenant, h = reseller()
    client.patch("/reseller/api/settings", headers=h["Admin"], json={"portal_id_format": {"prefix": "QZ",
                                                                                          "digits": 4}})
    with db.session() as s, tenant_context(tenant):
        assert next_portal_id(s, 1).startswith("QZ") and len(next_portal_id(s, 2)) == 6
        s.rollback()


def test_one_resellers_change_leaves_anothers_alone(client, reseller):
    first, a = reseller()
    second, b = reseller()
    client.patch("/reseller/api/settings", headers=a["Admin"], json={"currency": "KES",
                                                                      "billing": {"payment_terms_days": 3}})
    other = client.get("/reseller/api/settings", headers=b["Admin"]).get_json()
    assert other["currency"] == "USD" and other["billing"]["payment_terms_days"] == 14
    # a token of one reseller means nothing on the other's host
    crossed = {**a["Admin"], "Host": b["Admin"]["Host"]}
    assert client.patch("/reseller/api/settings", headers=crossed, json={"currency": "EUR"}).status_code == 401


def test_without_settings_manage_nothing_is_read_or_changed(client, reseller):
    tenant, h = reseller()
    assert client.get("/reseller/api/settings", headers=h["User"]).status_code == 403
    assert client.patch("/reseller/api/settings", headers=h["User"], json={"currency": "EUR"}).status_code == 403
    assert client.get("/reseller/api/settings", headers=h["Admin"]).get_json()["currency"] == "USD"


@pytest.mark.parametrize("body", [
    {"timezone": None}, {"timezone": ["Africa/Nairobi"]}, {"currency": 404}, {"language": {"code": "sw"}},
    {"portal_id_format": {"digits": 10**40}}, {"portal_id_format": {"prefix": None}},
    {"billing": {"invoice_format": None}}, {"billing": {"invoice_format": 7}}, {"billing": {"mode": []}},
    {"payments": {"retry_days": "1, 3"}}, {"payments": {"retry_days": [True]}}, {"payments": {"retry_days": []}},
    {"portal": {"editable_fields": "phone"}}, {"portal": {"title": ""}}, {"portal": None},
    {"radius": {"payment_page_pool": "\u0000pool"}}, {"radius": {"session_timeout": 1.5}}, "not an object", [],
])
def test_odd_values_are_refused_or_taken_never_an_error(client, reseller, body):
    tenant, h = reseller()
    answer = client.patch("/reseller/api/settings", headers=h["Admin"], json=body)
    assert answer.status_code in (200, 422), answer.get_json()
    assert answer.content_type == ("application/json" if answer.status_code == 200 else "application/problem+json")


def test_the_dunning_policy_is_judged_and_stored_as_its_own_api_does(client, reseller):
    tenant, h = reseller()
    refused = client.patch("/reseller/api/settings", headers=h["Admin"],
                           json={"dunning": {"reminder_days": [7, 3]}, "currency": "KES"})
    assert refused.status_code == 422
    assert refused.get_json()["errors"] == {"dunning.reminder_days": ["reminder_days: ascending, each day once"]}
    assert client.put("/reseller/api/dunning/policy", headers=h["Admin"], json={"reminder_days": [7, 3]}) \
        .get_json()["detail"] == "reminder_days: ascending, each day once"  # the dunning API's own words
    assert client.get("/reseller/api/settings", headers=h["Admin"]).get_json()["currency"] == "USD"
    fee = client.patch("/reseller/api/settings", headers=h["Admin"], json={"dunning": {"late_fee": "-1"}})
    assert list(fee.get_json()["errors"]) == ["dunning.late_fee"]

    changed = client.patch("/reseller/api/settings", headers=h["Admin"],
                           json={"dunning": {"reminder_days": [2, 5], "action": "suspend", "late_fee": "50"}})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["dunning"] == {"enabled": True, "reminder_days": [2, 5], "channels": ["email"],
                                             "grace_days": 7, "action": "suspend", "late_fee": "50.00",
                                             "late_fee_percent": None}
    own = client.get("/reseller/api/dunning/policy", headers=h["Admin"]).get_json()
    assert own["reminder_days"] == [2, 5] and own["action"] == "suspend" and own["late_fee"] == "50.00"
