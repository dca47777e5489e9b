"""`backhaul embedded`: the PostgreSQL and Redis started under the data folder."""

from __future__ import annotations

import json

import click

from app.cli import out


@click.group("embedded")
def command() -> None:
    """The embedded PostgreSQL and Redis (used when DATABASE_URL / REDIS_URL are not set)."""


@command.command("start")
@click.option("--only", type=click.Choice(["postgres", "redis"]), multiple=True,
              help="Start only this one (repeatable); default both.")
@click.option("--json", "as_json", is_flag=True,
              help="Print {database_url, redis_url, started} as JSON, for a script that stops what it started.")
def start(only, as_json) -> None:
    """Start the embedded services of BACKHAUL_DATA_DIR, or find them running, and print their URLs."""
    from app import embedded
    from app.config import Settings

    wanted = tuple(only) or embedded.SERVICES
    data_dir = Settings.from_env().data_dir
    before = embedded.running(data_dir)
    urls = {"database_url": embedded.ensure_postgres(data_dir) if "postgres" in wanted else None,
            "redis_url": embedded.ensure_redis(data_dir) if "redis" in wanted else None}
    started = [name for name in wanted if name not in before]
    if as_json:
        click.echo(json.dumps({**urls, "started": started}))
        return
    for label, url in (("PostgreSQL", urls["database_url"]), ("Redis", urls["redis_url"])):
        if url:
            out.print(f"{label + ':':<12}{url}", soft_wrap=True)
    out.print(f"started: {', '.join(started)}" if started else "already running")


@command.command("stop")
@click.option("--only", type=click.Choice(["postgres", "redis"]), multiple=True,
              help="Stop only this one (repeatable); default both.")
def stop(only) -> None:
    """Stop the embedded services of BACKHAUL_DATA_DIR (their data stays)."""
    from app import embedded
    from app.config import Settings

    stopped = embedded.stop(Settings.from_env().data_dir, only=tuple(only) or embedded.SERVICES)
    out.print(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")

