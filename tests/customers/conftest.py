"""Fixtures of the customer tests: a reseller with a signed-in user, and helpers to call the customer API."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import Decimal

import pytest
from sqlalchemy import text

from app.services import catalogue, customers, services
from app.services.settings import get_setting, put_setting
from tenants import tenant_context
from tests.auth.conftest import accounts, bearer, reseller_login  # noqa: F401

API = "/reseller/api"
_plans = itertools.count(1)
# how a service reaches each status, from Pending
SERVICE_PATHS = {"Pending": [], "Active": ["activate"], "Suspended": ["activate", "suspend"],
                 "Limited": ["activate", "limit"], "Terminated": ["terminate"]}


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

    def plan(self, kind: str = "internet", wholesale_price: str = "60.00", regions: list[str] | None = None,
             **fields):
        """A wholesale plan (unique code) that this reseller may sell (in `regions`; None: everywhere)."""
        with self.db.session() as s:
            plan = catalogue.create_plan(s, code=f"CU{next(_plans)}-{kind[:3]}", name=f"{kind} plan", kind=kind,
                                         wholesale_price=Decimal(wholesale_price), currency="USD", **fields)
            catalogue.authorise(s, plan.id, self.tenant.id, regions)
            return plan

    def service(self, customer_id: int, plan, status: str = "Pending", region: str | None = None) -> int:
        """A service of `plan` for the customer, brought to `status` the way the service rules allow."""
        with self.db.session() as s, tenant_context(self.tenant):
            service_id = services.create(s, customer_id, plan.id, region=region).id
            for action in SERVICE_PATHS[status]:
                if action == "activate":
                    services.activate(s, service_id, reason="installed")
                else:
                    services.apply(s, service_id, action, reason=f"test {action}")
            return service_id

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
