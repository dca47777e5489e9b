"""The RADIUS server: UDP authentication and accounting ports, one thread each, per process.

Why threads and not asyncio: each request is a few dozen microseconds of CPU once the caches are warm,
and a cache miss is one short query; a plain loop per port keeps the hot path free of scheduling cost.
Several processes share the ports with SO_REUSEPORT (the kernel spreads sources over them; the same
source port always lands on the same process, so a retransmission finds its reply cache).

What every request goes through, in order: the source must be a registered NAS (else dropped, logged);
the packet must parse (else dropped, logged); a retransmission (same source address and port, ID and
authenticator within `dup_window` seconds) is answered from the reply cache and never processed twice.
Accounting-Requests must carry the right Request Authenticator; they are gathered for up to
`batch_window` seconds and stored by `radius.accounting.store_batch` in one go; a response goes only to
those the store says are stored. No exception ends a loop: it costs that packet (or batch) its reply,
and the NAS retries.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import importlib
import logging
import select
import socket
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from radius import packet as rp
from radius.auth import AccessHandler
from radius.dictionary import load as load_dictionary
from radius.directory import MISS, directory_for
from radius.heard import Heard
from radius.nas import NasRegistry

log = logging.getLogger("radius.server")
RECV_BUFFER = 8 * 1024 * 1024
_POLL = 0.5


class DropLog:
    """Log why packets are dropped without letting a flood of junk flood the log: one line per reason
    per `every` seconds, with how many were dropped since the last line."""

    def __init__(self, every: float = 5.0):
        self.every = every
        self._last: dict[str, float] = {}
        self._since: Counter = Counter()

    def note(self, reason: str, source) -> None:
        self._since[reason] += 1
        now = time.monotonic()
        if now - self._last.get(reason, float("-inf")) >= self.every:
            log.warning("dropped a packet from %s: %s (%d since the last such line)", source, reason,
                        self._since[reason])
            self._last[reason] = now
            self._since[reason] = 0


IN_PROGRESS = b""  # in the reply cache while a request is answered from the lookup pool


class ReplyCache:
    """Replies by (source ip, source port, id, authenticator), kept `window` seconds (RFC 5080 §2.2.2)."""

    def __init__(self, window: float = 30.0, max_entries: int = 200_000):
        self.window = window
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> bytes | None:
        """The reply sent to this request; IN_PROGRESS while it is being answered; None if unknown."""
        hit = self._entries.get(key)
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def forget(self, key: tuple) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def put(self, key: tuple, reply: bytes) -> None:
        now = time.monotonic()
        with self._lock:
            entries = self._entries
            entries[key] = (now + self.window, reply)
            entries.move_to_end(key)
            while entries and (len(entries) > self.max_entries or next(iter(entries.values()))[0] < now):
                entries.popitem(last=False)


def _store_batch() -> Callable | None:
    """`radius.accounting.store_batch`, or None while that module does not exist."""
    try:
        module = importlib.import_module("radius.accounting")
    except ModuleNotFoundError as exc:
        if exc.name != "radius.accounting":
            raise
        return None
    return getattr(module, "store_batch", None)


def bind_udp(host: str, port: int, *, reuse_port: bool = True) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port and hasattr(socket, "SO_REUSEPORT"):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    with contextlib.suppress(OSError):  # capped by net.core.rmem_max; bigger is better, not required
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECV_BUFFER)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


class RadiusServer:
    def __init__(self, db, host: str = "0.0.0.0", auth_port: int = 1812, acct_port: int = 1813, *,  # noqa: S104
                 dup_window: float = 30.0, batch_window: float = 0.005, batch_max: int = 256,
                 reuse_port: bool = True, preload: int = 100_000, lookup_threads: int = 4,
                 suspended_reseller: str = "reject"):
        self.db = db
        self.host = host
        self.auth_port, self.acct_port = auth_port, acct_port
        self.batch_window, self.batch_max = batch_window, batch_max
        self.reuse_port = reuse_port
        self.preload = preload  # subscribers to load into the caches at start (0: none)
        self.tune_gc = False  # a serving process of its own (radius/runner.py) sets it; tests' servers don't
        self.nas = NasRegistry(db)
        self.heard = Heard(db, self.nas)
        self.directory = directory_for(db)
        self.access = AccessHandler(db, self.nas, self.directory, suspended_reseller=suspended_reseller)
        self.replies = ReplyCache(dup_window)
        self.drops = DropLog()
        self.stats: Counter = Counter()
        self._stop = threading.Event()
        self._sockets: dict[str, socket.socket] = {}
        self._threads: list[threading.Thread] = []
        self._warned_no_accounting = False
        # Cache misses (a query or three) are answered here, so that the receiving thread goes on answering
        # cached subscribers meanwhile, and a slow or unreachable database stalls only the misses.
        self.lookups = ThreadPoolExecutor(max_workers=lookup_threads, thread_name_prefix="radius-lookup")
        self._waiting = 0
        self._waiting_lock = threading.Lock()
        self.max_waiting = 2_000

    # -- life cycle ----------------------------------------------------------------------------------
    def bind(self) -> tuple[int, int]:
        """Open both ports (port 0: any free one); returns the ports bound."""
        auth = bind_udp(self.host, self.auth_port, reuse_port=self.reuse_port)
        try:
            acct = bind_udp(self.host, self.acct_port, reuse_port=self.reuse_port)
        except OSError:
            auth.close()
            raise
        self._sockets = {"auth": auth, "acct": acct}
        self.auth_port, self.acct_port = auth.getsockname()[1], acct.getsockname()[1]
        return self.auth_port, self.acct_port

    def start(self) -> None:
        if not self._sockets:
            self.bind()
        self._stop.clear()
        self._threads = [threading.Thread(target=self._auth_loop, name="radius-auth", daemon=True),
                         threading.Thread(target=self._acct_loop, name="radius-acct", daemon=True),
                         threading.Thread(target=self.heard.keep_flushing, args=(self._stop,), name="radius-heard",
                                          daemon=True)]
        for thread in self._threads:
            thread.start()
        threading.Thread(target=self._preload, name="radius-preload", daemon=True).start()
        log.info("RADIUS listening on %s: auth %d/udp, accounting %d/udp", self.host, self.auth_port,
                 self.acct_port)

    def _preload(self) -> None:
        """The dictionary, the subscribers, their tenants' policies and their plans, before routers ask."""
        started = time.monotonic()
        try:
            load_dictionary()
            loaded = self.directory.preload(self.preload) if self.preload else 0
            self.access.warm(*self.directory.loaded())
        except Exception:  # the caches fill lazily instead
            log.exception("RADIUS preload failed")
            return
        log.info("RADIUS: %d subscribers preloaded in %.1f s", loaded, time.monotonic() - started)
        if self.tune_gc:
            # The caches are long-lived: frozen, a full collection no longer walks them (one took 131 ms at
            # 3,000 requests/s, stalling every thread: bench/radius.py --profile), and collections come rarer.
            gc.collect()
            gc.freeze()
            gc.set_threshold(50_000, 20, 50)

    def serve_forever(self) -> None:
        self.start()
        try:
            while not self._stop.wait(1.0):
                pass
        finally:
            self.stop()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout=3.0)
        self.lookups.shutdown(wait=False, cancel_futures=True)
        for sock in self._sockets.values():
            sock.close()
        self._sockets = {}

    # -- authentication ------------------------------------------------------------------------------
    def _auth_loop(self) -> None:
        sock = self._sockets["auth"]
        while not self._stop.is_set():
            try:
                readable, _, _ = select.select([sock], [], [], _POLL)
                if not readable:
                    continue
                while True:
                    try:
                        data, source = sock.recvfrom(rp.MAX_LENGTH + 1)
                    except BlockingIOError:
                        break
                    reply = self.handle_auth(data, source, sock)
                    if reply is not None:
                        self._send(sock, reply, source)
            except Exception:  # the loop outlives anything one packet can do to it
                if self._stop.is_set():
                    return
                log.exception("RADIUS auth loop")

    def _send(self, sock: socket.socket, data: bytes, target) -> None:
        try:
            sock.sendto(data, target)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ENOBUFS, errno.EHOSTUNREACH, errno.ENETUNREACH):
                raise
            self.stats["send failed"] += 1
        else:
            self.heard.note(target[0])

    def handle_auth(self, data: bytes, source, sock: socket.socket | None = None) -> bytes | None:
        """The reply to one datagram on the auth port, or None to drop it (or, given the socket, to answer
        it later from the lookup pool when it needs the database)."""
        try:
            return self._auth(data, source, sock)
        except Exception:
            log.exception("Access-Request from %s: no reply (the NAS will retry)", source[0])
            self.stats["error"] += 1
            return None

    def _admit(self, data: bytes, source, code: int, status_reply: int, port: str):
        """The NAS and the parsed packet of `code`, or None (dropped) or bytes (answered: Status-Server)."""
        nas = self.nas.find(source[0])
        if nas is None:
            return self._drop("unknown NAS", source)
        try:
            request = rp.parse(data)
        except rp.Malformed as exc:
            return self._drop(f"malformed ({exc})", source)
        if request.code == rp.STATUS_SERVER:
            return self._status(nas, request, status_reply, source)
        if request.code != code:
            return self._drop(f"code {request.code} on the {port} port", source)
        return nas, request

    def _seen(self, source, request: rp.Packet):
        """(key, the reply cached for this very request or None); IN_PROGRESS (b"") while the first copy's
        reply is on its way."""
        key = (source[0], source[1], request.id, request.authenticator)
        cached = self.replies.get(key)
        if cached is not None:
            self.stats["duplicate"] += 1
        return key, cached

    def _auth(self, data: bytes, source, sock: socket.socket | None = None) -> bytes | None:
        admitted = self._admit(data, source, rp.ACCESS_REQUEST, rp.ACCESS_ACCEPT, "authentication")
        if not isinstance(admitted, tuple):
            return admitted
        nas, request = admitted
        key, cached = self._seen(source, request)
        if cached is not None:
            return cached or None  # IN_PROGRESS: the first copy's reply is on its way
        if sock is not None:
            outcome = self.access.handle(nas, request, cached_only=True)
            if outcome is MISS:
                return self._defer(sock, nas, request, key, source)
        else:
            outcome = self.access.handle(nas, request)
        return self._finish(outcome, key, source)

    def _finish(self, outcome, key: tuple, source) -> bytes | None:
        self.stats["auth processed"] += 1
        if outcome.reply is None:
            self.replies.forget(key)
            return self._drop(outcome.reason, source)
        self.stats[outcome.reason] += 1
        self.replies.put(key, outcome.reply)
        return outcome.reply

    def _defer(self, sock: socket.socket, nas, request: rp.Packet, key: tuple, source) -> None:
        if self._waiting >= self.max_waiting:  # the database cannot keep up: shed, the NAS retries
            return self._drop("too many lookups waiting for the database", source)
        with self._waiting_lock:
            self._waiting += 1
        self.replies.put(key, IN_PROGRESS)
        self.lookups.submit(self._lookup, sock, nas, request, key, source)
        return None

    def _lookup(self, sock: socket.socket, nas, request: rp.Packet, key: tuple, source) -> None:
        try:
            reply = self._finish(self.access.handle(nas, request), key, source)
            if reply is not None:
                self._send(sock, reply, source)
        except Exception:
            self.replies.forget(key)
            self.stats["error"] += 1
            log.exception("Access-Request from %s: no reply (the NAS will retry)", source[0])
        finally:
            with self._waiting_lock:
                self._waiting -= 1

    def _status(self, nas, request: rp.Packet, code: int, source) -> bytes | None:
        """Status-Server (RFC 5997): answered only with a valid Message-Authenticator."""
        if not rp.message_authenticator_ok(request, nas.secret):
            return self._drop("Status-Server without a valid Message-Authenticator", source)
        return rp.sign_reply(code, request.id, request.authenticator, b"", nas.secret,
                             proxy_states=request.all(rp.PROXY_STATE), to_status_server=True)

    def _drop(self, reason: str, source) -> None:
        self.stats["dropped"] += 1
        self.drops.note(reason, source[0])
        return None

    # -- accounting ----------------------------------------------------------------------------------
    def _acct_loop(self) -> None:
        sock = self._sockets["acct"]
        while not self._stop.is_set():
            try:
                readable, _, _ = select.select([sock], [], [], _POLL)
                if not readable:
                    continue
                batch = self._gather(sock)
                for reply, target in self.handle_acct(batch):
                    self._send(sock, reply, target)
            except Exception:
                if self._stop.is_set():
                    return
                log.exception("RADIUS accounting loop")

    def _gather(self, sock: socket.socket) -> list[tuple[bytes, tuple]]:
        """What arrives within `batch_window` of the first datagram (at most `batch_max`)."""
        batch: list[tuple[bytes, tuple]] = []
        deadline = time.monotonic() + self.batch_window
        while len(batch) < self.batch_max:
            try:
                batch.append(sock.recvfrom(rp.MAX_LENGTH + 1))
                continue
            except BlockingIOError:
                pass
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([sock], [], [], remaining)[0]:
                break
        return batch

    def handle_acct(self, batch: list[tuple[bytes, tuple]]) -> list[tuple[bytes, tuple]]:
        """(reply, target) for the datagrams of a batch that are answered."""
        out, items, waiting, seen = [], [], [], set()
        for data, source in batch:
            try:
                checked = self._check_acct(data, source)
            except Exception:
                log.exception("Accounting-Request from %s", source[0])
                continue
            if checked is None:
                continue
            if isinstance(checked, bytes):
                out.append((checked, source))
                continue
            nas, request, key = checked
            if key in seen:  # the same request twice in one batch: the reply cache answers the next one
                self.stats["duplicate"] += 1
                continue
            seen.add(key)
            items.append((nas, request))
            waiting.append((key, source, nas, request))
        if not items:
            return out
        store = _store_batch()
        if store is None:
            if not self._warned_no_accounting:
                log.warning("radius.accounting is not installed: Accounting-Requests get no response")
                self._warned_no_accounting = True
            self.stats["accounting unavailable"] += len(items)
            return out
        try:
            results = store(self.db, items)
        except Exception:
            log.exception("storing %d accounting records failed: no responses (the NAS will retry)", len(items))
            self.stats["accounting failed"] += len(items)
            return out
        for stored, (key, source, nas, request) in zip(results, waiting, strict=False):
            if not stored:
                self.stats["accounting refused"] += 1
                continue
            reply = rp.sign_reply(rp.ACCOUNTING_RESPONSE, request.id, request.authenticator, b"", nas.secret,
                                  proxy_states=request.all(rp.PROXY_STATE))
            self.replies.put(key, reply)
            self.stats["accounting stored"] += 1
            out.append((reply, source))
        return out

    def _check_acct(self, data: bytes, source):
        """None (dropped), bytes (a reply already known), or (nas, request, key) to store."""
        admitted = self._admit(data, source, rp.ACCOUNTING_REQUEST, rp.ACCOUNTING_RESPONSE, "accounting")
        if not isinstance(admitted, tuple):
            return admitted
        nas, request = admitted
        if not rp.request_authenticator_ok(request, nas.secret):
            return self._drop("wrong Request Authenticator (accounting)", source)
        if request.ma_offset is not None and not rp.message_authenticator_ok(request, nas.secret,
                                                                            zero_authenticator=True):
            return self._drop("wrong Message-Authenticator (accounting)", source)
        key, cached = self._seen(source, request)
        if cached is not None:
            return cached or None
        return nas, request, key
