"""`backhaul demo`: the demo platform."""

from __future__ import annotations

import click

from app.cli import out, pass_runtime


@click.group("demo")
def command() -> None:
    """The demo platform (two resellers, a sub-reseller, customers)."""


def seed_demo(runtime) -> dict:
    from app.services import demo

    summary = {"staff": demo.seed_staff(runtime.db.session),
               "resellers": demo.seed(runtime.db.session, runtime.settings.base_domain),
               "password": demo.DEMO_PASSWORD}
    demo.seed_billing(runtime.db)
    demo.seed_finance(runtime.db)
    from radius.demo import seed_demo as seed_nas

    summary["nas"] = seed_nas(runtime.db)
    return summary


def print_summary(summary: dict, console_host: str, port: int | None = None) -> None:
    suffix = f":{port}" if port else ""
    out.print(f"Every demo login uses the password [bold]{summary['password']}[/bold]")
    out.print(f"[bold]Master ISP console[/bold]  http://{console_host}{suffix}/console/login  "
              f"staff: {summary['staff']['email']}", soft_wrap=True)
    for item in summary["resellers"]:
        parent = f", sub-reseller of {item['parent']}" if item["parent"] else ""
        out.print(f"[bold]{item['name']}[/bold] ({item['code']}{parent})")
        host = item["hosts"][0]
        for other in item["hosts"]:
            out.print(f"  portal:    http://{other}{suffix}/", soft_wrap=True)
        out.print(f"  customers sign in at http://{host}{suffix}/login, the team at http://{host}{suffix}/reseller/login",
                  soft_wrap=True)
        for username, role in item["users"]:
            out.print(f"  team:      {username} ({role})", soft_wrap=True)
        for portal_id, name, status in item["customers"]:
            out.print(f"  customer:  {portal_id}  {name} ({status})", soft_wrap=True)
        out.print(f"  network:   each customer's service signs in as their Portal ID with {item['network_password']}",
                  soft_wrap=True)
    if "nas" in summary:
        nas = summary["nas"]
        out.print(f"[bold]RADIUS[/bold]  NAS {nas['nas']} (secret {nas['secret']}), e.g. "
                  f"echo \"User-Name=<Portal ID>,User-Password=<network password>,Message-Authenticator=0x00\" "
                  f"| radclient -x {nas['nas']} auth {nas['secret']}", soft_wrap=True)


@command.command("seed")
@pass_runtime
def seed(runtime) -> None:
    """Create the demo platform (idempotent: what exists is kept)."""
    from app.cli.db import upgrade_all

    upgrade_all(runtime, jobs=None, quiet=True)
    print_summary(seed_demo(runtime), runtime.settings.console_host)
