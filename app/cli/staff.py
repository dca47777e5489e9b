"""`backhaul staff`: the master ISP's own people (the console's users)."""

from __future__ import annotations

import click
from rich.table import Table

from app.cli import fail, out, pass_runtime
from app.services.errors import ServiceError


@click.group("staff")
def command() -> None:
    """Master ISP staff: create and list console users."""


@command.command("create")
@click.argument("email")
@click.option("--name", required=True, help="Full name.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Prompted for when omitted (recommended: it stays out of your shell history).")
@click.option("--can-impersonate", is_flag=True, help="May sign in as a customer or reseller (audited).")
@pass_runtime
def create(runtime, email, name, password, can_impersonate) -> None:
    """Create a console user who signs in at the console host."""
    from app.services.auth import users

    try:
        with runtime.db.session() as session:
            staff = users.create_staff(session, email=email, name=name, password=password,
                                       can_impersonate=can_impersonate)
            out.print(f"created staff {staff.email} (id {staff.id}); sign in at http://{runtime.settings.console_host}/")
    except ServiceError as exc:
        fail(exc.detail)


@command.command("list")
@pass_runtime
def list_(runtime) -> None:
    """List console users."""
    from sqlalchemy import select

    from app.models import StaffUser

    with runtime.db.session() as session:
        rows = session.execute(select(StaffUser).order_by(StaffUser.id)).scalars().all()
        table = Table("id", "e-mail", "name", "active", "2FA", "impersonate", "last sign-in")
        for r in rows:
            table.add_row(str(r.id), r.email, r.name, "yes" if r.is_active else "no",
                          "on" if r.totp_enabled_at else "off", "yes" if r.can_impersonate else "no",
                          r.last_login_at.isoformat(timespec="minutes") if r.last_login_at else "never")
    out.print(table if rows else "no staff yet: `backhaul staff create EMAIL --name NAME`")
