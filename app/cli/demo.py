"""`backhaul demo`: the demo platform."""

from __future__ import annotations

import click

from app.cli import out, pass_runtime


@click.group("demo")
def command() -> None:
    """The demo platform (two resellers, a sub-reseller, customers)."""


def seed_demo(runtime) -> list[dict]:
    from app.services import demo

    return demo.seed(runtime.db.session, runtime.settings.base_domain)


def print_summary(summary: list[dict], port: int | None = None) -> None:
    suffix = f":{port}" if port else ""
    for item in summary:
        parent = f", sub-reseller of {item['parent']}" if item["parent"] else ""
        out.print(f"[bold]{item['name']}[/bold] ({item['code']}{parent})")
        for host in item["hosts"]:
            out.print(f"  portal:    http://{host}{suffix}/", soft_wrap=True)
        for portal_id, name, status in item["customers"]:
            out.print(f"  customer:  {portal_id}  {name} ({status})", soft_wrap=True)


@command.command("seed")
@pass_runtime
def seed(runtime) -> None:
    """Create the demo platform (idempotent: what exists is kept)."""
    from app.cli.db import upgrade_all

    upgrade_all(runtime, jobs=None, quiet=True)
    print_summary(seed_demo(runtime))
