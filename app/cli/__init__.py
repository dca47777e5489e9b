"""The `backhaul` command, grouped by subject (`backhaul --help`, `backhaul tenants --help`, …)."""

from __future__ import annotations

import sys
from functools import cached_property

import click
from rich.console import Console

from app.config import Settings

err = Console(stderr=True, highlight=False)
out = Console(highlight=False)


class Runtime:
    """Settings, database and so on, made on first use, so that `--help` starts nothing."""

    @cached_property
    def settings(self) -> Settings:
        from app import embedded
        from app.services.branding import storage

        found = Settings.from_env()
        storage.configure(found.data_dir)  # uploaded brand files live in the data folder
        if found.database_url and found.redis_url:
            return found
        return embedded.resolve(found, echo=lambda m: err.print(f"[dim]{m}[/dim]"))

    @cached_property
    def db(self):
        from app.db import Database
        from tenants import registry

        db = Database.from_url(self.settings.database_url, pool_size=2)
        registry.bind(db.engine, listen=False)
        return db


pass_runtime = click.make_pass_decorator(Runtime, ensure=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="backhaul")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Backhaul: the multi-tenant ISP platform (resellers, customers, billing, portals, RADIUS)."""
    ctx.ensure_object(Runtime)


def fail(message: str, code: int = 1):
    err.print(f"[bold red]error:[/bold red] {message}")
    sys.exit(code)


def _register() -> None:
    from app.cli import billing, db, demo, embedded, housekeeping, outbox, radius, run, staff, tenants

    for module in (run, db, tenants, staff, demo, embedded, outbox, housekeeping, billing, radius):
        main.add_command(module.command)
    main.add_command(radius.nas_command)


_register()
