"""Rows written under one tenant are invisible under another: through `tenant_context` and the API."""

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import ProgrammingError

from app.models import Customer
from app.services import customers
from app.services.settings import put_setting
from tenants import current_tenant, tenant_context
from tests.conftest import host_of


def test_customers_of_a_are_invisible_under_b(db, make_tenant):
    a, b = make_tenant("ISOA"), make_tenant("ISOB")
    with db.session() as s, tenant_context(a):
        made = customers.create(s, first_name="Amina", last_name="Yusuf", email="amina@example.com")
    with db.session() as s, tenant_context(b):
        assert s.execute(select(func.count()).select_from(Customer)).scalar_one() == 0
        assert customers.find_by_email(s, "amina@example.com") is None
    with db.session() as s, tenant_context(a):
        assert s.execute(select(Customer.portal_id)).scalars().all() == [made.portal_id]


def test_without_a_tenant_tenant_tables_are_unreachable(db, make_tenant):
    make_tenant("ISOC")
    with pytest.raises(ProgrammingError, match="customers"), db.session() as s, tenant_context(None):
        s.execute(select(Customer)).all()


def test_tenant_context_restores_the_previous_one(make_tenant):
    a, b = make_tenant("NESTA"), make_tenant("NESTB")
    assert current_tenant() is None
    with tenant_context(a):
        with tenant_context(b.code):
            assert current_tenant() == b
        assert current_tenant() == a
        with pytest.raises(RuntimeError), tenant_context(b):
            raise RuntimeError("boom")
        assert current_tenant() == a
    assert current_tenant() is None


def test_portal_info_by_api_comes_from_each_hosts_own_schema(client, db, make_tenant):
    a, b = make_tenant("APIA"), make_tenant("APIB")
    with db.session() as s, tenant_context(a):
        put_setting(s, "portal", {"title": "Alpha Broadband", "support_email": "help@alpha.example"})
    answer_a = client.get("/api/v1/portal", headers={"Host": host_of(a)}).get_json()
    answer_b = client.get("/api/v1/portal", headers={"Host": host_of(b)}).get_json()
    assert answer_a["title"] == "Alpha Broadband"
    assert answer_a["support_email"] == "help@alpha.example"
    assert answer_b["tenant"]["code"] == b.code
    assert answer_b["title"] == b.name
    assert "alpha" not in str(answer_b).lower()


def test_same_table_names_different_rows(db, make_tenant):
    a, b = make_tenant("SAMEA"), make_tenant("SAMEB")
    for tenant, n in ((a, 3), (b, 1)):
        with db.session() as s, tenant_context(tenant):
            for i in range(n):
                customers.create(s, first_name="C", last_name=str(i), email=f"c{i}@x.example")
    for tenant, n in ((a, 3), (b, 1)):
        with db.session() as s, tenant_context(tenant):
            assert s.execute(text("SELECT count(*) FROM customers")).scalar_one() == n
            assert s.execute(text("SELECT current_schema()")).scalar_one() == tenant.schema
