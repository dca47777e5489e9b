"""Autogenerating a migration from the models, for either environment.

Alembic compares the models with a live schema. Two subtleties make that wrong if done naively here:
tenant tables have no schema (they live wherever the search_path points), and `public` is PostgreSQL's
default schema, which Alembic then reports without a name while our public models spell it out. So the
comparison runs in a scratch database migrated to head, on a connection whose *default* schema is set
to the one being compared: a scratch tenant schema for `tenant`, and `pg_catalog` (with `public` named
explicitly) for `public`.
"""

from __future__ import annotations

import secrets

from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.db import Database, sqlalchemy_url
from migrations import runner
from tenants.context import Tenant

SCRATCH_TENANT = Tenant(id=0, code="AUTOGEN", name="autogen", schema="t_autogen", status="Active")


def revision(database_url: str, kind: str, message: str, rev_id: str) -> str:
    """Write a new revision file for `kind` ('public' or 'tenant'); returns its path."""
    server = make_url(sqlalchemy_url(database_url))
    name = f"backhaul_autogen_{secrets.token_hex(4)}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    scratch_url = server.set(database=name)
    try:
        db = Database.from_url(scratch_url.render_as_string(hide_password=False), pool_size=1)
        runner.upgrade_public(db.engine)
        with db.engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{SCRATCH_TENANT.schema}"'))
        runner.upgrade_tenant(db.engine, SCRATCH_TENANT)
        db.engine.dispose()
        default_schema = "pg_catalog" if kind == "public" else SCRATCH_TENANT.schema
        engine = create_engine(scratch_url, connect_args={"options": f"-csearch_path={default_schema}"})
        with engine.connect() as conn:
            cfg = runner.alembic_config(kind)
            cfg.attributes.update(connection=conn, schema=SCRATCH_TENANT.schema, autogenerate=True)
            try:
                script = command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id)
            finally:
                cfg.attributes.clear()
        engine.dispose()
        return script.path
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
