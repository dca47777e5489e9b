"""The current tenant, held in a context variable.

A context variable (not a thread-local or a global) so that threads, worker messages and asyncio tasks
each see their own tenant, and so that leaving a `tenant_context` restores exactly what was there before.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass

from tenants.schema import validate_code, validate_schema


class TenantError(Exception):
    """Base of the errors about tenants."""


class UnknownTenant(TenantError, LookupError):
    """No tenant with that code, host or id."""


@dataclass(frozen=True, slots=True)
class Tenant:
    """The registry row of a tenant, as much as code outside the registry needs of it."""

    id: int
    code: str
    name: str
    schema: str
    status: str
    parent_id: int | None = None

    def __post_init__(self) -> None:
        validate_code(self.code)
        validate_schema(self.schema)

    @property
    def is_active(self) -> bool:
        return self.status == "Active"


_current: ContextVar[Tenant | None] = ContextVar("backhaul_tenant", default=None)


def current_tenant() -> Tenant | None:
    return _current.get()


def require_tenant() -> Tenant:
    tenant = _current.get()
    if tenant is None:
        raise TenantError("this operation needs a tenant context and none is set")
    return tenant


def enter(tenant: Tenant | None) -> Token:
    """Set the tenant; hand the token to `leave` (for request hooks and worker middleware)."""
    return _current.set(tenant)


def leave(token: Token) -> None:
    _current.reset(token)


@contextmanager
def tenant_context(tenant: Tenant | str | None) -> Iterator[Tenant | None]:
    """Run a block as `tenant` (a Tenant, or a code looked up in the registry); restore the previous one.

    Passing None runs the block with no tenant: only the `public` schema is reachable.
    """
    if isinstance(tenant, str):
        from tenants.registry import directory

        tenant = directory().by_code(tenant)
    token = _current.set(tenant)
    try:
        yield tenant
    finally:
        _current.reset(token)
