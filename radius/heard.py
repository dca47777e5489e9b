"""When the RADIUS service last answered each NAS, for the NAS pages ("last heard"): a router that has gone quiet
is the first thing to look at when its customers call.

Why in memory first: noting a reply is a dictionary write on the hot path (thousands a second), while the table
needs only the minute. The server notes each reply's address; every FLUSH_SECONDS (and when it stops) the
addresses are resolved to their NAS and written in one statement, never moving a time backwards (several
processes write the same rows). Only replies count: a packet with a wrong secret, or from an address no NAS
holds, is dropped unanswered and says nothing about the router.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime

from sqlalchemy import text

log = logging.getLogger(__name__)
FLUSH_SECONDS = 60.0
_WRITE = text("UPDATE public.nas_clients AS n SET last_heard_at = v.at "
              "FROM unnest(CAST(:ids AS bigint[]), CAST(:ats AS timestamptz[])) AS v(id, at) "
              "WHERE n.id = v.id AND (n.last_heard_at IS NULL OR n.last_heard_at < v.at)")


class Heard:
    """`note(ip)` for each reply sent; `flush()` writes what was noted since the last flush."""

    def __init__(self, db, registry):
        self.db = db
        self.registry = registry  # radius/nas.py NasRegistry: an address to its NAS
        self._noted: dict[str, float] = {}
        self._lock = threading.Lock()

    def note(self, ip: str) -> None:
        self._noted[ip] = time.time()  # one dict write: atomic under the GIL, no lock on the hot path

    def flush(self) -> int:
        """Write the noted times; returns how many NAS rows were given one."""
        with self._lock:
            noted, self._noted = self._noted, {}
        latest: dict[int, float] = {}
        for ip, at in list(noted.items()):  # one C call: a late note into the old dict cannot break it
            nas = self.registry.find(ip)
            if nas is not None and at > latest.get(nas.id, 0.0):
                latest[nas.id] = at
        if not latest:
            return 0
        ids = list(latest)
        ats = [datetime.fromtimestamp(latest[i], UTC) for i in ids]
        with self.db.session() as session:
            return session.execute(_WRITE, {"ids": ids, "ats": ats}).rowcount

    def keep_flushing(self, stop: threading.Event, every: float = FLUSH_SECONDS) -> None:
        """Flush every `every` seconds until `stop`, then once more."""
        while not stop.wait(every):
            self._flush_logged()
        self._flush_logged()

    def _flush_logged(self) -> None:
        try:
            self.flush()
        except Exception:  # the next flush tries again with what it notes meanwhile
            log.exception("RADIUS: writing when each NAS was last heard failed")
