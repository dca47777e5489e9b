"""User-Name → tenant, customer and service: the RADIUS service's way into a tenant.

A User-Name is a Portal ID, or `<Portal ID>.<suffix>` for a customer's further services, optionally
followed by `@realm` (ignored: the Portal ID alone says which tenant). The public Portal ID registry
(`public.portal_ids`) gives the tenant and the customer; the tenant's `services` give the service that
signs in as that network username and its credentials.

Both lookups are cached per process, because they are the whole cost of answering a known subscriber:
- Portal ID → tenant/customer: a Portal ID never moves to another tenant and is never reused, so a
  found entry only goes when the tenants change; "unknown" entries go whenever `portal_ids` changes.
- username → service record: dropped on the `service:<tenant id>:<username>` notice that a committed
  change to the service sends (app/models/nas.py), on plan changes, and after `ttl` seconds (900 by
  default, BACKHAUL_RADIUS_CACHE_TTL: the notices do the work; the TTL only bounds what a change made
  by plain SQL, which sends none, can leave stale).
A server process preloads every live service at start (`preload`), so that a restart under load does
not turn every router's next sign-in into a database query.
Both are bounded so that random User-Names cannot grow them without limit.
"""

from __future__ import annotations

import os
import random
import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import text

from app.services.auth.crypto import decrypt
from radius.cachebus import bus_for
from tenants import Tenant, tenant_context
from tenants.registry import directory as tenant_directory

_MAX_ENTRIES = 100_000
MISS = object()  # "not in memory": what a `cached_only` lookup returns instead of asking the database
_MAX_USER_NAME = 253
_PORTAL = text("SELECT tenant_id, customer_id FROM public.portal_ids WHERE portal_id = :p")
_LIVE = text("SELECT id, customer_id, status, network_password_encrypted, plan_id, host(static_ip) AS static_ip, "
             "kind, network_username FROM services WHERE network_username = :u AND status <> 'Terminated'")
_TENANT_PORTALS = text("SELECT portal_id, customer_id FROM public.portal_ids WHERE tenant_id = :t")
_PRELOAD = text("SELECT id, customer_id, status, network_password_encrypted, plan_id, host(static_ip) AS static_ip, "
                "kind, network_username FROM services WHERE network_username IS NOT NULL "
                "AND network_password_encrypted IS NOT NULL AND status <> 'Terminated' ORDER BY id LIMIT :n")
_ENDED = text("SELECT id, customer_id, status, network_password_encrypted, plan_id, host(static_ip) AS static_ip, "
              "kind, network_username FROM services WHERE network_username = :u ORDER BY id DESC LIMIT 1")


@dataclass(frozen=True, slots=True)
class Subscriber:
    portal_id: str
    tenant: Tenant
    customer_id: int
    username: str  # the network username as stored: the Portal ID or `<Portal ID>.<suffix>`


@dataclass(slots=True)
class ServiceRecord:
    """What authentication needs of a service; duck-types as `service` for radius.profiles.profile_for."""

    id: int
    customer_id: int
    status: str
    password: str | None  # plaintext network password (None: none set)
    plan_id: int
    static_ip: str | None
    kind: str
    network_username: str
    profiles: dict = field(default_factory=dict)  # vendor → (policy version, cached reply) (radius.auth)


def split_user_name(user_name: str) -> tuple[str, str] | None:
    """(Portal ID, network username) of a User-Name, or None when it cannot be one.

    The Portal ID part is matched case-insensitively (stored upper-case); a suffix is kept as typed."""
    name = user_name.strip()
    if not name or len(name) > _MAX_USER_NAME:
        return None
    name = name.split("@", 1)[0]
    portal, dot, suffix = name.partition(".")
    if not portal or len(portal) > 40 or (dot and not suffix):
        return None
    portal = portal.upper()
    return portal, f"{portal}.{suffix}" if dot else portal


class Directory:
    def __init__(self, db, ttl: float | None = None, listen: bool = True):
        self.db = db
        self.ttl = ttl if ttl is not None else float(os.environ.get("BACKHAUL_RADIUS_CACHE_TTL", "900"))
        self._lock = threading.Lock()
        self._generation = 0
        self._portals: dict[str, tuple[float, tuple[int, int] | None]] = {}
        self._services: dict[tuple[int, str], tuple[float, ServiceRecord | None]] = {}
        self._tenants: dict[int, Tenant | None] = {}  # dropped on every change to public.tenants
        if listen:
            bus_for(db.engine).subscribe(self._on_notice)

    # -- invalidation --------------------------------------------------------------------------------
    def _on_notice(self, channel: str, payload: str | None) -> None:
        if payload is None:
            self.invalidate()
        elif payload in ("tenants", "domains"):  # a tenant's status, parent or existence: not its services
            self._tenants = {}
        elif payload == "portal_ids":
            with self._lock:
                self._generation += 1
                self._portals = {k: v for k, v in self._portals.items() if v[1] is not None}
        elif payload.startswith("service:"):
            _, tenant_id, username = payload.split(":", 2)
            with self._lock:
                self._generation += 1
                if username == "*":
                    self._services = {k: v for k, v in self._services.items() if k[0] != int(tenant_id)}
                else:
                    self._services.pop((int(tenant_id), username), None)

    def invalidate(self) -> None:
        with self._lock:
            self._generation += 1
            self._portals, self._services, self._tenants = {}, {}, {}

    def _expiry(self) -> float:
        """Now + ttl, less up to a fifth at random: entries loaded together (a preload, a burst of sign-ins
        after a restart) then expire spread out, not in one wave of misses."""
        return time.monotonic() + self.ttl * (1.0 - 0.2 * random.random())  # noqa: S311 - not a secret

    def _store(self, cache: dict, key, value, generation: int) -> None:
        with self._lock:
            if generation != self._generation:  # a notice came in while we read: do not keep what we read
                return
            if len(cache) >= _MAX_ENTRIES:
                cache.clear()
            cache[key] = (self._expiry(), value)

    def preload(self, limit: int = 100_000) -> int:
        """Fill the caches with every live service that has credentials (up to `limit`), tenant by tenant,
        so that a (re)started process does not meet its routers' sign-ins with a storm of misses. A tenant
        whose data changed while it was read is left to load lazily. Returns how many were loaded."""
        loaded = 0
        with tenant_context(None), self.db.engine.connect() as conn:
            tenant_ids = [row[0] for row in conn.execute(text("SELECT id FROM public.tenants ORDER BY id"))]
        for tenant_id in tenant_ids:
            if loaded >= limit:
                break
            try:
                tenant = tenant_directory().by_id(tenant_id)
            except LookupError:
                continue
            generation = self._generation
            with tenant_context(None), self.db.engine.connect() as conn:
                portals = conn.execute(_TENANT_PORTALS, {"t": tenant_id}).all()
            with tenant_context(tenant), self.db.engine.begin() as conn:
                rows = conn.execute(_PRELOAD, {"n": limit - loaded}).all()
            records = {(tenant_id, row.network_username): _record(row) for row in rows}
            with self._lock:
                if generation != self._generation or len(self._services) + len(records) > _MAX_ENTRIES:
                    continue
                self._tenants[tenant_id] = tenant
                for portal_id, customer_id in portals:
                    self._portals[portal_id] = (self._expiry(), (tenant_id, customer_id))
                for key, record in records.items():
                    self._services[key] = (self._expiry(), record)
            loaded += len(records)
        return loaded

    def loaded(self) -> tuple[list[Tenant], set[int]]:
        """The tenants and plans of the services in memory (what `AccessHandler.warm` loads)."""
        tenants = [t for t in self._tenants.values() if t is not None]
        plans = {entry[1].plan_id for entry in list(self._services.values()) if entry[1] is not None}
        return tenants, plans

    # -- lookups -------------------------------------------------------------------------------------
    def resolve(self, user_name: str, *, cached_only: bool = False) -> Subscriber | None:
        """Who `user_name` is (None: nobody). `cached_only`: answer from memory or return MISS, never
        touch the database (the server's receiving thread asks so, and hands misses to its pool)."""
        split = split_user_name(user_name)
        if split is None:
            return None
        portal_id, username = split
        hit = self._portals.get(portal_id)
        if hit is not None and hit[0] > time.monotonic():
            found = hit[1]
        elif cached_only:
            return MISS
        else:
            generation = self._generation
            with tenant_context(None), self.db.engine.connect() as conn:
                row = conn.execute(_PORTAL, {"p": portal_id}).first()
            found = (row.tenant_id, row.customer_id) if row else None
            self._store(self._portals, portal_id, found, generation)
        if found is None:
            return None
        tenant = self._tenant(found[0], cached_only)
        if tenant is MISS:
            return MISS
        if tenant is None:
            return None
        return Subscriber(portal_id=portal_id, tenant=tenant, customer_id=found[1], username=username)

    def _tenant(self, tenant_id: int, cached_only: bool):
        tenant = self._tenants.get(tenant_id, MISS)
        if tenant is MISS:
            if cached_only:
                return MISS
            try:
                tenant = tenant_directory().by_id(tenant_id)
            except LookupError:
                tenant = None
            self._tenants[tenant_id] = tenant
        return tenant

    def blocking(self, tenant: Tenant, *, cached_only: bool = False):
        """The tenant (itself or a reseller above it) that is not active, None when all are, MISS when
        `cached_only` and a parent is not in memory. The tenants' cache is dropped on every change to
        `public.tenants`, so a suspension reaches the next sign-in."""
        seen: set[int] = set()
        current = tenant
        while current is not None and current.id not in seen:
            if not current.is_active:
                return current
            seen.add(current.id)
            if current.parent_id is None:
                return None
            current = self._tenant(current.parent_id, cached_only)
            if current is MISS:
                return MISS
        return None

    def service(self, subscriber: Subscriber, *, cached_only: bool = False) -> ServiceRecord | None:
        """The service that signs in as the subscriber's username: the live one, else the last ended one
        (so that a terminated service is told so); None when there is none, or it is another customer's.
        `cached_only`: MISS rather than a query."""
        key = (subscriber.tenant.id, subscriber.username)
        hit = self._services.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        if cached_only:
            return MISS
        generation = self._generation
        with tenant_context(subscriber.tenant), self.db.engine.begin() as conn:
            row = conn.execute(_LIVE, {"u": subscriber.username}).first() \
                or conn.execute(_ENDED, {"u": subscriber.username}).first()
        record = _record(row) if row is not None and row.customer_id == subscriber.customer_id else None
        self._store(self._services, key, record, generation)
        return record


def _record(row) -> ServiceRecord:
    password = decrypt(row.network_password_encrypted) if row.network_password_encrypted else None
    return ServiceRecord(id=row.id, customer_id=row.customer_id, status=row.status, password=password,
                         plan_id=row.plan_id, static_ip=row.static_ip, kind=row.kind,
                         network_username=row.network_username)


_directories: dict[int, Directory] = {}


def directory_for(db) -> Directory:
    """The process's directory over `db` (one cache per database per process)."""
    found = _directories.get(id(db))
    if found is None or found.db is not db:
        found = _directories[id(db)] = Directory(db)
    return found


def resolve(db, user_name: str) -> Subscriber | None:
    """Who a User-Name is: Portal ID, tenant, customer and network username; None when unknown."""
    return directory_for(db).resolve(user_name)
