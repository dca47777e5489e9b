"""`backhaul demo`: the demo platform."""

from __future__ import annotations

import click
from rich.table import Table

from app.cli import out, pass_runtime


@click.group("demo")
def command() -> None:
    """The demo platform (two resellers, a sub-reseller, customers)."""


def seed_demo(runtime) -> list[dict]:
    from app.services import demo

    return demo.seed(runtime.db.session, runtime.settings.base_domain)


def print_summary(summary: list[dict], port: int | None = None) -> None:
    suffix = f":{port}" if port else ""
    table = Table("reseller", "portal", "customers (Portal ID · name · status)")
    for item in summary:
        label = item["name"] + (f"\n(sub-reseller of {item['parent']})" if item["parent"] else "")
        table.add_row(label, "\n".join(f"http://{h}{suffix}/" for h in item["hosts"]),
                      "\n".join(" · ".join(c) for c in item["customers"]))
    out.print(table)


@command.command("seed")
@pass_runtime
def seed(runtime) -> None:
    """Create the demo platform (idempotent: what exists is kept)."""
    from app.cli.db import upgrade_all

    upgrade_all(runtime, jobs=1, quiet=True)
    print_summary(seed_demo(runtime))
