"""Notifications: what the platform tells people, queued with the event that causes it (see `outbox`).

Only e-mail exists yet; the outbox's `channel` column leaves room for the others.
"""

from app.services.notifications.outbox import (
    DeliveryFailed,
    Rendered,
    flush,
    queue_email,
    render,
    send_pending,
)

__all__ = ["DeliveryFailed", "Rendered", "flush", "queue_email", "render", "send_pending"]
