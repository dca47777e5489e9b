"""The accounting store: Accounting-Requests into each tenant's `radius_sessions` and `usage_daily`.

The server (radius/server.py) hands over a batch of decoded, authenticator-verified requests as
(Nas, packet) pairs and sends an Accounting-Response for each item `store_batch` returns True for —
only once its record is committed (RFC 2866 §2: the response says "stored"). With the database down
nothing is committed and every item is False: no response goes out, and the router retries.

How a batch is written. Items are resolved to their tenant (User-Name → Portal ID registry, cached in
radius/directory.py) and grouped by tenant; each tenant's items are merged by session (a retransmission
and its original in one batch become one row) and written in ONE statement in one transaction: an
`INSERT … ON CONFLICT DO UPDATE` of the sessions from `unnest`ed arrays, whose RETURNING feeds the upsert
of `usage_daily`. Counters only grow (GREATEST), and the statement records how much each session grew
(`input_delta`, computed from the row as it was before, under its row lock), so a day's usage is the sum
of real growth: a retransmitted, duplicated or reordered Start/Interim/Stop never counts twice.

Which packets are acknowledged without being stored (so that the router stops sending them, instead of
retrying for ever): a User-Name that is no known subscriber, a subscriber the NAS may not serve (a
tenant's NAS, another tenant's customer), and status types we do not keep (Failed, tunnel records).
They are logged and counted in `STATS`. A request without Acct-Status-Type or Acct-Session-Id is
malformed: it gets no response (RFC 2865 §3, silently discarded) and is counted too.

Accounting-On/Off: the router restarted, so every session it had open is over; they are closed in every
tenant it may serve, in one transaction (tenant schemas named explicitly).

After the commit, fair use is checked (app/services/usage/fup.py) for the services whose usage grew, on a
thread of its own and in a transaction of its own: responses do not wait for it, and a failure there is
logged and does not take the stored records back. (It reads the stored usage, so the next accounting of
the service makes up for a check that failed.)

Voice: a session of a service of kind `voice` is a call (a VoIP gateway's accounting), and its
Acct-Session-Time is drawn from the service's voice buckets (app/services/usage/records.py) in the same
transaction as the session, before the response: a Stop is the last word on a call, and no later packet
would make up for a draw lost after it. The draw grows with the session (per second, as minutes), so a
retransmitted or reordered packet draws nothing. Should the draw fail, the sessions stay stored and the
voice packets get no response: the router's retransmission draws them.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import queue
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

import radius.coa  # noqa: F401  (the CoA subscriber must listen in the RADIUS process too: FUP limits here)
from app import clock
from app.services.billing import invoices
from app.services.usage import fup
from app.services.usage import records as usage_records
from radius.directory import directory_for
from radius.nas import serves
from tenants import Tenant, tenant_context
from tenants.registry import directory as tenant_directory
from tenants.schema import quote_schema

log = logging.getLogger(__name__)

START, STOP, INTERIM, ACCOUNTING_ON, ACCOUNTING_OFF = 1, 2, 3, 7, 8
USER_NAME, NAS_IP_ADDRESS, FRAMED_IP_ADDRESS, CALLED_STATION_ID, CALLING_STATION_ID = 1, 4, 8, 30, 31
STATUS_TYPE, DELAY_TIME, INPUT_OCTETS, OUTPUT_OCTETS, SESSION_ID, SESSION_TIME = 40, 41, 42, 43, 44, 46
TERMINATE_CAUSE, INPUT_GIGAWORDS, OUTPUT_GIGAWORDS, EVENT_TIMESTAMP = 49, 52, 53, 55
TERMINATE_CAUSES = {
    1: "User-Request", 2: "Lost-Carrier", 3: "Lost-Service", 4: "Idle-Timeout", 5: "Session-Timeout",
    6: "Admin-Reset", 7: "Admin-Reboot", 8: "Port-Error", 9: "NAS-Error", 10: "NAS-Request", 11: "NAS-Reboot",
    12: "Port-Unneeded", 13: "Port-Preempted", 14: "Port-Suspended", 15: "Service-Unavailable", 16: "Callback",
    17: "User-Error", 18: "Host-Request"}
CLOCK_SKEW = timedelta(minutes=5)  # an Event-Timestamp further ahead than this is the router's clock, not news
MAX_AGE = timedelta(days=7)  # … or further back than this
ZONE_TTL = 300.0

STATS: Counter = Counter()  # stored, unknown_user, not_served, ignored, malformed, nas_on_off, failed, voice,
# voice_failed


class Malformed(ValueError):
    """A request we cannot store: no response."""


@dataclass(slots=True)
class Record:
    key: uuid.UUID
    nas_id: int
    nas_ip: str | None
    acct_session_id: str
    username: str
    customer_id: int
    service_id: int | None
    framed_ip: str | None
    calling_station_id: str | None
    event_at: datetime
    started_at: datetime
    stopped_at: datetime | None
    input_octets: int
    output_octets: int
    session_time: int
    terminate_cause: str | None
    service_kind: str | None = None  # the service's kind: a `voice` service's sessions are calls
    called_station_id: str | None = None  # a call's destination

    def merge(self, other: Record) -> None:
        """Fold a retransmission or a later/earlier packet of the same session into this one."""
        self.input_octets = max(self.input_octets, other.input_octets)
        self.output_octets = max(self.output_octets, other.output_octets)
        self.session_time = max(self.session_time, other.session_time)
        self.started_at = min(self.started_at, other.started_at)
        self.event_at = max(self.event_at, other.event_at)
        if other.stopped_at is not None:
            self.stopped_at = other.stopped_at
            self.terminate_cause = other.terminate_cause or self.terminate_cause
        self.framed_ip = other.framed_ip or self.framed_ip
        self.calling_station_id = other.calling_station_id or self.calling_station_id
        self.nas_ip = other.nas_ip or self.nas_ip
        self.service_id = self.service_id or other.service_id
        self.service_kind = self.service_kind or other.service_kind
        self.called_station_id = other.called_station_id or self.called_station_id


# -- reading packets (radius.packet.Packet or a pyrad Packet) ------------------------------------------

def attributes_of(packet) -> dict[int, bytes]:
    """The packet's standard attributes by type, first occurrence of each: read once, looked up often."""
    if isinstance(packet, dict):  # pyrad: an OrderedDict of code → [raw values]
        return {code: values[0] for code, values in dict.items(packet) if isinstance(code, int) and values}
    return {attr_type: value for attr_type, value in reversed(packet.attributes)}


def _int(attrs: dict[int, bytes], code: int) -> int | None:
    value = attrs.get(code)
    if value is None:
        return None
    if len(value) != 4:
        raise Malformed(f"attribute {code}: {len(value)} octets, an integer has 4")
    return int.from_bytes(value, "big")


def _str(attrs: dict[int, bytes], code: int) -> str | None:
    value = attrs.get(code)
    return None if value is None else value.decode("utf-8", "replace").replace("\x00", "")


def _ip(attrs: dict[int, bytes], code: int) -> str | None:
    value = attrs.get(code)
    if value is None or len(value) != 4:
        return None
    return str(ipaddress.IPv4Address(value))


def status_type(attrs: dict[int, bytes]) -> int:
    found = _int(attrs, STATUS_TYPE)
    if found is None:
        raise Malformed("no Acct-Status-Type")
    return found


def event_time(attrs: dict[int, bytes], now: datetime) -> datetime:
    """When it happened: Event-Timestamp when the router's clock is believable, else now minus
    Acct-Delay-Time."""
    stamp = _int(attrs, EVENT_TIMESTAMP)
    if stamp is not None:
        at = datetime.fromtimestamp(stamp, UTC)
        if now - MAX_AGE <= at <= now + CLOCK_SKEW:
            return at
    delay = _int(attrs, DELAY_TIME) or 0
    return now - timedelta(seconds=min(delay, int(MAX_AGE.total_seconds())))


def session_key(nas_id: int, acct_session_id: str, username: str) -> uuid.UUID:
    """Our Acct-Unique-Session-Id: the RFC 2866 key (NAS, Acct-Session-Id, User-Name) digested."""
    digest = hashlib.blake2b(f"{nas_id}\x00{acct_session_id}\x00{username}".encode(), digest_size=16).digest()
    return uuid.UUID(bytes=digest)


def record_of(nas, attrs: dict[int, bytes], kind: int, customer_id: int, service_id: int | None,
              now: datetime) -> Record:
    acct_session_id = _str(attrs, SESSION_ID)
    username = _str(attrs, USER_NAME)
    if not acct_session_id or not username:
        raise Malformed("no Acct-Session-Id or User-Name")
    at = event_time(attrs, now)
    session_time = _int(attrs, SESSION_TIME) or 0
    octets_in = ((_int(attrs, INPUT_GIGAWORDS) or 0) << 32) + (_int(attrs, INPUT_OCTETS) or 0)
    octets_out = ((_int(attrs, OUTPUT_GIGAWORDS) or 0) << 32) + (_int(attrs, OUTPUT_OCTETS) or 0)
    stop = kind == STOP
    cause = _int(attrs, TERMINATE_CAUSE) if stop else None
    return Record(
        key=session_key(nas.id, acct_session_id[:253], username[:253]), nas_id=nas.id,
        nas_ip=_ip(attrs, NAS_IP_ADDRESS), acct_session_id=acct_session_id[:253], username=username[:253],
        customer_id=customer_id, service_id=service_id, framed_ip=_ip(attrs, FRAMED_IP_ADDRESS),
        calling_station_id=(_str(attrs, CALLING_STATION_ID) or "")[:64] or None,
        event_at=at, started_at=at if kind == START else at - timedelta(seconds=session_time),
        stopped_at=at if stop else None, input_octets=octets_in, output_octets=octets_out,
        session_time=session_time,
        terminate_cause=(TERMINATE_CAUSES.get(cause, f"Cause-{cause}") if cause is not None else None),
        called_station_id=(_str(attrs, CALLED_STATION_ID) or "")[:64] or None)


# -- who may be served ------------------------------------------------------------------------------------

def may_serve(nas, tenant: Tenant) -> bool:
    """radius/nas.py's rule, with the tenant tree read from the (cached) tenant registry."""
    return serves(nas, tenant.id, _parent_id)


def _parent_id(tenant_id: int) -> int | None:
    try:
        return tenant_directory().by_id(tenant_id).parent_id
    except LookupError:
        return None


# -- the batch --------------------------------------------------------------------------------------------

def store_batch(db, items: list) -> list[bool]:
    """Store a batch of (Nas, Accounting-Request) pairs; True for each item that may be answered."""
    now = clock.now()
    results = [False] * len(items)
    groups: dict[int, tuple[Tenant, list[tuple[int, uuid.UUID]], dict[uuid.UUID, Record]]] = {}
    restarts: list[tuple[int, object, datetime]] = []
    directory = directory_for(db)
    for index, (nas, packet) in enumerate(items):
        try:
            attrs = attributes_of(packet)
            kind = status_type(attrs)
            if kind in (ACCOUNTING_ON, ACCOUNTING_OFF):
                restarts.append((index, nas, event_time(attrs, now)))
                continue
            if kind not in (START, STOP, INTERIM):
                STATS["ignored"] += 1
                results[index] = True
                continue
            user_name = _str(attrs, USER_NAME)
            if not user_name:
                raise Malformed("no User-Name")
            subscriber = directory.resolve(user_name)
            if subscriber is None:
                _acknowledge_unstored(results, index, "unknown_user", "unknown User-Name %r from NAS %s",
                                      user_name, nas.name)
                continue
            if not may_serve(nas, subscriber.tenant):
                _acknowledge_unstored(results, index, "not_served", "NAS %s may not serve %r (tenant %s)",
                                      nas.name, user_name, subscriber.tenant.code)
                continue
            service = directory.service(subscriber)
            record = record_of(nas, attrs, kind, subscriber.customer_id, service.id if service else None, now)
            record.service_kind = service.kind if service else None
        except Malformed as exc:
            _count("malformed", "accounting request from NAS %s dropped: %s", getattr(nas, "name", "?"), exc)
            continue
        except Exception:  # the database behind the caches is down: no response, the router retries
            _count("failed", "accounting request from NAS %s not stored", getattr(nas, "name", "?"), exc_info=True)
            continue
        tenant = subscriber.tenant
        _, indexes, records = groups.setdefault(tenant.id, (tenant, [], {}))
        indexes.append((index, record.key))
        if record.key in records:
            records[record.key].merge(record)
        else:
            records[record.key] = record
    if restarts:
        _close_restarted(db, restarts, results)
    for tenant, indexes, records in groups.values():
        stored = _store_tenant(db, tenant, list(records.values()))
        if stored is None:
            continue
        touched, unanswered = stored
        for index, key in indexes:
            results[index] = key not in unanswered
        STATS["stored"] += len(indexes)
        if touched:
            _check_fair_use(db, tenant, touched)
    return results


def _acknowledge_unstored(results: list[bool], index: int, what: str, message: str, *args) -> None:
    results[index] = True
    _count(what, "accounting acknowledged, not stored: " + message, *args)


def _count(what: str, message: str, *args, exc_info: bool = False) -> None:
    """Count an outcome and log it: the first hundred, then every thousandth (a misconfigured router, or
    an outage, must not flood the log)."""
    STATS[what] += 1
    if STATS[what] <= 100 or STATS[what] % 1000 == 0:
        log.warning("%s (%s so far): " + message, what, STATS[what], *args, exc_info=exc_info)


_STORE = text("""
WITH input AS (
    SELECT * FROM unnest(
        CAST(:keys AS uuid[]), CAST(:nas_ids AS bigint[]), CAST(:nas_ips AS inet[]), CAST(:sids AS text[]),
        CAST(:users AS text[]), CAST(:customers AS bigint[]), CAST(:services AS bigint[]),
        CAST(:framed AS inet[]), CAST(:stations AS text[]), CAST(:events AS timestamptz[]),
        CAST(:starts AS timestamptz[]), CAST(:stops AS timestamptz[]), CAST(:ins AS bigint[]),
        CAST(:outs AS bigint[]), CAST(:times AS bigint[]), CAST(:causes AS text[]), CAST(:days AS date[]))
    AS i(session_key, nas_id, nas_ip, acct_session_id, username, customer_id, service_id, framed_ip,
         calling_station_id, event_at, started_at, stopped_at, input_octets, output_octets, session_time,
         terminate_cause, day)
), up AS (
    INSERT INTO radius_sessions AS r (session_key, nas_id, nas_ip, acct_session_id, username, customer_id,
        service_id, framed_ip, calling_station_id, status, started_at, updated_at, stopped_at, session_time,
        input_octets, output_octets, input_delta, output_delta, terminate_cause)
    SELECT session_key, nas_id, nas_ip, acct_session_id, username, customer_id, service_id, framed_ip,
           calling_station_id, CASE WHEN stopped_at IS NULL THEN 'Open' ELSE 'Closed' END, started_at, event_at,
           stopped_at, session_time, input_octets, output_octets, input_octets, output_octets, terminate_cause
    FROM input ORDER BY session_key
    ON CONFLICT (session_key) DO UPDATE SET
        nas_ip = COALESCE(excluded.nas_ip, r.nas_ip),
        service_id = COALESCE(r.service_id, excluded.service_id),
        framed_ip = COALESCE(excluded.framed_ip, r.framed_ip),
        calling_station_id = COALESCE(excluded.calling_station_id, r.calling_station_id),
        started_at = LEAST(r.started_at, excluded.started_at),
        updated_at = GREATEST(r.updated_at, excluded.updated_at),
        session_time = GREATEST(r.session_time, excluded.session_time),
        input_octets = GREATEST(r.input_octets, excluded.input_octets),
        output_octets = GREATEST(r.output_octets, excluded.output_octets),
        input_delta = GREATEST(excluded.input_octets - r.input_octets, 0),
        output_delta = GREATEST(excluded.output_octets - r.output_octets, 0),
        status = CASE WHEN excluded.status = 'Closed' THEN 'Closed'
                      WHEN r.terminate_cause = 'Stale-Session' THEN 'Open' ELSE r.status END,
        stopped_at = CASE WHEN excluded.status = 'Closed' THEN excluded.stopped_at
                          WHEN r.terminate_cause = 'Stale-Session' THEN NULL ELSE r.stopped_at END,
        terminate_cause = CASE WHEN excluded.status = 'Closed' THEN excluded.terminate_cause
                               WHEN r.terminate_cause = 'Stale-Session' THEN NULL ELSE r.terminate_cause END
    RETURNING r.session_key, r.service_id, r.input_delta, r.output_delta
)
INSERT INTO usage_daily AS u (service_id, day, upload, download)
SELECT up.service_id, i.day, sum(up.input_delta), sum(up.output_delta)
FROM up JOIN input i USING (session_key)
WHERE up.service_id IS NOT NULL AND (up.input_delta > 0 OR up.output_delta > 0)
GROUP BY up.service_id, i.day
ORDER BY up.service_id, i.day
ON CONFLICT (service_id, day) DO UPDATE SET upload = u.upload + excluded.upload,
                                            download = u.download + excluded.download
RETURNING u.service_id
""")


def _store_tenant(db, tenant: Tenant, records: list[Record]) -> tuple[set[int], set[uuid.UUID]] | None:
    """Write one tenant's records in one transaction: the services whose usage grew and the sessions
    whose voice draw failed (stored, but to be retransmitted), or None when nothing could be stored (the
    items get no response)."""
    try:
        with tenant_context(tenant), db.session() as session:
            zone = _zone(session, tenant)
            params = {
                "keys": [r.key for r in records], "nas_ids": [r.nas_id for r in records],
                "nas_ips": [r.nas_ip for r in records], "sids": [r.acct_session_id for r in records],
                "users": [r.username for r in records], "customers": [r.customer_id for r in records],
                "services": [r.service_id for r in records], "framed": [r.framed_ip for r in records],
                "stations": [r.calling_station_id for r in records], "events": [r.event_at for r in records],
                "starts": [r.started_at for r in records], "stops": [r.stopped_at for r in records],
                "ins": [r.input_octets for r in records], "outs": [r.output_octets for r in records],
                "times": [r.session_time for r in records], "causes": [r.terminate_cause for r in records],
                "days": [invoices.local_date(r.event_at, zone) for r in records],
            }
            touched = set(session.execute(_STORE, params).scalars())
            return touched, apply_voice(session, tenant, records)
    except Exception:
        STATS["failed"] += len(records)
        log.exception("accounting for tenant %s not stored (%s sessions): no response, the NAS retries",
                      tenant.code, len(records))
        return None


def apply_voice(session, tenant: Tenant, records: list[Record]) -> set[uuid.UUID]:
    """Draw the calls among `records` (sessions of voice services) from their voice buckets, in a
    savepoint of the store's transaction; the keys of the calls whose draw failed (none, normally)."""
    calls = [r for r in records if r.service_kind == "voice" and r.service_id and r.session_time > 0]
    if not calls:
        return set()
    usages = [usage_records.Usage(
        service_id=r.service_id, customer_id=r.customer_id, kind="voice", quantity=usage_records.minutes(
            r.session_time), external_id=str(r.key), occurred_at=r.started_at, used_by=r.event_at,
        detail={k: v for k, v in (("destination", r.called_station_id), ("caller", r.calling_station_id)) if v})
        for r in calls]
    try:
        with session.begin_nested():
            usage_records.apply(session, usage_records.RADIUS, usages, grows=True)
    except Exception:
        STATS["voice_failed"] += len(calls)
        log.exception("voice draw for tenant %s failed (%s calls): stored, left for the retransmission",
                      tenant.code, len(calls))
        return {r.key for r in calls}
    STATS["voice"] += len(calls)
    return set()


_zones: dict[int, tuple[float, object]] = {}
_zones_lock = threading.Lock()


def _zone(session, tenant: Tenant):
    """The tenant's time zone (its days are the usage days), read at most every five minutes."""
    hit = _zones.get(tenant.id)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    zone = invoices.zone_of(session)
    with _zones_lock:
        _zones[tenant.id] = (time.monotonic() + ZONE_TTL, zone)
    return zone


# Fair use is checked off the accounting thread, so that responses do not wait for it: one daemon thread
# per process takes (db, tenant, service ids) from a bounded queue. A full queue drops the check (logged):
# the service's next Interim-Update asks again, and nothing is lost because the rule reads the stored usage.
_fair_use: queue.Queue = queue.Queue(maxsize=10_000)
_fair_use_thread: threading.Thread | None = None
_fair_use_lock = threading.Lock()


def _check_fair_use(db, tenant: Tenant, service_ids: set[int]) -> None:
    global _fair_use_thread
    with _fair_use_lock:
        if _fair_use_thread is None or not _fair_use_thread.is_alive():
            _fair_use_thread = threading.Thread(target=_fair_use_loop, name="radius-fair-use", daemon=True)
            _fair_use_thread.start()
    try:
        _fair_use.put_nowait((db, tenant, service_ids))
    except queue.Full:
        STATS["fair_use_dropped"] += 1
        log.warning("fair-use queue full: check of %s services of %s skipped", len(service_ids), tenant.code)


def _fair_use_loop() -> None:
    while True:
        db, tenant, service_ids = _fair_use.get()
        try:
            check_fair_use(db, tenant, service_ids)
        finally:
            _fair_use.task_done()


def check_fair_use(db, tenant: Tenant, service_ids) -> dict | None:
    """The fair-use rule for these services, in a transaction of its own; failures are logged."""
    try:
        with tenant_context(tenant), db.session() as session:
            return fup.check(session, service_ids)
    except Exception:
        log.exception("fair-use check for tenant %s failed (services %s); the next accounting retries it",
                      tenant.code, sorted(service_ids))
        return None


def wait_for_fair_use() -> None:
    """Block until every queued fair-use check has run (tests; a clean shutdown)."""
    _fair_use.join()


def _close_restarted(db, restarts: list[tuple[int, object, datetime]], results: list[bool]) -> None:
    """Accounting-On/Off: close each router's open sessions in every tenant it may serve."""
    try:
        tenants = _all_tenants(db)
        with tenant_context(None), db.session() as session:
            for _, nas, at in restarts:
                closed = 0
                for tenant in tenants:
                    if may_serve(nas, tenant):
                        closed += _close_in(session, tenant, nas.id, at)
                log.info("NAS %s restarted (Accounting-On/Off): %s sessions closed", nas.name, closed)
    except Exception:
        STATS["failed"] += len(restarts)
        log.exception("Accounting-On/Off not stored: no response, the NAS retries")
        return
    for index, _, _ in restarts:
        results[index] = True
    STATS["nas_on_off"] += len(restarts)


def _close_in(session, tenant: Tenant, nas_id: int, at: datetime) -> int:
    """One tenant's part, in a savepoint: a schema that cannot be updated (being provisioned, not yet
    migrated) is logged and skipped rather than leaving the router without a response for ever."""
    try:
        with session.begin_nested():
            return session.execute(text(
                f"UPDATE {quote_schema(tenant.schema)}.radius_sessions SET status = 'Closed', "
                "stopped_at = :at, terminate_cause = 'NAS-Reboot' "
                "WHERE nas_id = :nas AND status = 'Open' AND started_at <= :at"),
                {"nas": nas_id, "at": at}).rowcount
    except ProgrammingError:
        log.exception("closing NAS %s sessions in %s failed; skipped", nas_id, tenant.code)
        return 0


def _all_tenants(db) -> list[Tenant]:
    from app.services import tenants as registry

    with tenant_context(None), db.session() as session:
        return [registry.ref(row) for row in registry.list_all(session)]


__all__ = ["STATS", "Malformed", "Record", "check_fair_use", "may_serve", "session_key", "store_batch",
           "wait_for_fair_use"]

