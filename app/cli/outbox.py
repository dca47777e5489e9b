"""`backhaul outbox`: the notifications waiting to be sent."""

from __future__ import annotations

from datetime import timedelta

import click

from app.cli import out, pass_runtime


@click.group("outbox")
def command() -> None:
    """Notifications (e-mail) queued by the platform and its tenants."""


@command.command("flush")
@click.option("--older-than", type=click.IntRange(0), default=60, show_default=True,
              help="Only messages pending for at least this many seconds.")
@pass_runtime
def flush(runtime, older_than: int) -> None:
    """Enqueue again every message still pending (after a crash or a Redis outage).

    Sending is idempotent: a message already sent is never sent twice, so this is safe to run any time.
    """
    from app.services import tenants as registry
    from app.services.notifications import flush as flush_outbox
    from tenants import tenant_context

    with runtime.db.session() as session:
        everyone = [None, *(registry.ref(row) for row in registry.list_all(session))]
    total = 0
    for tenant in everyone:
        with tenant_context(tenant), runtime.db.session() as session:
            count = flush_outbox(session, older_than=timedelta(seconds=older_than))
        if count:
            out.print(f"{tenant.code if tenant else 'platform'}: {count} message(s) enqueued again")
        total += count
    out.print(f"{total} pending message(s) enqueued again")
