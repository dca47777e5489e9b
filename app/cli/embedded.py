"""`backhaul embedded`: the PostgreSQL and Redis started under the data folder."""

from __future__ import annotations

import click

from app.cli import out


@click.group("embedded")
def command() -> None:
    """The embedded PostgreSQL and Redis (used when DATABASE_URL / REDIS_URL are not set)."""


@command.command("stop")
def stop() -> None:
    """Stop the embedded services of BACKHAUL_DATA_DIR (their data stays)."""
    from app import embedded
    from app.config import Settings

    stopped = embedded.stop(Settings.from_env().data_dir)
    out.print(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")
