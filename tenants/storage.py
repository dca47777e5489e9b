"""Tenant-aware cache keys and file paths: the two places where tenants leak in most multi-tenant apps."""

from __future__ import annotations

from pathlib import Path

from tenants.context import require_tenant


def cache_key(*parts: object) -> str:
    """A Redis/cache key that carries the current tenant's schema: two tenants never share an entry."""
    tenant = require_tenant()
    return ":".join(["backhaul", tenant.schema, *(str(p) for p in parts)])


def tenant_path(root: str | Path, *parts: str) -> Path:
    """A file path under the current tenant's own folder of `root`; refuses anything that escapes it."""
    tenant = require_tenant()
    base = (Path(root) / tenant.schema).resolve()
    path = base.joinpath(*parts).resolve()
    if path != base and base not in path.parents:
        raise ValueError(f"path {'/'.join(parts)!r} escapes the tenant's folder")
    return path
