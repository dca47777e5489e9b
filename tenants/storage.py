"""Tenant-aware cache keys and file paths: the two places where tenants leak in most multi-tenant apps."""

from __future__ import annotations

import os
from pathlib import Path

from tenants.context import require_tenant


def namespace() -> str:
    """The first part of every Redis key and queue name of this deployment (`BACKHAUL_QUEUE_NAMESPACE`,
    `backhaul` by default): two Backhauls on one Redis (a test run beside a running demo, two test workers
    whose databases both have a tenant 5) never read each other's counters, tickets or claims."""
    return os.environ.get("BACKHAUL_QUEUE_NAMESPACE", "backhaul")


def redis_key(scope: str, *parts: object) -> str:
    """A Redis key of `scope`: a tenant's schema name, or `public`/`platform` for what belongs to no tenant."""
    return ":".join([namespace(), scope, *(str(p) for p in parts)])


def cache_key(*parts: object) -> str:
    """A Redis/cache key that carries the current tenant's schema: two tenants never share an entry."""
    return redis_key(require_tenant().schema, *parts)


def tenant_path(root: str | Path, *parts: str) -> Path:
    """A file path under the current tenant's own folder of `root`; refuses anything that escapes it."""
    tenant = require_tenant()
    base = (Path(root) / tenant.schema).resolve()
    path = base.joinpath(*parts).resolve()
    if path != base and base not in path.parents:
        raise ValueError(f"path {'/'.join(parts)!r} escapes the tenant's folder")
    return path
