"""A tenant's brand as its customers see it: its own fields, then (while `inherited_branding` holds) its
parent's, recursively, then the platform's, then the platform's defaults.

One query reads the whole chain (the tenant, its ancestors, the platform row). The result is cached per
process by tenant id and thrown away when the registry's generation moves: the triggers on tenants,
domains and brandings all NOTIFY the same channel, so a brand change reaches every process's pages at
once, as a host change does.

A reseller with `white_label_enabled` false shows what it would inherit, as if it had set nothing.
The brand name, when nobody along the way set one, is the name of the highest tenant whose brand was
reached (a sub-reseller that inherits shows its parent's name, never the platform's).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.services.branding import storage, stylesheet
from app.services.branding.fields import PLATFORM_DEFAULTS
from tenants import registry
from tenants.themes import THEMES_ROOT, ThemeChain

PLATFORM = "platform"

_CHAIN = text("""
    WITH RECURSIVE up(id, parent_id, code, name, schema_name, inherited, depth) AS (
        SELECT id, parent_id, code, name, schema_name, inherited_branding, 0 FROM public.tenants WHERE id = :id
        UNION ALL
        SELECT t.id, t.parent_id, t.code, t.name, t.schema_name, t.inherited_branding, up.depth + 1
        FROM public.tenants t JOIN up ON t.id = up.parent_id WHERE up.depth < 32
    )
    SELECT up.id, up.code, up.name, up.schema_name, up.inherited, b.fields, b.white_label_enabled
    FROM up LEFT JOIN public.brandings b ON b.tenant_id = up.id
    ORDER BY up.depth
""")
_PLATFORM = text("SELECT fields FROM public.brandings WHERE tenant_id IS NULL")


@dataclass(frozen=True)
class Level:
    """One tenant of the chain (or the platform, with no schema), with the fields it set."""

    code: str
    name: str
    schema: str | None
    fields: dict
    inherits: bool = False


@dataclass(frozen=True)
class Brand:
    values: dict  # every field, resolved
    sources: dict  # field -> tenant code it came from, or "platform" (the platform row or the defaults)
    owners: dict = field(default_factory=dict)  # asset/theme field -> schema of the tenant that set it
    themes: ThemeChain = field(default_factory=ThemeChain)

    @cached_property
    def stylesheet(self) -> tuple[str, str]:
        """(CSS, content digest) of the brand's stylesheet. Every page links it, so it is rendered once per
        brand (brands are cached per process until the registry changes), not once per page."""
        css = stylesheet.render(self.values)
        return css, stylesheet.digest(css)

    def asset(self, name: str) -> tuple[str | None, dict] | None:
        """(owner schema or None for the platform, stored asset) of `logo` or `favicon`, if any."""
        stored = self.values.get(name)
        if not stored:
            return None
        return self.owners.get(name), stored


def chain_levels(session: Session, tenant_id: int | None) -> list[Level]:
    """The levels whose fields apply to a tenant, nearest first, ending with the platform's row."""
    levels: list[Level] = []
    if tenant_id is not None:
        for row in session.execute(_CHAIN, {"id": tenant_id}):
            fields = (row.fields or {}) if row.white_label_enabled is not False else {}
            levels.append(Level(row.code, row.name, row.schema_name, fields, row.inherited))
            if not row.inherited:
                break
    platform = session.execute(_PLATFORM).scalar_one_or_none() or {}
    levels.append(Level(PLATFORM, PLATFORM_DEFAULTS["brand_name"], None, platform))
    return levels


def merge(levels: list[Level], override: dict | None = None) -> Brand:
    """Resolve fields along `levels`; `override` (unsaved changes, for previews) sits on top of the first."""
    values: dict = {}
    sources: dict = {}
    owners: dict = {}
    folders: list[Path] = []
    if override:
        first = levels[0]
        levels = [Level(first.code, first.name, first.schema, {**first.fields, **override}, first.inherits),
                  *levels[1:]]
    for level in levels:
        for name, value in level.fields.items():
            if value is not None and name not in values and name in PLATFORM_DEFAULTS:
                values[name], sources[name] = value, level.code
                owners[name] = level.schema
        theme = level.fields.get("theme")
        if theme:
            folder = theme_folder(level.schema, theme)
            if folder is not None and folder not in folders:
                folders.append(folder)
    if "brand_name" not in values:
        top = levels[-2] if len(levels) > 1 else levels[-1]
        values["brand_name"], sources["brand_name"] = top.name, top.code
    for name, default in PLATFORM_DEFAULTS.items():
        if name not in values:
            values[name], sources[name] = default, PLATFORM
    return Brand(values=values, sources=sources, owners=owners, themes=ThemeChain(tuple(folders)))


def theme_folder(schema: str | None, name: str) -> Path | None:
    """A theme by name: the tenant's uploaded one first, then one shipped with the platform."""
    if schema is not None:
        uploaded = storage.themes_root(schema) / name
        if (uploaded / "templates").is_dir() or (uploaded / "static").is_dir():
            return uploaded
    shipped = THEMES_ROOT / name
    if name != "base" and shipped.is_dir():
        return shipped
    return None


class _Cache:
    def __init__(self) -> None:
        self._entries: dict[int | None, tuple[int, Brand]] = {}
        self._lock = threading.Lock()

    def get(self, session: Session, tenant_id: int | None) -> Brand:
        generation = registry.directory().generation
        hit = self._entries.get(tenant_id)
        if hit is not None and hit[0] == generation:
            return hit[1]
        brand = merge(chain_levels(session, tenant_id))
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[tenant_id] = (generation, brand)
        return brand

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_cache = _Cache()


def brand_of(session: Session, tenant_id: int | None) -> Brand:
    """The resolved brand of a tenant (None: the platform's own), cached until the registry changes."""
    return _cache.get(session, tenant_id)


def forget() -> None:
    """Drop cached brands in this process (other processes drop theirs on the registry's NOTIFY)."""
    _cache.clear()
