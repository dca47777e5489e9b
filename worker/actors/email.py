"""Sending the outbox's e-mails.

Two actors because the outbox is in two places: a tenant's rows are in its schema and its jobs carry the
tenant (tenant-scoped, the default, refused without one); the master ISP's staff mail is in
`public.platform_outbox` and its jobs run with no tenant. Both do the same thing, `send_pending`, which is
idempotent: a duplicate job finds the row sent (or locked by its twin) and does nothing.

Retries: a server that is down or says "try later" makes `send_pending` raise after recording the
attempt, and Dramatiq retries with exponential backoff (5 s, 10 s, 20 s, … capped at 10 minutes, with
jitter); the sixth failed attempt marks the row failed. The numbers are actor options, so a test can
shorten them on the actor (`actor.options["min_backoff"]`) without a second code path.

The actors bind to the process's broker (`worker.broker`) when this module is imported, and reach the
database and the settings through `worker.broker` at call time, not import time, so that whoever
imported them can point them elsewhere (tests/notifications/conftest.py explains how the tests do).
"""

from __future__ import annotations

import dramatiq

from app.services.notifications import send_pending
from worker import broker as runtime

OPTIONS = {
    "queue_name": "email",
    "max_retries": 5,
    "min_backoff": 5_000,  # ms
    "max_backoff": 600_000,
    "time_limit": 120_000,  # a stuck SMTP conversation is cut well before it could block a worker for long
}


@dramatiq.actor(broker=runtime.broker, **OPTIONS)
def send_tenant_email(outbox_id: int) -> None:
    _send(send_tenant_email, outbox_id)


@dramatiq.actor(broker=runtime.broker, tenant_scoped=False, **OPTIONS)
def send_platform_email(outbox_id: int) -> None:
    _send(send_platform_email, outbox_id)


def _send(actor: dramatiq.Actor, outbox_id: int) -> None:
    with runtime.database().session() as session:
        send_pending(session, outbox_id, settings=runtime.settings(),
                     max_attempts=actor.options["max_retries"] + 1)
