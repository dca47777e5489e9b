"""`backhaul db`: the schema migrations."""

from __future__ import annotations

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from app.cli import err, fail, out, pass_runtime


@click.group("db")
def command() -> None:
    """Database schema: migrate `public` and every tenant schema."""


# Starting a worker process costs about a second (imports), the time of ~30 schema upgrades.
AUTO_PARALLEL_FROM = 32


def upgrade_all(runtime, jobs: int | None, quiet: bool = False) -> tuple[bool, int]:
    """Upgrade public, then every tenant (in parallel); returns (public changed, tenants changed).

    `jobs=None` picks: one process for a handful of outdated schemas, two beyond that.
    """
    from migrations import runner

    engine = runtime.db.engine
    public_changed = runner.upgrade_public(engine)
    tenants = runner.list_tenants(engine)
    if not tenants:
        return public_changed, 0
    if jobs is None:
        jobs = 2 if len(runner.outdated(engine, tenants)) >= AUTO_PARALLEL_FROM else 1
    columns = (TextColumn("[bold]tenant schemas"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("{task.fields[last]}"))
    with Progress(*columns, console=err, disable=quiet, transient=False) as progress:
        task = progress.add_task("migrate", total=len(tenants), last="")

        def done(tenant, changed):
            progress.update(task, advance=1, last=f"{tenant.code}{' upgraded' if changed else ''}")

        changed = runner.upgrade_tenants(engine, tenants, jobs=jobs, on_done=done)
    return public_changed, changed


@command.command("upgrade")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=None,
              help="Tenant schemas migrated in parallel [default: 1, or 2 from 32 outdated schemas].")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@pass_runtime
def upgrade(runtime, jobs: int, quiet: bool) -> None:
    """Upgrade `public`, then every tenant schema, to the newest revision (re-running is a no-op)."""
    from migrations.runner import TenantFailure

    try:
        public_changed, changed = upgrade_all(runtime, jobs, quiet)
    except TenantFailure as exc:
        fail(f"{exc}\nThe tenants migrated before it keep their new revision; fix the cause and re-run.")
    out.print(f"public: {'upgraded' if public_changed else 'up to date'}; tenant schemas upgraded: {changed}")


@command.command("status")
@pass_runtime
def status(runtime) -> None:
    """Show the revision of `public` and of every tenant schema against the newest."""
    from rich.table import Table

    from migrations import runner
    from tenants import tenant_context

    engine = runtime.db.engine
    table = Table("schema", "revision", "head")
    with tenant_context(None), engine.connect() as conn:
        table.add_row("public", runner.current_revision(conn, "public") or "-", runner.head("public"))
        for tenant in runner.list_tenants(engine):
            table.add_row(tenant.schema, runner.current_revision(conn, tenant.schema) or "-",
                          runner.head("tenant"))
    out.print(table)


@command.command("revision")
@click.option("--env", "kind", type=click.Choice(["public", "tenant"]), required=True)
@click.option("-m", "--message", required=True, help="What the revision does.")
@click.option("--rev-id", required=True, help="Revision id, e.g. t0003 or p0004 (p… public, t… tenant).")
@pass_runtime
def revision(runtime, kind, message, rev_id) -> None:
    """Write a new migration from the difference between the models and the newest schema (for developers).

    Runs in a scratch database on the configured server, never against your data.
    """
    from migrations.autogen import revision as autogenerate

    path = autogenerate(runtime.settings.database_url, kind, message, rev_id)
    out.print(f"wrote {path}; read it and edit before committing")
