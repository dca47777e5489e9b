"""Provisioning is all-or-nothing; `db upgrade` is idempotent and names a failing tenant."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, create_engine, select, text

from app.db import sqlalchemy_url
from app.models import AuditEvent, Domain, PortalId, PublicBase, TenantBase
from app.models import Tenant as TenantRow
from app.services import customers
from app.services import tenants as svc
from app.services.errors import Conflict, Invalid
from migrations import runner
from tenants import tenant_context


def _schema_exists(db, schema: str) -> bool:
    with db.engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM pg_namespace WHERE nspname = :s"), {"s": schema}).scalar() == 1


def test_provisioned_tenant_is_at_head_with_defaults(db, make_tenant):
    tenant = make_tenant("HEAD")
    with db.engine.connect() as conn:
        assert runner.current_revision(conn, tenant.schema) == runner.head("tenant")
    with db.session() as s, tenant_context(tenant):
        rows = dict(s.execute(text("SELECT key, value FROM settings")).all())
    assert rows["portal_id_format"] == {"prefix": "HEA", "digits": 6}
    assert rows["timezone"] == "UTC"


def test_failure_half_way_leaves_no_schema_and_no_registry_row(db, settings, monkeypatch):
    code = "HALFWAY"

    def explode(*args, **kwargs):
        # by now the row is inserted, the schema created and migrated
        with db.engine.connect():
            pass
        raise RuntimeError("disk full while seeding defaults")

    monkeypatch.setattr(svc, "seed_defaults", explode)
    with pytest.raises(RuntimeError, match="disk full"), db.session() as s:
        svc.provision(s, code=code, name="Half Way", base_domain=settings.base_domain, hosts=["half.example"])
    assert not _schema_exists(db, "t_halfway")
    with db.session() as s:
        assert s.execute(select(TenantRow).where(TenantRow.code == code)).first() is None
        assert s.execute(select(Domain).where(Domain.host == "half.example")).first() is None
    monkeypatch.undo()
    with db.session() as s:  # and the same code can be provisioned afterwards
        svc.provision(s, code=code, name="Half Way", base_domain=settings.base_domain, hosts=["half.example"])
    assert _schema_exists(db, "t_halfway")


def test_taken_host_or_code_is_refused_before_anything_is_made(db, settings, make_tenant):
    first = make_tenant("TAKEN", hosts=["taken.example"])
    with pytest.raises(Conflict, match="taken.example"), db.session() as s:
        svc.provision(s, code="TAKEN_TWO", name="Two", base_domain=settings.base_domain, hosts=["Taken.Example."])
    with pytest.raises(Conflict, match="already exists"), db.session() as s:
        svc.provision(s, code=first.code, name="Again", base_domain=settings.base_domain)
    assert not _schema_exists(db, "t_taken_two")


@pytest.mark.parametrize("code", ['X"; DROP SCHEMA public;--', "lower", "A"])
def test_injection_in_codes_refused_by_provisioning(db, settings, code):
    with pytest.raises(Invalid), db.session() as s:
        svc.provision(s, code=code, name="Evil", base_domain=settings.base_domain)
    assert _schema_exists(db, "public")


def test_upgrade_twice_is_a_no_op(db, make_tenant):
    tenants = [make_tenant("TWICE") for _ in range(3)]
    assert runner.upgrade_public(db.engine) is False
    assert runner.upgrade_tenants(db.engine, tenants, jobs=1) == 0
    assert runner.upgrade_tenants(db.engine, tenants, jobs=2) == 0


def test_upgrade_brings_old_schemas_to_head_in_parallel(db, make_tenant):
    tenants = [make_tenant("OLD") for _ in range(4)]
    for tenant in tenants:
        runner.downgrade_tenant(db.engine, tenant, "base")
    with db.engine.connect() as conn:
        assert all(runner.current_revision(conn, t.schema) is None for t in tenants)
    seen = []
    assert runner.upgrade_tenants(db.engine, tenants, jobs=2, on_done=lambda t, c: seen.append(t.code)) == 4
    assert sorted(seen) == sorted(t.code for t in tenants)
    with db.engine.connect() as conn:
        assert all(runner.current_revision(conn, t.schema) == runner.head("tenant") for t in tenants)


def test_failing_tenant_stops_the_run_and_is_named(db, make_tenant):
    good, bad = make_tenant("GOOD"), make_tenant("BROKEN")
    with db.engine.begin() as conn:  # the version row is lost, so t0001 runs again and collides
        conn.execute(text(f'DELETE FROM "{bad.schema}".alembic_version'))
    try:
        for jobs in (1, 2):
            with pytest.raises(runner.TenantFailure) as failure:
                runner.upgrade_tenants(db.engine, [good, bad], jobs=jobs)
            assert failure.value.tenant.code == bad.code
            assert bad.code in str(failure.value) and bad.schema in str(failure.value)
    finally:  # a broken schema left behind would fail every later `db upgrade` of this test database
        with db.session() as s:
            svc.delete(s, bad.code)


def _replayed(db, make_tenant, prefix: str):
    """A tenant whose schema was made by replaying every migration (provisioning uses the baseline)."""
    tenant = make_tenant(prefix)
    runner.downgrade_tenant(db.engine, tenant, "base")
    runner.upgrade_tenant(db.engine, tenant)
    return tenant


_CATALOGUE = """
    SELECT 'column', c.relname || '.' || a.attname,
           format_type(a.atttypid, a.atttypmod) || ' null=' || (NOT a.attnotnull)::text
           || ' identity=' || a.attidentity::text || ' generated=' || a.attgenerated::text
           || ' default=' || COALESCE(pg_get_expr(d.adbin, d.adrelid), '')
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE n.nspname = :s AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT 'constraint', c.relname || '.' || k.conname, pg_get_constraintdef(k.oid)
    FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = :s
    UNION ALL
    SELECT 'index', i.indexname, replace(i.indexdef, :s || '.', '') FROM pg_indexes i WHERE i.schemaname = :s
    UNION ALL
    SELECT 'trigger', c.relname || '.' || t.tgname, replace(pg_get_triggerdef(t.oid), :s || '.', '')
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = :s AND NOT t.tgisinternal
    UNION ALL
    SELECT 'function', p.proname, p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = :s
    UNION ALL
    SELECT 'row', 'roles.' || name, builtin::text || description FROM roles
"""


def _catalogue(db, tenant) -> set:
    with db.session() as s, tenant_context(tenant):
        return {tuple(row) for row in s.execute(text(_CATALOGUE), {"s": tenant.schema})}


def test_a_provisioned_schema_is_the_same_as_one_made_by_the_migrations(db, make_tenant):
    """Provisioning creates from the models at head (migrations/baseline.py); replaying the migrations
    must give exactly the same tables, columns, constraints, indexes, triggers, functions and seed rows."""
    baseline, replayed = make_tenant("BASE"), _replayed(db, make_tenant, "REPLAY")
    made, migrated = _catalogue(db, baseline), _catalogue(db, replayed)
    assert made == migrated, {"only in the baseline": sorted(made - migrated),
                              "only in the migrations": sorted(migrated - made)}
    assert any(kind == "trigger" for kind, *_ in made)  # the comparison reached the ledger's trigger


def test_models_match_migrations(db, database_url, make_tenant):
    tenant = _replayed(db, make_tenant, "DRIFT")
    # A plain engine whose default schema is pg_catalog: then `public` and the tenant's schema are reflected
    # under their own names, as the models spell them (public) or as the runner sets them (tenant).
    engine = create_engine(sqlalchemy_url(database_url), connect_args={"options": "-csearch_path=pg_catalog"})
    try:
        with engine.connect() as conn:
            for metadata, schema in ((PublicBase.metadata, "public"), (TenantBase.metadata, tenant.schema)):
                opts = {"include_schemas": True,
                        "include_name": lambda name, kind, _, s=schema: kind != "schema" or name == s,
                        "include_object": lambda obj, name, kind, *_: name != "alembic_version"}
                if metadata is TenantBase.metadata:
                    metadata = _in_schema(metadata, schema)
                diff = compare_metadata(MigrationContext.configure(conn, opts=opts), metadata)
                assert diff == [], (schema, diff)
    finally:
        engine.dispose()


def _in_schema(metadata, schema):
    """A copy of the tenant metadata placed in one tenant's schema (as the search_path does at run time)."""
    copy = MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.tables.values():
        table.to_metadata(copy, schema=schema)
    return copy


def test_delete_drops_schema_registry_and_portal_ids(db, make_tenant):
    parent = make_tenant("PARENT")
    child = make_tenant("CHILD", parent_code=parent.code)
    with db.session() as s, tenant_context(child):
        portal_id = customers.create(s, first_name="Del", last_name="Me", email="d@x.example").portal_id
    with pytest.raises(Conflict, match="sub-resellers"), db.session() as s:
        svc.delete(s, parent.code)
    with db.session() as s:
        svc.delete(s, child.code, actor="test")
    assert not _schema_exists(db, child.schema)
    with db.session() as s:
        assert s.get(PortalId, portal_id) is None
        assert s.execute(select(TenantRow).where(TenantRow.code == child.code)).first() is None
        actions = s.execute(select(AuditEvent.action).where(AuditEvent.tenant_id == child.id)
                            .order_by(AuditEvent.id)).scalars().all()
    assert actions == ["tenant.create", "tenant.delete"]
