"""Fixtures of the customer tests: a reseller with a signed-in user, and helpers to call the customer API."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import text

from app.services import customers
from app.services.settings import get_setting, put_setting
from tenants import tenant_context
from tests.auth.conftest import accounts, bearer, reseller_login  # noqa: F401

API = "/reseller/api"


@dataclass
class Reseller:
    acc: object
    headers: dict
    client: object
    db: object

    @property
    def tenant(self):
        return self.acc.tenant

    def post(self, path: str, body: dict | None = None):
        return self.client.post(API + path, json=body if body is not None else {}, headers=self.headers)

    def get(self, path: str, **params):
        return self.client.get(API + path, query_string=params, headers=self.headers)

    def patch(self, path: str, body: dict):
        return self.client.patch(API + path, json=body, headers=self.headers)

    def delete(self, path: str, **params):
        return self.client.delete(API + path, query_string=params, headers=self.headers)

    def create(self, **fields) -> dict:
        body = {"first_name": "Amina", "last_name": "Otieno", **fields}
        response = self.post("/customers", body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def make(self, **fields):
        """A customer made by the service directly (quicker than the API where the API is not the point)."""
        if fields.get("kind", "person") == "person":
            fields.setdefault("first_name", "Amina")
            fields.setdefault("last_name", "Otieno")
        with self.db.session() as s, tenant_context(self.tenant):
            return customers.create(s, **fields)

    def status(self, customer_id: int, status: str, reason: str = "test"):
        return self.post(f"/customers/{customer_id}/status", {"status": status, "reason": reason})

    def sql(self, statement: str, **params):
        with self.db.session() as s, tenant_context(self.tenant):
            return s.execute(text(statement), params).all() if statement.lstrip().upper().startswith(
                ("SELECT", "WITH")) else s.execute(text(statement), params)

    def setting(self, key: str, **values) -> None:
        with self.db.session() as s, tenant_context(self.tenant):
            put_setting(s, key, {**(get_setting(s, key) or {}), **values})

    def set_limit(self, limit: int | None) -> None:
        with self.db.session() as s:
            s.execute(text("UPDATE public.tenants SET customer_limit = :l WHERE id = :t"),
                      {"l": limit, "t": self.tenant.id})


@pytest.fixture
def reseller(app, db, accounts):  # noqa: F811  (the fixture imported above)
    """A fresh tenant whose Admin is signed in; `reseller(role=...)` for another role or restrictions."""

    def make(role: str = "Admin", **user_kwargs) -> Reseller:
        acc = accounts(role=role, **user_kwargs)
        client = app.test_client()
        login = reseller_login(client, acc)
        assert login.status_code == 200, login.get_json()
        return Reseller(acc, bearer(login.get_json()["token"], acc.host), client, db)

    return make
