"""`backhaul housekeeping`: periodic clean-ups (run them from cron until the scheduler takes them over)."""

from __future__ import annotations

import click

from app.cli import out, pass_runtime


@click.group("housekeeping")
def command() -> None:
    """Clean-ups that keep tables from growing without end."""


@command.command("purge")
@pass_runtime
def purge(runtime) -> None:
    """Drop ended sessions, old sign-in history and devices, spent reset tokens and dead OAuth tokens."""
    from app.services.auth import housekeeping
    from migrations.runner import list_tenants
    from tenants import tenant_context

    with runtime.db.session() as session:
        total = housekeeping.purge_platform(session)
    for tenant in list_tenants(runtime.db.engine):
        with tenant_context(tenant), runtime.db.session() as session:
            total += housekeeping.purge_tenant(session)
    out.print(f"removed {total} row(s)")
