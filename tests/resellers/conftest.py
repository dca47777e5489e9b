"""A reseller tree to test with: a root reseller, its sub-reseller and grand-sub-reseller created through
the API with the JSON of "Sub-Reseller Creation" (001), a sibling of the sub-reseller, a customer in each,
and helpers to sign in anywhere in it."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest

from app.services import customers
from app.services.auth import users
from tenants import tenant_context
from tests.auth.conftest import PASSWORD, bearer
from tests.conftest import RUN_ID, host_of

CONSOLE = "console.test.example"
_n = itertools.count(1)


@dataclass
class Node:
    tenant: object  # tenants.Tenant
    host: str
    admin: str
    customers: list = field(default_factory=list)  # (id, portal_id)
    viewer: str | None = None  # a Readonly user (root only)
    agent: str | None = None  # a User-role user (root only)

    @property
    def id(self) -> int:
        return self.tenant.id

    @property
    def code(self) -> str:
        return self.tenant.code


def sign_in(client, host: str, username: str, password: str = PASSWORD) -> dict:
    reply = client.post("/reseller/auth/login", json={"username": username, "password": password},
                        headers={"Host": host})
    assert reply.status_code == 200, reply.get_json()
    return bearer(reply.get_json()["token"], host)


def staff_headers(client, email: str) -> dict:
    reply = client.post("/console/auth/login", json={"email": email, "password": PASSWORD}, headers={"Host": CONSOLE})
    assert reply.status_code == 200, reply.get_json()
    return bearer(reply.get_json()["token"], CONSOLE)


def unique_code(prefix: str) -> str:
    return f"{prefix}{RUN_ID.upper()}_{next(_n)}"


def add_customer(db, tenant, first: str = "Amina", status: str | None = None):
    with db.session() as s, tenant_context(tenant):
        kwargs = {"status": status} if status else {}
        customer = customers.create(s, first_name=first, last_name="Otieno",
                                    email=f"{first.lower()}{next(_n)}@example.com", **kwargs)
        return customer.id, customer.portal_id


def sub_reseller_json(parent_id: int, code: str, **overrides) -> dict:
    """The JSON of "Sub-Reseller Creation" (001), with the code and first Admin the platform needs."""
    body = {
        "parent_reseller_id": parent_id,
        "name": "Regional ABC Partner",
        "level": 1,
        "commission_percent": 8.00,
        "inherited_branding": True,
        "customer_limit": 500,
        "allowed_services": ["internet", "voice"],
        "code": code,
        "admin": {"username": f"admin@{code.lower().replace('_', '-')}.example",
                  "email": f"admin@{code.lower().replace('_', '-')}.example",
                  "password": PASSWORD},
    }
    body.update(overrides)
    return body


@pytest.fixture
def root(db, make_tenant):
    """A top-level reseller with commission 10.00, no customer limit, every service kind, an Admin and a Readonly."""
    from app.models import Tenant as TenantRow

    tenant = make_tenant("ROOT")
    with db.session() as s:
        s.get(TenantRow, tenant.id).commission_percent = 10
    n = next(_n)
    with db.session() as s, tenant_context(tenant):
        admin, _ = users.create_user(s, username=f"root{n}@abc.example", email=f"root{n}@abc.example", role="Admin",
                                     password=PASSWORD)
        users.create_user(s, username=f"viewer{n}@abc.example", email=f"viewer{n}@abc.example", role="Readonly",
                          password=PASSWORD)
        users.create_user(s, username=f"agent{n}@abc.example", email=f"agent{n}@abc.example", role="User",
                          password=PASSWORD)
    node = Node(tenant, host_of(tenant), admin.username, viewer=f"viewer{n}@abc.example",
                agent=f"agent{n}@abc.example")
    node.customers.append(add_customer(db, tenant, "Root"))
    return node


@dataclass
class Tree:
    root: Node
    child: Node
    grandchild: Node
    sibling: Node


def _node(db, client, headers, body) -> Node:
    reply = client.post("/reseller/api/sub-resellers", json=body, headers=headers)
    assert reply.status_code == 201, reply.get_json()
    from tenants.registry import directory

    tenant = directory().by_code(body["code"])
    node = Node(tenant, host_of(tenant), body["admin"]["username"])
    node.customers.append(add_customer(db, tenant, body["code"].split("_")[0].capitalize()))
    return node


@pytest.fixture
def tree(app, db, root) -> Tree:
    """root ─┬─ child (8.00 %, 500 customers, internet+voice) ── grandchild (5.00 %, 100, internet)
             └─ sibling (7.50 %, 200, internet)"""
    client = app.test_client()
    headers = sign_in(client, root.host, root.admin)
    child = _node(db, client, headers, sub_reseller_json(root.id, unique_code("CHILD")))
    grandchild = _node(db, client, headers, sub_reseller_json(
        child.id, unique_code("GRAND"), name="Grand Partner", level=2, commission_percent="5.00", customer_limit=100,
        allowed_services=["internet"]))
    sibling = _node(db, client, headers, sub_reseller_json(
        root.id, unique_code("SIB"), name="Sibling Partner", commission_percent=7.5, customer_limit=200,
        allowed_services=["internet"]))
    return Tree(root, child, grandchild, sibling)


@pytest.fixture
def staff(db):
    """A console staff member who may impersonate; returns their e-mail."""
    n = next(_n)
    with db.session() as s:
        return users.create_staff(s, email=f"console{n}@isp.example", name="Console", password=PASSWORD,
                                  can_impersonate=True).email


@pytest.fixture
def plain_staff(db):
    """A console staff member without can_impersonate."""
    n = next(_n)
    with db.session() as s:
        return users.create_staff(s, email=f"plain{n}@isp.example", name="Plain", password=PASSWORD).email
