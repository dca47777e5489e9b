"""Which router is asking, with which secret, and whose customers it may serve.

Every packet starts with a lookup of its source address, so the whole NAS list (a small table) is held
in memory per process, with the secrets decrypted, and the tenant tree beside it (for "this tenant and
its descendants"). Both are reloaded when PostgreSQL says they changed (radius/cachebus.py) or, should
that listener be down, after `ttl` seconds.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import text

from app.services.auth.crypto import decrypt
from radius.cachebus import bus_for
from tenants import tenant_context

log = logging.getLogger(__name__)
_MAX_ENTRIES = 50_000
_ROWS = text("SELECT id, name, network, secret_encrypted, vendor, tenant_id, require_message_authenticator, "
             "coa_port FROM public.nas_clients")
_TREE = text("SELECT id, parent_id FROM public.tenants")


@dataclass(frozen=True)
class Nas:
    id: int
    name: str
    network: ipaddress.IPv4Network | ipaddress.IPv6Network
    secret: bytes
    vendor: str  # 'mikrotik' | 'cisco' | 'generic'
    tenant_id: int | None  # None: a platform NAS
    require_message_authenticator: bool = True
    coa_port: int = 3799


def serves(nas: Nas, tenant_id: int, parent_of: Callable[[int], int | None]) -> bool:
    """The one rule of who a NAS serves: the platform's, every tenant; a tenant's, that tenant and its
    descendants (walked up through `parent_of`)."""
    if nas.tenant_id is None:
        return True
    current: int | None = tenant_id
    for _ in range(64):  # a loop in the tree (impossible by design) ends here
        if current is None:
            return False
        if current == nas.tenant_id:
            return True
        current = parent_of(current)
    return False


class NasRegistry:
    """`find(ip)` → the NAS whose network holds `ip` (the most specific one), `may_serve(nas, tenant_id)`."""

    def __init__(self, db, ttl: float = 300.0, listen: bool = True):
        self.db = db
        self.ttl = ttl
        self._lock = threading.Lock()
        self._loaded_at = float("-inf")
        self._generation = 0
        self._by_ip: dict[str, Nas | None] = {}
        self._nets: list[Nas] = []  # most specific first
        self._parents: dict[int, int | None] = {}
        if listen:
            bus_for(db.engine).subscribe(self._on_notice)

    def _on_notice(self, channel: str, payload: str | None) -> None:
        if payload is None or payload in ("nas_clients", "tenants"):
            self.invalidate()

    def invalidate(self) -> None:
        with self._lock:
            self._generation += 1
            self._loaded_at = float("-inf")

    def _ensure(self) -> None:
        if time.monotonic() - self._loaded_at < self.ttl:
            return
        generation = self._generation
        with tenant_context(None), self.db.engine.connect() as conn:
            rows = conn.execute(_ROWS).all()
            parents = dict(conn.execute(_TREE).all())
        nets = []
        for row in rows:
            try:
                secret = decrypt(row.secret_encrypted).encode()
            except Exception:  # a secret encrypted under another SECRET_KEY: that NAS cannot be served
                log.error("NAS %s (%s): its secret cannot be decrypted with this SECRET_KEY; ignored",
                          row.id, row.network)
                continue
            nets.append(Nas(id=row.id, name=row.name, network=ipaddress.ip_network(str(row.network)),
                            secret=secret, vendor=row.vendor, tenant_id=row.tenant_id,
                            require_message_authenticator=row.require_message_authenticator,
                            coa_port=row.coa_port))
        nets.sort(key=lambda n: n.network.prefixlen, reverse=True)
        with self._lock:
            self._nets, self._parents, self._by_ip = nets, parents, {}
            if generation == self._generation:  # no notice came in while we read: good for `ttl`
                self._loaded_at = time.monotonic()

    def find(self, ip: str) -> Nas | None:
        self._ensure()
        try:
            return self._by_ip[ip]
        except KeyError:
            pass
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return None
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        found = next((n for n in self._nets if n.network.version == address.version and address in n.network),
                     None)
        by_ip = self._by_ip
        if len(by_ip) >= _MAX_ENTRIES:
            by_ip.clear()
        by_ip[ip] = found
        return found

    def all(self) -> list[Nas]:
        self._ensure()
        return list(self._nets)

    def may_serve(self, nas: Nas, tenant_id: int) -> bool:
        """A platform NAS serves every tenant; a tenant's NAS, that tenant and its descendants."""
        if nas.tenant_id is None:
            return True
        self._ensure()
        return serves(nas, tenant_id, self._parents.get)
