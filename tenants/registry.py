"""Looking tenants up in the `public` registry, with a per-process cache.

The cache is dropped whenever `public.tenants` or `public.domains` change: triggers there `NOTIFY
backhaul_registry` on commit, and each process keeps one LISTEN connection in a daemon thread. A
time-to-live bounds how stale an entry can be should that connection be down; unknown hosts are
cached too (negative entries), and the cache is bounded so that random Host headers cannot grow it.
"""

from __future__ import annotations

import logging
import os
import threading
import time

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import Engine

from tenants.context import Tenant, UnknownTenant, tenant_context

log = logging.getLogger(__name__)

CHANNEL = "backhaul_registry"
_COLUMNS = "t.id, t.code, t.name, t.schema_name, t.status, t.parent_id"
_BY_HOST = text(
    f"SELECT {_COLUMNS} FROM public.domains d JOIN public.tenants t ON t.id = d.tenant_id "
    "WHERE d.host = :key AND d.verified_at IS NOT NULL"
)
_BY_CODE = text(f"SELECT {_COLUMNS} FROM public.tenants t WHERE t.code = :key")
_BY_ID = text(f"SELECT {_COLUMNS} FROM public.tenants t WHERE t.id = :key")
_MAX_ENTRIES = 20_000
_MISSING = object()


def _row_to_tenant(row) -> Tenant:
    return Tenant(id=row[0], code=row[1], name=row[2], schema=row[3], status=row[4], parent_id=row[5])


def libpq_dsn(engine: Engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


class TenantDirectory:
    def __init__(self, engine: Engine, ttl: float = 30.0, listen: bool = True):
        self.engine = engine
        self.ttl = ttl
        self.listen = listen
        self._entries: dict[tuple[str, object], tuple[float, Tenant | None]] = {}
        self._generation = 0  # bumped by every invalidation: a lookup begun before one is not cached
        self._lock = threading.Lock()
        self._listener_pid: int | None = None
        self._listening = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lookups -------------------------------------------------------------------------------------
    def by_host(self, host: str | None) -> Tenant | None:
        if not host:
            return None
        return self._lookup("host", host, _BY_HOST)

    def by_code(self, code: str) -> Tenant:
        tenant = self._lookup("code", code, _BY_CODE)
        if tenant is None:
            raise UnknownTenant(f"no tenant with code {code!r}")
        return tenant

    def by_id(self, tenant_id: int) -> Tenant:
        tenant = self._lookup("id", int(tenant_id), _BY_ID)
        if tenant is None:
            raise UnknownTenant(f"no tenant with id {tenant_id}")
        return tenant

    def blocking(self, tenant: Tenant) -> Tenant | None:
        """The tenant that keeps `tenant` from serving: itself when it is not active, else the nearest of its
        parents that is not (a suspended reseller takes its sub-resellers with it: their contract runs
        through it), else None. Read through the same cache as every lookup, so a suspension is seen
        everywhere as soon as the registry's notice arrives."""
        seen: set[int] = set()
        current: Tenant | None = tenant
        while current is not None and current.id not in seen:
            if not current.is_active:
                return current
            seen.add(current.id)
            current = None if current.parent_id is None else self._lookup("id", int(current.parent_id), _BY_ID)
        return None

    def _lookup(self, kind: str, key, query) -> Tenant | None:
        self._ensure_listener()
        now = time.monotonic()
        hit = self._entries.get((kind, key), _MISSING)
        if hit is not _MISSING and hit[0] > now:
            return hit[1]
        generation = self._generation
        with tenant_context(None), self.engine.connect() as conn:
            row = conn.execute(query, {"key": key}).first()
        tenant = _row_to_tenant(row) if row else None
        with self._lock:
            if generation == self._generation:
                if len(self._entries) >= _MAX_ENTRIES:
                    self._entries.clear()
                self._entries[(kind, key)] = (now + self.ttl, tenant)
        return tenant

    @property
    def generation(self) -> int:
        """Bumped by every invalidation; caches derived from the registry (brands) compare it."""
        self._ensure_listener()
        return self._generation

    def invalidate(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()

    # -- invalidation --------------------------------------------------------------------------------
    def _ensure_listener(self) -> None:
        if not self.listen or self._listener_pid == os.getpid():
            return
        with self._lock:
            if self._listener_pid == os.getpid():
                return
            self._listener_pid = os.getpid()  # after a fork the parent's thread is gone: start our own
            self._entries.clear()
            self._listening.clear()
            self._thread = threading.Thread(target=self._listen_forever, name="tenant-registry-listener",
                                            daemon=True)
            self._thread.start()
        self._listening.wait(timeout=2.0)

    def close(self) -> None:
        """Stop listening; returns once the listener has let go of its connection."""
        self._listener_pid = None
        if self._thread is not None:
            self._thread.join(timeout=3.0)
            self._thread = None

    def _listen_forever(self) -> None:
        dsn = libpq_dsn(self.engine)
        pid = os.getpid()
        while self._listener_pid == pid:
            try:
                with psycopg.connect(dsn, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.invalidate()  # whatever changed while we were not listening
                    self._listening.set()
                    while self._listener_pid == pid:
                        for _ in conn.notifies(timeout=1.0):
                            self.invalidate()
            except Exception as exc:  # keep listening whatever happens; the TTL covers the gap
                self._listening.set()
                log.warning("tenant registry listener: %s; reconnecting", exc)
                time.sleep(1.0)


_directories: dict[int, TenantDirectory] = {}
_current: TenantDirectory | None = None


def bind(engine: Engine, **kwargs) -> TenantDirectory:
    """Make `engine` the registry's database for this process (the app factory and CLI call this).

    Binding the same engine again returns the same directory (and its cache and listener).
    """
    global _current
    found = _directories.get(id(engine))
    if found is None or found.engine is not engine:
        found = _directories[id(engine)] = TenantDirectory(engine, **kwargs)
    _current = found
    return found


def close_all() -> None:
    """Stop every directory's listener: before its database goes away (the end of a test run), so that none is
    left reconnecting to a database that no longer exists."""
    for found in list(_directories.values()):
        found.close()


def directory() -> TenantDirectory:
    if _current is None:
        raise RuntimeError("the tenant registry is not bound to a database; call tenants.registry.bind()")
    return _current
