"""One pooled connection shared by two tenants' requests: neither ever sees the other's schema."""

import random

import pytest
from flask import g
from sqlalchemy import text

from app import create_app
from app.db import Database
from app.services import customers
from app.web import db_session
from tenants import registry
from tests.conftest import host_of


@pytest.fixture(scope="module")
def pool_of_one(settings, database_url, db):
    main_db = db
    db = Database.from_url(database_url, pool_size=1, max_overflow=0)
    flask_app = create_app(settings, db)

    @flask_app.get("/_test/schema")
    def schema():
        row = db_session().execute(text("SELECT current_schema(), current_setting('search_path')")).one()
        count = db_session().execute(text("SELECT count(*) FROM customers")).scalar_one()
        return {"schema": row[0], "path": row[1], "customers": count, "tenant": g.tenant.code}

    @flask_app.post("/_test/fail")
    def fail():
        customers.create(db_session(), first_name="Ghost", last_name="Row", email="ghost@x.example")
        db_session().flush()
        raise RuntimeError("fails half-way, after writing")

    yield flask_app, db
    flask_app.extensions["backhaul"].directory.close()
    db.engine.dispose()
    registry.bind(main_db.engine)  # later tests look tenants up through the suite's own engine


def test_interleaved_requests_on_one_connection(pool_of_one, make_tenant, db):
    flask_app, small_db = pool_of_one
    a, b = make_tenant("POOLA"), make_tenant("POOLB")
    from tenants import tenant_context

    with db.session() as s, tenant_context(a):
        customers.create(s, first_name="Only", last_name="InA", email="a@x.example")
    client = flask_app.test_client()
    order = [a, b] * 250
    random.Random(7).shuffle(order)
    for tenant in order:
        body = client.get("/_test/schema", headers={"Host": host_of(tenant)}).get_json()
        assert body["schema"] == tenant.schema
        assert body["tenant"] == tenant.code
        assert body["path"] == f"{tenant.schema}, public"
        assert body["customers"] == (1 if tenant is a else 0)
    assert small_db.engine.pool.size() == 1
    # after every request the connection is back in the pool with no tenant on it
    with small_db.engine.connect() as conn:
        assert conn.execute(text("SELECT current_setting('search_path')")).scalar_one() == "public"


def test_exception_mid_request_leaves_the_next_tenant_clean(pool_of_one, make_tenant):
    flask_app, _ = pool_of_one
    a, b = make_tenant("FAILA"), make_tenant("FAILB")
    client = flask_app.test_client()
    response = client.post("/_test/fail", headers={"Host": host_of(a)})
    assert response.status_code == 500
    assert response.get_json()["type"] == "/problems/internal"
    body = client.get("/_test/schema", headers={"Host": host_of(b)}).get_json()
    assert body["schema"] == b.schema and body["customers"] == 0
    body = client.get("/_test/schema", headers={"Host": host_of(a)}).get_json()
    assert body["customers"] == 0  # the half-done write was rolled back
