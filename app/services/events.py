"""Domain events: a tiny, synchronous publish/subscribe for other parts to react to what happened
(the RADIUS service sends a CoA when a service is suspended, limited, restored or terminated).

Why after the commit: a subscriber acts on the world outside the database (a router, a webhook), so it
must only hear of changes that really happened. Services therefore call `publish_after_commit(session,
…)`: the event waits in `session.info` and is published when the outermost transaction commits; a
rollback drops it. `publish` is the immediate form, for callers outside any transaction.

Subscribers run in the committing thread, inside the tenant context the event was raised in, one after
the other; a subscriber that fails is logged and does not stop the others (the commit is done by then).
Anything slow belongs in a job that the subscriber enqueues.

Events raised here (payloads are keyword arguments; every one carries `tenant_id` and `tenant_code`):
- `service.status_changed`: service_id, customer_id, from_status, to_status, reason, network_username
- `service.plan_changed`: service_id, customer_id, from_plan_id, to_plan_id, network_username
- `service.credentials_changed`: service_id, customer_id, network_username
- `service.relocated`: service_id, customer_id
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable

from sqlalchemy.orm import Session

from app.services.after_commit import AfterCommit
from tenants import current_tenant

log = logging.getLogger(__name__)
_subscribers: dict[str, list[Callable[..., None]]] = defaultdict(list)


def subscribe(name: str, fn: Callable[..., None]) -> Callable[..., None]:
    """Call `fn(**payload)` on every `name` event; returns `fn` (usable as a decorator's body)."""
    if fn not in _subscribers[name]:
        _subscribers[name].append(fn)
    return fn


def unsubscribe(name: str, fn: Callable[..., None]) -> None:
    if fn in _subscribers.get(name, ()):
        _subscribers[name].remove(fn)


def publish(name: str, **payload) -> None:
    """Call every subscriber of `name` now."""
    for fn in list(_subscribers.get(name, ())):
        try:
            fn(**payload)
        except Exception:
            log.exception("subscriber %r of %s failed", fn, name)


def publish_after_commit(session: Session, name: str, **payload) -> None:
    """Publish `name` once the session's outermost transaction has committed (never on rollback)."""
    tenant = current_tenant()
    if tenant is not None:
        payload = {"tenant_id": tenant.id, "tenant_code": tenant.code, **payload}
    _pending.add(session, (name, payload))


_pending = AfterCommit("events", lambda item: publish(item[0], **item[1]), "event")
