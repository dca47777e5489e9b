"""Whose figures: one tenant, a parent with every descendant (consolidated), or the whole platform.

Each tenant is read in its own schema: the reader enters its `tenant_context` and opens a session of its
own, so the transaction's `search_path` names that schema and no other, and a tenant's rows can only be
read while it is the current tenant. Nothing joins across schemas; the per-tenant results are added up in
Python (counts and Decimal amounts per currency, which add exactly). The cost is one short transaction per
tenant of the scope, one after the other.

Who may ask for what is decided by the callers' doors: a reseller's own scope comes from the request's
tenant (its descendants through `public.tenants.parent_id`, never its parent or siblings); the console
may name any tenant.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import Database
from app.models import Tenant as TenantRow
from app.services import resellers
from app.services import tenants as tenant_svc
from app.services.errors import NotFound
from tenants import Tenant, tenant_context

T = TypeVar("T")


@dataclass(frozen=True)
class Scope:
    tenants: tuple[Tenant, ...]
    root: Tenant | None  # the tenant the figures are about; None for the whole platform
    consolidated: bool

    @property
    def label(self) -> str:
        if self.root is None:
            return "all tenants"
        return f"{self.root.code} and its sub-resellers" if self.consolidated else self.root.code

    def codes(self) -> list[str]:
        return [t.code for t in self.tenants]


def of_tenant(session: Session, tenant: Tenant, *, consolidated: bool = False) -> Scope:
    """A tenant alone, or with its whole subtree. `session` reads `public.tenants` (any context)."""
    if not consolidated:
        return Scope((tenant,), tenant, False)
    rows = resellers.subtree(session, tenant.id)
    return Scope(tuple(tenant_svc.ref(row) for row, _depth in rows) or (tenant,), tenant, True)


def of_platform(session: Session, code: str | None = None) -> Scope:
    """The master ISP's view: every tenant, or the tenant `code` with its descendants."""
    if code is not None:
        row = session.execute(select(TenantRow).where(TenantRow.code == code)).scalar_one_or_none()
        if row is None:
            raise NotFound(f"no tenant with code {code!r}")
        return of_tenant(session, tenant_svc.ref(row), consolidated=True)
    rows = session.execute(select(TenantRow).order_by(TenantRow.id)).scalars().all()
    return Scope(tuple(tenant_svc.ref(r) for r in rows), None, True)


def each(db: Database, scope: Scope, read: Callable[[Session, Tenant], T]) -> Iterator[tuple[Tenant, T]]:
    """`read(session, tenant)` in each tenant's own context and session, one tenant at a time."""
    for tenant in scope.tenants:
        with tenant_context(tenant), db.session() as session:
            yield tenant, read(session, tenant)
