"""`backhaul radius` (serve RADIUS) and `backhaul nas add|list|remove` (the routers allowed to ask)."""

from __future__ import annotations

import click

from app.cli import err, fail, out, pass_runtime


@click.command("radius")
@click.option("--host", help="Address to listen on (default BACKHAUL_RADIUS_HOST or 127.0.0.1).")
@click.option("--auth-port", type=click.IntRange(0, 65535), help="Authentication port (default 1812).")
@click.option("--acct-port", type=click.IntRange(0, 65535), help="Accounting port (default 1813).")
@click.option("--processes", type=click.IntRange(1, 256), help="Processes sharing the ports (SO_REUSEPORT).")
@pass_runtime
def command(runtime, host, auth_port, acct_port, processes) -> None:
    """Serve RADIUS authentication and accounting for every tenant (Ctrl-C stops it)."""
    from radius.runner import Options, ports_in_use, serve

    options = Options.from_env(host=host or runtime.settings.radius_host, auth_port=auth_port, acct_port=acct_port,
                               processes=processes)
    taken = ports_in_use(options)
    if taken:
        fail(f"in use: {', '.join(taken)}; stop what runs there or pass --auth-port/--acct-port")
    err.print(f"[dim]RADIUS on {options.host}: auth {options.auth_port}/udp, accounting {options.acct_port}/udp, "
              f"{options.processes} process(es)[/dim]", soft_wrap=True)
    serve(runtime.settings.database_url, options)


@click.group("nas")
def nas_command() -> None:
    """The routers (NAS clients) allowed to ask the RADIUS service."""


def _tenant_id(runtime, code: str | None) -> int | None:
    if not code:
        return None
    from tenants.context import UnknownTenant
    from tenants.registry import directory

    runtime.db  # noqa: B018 - binds the registry
    try:
        return directory().by_code(code.upper()).id
    except UnknownTenant:
        fail(f"no tenant with code {code}")


@nas_command.command("add")
@click.argument("network")
@click.option("--secret", prompt=True, hide_input=True, confirmation_prompt=True, help="The shared secret.")
@click.option("--name", help="A name to know it by (default: the network).")
@click.option("--vendor", type=click.Choice(["mikrotik", "cisco", "generic"]), default="generic", show_default=True)
@click.option("--tenant", "tenant_code", help="Owner tenant code (default: the platform, serving every tenant).")
@click.option("--legacy/--no-legacy", default=False, show_default=True,
              help="Accept Access-Requests without Message-Authenticator (old routers only: BlastRADIUS).")
@click.option("--coa-port", type=click.IntRange(1, 65535), default=3799, show_default=True)
@pass_runtime
def add(runtime, network, secret, name, vendor, tenant_code, legacy, coa_port) -> None:
    """Register NETWORK (an address or CIDR) as a NAS."""
    from app.services import nas as svc
    from app.services.errors import ServiceError

    tenant_id = _tenant_id(runtime, tenant_code)
    try:
        with runtime.db.session() as session:
            nas = svc.create(session, name=name or network, network=network, secret=secret, vendor=vendor,
                             tenant_id=tenant_id, require_message_authenticator=not legacy, coa_port=coa_port,
                             actor="cli")
            out.print(f"NAS {nas.id} {nas.network} ({nas.vendor}) for {tenant_code or 'the platform'}")
    except ServiceError as exc:
        fail(exc.detail)


@nas_command.command("list")
@pass_runtime
def list_(runtime) -> None:
    """Every registered NAS (secrets are not shown)."""
    from app.models import Tenant
    from app.services import nas as svc

    with runtime.db.session() as session:
        codes = dict(session.query(Tenant.id, Tenant.code).all())
        for nas in svc.list_nas(session):
            owner = codes.get(nas.tenant_id, "platform") if nas.tenant_id else "platform"
            legacy = "" if nas.require_message_authenticator else "  legacy (no Message-Authenticator)"
            out.print(f"{nas.id:>5}  {str(nas.network):<20} {nas.vendor:<9} {owner:<20} {nas.name}{legacy}")


@nas_command.command("remove")
@click.argument("network")
@pass_runtime
def remove(runtime, network) -> None:
    """Remove the NAS registered for NETWORK."""
    from app.services import nas as svc
    from app.services.errors import ServiceError

    try:
        with runtime.db.session() as session:
            nas = svc.find_by_network(session, network)
            if nas is None:
                fail(f"no NAS registered for {network}")
            svc.delete(session, nas)
    except ServiceError as exc:
        fail(exc.detail)
    out.print(f"removed the NAS for {network}")
