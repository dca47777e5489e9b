"""Running the two Alembic environments: `public` once, `tenant` once per tenant schema.

Each tenant is upgraded in its own transaction (PostgreSQL DDL is transactional), with that tenant's
schema first on the `search_path` and its own `alembic_version` table inside the schema. Many tenants
are upgraded in parallel by worker processes (Alembic's work is mostly Python, so threads would share
one core); the first failure stops the run and names the tenant.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from functools import cache
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from tenants.context import Tenant, tenant_context
from tenants.schema import quote_schema, validate_schema
from tenants.session import search_path_sql

HERE = Path(__file__).resolve().parent
# Alembic's `context` and our cached Config are process-wide: one migration at a time per process.
_ALEMBIC_LOCK = threading.RLock()


@cache
def alembic_config(kind: str) -> Config:
    if kind not in ("public", "tenant"):
        raise ValueError(kind)
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE / kind))
    return cfg


@cache
def head(kind: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(kind)).get_current_head()


def run_environment(kind: str) -> None:
    """Body of both env.py files: migrate the connection handed over in the config's attributes."""
    from app.models import PublicBase, TenantBase

    attrs = context.config.attributes
    conn: Connection = attrs["connection"]
    if kind == "public":
        options = {"target_metadata": PublicBase.metadata, "version_table_schema": "public"}
        if attrs.get("autogenerate"):  # see migrations/autogen.py
            options.update(include_schemas=True,
                           include_name=lambda name, type_, _: type_ != "schema" or name == "public")
    else:
        options = {"target_metadata": TenantBase.metadata,
                   "version_table_schema": validate_schema(attrs["schema"])}
    options["include_object"] = lambda obj, name, type_, *_: name != "alembic_version"
    context.configure(connection=conn, **options)
    with context.begin_transaction():
        context.run_migrations()


def current_revision(conn: Connection, schema: str) -> str | None:
    return MigrationContext.configure(conn, opts={"version_table_schema": schema}).get_current_revision()


def _run(kind: str, conn: Connection, target: str, schema: str | None = None, downgrade=False) -> None:
    with _ALEMBIC_LOCK:
        cfg = alembic_config(kind)
        cfg.attributes["connection"] = conn
        cfg.attributes["schema"] = schema
        try:
            (command.downgrade if downgrade else command.upgrade)(cfg, target)
        finally:
            cfg.attributes.clear()


def upgrade_public(engine: Engine, target: str = "head") -> bool:
    """Bring `public` to `target`; True when something was applied."""
    with tenant_context(None), engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('backhaul:migrate:public'))"))
        if target == "head" and current_revision(conn, "public") == head("public"):
            return False
        _run("public", conn, target, schema="public")
        return True


def upgrade_tenant_on(conn: Connection, tenant: Tenant, target: str = "head") -> bool:
    """Upgrade one tenant schema on a connection already in a transaction (provisioning uses this)."""
    with tenant_context(tenant):
        conn.exec_driver_sql(search_path_sql())
        if target == "head" and current_revision(conn, tenant.schema) == head("tenant"):
            return False
        _run("tenant", conn, target, schema=tenant.schema)
        return True


def upgrade_tenant(engine: Engine, tenant: Tenant, target: str = "head") -> bool:
    with tenant_context(tenant), engine.begin() as conn:
        return upgrade_tenant_on(conn, tenant, target)


def downgrade_tenant(engine: Engine, tenant: Tenant, target: str) -> None:
    with tenant_context(tenant), engine.begin() as conn:
        _run("tenant", conn, target, schema=tenant.schema, downgrade=True)


def list_tenants(engine: Engine) -> list[Tenant]:
    with tenant_context(None), engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT id, code, name, schema_name, status, parent_id FROM public.tenants ORDER BY id"
        )).all()
    return [Tenant(id=r[0], code=r[1], name=r[2], schema=r[3], status=r[4], parent_id=r[5]) for r in rows]


def outdated(engine: Engine, tenants: list[Tenant]) -> list[str]:
    """Schemas of `tenants` whose revision is not head, read in one round trip."""
    if not tenants:
        return []
    with tenant_context(None), engine.connect() as conn:
        versioned = set(conn.execute(text(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = 'alembic_version'"
        )).scalars())
        selects = [
            f"SELECT '{t.schema}', (SELECT max(version_num) FROM {quote_schema(t.schema)}.alembic_version)"
            for t in tenants if t.schema in versioned
        ]
        found = dict(conn.execute(text(" UNION ALL ".join(selects))).all()) if selects else {}
    newest = head("tenant")
    return [t.schema for t in tenants if found.get(t.schema) != newest]


class TenantFailure(Exception):
    """A tenant's migration failed; picklable, so it crosses back from a worker process."""

    def __init__(self, tenant: Tenant, error: str):
        super().__init__(tenant, error)
        self.tenant = tenant
        self.error = error

    def __str__(self) -> str:
        return f"tenant {self.tenant.code} (schema {self.tenant.schema}) failed to migrate: {self.error}"


# -- parallel runner ----------------------------------------------------------------------------------
_worker_engine: Engine | None = None


def _init_worker(url: str) -> None:
    global _worker_engine
    from app.db import make_engine

    _worker_engine = make_engine(url, pool_size=1, max_overflow=0)


def _upgrade_in_worker(tenant: Tenant, target: str) -> tuple[Tenant, bool]:
    assert _worker_engine is not None
    try:
        return tenant, upgrade_tenant(_worker_engine, tenant, target)
    except Exception as exc:  # carried back to the parent as a plain, picklable failure
        raise TenantFailure(tenant, f"{type(exc).__name__}: {exc}") from None


def upgrade_tenants(
    engine: Engine,
    tenants: Iterable[Tenant],
    jobs: int = 1,
    target: str = "head",
    on_done: Callable[[Tenant, bool], None] | None = None,
) -> int:
    """Upgrade every tenant; returns how many changed. Raises TenantFailure on the first failure."""
    tenants = list(tenants)
    if target == "head":  # only the schemas behind head are worth a worker process
        behind = set(outdated(engine, tenants))
        for tenant in tenants:
            if tenant.schema not in behind and on_done:
                on_done(tenant, False)
        tenants = [t for t in tenants if t.schema in behind]
    changed = 0
    jobs = min(jobs, len(tenants))
    if jobs <= 1:
        for tenant in tenants:
            try:
                did = upgrade_tenant(engine, tenant, target)
            except Exception as exc:
                raise TenantFailure(tenant, f"{type(exc).__name__}: {exc}") from exc
            changed += did
            if on_done:
                on_done(tenant, did)
        return changed

    url = engine.url.render_as_string(hide_password=False)
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["migrations.runner", "app.db", "app.models", "alembic.command"])
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_init_worker,
                             initargs=(url,)) as pool:
        pending = {pool.submit(_upgrade_in_worker, t, target) for t in tenants}
        while pending:
            done, pending = wait(pending, return_when=FIRST_EXCEPTION)
            for future in done:
                exc = future.exception()
                if exc is not None:
                    for other in pending:
                        other.cancel()
                    raise exc
                tenant, did = future.result()
                changed += did
                if on_done:
                    on_done(tenant, did)
    return changed
