"""The per-process listener that tells the RADIUS caches what changed.

One LISTEN connection per process (in a daemon thread) on two channels: `backhaul_radius` (NAS clients,
Portal IDs and plans from triggers in public; a tenant's services from app/models/nas.py) and
`backhaul_registry` (tenants and domains, the same notices the host cache hears). Each notice is handed
to every subscriber as (channel, payload); after a (re)connect, subscribers get (channel, None): "you
may have missed anything, drop it all". Caches also keep a time-to-live for the window in which the
listener is down.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

import psycopg
from sqlalchemy.engine import Engine

from app.models.nas import RADIUS_CHANNEL
from tenants.registry import CHANNEL as REGISTRY_CHANNEL
from tenants.registry import libpq_dsn

log = logging.getLogger(__name__)
CHANNELS = (RADIUS_CHANNEL, REGISTRY_CHANNEL)
Subscriber = Callable[[str, str | None], None]


class CacheBus:
    def __init__(self, engine: Engine):
        self.engine = engine
        self._subscribers: list[Subscriber] = []
        self._pid: int | None = None
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def subscribe(self, fn: Subscriber) -> None:
        if fn not in self._subscribers:
            self._subscribers.append(fn)
        self.start()

    def start(self) -> None:
        """Listen from this process (again after a fork: the parent's thread did not come along)."""
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._ready.clear()
            self._thread = threading.Thread(target=self._run, name="radius-cache-bus", daemon=True)
            self._thread.start()
        self._ready.wait(timeout=3.0)

    def stop(self) -> None:
        self._pid = None
        if self._thread is not None:
            self._thread.join(timeout=3.0)
            self._thread = None

    def _dispatch(self, channel: str, payload: str | None) -> None:
        for fn in list(self._subscribers):
            try:
                fn(channel, payload)
            except Exception:
                log.exception("radius cache subscriber %r failed on %s %r", fn, channel, payload)

    def _run(self) -> None:
        pid = os.getpid()
        while self._pid == pid:
            try:
                with psycopg.connect(libpq_dsn(self.engine), autocommit=True) as conn:
                    for channel in CHANNELS:
                        conn.execute(f"LISTEN {channel}")
                    for channel in CHANNELS:
                        self._dispatch(channel, None)
                    self._ready.set()
                    while self._pid == pid:
                        for note in conn.notifies(timeout=1.0):
                            self._dispatch(note.channel, note.payload)
            except Exception as exc:  # keep listening whatever happens; the caches' TTL covers the gap
                self._ready.set()
                log.warning("radius cache listener: %s; reconnecting", exc)
                time.sleep(1.0)


_buses: dict[int, CacheBus] = {}


def bus_for(engine: Engine) -> CacheBus:
    bus = _buses.get(id(engine))
    if bus is None or bus.engine is not engine:
        bus = _buses[id(engine)] = CacheBus(engine)
    return bus
