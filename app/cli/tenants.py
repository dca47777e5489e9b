"""`backhaul tenants`: the reseller registry."""

from __future__ import annotations

import click
from rich.table import Table

from app.cli import fail, out, pass_runtime
from app.services.errors import ServiceError


@click.group("tenants")
def command() -> None:
    """Resellers and sub-resellers: create, list, show, suspend, activate, delete."""


def _service(runtime, fn, *args, **kwargs):
    from app.services import tenants as svc

    try:
        with runtime.db.session() as session:
            return getattr(svc, fn)(session, *args, **kwargs)
    except ServiceError as exc:
        fail(exc.detail)


@command.command("create")
@click.argument("code")
@click.option("--name", required=True, help="Display name, e.g. 'ABC Internet'.")
@click.option("--parent", "parent_code", help="Code of the parent reseller (makes a sub-reseller).")
@click.option("--host", "hosts", multiple=True, help="A custom host name (repeatable); the first is primary.")
@click.option("--customer-limit", type=click.IntRange(0), help="Most customers this reseller may have.")
@pass_runtime
def create(runtime, code, name, parent_code, hosts, customer_limit) -> None:
    """Provision tenant CODE (e.g. ABC_ISP): schema at head, defaults, domains — all or nothing."""
    import time

    started = time.perf_counter()
    tenant = _service(runtime, "provision", code=code, name=name, parent_code=parent_code, hosts=hosts,
                      customer_limit=customer_limit, base_domain=runtime.settings.base_domain,
                      actor="cli")
    out.print(f"created {tenant.code} (schema {tenant.schema}) in {time.perf_counter() - started:.2f}s")
    _show(runtime, tenant.code)


@command.command("list")
@pass_runtime
def list_(runtime) -> None:
    """List every tenant with its status and host names."""
    from app.services import tenants as svc

    with runtime.db.session() as session:
        rows = svc.list_all(session)
        by_id = {r.id: r.code for r in rows}
        table = Table("code", "name", "parent", "status", "schema", "hosts")
        for r in rows:
            table.add_row(r.code, r.name, by_id.get(r.parent_id, ""), r.status, r.schema_name,
                          ", ".join(d.host + (" *" if d.is_primary else "") for d in r.domains))
    out.print(table if rows else "no tenants yet: `backhaul tenants create CODE --name NAME`")


def _show(runtime, code: str) -> None:
    from app.services import tenants as svc

    try:
        with runtime.db.session() as session:
            row = svc.get(session, code)
            table = Table(show_header=False)
            for key, value in (
                ("code", row.code), ("name", row.name), ("status", row.status),
                ("status reason", row.status_reason or ""), ("schema", row.schema_name),
                ("parent", row.parent.code if row.parent else ""),
                ("customer limit", "" if row.customer_limit is None else str(row.customer_limit)),
                ("created", row.created_at.isoformat(timespec="seconds")),
            ):
                table.add_row(key, value)
            for d in row.domains:
                state = "verified" if d.verified_at else "pending verification"
                table.add_row("host", f"{d.host} ({d.kind}, {state}{', primary' if d.is_primary else ''})")
    except ServiceError as exc:
        fail(exc.detail)
    out.print(table)


@command.command("show")
@click.argument("code")
@pass_runtime
def show(runtime, code) -> None:
    """Show one tenant."""
    _show(runtime, code)


@command.command("suspend")
@click.argument("code")
@click.option("--reason", help="Shown to operators and recorded in the audit log.")
@pass_runtime
def suspend(runtime, code, reason) -> None:
    """Suspend CODE: its portals answer 403 until it is activated again."""
    _service(runtime, "set_status", code, "Suspended", reason=reason, actor="cli")
    out.print(f"{code} suspended")


@command.command("activate")
@click.argument("code")
@pass_runtime
def activate(runtime, code) -> None:
    """Re-activate a suspended or inactive tenant."""
    _service(runtime, "set_status", code, "Active", actor="cli")
    out.print(f"{code} active")


@command.command("add-domain")
@click.argument("code")
@click.argument("host")
@click.option("--primary", is_flag=True, help="Make it the tenant's primary host name.")
@pass_runtime
def add_domain(runtime, code, host, primary) -> None:
    """Point HOST at tenant CODE (operator-added hosts are trusted without DNS verification)."""
    domain = _service(runtime, "add_domain", code, host, primary=primary, actor="cli")
    out.print(f"{domain.host} → {code}")


@command.command("delete")
@click.argument("code")
@click.option("--yes", is_flag=True, help="Confirm: the schema and all its data are dropped.")
@pass_runtime
def delete(runtime, code, yes) -> None:
    """Delete CODE and drop its schema with everything in it (refused while it has sub-resellers)."""
    if not yes:
        click.confirm(f"Drop tenant {code} and all its data?", abort=True)
    _service(runtime, "delete", code, actor="cli")
    out.print(f"{code} deleted")
