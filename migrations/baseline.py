"""A new tenant schema made at head in one step: the models' tables, then what only migrations hold
(seed rows, triggers), then stamped at head.

Why: provisioning replayed every tenant migration (about 0.2 s each), so a new reseller took longer with
every release. Creating from the metadata costs the same whatever the history. What the metadata cannot
say is written here once (`AFTER_CREATE`); tests/migrations compares a schema made this way with one
made by replaying the migrations, catalogue entry by catalogue entry, so the two cannot drift apart.
Existing schemas are still upgraded by their migrations (runner.py).
"""

from __future__ import annotations

from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Connection

from migrations.runner import _ALEMBIC_LOCK, alembic_config
from tenants.context import Tenant, tenant_context
from tenants.session import search_path_sql

# What the migrations create beyond the tables: each statement as the migration that introduced it has it.
AFTER_CREATE = (
    # 0002_identity: the built-in roles (their permissions are in code)
    "INSERT INTO roles (name, builtin, description) VALUES "
    "('Admin', true, 'Full reseller account control'), "
    "('Manager', true, 'Customers, services, basic finance, reports, team supervision'), "
    "('User', true, 'Customer support, service status, basic changes, tickets, payments'), "
    "('Readonly', true, 'View customers, services, reports and financial summaries')",
    # 0005_billing: the ledger is append-only
    """CREATE FUNCTION ledger_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'the ledger is append-only: post a reversal instead of % on ledger_entries', TG_OP
                USING ERRCODE = 'restrict_violation';
        END $$""",
    """CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON ledger_entries
        FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_append_only()""",
    # 0014_privacy: the record of consent is append-only; a row leaves only with its customer
    """CREATE FUNCTION consent_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' AND NOT EXISTS (SELECT 1 FROM customers WHERE id = OLD.customer_id) THEN
                RETURN OLD;
            END IF;
            RAISE EXCEPTION 'consent_events is append-only: record a new consent instead of % on it', TG_OP
                USING ERRCODE = 'restrict_violation';
        END $$""",
    """CREATE TRIGGER consent_events_append_only BEFORE UPDATE OR DELETE ON consent_events
        FOR EACH ROW EXECUTE FUNCTION consent_events_append_only()""",
)


def create_at_head(conn: Connection, tenant: Tenant) -> None:
    """Fill the (new, empty) schema of `tenant` at head, in the caller's transaction."""
    from app.models import TenantBase

    with tenant_context(tenant):
        conn.exec_driver_sql(search_path_sql())
        TenantBase.metadata.create_all(conn)
        for statement in AFTER_CREATE:
            conn.execute(text(statement))
        with _ALEMBIC_LOCK:
            cfg = alembic_config("tenant")
            cfg.attributes["connection"] = conn
            cfg.attributes["schema"] = tenant.schema
            try:
                command.stamp(cfg, "head")
            finally:
                cfg.attributes.clear()
