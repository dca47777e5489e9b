"""The RADIUS benchmark's load generator: open-loop, paced, several processes with several source ports each.

Why our own and not `radclient -p`: radclient is closed-loop (it sends the next packet when one is answered),
so it measures how fast the server drains a fixed window, not which steady rate it sustains within a latency
budget. Here each process sends on a fixed schedule (`rate / processes` a second) whatever the answers do,
on `sockets` UDP sockets of its own (each a source port with its own 256 RADIUS ids), and:

- a request's latency runs from just before `sendto` to the kernel's receive timestamp of the answer
  (SO_TIMESTAMPNS), so a generator process that wakes up late on the busy 2-core box does not inflate it;
- every answer is checked against its request (code, id and Response Authenticator with the shared secret),
  so a late answer to a reused id is never matched to the wrong request (it is counted as stray);
- a request unanswered after `timeout` is lost; its id is reused only then. Nothing is ever retransmitted;
- a subscriber always asks from the same source port (as it would behind one NAS), and the source ports stay
  the same from step to step, so a server with several processes on one port (SO_REUSEPORT hashes the
  source) always sees a subscriber in the same process, as it would in service;
- how late the generator itself sent (behind its schedule) is recorded, and a step whose last request went
  out well after the step's end says so, rather than passing off the generator's limit as the server's.

Access-Requests carry User-Password (RFC 2865 hiding) and Message-Authenticator (HMAC-MD5, BlastRADIUS);
Accounting-Requests carry the RFC 2866 Request Authenticator, octet counters with Gigawords, session time
and Event-Timestamp, increasing from one Interim-Update of a session to the next.
"""

from __future__ import annotations

import hashlib
import hmac
import multiprocessing
import os
import random
import resource
import select
import socket
import struct
import time
from array import array
from collections import deque
from dataclasses import dataclass, field

ACCESS_REQUEST, ACCESS_ACCEPT, ACCESS_REJECT = 1, 2, 3
ACCOUNTING_REQUEST, ACCOUNTING_RESPONSE = 4, 5
START, STOP, INTERIM = 1, 2, 3
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux; the control message type is the same number
MIKROTIK_VENDOR = 14988
NAS_IP = socket.inet_aton("127.0.0.1")


def _md5(data: bytes) -> bytes:
    """RADIUS's authenticators are MD5 by RFC; not a security choice of ours."""
    return hashlib.md5(data, usedforsecurity=False).digest()


def attr(kind: int, value: bytes) -> bytes:
    return bytes((kind, len(value) + 2)) + value


def u32(value: int) -> bytes:
    return struct.pack("!I", value & 0xFFFFFFFF)


def hide_password(password: bytes, secret: bytes, authenticator: bytes) -> bytes:
    """RFC 2865 §5.2: padded to 16 bytes, XORed with MD5(secret + previous block) chained from the authenticator."""
    padded = password + b"\0" * (-len(password) % 16 or (16 if not password else 0))
    out, last = bytearray(), authenticator
    for at in range(0, len(padded), 16):
        key = _md5(secret + last)
        block = bytes(a ^ b for a, b in zip(padded[at:at + 16], key, strict=True))
        out += block
        last = block
    return bytes(out)


def access_request(ident: int, authenticator: bytes, secret: bytes, username: bytes, password: bytes,
                   extra: bytes) -> bytes:
    """An Access-Request with PAP and a Message-Authenticator computed over the whole packet."""
    body = attr(1, username) + attr(2, hide_password(password, secret, authenticator)) + extra
    length = 20 + len(body) + 18
    packet = bytearray(struct.pack("!BBH", ACCESS_REQUEST, ident, length) + authenticator + body
                       + b"\x50\x12" + b"\0" * 16)
    packet[-16:] = hmac.new(secret, packet, hashlib.md5).digest()
    return bytes(packet)


def accounting_request(ident: int, secret: bytes, body: bytes) -> tuple[bytes, bytes]:
    """(packet, its Request Authenticator): MD5(code + id + length + 16 zero bytes + attributes + secret)."""
    header = struct.pack("!BBH", ACCOUNTING_REQUEST, ident, 20 + len(body))
    authenticator = _md5(header + b"\0" * 16 + body + secret)
    return header + authenticator + body, authenticator


def response_ok(reply: bytes, request_authenticator: bytes, secret: bytes) -> bool:
    """The Response Authenticator: MD5(code + id + length + request authenticator + attributes + secret)."""
    return _md5(reply[:4] + request_authenticator + reply[20:] + secret) == reply[4:20]


def auth_extra(n: int) -> bytes:
    """What a MikroTik PPPoE server sends besides the credentials (before the Message-Authenticator)."""
    mac = f"02:00:{(n >> 24) & 255:02X}:{(n >> 16) & 255:02X}:{(n >> 8) & 255:02X}:{n & 255:02X}".encode()
    return (attr(4, NAS_IP) + attr(5, u32(n % 4096)) + attr(61, u32(15)) + attr(6, u32(2)) + attr(7, u32(1))
            + attr(31, mac) + attr(30, b"pppoe-bench") + attr(32, b"bench-nas"))


def accounting_body(session: tuple[bytes, bytes, bytes | None, int], status: int, tick: int) -> bytes:
    """Attributes of a Start (tick 0) or Interim-Update (tick ≥ 1): five simulated minutes a tick, a few
    MB up and tens of MB down, so the counters cross 4 GiB (Gigawords) for busy sessions."""
    username, session_id, framed_ip, n = session
    seconds = tick * 300
    down = tick * (40_000_000 + (n % 97) * 1_000_000)
    up = tick * (4_000_000 + (n % 89) * 100_000)
    body = (attr(1, username) + attr(40, u32(status)) + attr(44, session_id) + attr(4, NAS_IP)
            + attr(5, u32(n % 4096)) + attr(61, u32(15)) + attr(6, u32(2)) + attr(7, u32(1))
            + attr(32, b"bench-nas") + attr(45, u32(1)) + attr(41, u32(0))
            + attr(55, u32(int(time.time()))))
    if framed_ip:
        body += attr(8, framed_ip)
    if status != START:
        body += (attr(46, u32(seconds)) + attr(42, u32(up)) + attr(43, u32(down)) + attr(52, u32(up >> 32))
                 + attr(53, u32(down >> 32)) + attr(47, u32(up // 1400)) + attr(48, u32(down // 1400)))
    return body


@dataclass
class Step:
    """What one step offers: `rate` requests a second in all, for `duration` seconds."""

    kind: str  # "auth" | "interim" | "start"
    rate: float
    duration: float
    timeout: float
    host: str
    port: int
    secret: bytes
    processes: int = 2
    sockets: int = 8
    users: list = field(default_factory=list)  # (username, password) bytes, for auth
    sessions: list = field(default_factory=list)  # (username, session id, framed ip or None, n), for accounting
    tick: int = 1  # Interim-Updates: the first tick this step sends (counters grow from step to step)
    source_ports: list = field(default_factory=list)  # processes × sockets ports, kept from step to step
    every_user: bool = False  # auth: each process walks its share of the users in order (a warm-up), not at random
    seed: int = 0


@dataclass
class Outcome:
    sent: int = 0
    answered: int = 0
    lost: int = 0
    exhausted: int = 0  # no free id on any socket: more than processes × sockets × 256 outstanding
    rejected: int = 0
    unexpected: int = 0  # an answer to an outstanding request with the wrong code
    stray: int = 0  # answers matching no outstanding request (late ones, after their request was counted lost)
    latencies_ns: array = field(default_factory=lambda: array("q"))
    lag_ns: array = field(default_factory=lambda: array("q"))
    cpu_s: float = 0.0
    elapsed_s: float = 0.0
    send_span_s: float = 0.0  # first scheduled send to the last actual one: above the step's duration, we lagged
    ticks_used: int = 0


def _open_sockets(ports: list[int]) -> list[socket.socket]:
    made = []
    for port in ports:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        sock.bind(("127.0.0.1", port))
        sock.setblocking(False)
        made.append(sock)
    return made


def _kernel_ns(ancillary: list, fallback: int) -> int:
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= 16:
            sec, nsec = struct.unpack("qq", data[:16])
            return sec * 1_000_000_000 + nsec
    return fallback


def _worker(step: Step, index: int, start_at: float, conn) -> None:
    """One generator process: its share of the schedule on its own sockets; the Outcome goes back on `conn`."""
    out = Outcome()
    rng = random.Random(step.seed * 1000 + index)
    ports = step.source_ports[index * step.sockets:(index + 1) * step.sockets] or [0] * step.sockets
    socks = _open_sockets(ports)
    poller = select.epoll()
    by_fd = {}
    for number, sock in enumerate(socks):
        poller.register(sock.fileno(), select.EPOLLIN)
        by_fd[sock.fileno()] = number
    free = [deque(range(256)) for _ in socks]
    sent_ns = [[0] * 256 for _ in socks]
    req_auth = [[b""] * 256 for _ in socks]
    destination = (step.host, step.port)
    secret = step.secret
    rate = step.rate / step.processes
    total = max(1, int(rate * step.duration))
    interval = 1.0 / rate
    mine = step.sessions[index::step.processes] if step.kind != "auth" else []
    my_users = list(range(index, len(step.users), step.processes))
    extras = {}
    timeout_ns = int(step.timeout * 1e9)
    code_ok = ACCESS_ACCEPT if step.kind == "auth" else ACCOUNTING_RESPONSE
    sent = 0
    next_sweep = 0.0
    last_send = start_at
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    time.sleep(max(0.0, start_at - time.monotonic()))
    while True:
        now = time.monotonic()
        while sent < total and start_at + sent * interval <= now:
            # a subscriber always comes from the same source port, as behind one NAS (with several server
            # processes on SO_REUSEPORT, a source port always reaches the same one: its caches hold)
            if step.kind == "auth":
                user = my_users[(sent % len(my_users)) if step.every_user else rng.randrange(len(my_users))]
                preferred = (user // step.processes) % step.sockets
            else:
                at = sent % len(mine)
                preferred = at % step.sockets
            number = None
            for k in range(step.sockets):
                candidate = (preferred + k) % step.sockets
                if free[candidate]:
                    number = candidate
                    break
            if number is None:
                out.exhausted += 1
                sent += 1
                continue
            ident = free[number].popleft()
            if step.kind == "auth":
                extra = extras.get(user)
                if extra is None:
                    extra = extras[user] = auth_extra(user)
                authenticator = os.urandom(16)
                username, password = step.users[user]
                packet = access_request(ident, authenticator, secret, username, password, extra)
            else:
                tick = 0 if step.kind == "start" else step.tick + sent // len(mine)
                out.ticks_used = max(out.ticks_used, sent // len(mine) + 1)
                packet, authenticator = accounting_request(
                    ident, secret, accounting_body(mine[at], START if step.kind == "start" else INTERIM, tick))
            req_auth[number][ident] = authenticator
            out.lag_ns.append(int((time.monotonic() - (start_at + sent * interval)) * 1e9))
            sent_ns[number][ident] = time.time_ns()
            try:
                socks[number].sendto(packet, destination)
            except (BlockingIOError, OSError):
                out.lost += 1  # our own send buffer full: counted against the step, never hidden
                sent_ns[number][ident] = 0
                free[number].append(ident)
            sent += 1
            last_send = time.monotonic()
        outstanding = sum(256 - len(f) for f in free)
        if sent >= total and (outstanding == 0 or time.monotonic() > last_send + step.timeout):
            break
        wait = (start_at + sent * interval - time.monotonic()) if sent < total else 0.05
        for fd, _event in poller.poll(max(0.0, min(wait, 0.05))):
            number = by_fd[fd]
            sock = socks[number]
            while True:
                try:
                    data, ancillary, _flags, _addr = sock.recvmsg(4096, 64)
                except BlockingIOError:
                    break
                arrived = _kernel_ns(ancillary, time.time_ns())
                if len(data) < 20:
                    out.stray += 1
                    continue
                ident = data[1]
                started = sent_ns[number][ident]
                if not started or not response_ok(data, req_auth[number][ident], secret):
                    out.stray += 1  # an answer to nothing outstanding: late (a request already counted lost)
                    continue
                sent_ns[number][ident] = 0
                free[number].append(ident)
                out.answered += 1
                out.latencies_ns.append(arrived - started)
                if data[0] == ACCESS_REJECT:
                    out.rejected += 1
                elif data[0] != code_ok:
                    out.unexpected += 1
        now_mono = time.monotonic()
        if now_mono >= next_sweep:  # requests past the timeout are lost; their ids come back
            next_sweep = now_mono + 0.1
            cutoff = time.time_ns() - timeout_ns
            for number in range(step.sockets):
                slots = sent_ns[number]
                for ident in range(256):
                    if slots[ident] and slots[ident] < cutoff:
                        slots[ident] = 0
                        out.lost += 1
                        free[number].append(ident)
    for number in range(step.sockets):
        for ident in range(256):
            if sent_ns[number][ident]:
                out.lost += 1
    out.sent = sent
    out.elapsed_s = time.monotonic() - start_at
    out.send_span_s = last_send - start_at
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    out.cpu_s = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
    poller.close()
    for sock in socks:
        sock.close()
    conn.send(out)
    conn.close()


def udp_errors() -> dict[str, int]:
    """The kernel's UDP counters (host-wide): receive-buffer overflows are drops no answer reveals."""
    with open("/proc/net/snmp") as snmp:
        lines = [line.split() for line in snmp if line.startswith("Udp:")]
    return {name: int(value) for name, value in zip(lines[0][1:], lines[1][1:], strict=True)}


def run(step: Step) -> dict:
    """Run one step in `step.processes` forked processes started together; merge what they measured."""
    if step.kind != "auth" and len(step.sessions) < step.processes:
        raise ValueError("fewer sessions than generator processes")
    ctx = multiprocessing.get_context("fork")
    start_at = time.monotonic() + 0.3
    udp0 = udp_errors()
    workers = []
    for index in range(step.processes):
        parent, child = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_worker, args=(step, index, start_at, child), daemon=True)
        proc.start()
        child.close()
        workers.append((proc, parent))
    outcomes = []
    try:
        for proc, parent in workers:
            if not parent.poll(step.duration + step.timeout + 30):
                raise TimeoutError("a load generator process did not report")
            outcomes.append(parent.recv())
            proc.join(timeout=10)
    finally:
        for proc, _parent in workers:
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=5)
    udp1 = udp_errors()
    return merge(step, outcomes, {k: udp1[k] - udp0.get(k, 0) for k in ("RcvbufErrors", "InErrors", "SndbufErrors")})


def _pct(ordered: list[int], fraction: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] / 1e6


def latency_growth_ms(outcome: Outcome) -> float:
    """How much later the answers came at the end of the step than at its start (median of the last fifth
    of answers minus that of the first fifth, arrival order): a queue that grows means the rate is not
    sustained, whether or not this step was long enough for it to overflow."""
    fifth = len(outcome.latencies_ns) // 5
    if fifth < 5:
        return 0.0
    first = sorted(outcome.latencies_ns[:fifth])[fifth // 2]
    last = sorted(outcome.latencies_ns[-fifth:])[fifth // 2]
    return (last - first) / 1e6


def merge(step: Step, outcomes: list[Outcome], udp: dict) -> dict:
    latencies = sorted(x for o in outcomes for x in o.latencies_ns)
    lags = sorted(x for o in outcomes for x in o.lag_ns)
    elapsed = max(o.elapsed_s for o in outcomes)
    sent = sum(o.sent for o in outcomes)
    answered = sum(o.answered for o in outcomes)
    return {
        "kind": step.kind, "offered_per_s": step.rate, "duration_s": step.duration, "sent": sent,
        "answered": answered, "lost": sum(o.lost for o in outcomes), "exhausted": sum(o.exhausted for o in outcomes),
        "rejected": sum(o.rejected for o in outcomes), "unexpected": sum(o.unexpected for o in outcomes),
        "stray": sum(o.stray for o in outcomes),
        "answered_per_s": answered / step.duration if step.duration else 0.0,
        "latency_ms": {"p50": _pct(latencies, 0.50), "p90": _pct(latencies, 0.90), "p99": _pct(latencies, 0.99),
                       "p999": _pct(latencies, 0.999), "max": latencies[-1] / 1e6 if latencies else float("nan")},
        "generator_lag_ms": {"p99": _pct(lags, 0.99), "max": lags[-1] / 1e6 if lags else float("nan")},
        "latency_growth_ms": max(latency_growth_ms(o) for o in outcomes),
        "generator_cpu_s": sum(o.cpu_s for o in outcomes), "elapsed_s": elapsed, "udp": udp,
        "send_span_s": max(o.send_span_s for o in outcomes),
        "ticks_used": max(o.ticks_used for o in outcomes),
    }


# -- one request, answered or not (readiness, and the replies' content for the record) ---------------------

def parse_attributes(packet: bytes) -> list[tuple[int, bytes]]:
    attrs, at = [], 20
    while at + 2 <= len(packet):
        kind, length = packet[at], packet[at + 1]
        if length < 2:
            break
        attrs.append((kind, packet[at + 2:at + length]))
        at += length
    return attrs


def describe(attrs: list[tuple[int, bytes]]) -> dict:
    """The reply attributes a NAS acts on, readable: rate limit, address, timers, message."""
    out: dict = {}
    for kind, value in attrs:
        if kind == 26 and len(value) > 6 and struct.unpack("!I", value[:4])[0] == MIKROTIK_VENDOR and value[4] == 8:
            out["Mikrotik-Rate-Limit"] = value[6:6 + value[5] - 2].decode(errors="replace")
        elif kind == 8:
            out["Framed-IP-Address"] = socket.inet_ntoa(value)
        elif kind == 27:
            out["Session-Timeout"] = struct.unpack("!I", value)[0]
        elif kind == 85:
            out["Acct-Interim-Interval"] = struct.unpack("!I", value)[0]
        elif kind == 18:
            out["Reply-Message"] = value.decode(errors="replace")
        elif kind == 80:
            out["Message-Authenticator"] = True
    return out


def probe_auth(host: str, port: int, secret: bytes, username: str, password: str,
               timeout: float = 1.0) -> tuple[int, dict] | None:
    """One Access-Request; (code, described attributes) of a checked answer, or None when none came."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        ident, authenticator = random.randrange(256), os.urandom(16)
        sock.sendto(access_request(ident, authenticator, secret, username.encode(), password.encode(),
                                   auth_extra(1)), (host, port))
        try:
            data = sock.recv(4096)
        except (TimeoutError, ConnectionRefusedError):
            return None
    if len(data) < 20 or data[1] != ident or not response_ok(data, authenticator, secret):
        return None
    return data[0], describe(parse_attributes(data))
