"""The per-transaction `search_path`.

Every transaction on the engine begins with `SET LOCAL search_path`: the current tenant's schema, then
`public`; with no tenant, `public` alone, so a tenant table is simply not found rather than found in the
wrong place. `SET LOCAL` ends with the transaction (commit or rollback), so a pooled connection never
carries a tenant's path into the next checkout, and it behaves the same behind PgBouncer in transaction
mode. There is no session-level `SET` anywhere.
"""

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from tenants.context import current_tenant
from tenants.schema import quote_schema


def search_path_sql() -> str:
    tenant = current_tenant()
    if tenant is None:
        return "SET LOCAL search_path TO public"
    return f"SET LOCAL search_path TO {quote_schema(tenant.schema)}, public"


def _on_begin(conn: Connection) -> None:
    if conn._is_autocommit_isolation():  # no transaction to be local to (CREATE DATABASE and the like)
        return
    conn.exec_driver_sql(search_path_sql())


def install(engine: Engine) -> Engine:
    if not event.contains(engine, "begin", _on_begin):
        event.listen(engine, "begin", _on_begin)
    return engine
