"""Customers' personal API keys: shown once, hashed, read-only or read-write, expiring, revocable."""

from datetime import timedelta

from sqlalchemy import select

from app import clock
from app.models import ApiKey
from tenants import tenant_context
from tests.auth.conftest import PASSWORD, bearer


def _customer(client, acc):
    return bearer(client.post("/portal/auth/login", json={"portal_id": acc.portal_id, "password": PASSWORD},
                              headers={"Host": acc.host}).get_json()["token"], acc.host)


def test_key_is_shown_once_stored_hashed_and_acts_as_the_customer(client, db, accounts):
    acc = accounts()
    headers = _customer(client, acc)
    made = client.post("/portal/api/api-keys", json={"name": "billing sync", "access": "read"}, headers=headers)
    assert made.status_code == 201
    key = made.get_json()["key"]
    assert key.startswith(f"bhk.{acc.tenant.id}.")
    listed = client.get("/portal/api/api-keys", headers=headers).get_json()
    assert "key" not in listed[0] and listed[0]["prefix"] == key[:16]
    with db.session() as s, tenant_context(acc.tenant):
        stored = s.execute(select(ApiKey)).scalars().one()
    assert key not in (stored.key_hash, stored.prefix) and len(stored.key_hash) == 64
    me = client.get("/portal/auth/me", headers=bearer(key, acc.host)).get_json()
    assert me["id"] == acc.customer_id and me["permissions"] == ["self.view"]


def test_read_only_key_cannot_write_and_no_key_mints_keys(client, accounts):
    acc = accounts()
    headers = _customer(client, acc)
    read = client.post("/portal/api/api-keys", json={"name": "r", "access": "read"}, headers=headers).get_json()["key"]
    write = client.post("/portal/api/api-keys", json={"name": "w", "access": "read_write"},
                        headers=headers).get_json()["key"]
    denied = client.post("/portal/api/api-keys", json={"name": "x", "access": "read"}, headers=bearer(read, acc.host))
    assert denied.status_code == 403 and "self.edit" in denied.get_json()["detail"]
    also = client.post("/portal/api/api-keys", json={"name": "x", "access": "read"}, headers=bearer(write, acc.host))
    assert also.status_code == 403  # a key never creates keys: that needs the customer's own session


def test_expired_revoked_and_foreign_keys_are_refused(client, accounts):
    a, b = accounts(), accounts()
    headers = _customer(client, a)
    soon = (clock.now() + timedelta(days=1)).isoformat()
    made = client.post("/portal/api/api-keys", json={"name": "k", "access": "read", "expires_at": soon},
                       headers=headers).get_json()
    key = made["key"]
    assert client.get("/portal/auth/me", headers=bearer(key, a.host)).status_code == 200
    assert client.get("/portal/auth/me", headers=bearer(key, b.host)).status_code == 401
    past = client.post("/portal/api/api-keys", json={"name": "k", "access": "read",
                                                     "expires_at": "2020-01-01T00:00:00+00:00"}, headers=headers)
    assert past.status_code == 422
    assert client.delete(f"/portal/api/api-keys/{made['id']}", headers=headers).status_code == 204
    assert client.get("/portal/auth/me", headers=bearer(key, a.host)).status_code == 401
