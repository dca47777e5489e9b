"""The tenant travels with every message.

On enqueue, a tenant-scoped actor's message gets the current tenant's code and id in its options (no
tenant → the enqueue fails loudly). Before the actor runs, the worker enters that tenant's context, and
leaves it afterwards. A message for a tenant-scoped actor that carries no tenant, or a tenant that no
longer exists (or was re-created under the same code), is refused and dead-lettered, never run in
`public`. Actors are tenant-scoped unless declared with `tenant_scoped=False`.
"""

from __future__ import annotations

import logging
import threading

from dramatiq import Middleware
from dramatiq.middleware import MiddlewareError, SkipMessage

from tenants import context
from tenants.context import TenantError, UnknownTenant
from tenants.registry import directory

log = logging.getLogger(__name__)


class TenantRequired(TenantError, MiddlewareError):
    """Raised to the sender (Dramatiq re-raises only MiddlewareErrors from middleware hooks)."""


class TenantMiddleware(Middleware):
    actor_options = {"tenant_scoped"}

    def __init__(self) -> None:
        self._local = threading.local()

    @staticmethod
    def _scoped(broker, message) -> bool:
        return broker.get_actor(message.actor_name).options.get("tenant_scoped", True)

    def before_enqueue(self, broker, message, delay):
        if not self._scoped(broker, message) or message.options.get("tenant"):
            return
        tenant = context.current_tenant()
        if tenant is None:
            raise TenantRequired(f"{message.actor_name} is tenant-scoped: send it inside a tenant context")
        message.options["tenant"] = tenant.code
        message.options["tenant_id"] = tenant.id

    def before_process_message(self, broker, message):
        self._local.token = None
        if not self._scoped(broker, message):
            return
        code = message.options.get("tenant")
        if code is None:
            self._refuse(message, "carries no tenant")
        try:
            tenant = directory().by_code(code)
        except UnknownTenant:
            self._refuse(message, f"names unknown tenant {code!r}")
        if message.options.get("tenant_id") not in (None, tenant.id):
            self._refuse(message, f"was sent for an earlier tenant with code {code!r}")
        self._local.token = context.enter(tenant)

    def _refuse(self, message, why: str):
        log.error("refusing message %s for %s: it %s", message.message_id, message.actor_name, why)
        message.fail()
        raise SkipMessage(why)

    def _leave(self) -> None:
        token = getattr(self._local, "token", None)
        if token is not None:
            self._local.token = None
            context.leave(token)

    def after_process_message(self, broker, message, *, result=None, exception=None):
        self._leave()

    def after_skip_message(self, broker, message):
        self._leave()
