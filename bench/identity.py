"""Benchmark of the identity issue: login requests/s on one core with argon2id, and the median hash time.

It measures, in order:

1. argon2id with the project's hasher (`app.services.auth.passwords`, m=19 MiB, t=2, p=1): the median
   time of `hash_password` and of `verify_password` over N runs each (default 50), in this process
   pinned to the server's core; the parameters are read back from a hash and checked against the
   module's constants. The theoretical ceiling of one core is 1 / median verify time.
2. `POST /reseller/auth/login` over real HTTP: one tenant in a scratch database, a reseller user per
   run, gunicorn with ONE gthread worker (default 4 threads) pinned to one core, a load generator of
   C keep-alive clients (threads, default 8) pinned to the other core, for a fixed time after a warm-up
   (20 s + 3 s; 5 s + 1 s with --quick). Three runs, each against its own user:
   - "known device": every client sends back the `bh_device` cookie of its first login, as a browser
     does: the steady state (no e-mail; the session limit of 5 revokes the oldest session each time);
   - "new device": no cookie, so every login is a new device and queues a security e-mail (outbox row,
     job enqueued in Redis under a namespace of this run; no worker runs, nothing is sent);
   - "known device, 1 client": no queueing in the server, so the latency is the service time.
   A run's rate counts only if it had no error at all. The CPU time of the gunicorn worker and of the
   PostgreSQL backends of the scratch database is read from /proc over the window, so that the report
   can say what one login costs on the server's core and how much of it is argon2.

PostgreSQL and Redis are not pinned: they run wherever the kernel puts them (mostly the load
generator's core, which is nearly idle). Everything runs in a scratch database
`backhaul_bench_<random>_ident` dropped at the end, even on error or Ctrl-C; the server listens on
loopback only; the run is bounded by an overall time budget.

Run from the repository root:

    .venv/bin/python bench/identity.py            # full run, about 2 minutes
    .venv/bin/python bench/identity.py --quick    # smoke run, well under a minute
    .venv/bin/python bench/identity.py --json bench/results/identity.json
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import secrets
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from pathlib import Path

import argon2
from common import (
    BASE_DOMAIN,
    BenchError,
    Server,
    add_connection_args,
    child_env,
    cpu_seconds,
    free_port,
    gunicorn,
    log,
    migrated_database,
    ms,
    platform_host,
    print_table,
    server_version,
    settle,
    stats,
    within_budget,
    write_json,
)
from sqlalchemy import func, select, text

from app import models as m
from app.db import Database
from app.services import tenants as tenant_service
from app.services.auth import passwords, users
from app.web.auth import DEVICE_COOKIE
from tenants import Tenant, tenant_context

LOGIN_PATH = "/reseller/auth/login"
TENANT_CODE = "BENCH_IDENTITY"
PASSWORD = "Bench#Pass2026"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) backhaul-bench/identity"
# one user per run, so that no run inherits another's sessions, devices or login history
RUNS = (  # (key, label, username, send the device cookie, clients: None = --clients)
    ("known_device", "known device", "bench@example.com", True, None),
    ("new_device", "new device each time", "bench-new@example.com", False, None),
    ("single_client", "known device, 1 client", "bench-solo@example.com", True, 1),
)
FULL = {"hashes": 50, "duration": 20.0, "warmup": 3.0}
QUICK = {"hashes": 15, "duration": 5.0, "warmup": 1.0}


# -- CPUs ------------------------------------------------------------------------------------------
def pick_cpus() -> tuple[int, int | None]:
    """The server's core and the load generator's (None on a one-CPU box: then they share)."""
    allowed = sorted(os.sched_getaffinity(0))
    return allowed[0], (allowed[1] if len(allowed) > 1 else None)


@contextlib.contextmanager
def affinity(cpus: set[int]) -> Iterator[None]:
    """This thread on `cpus` for the block (threads started inside inherit it), then as before."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def core_times() -> dict[int, tuple[int, int, int]]:
    """(busy, steal, total) jiffies of every CPU from /proc/stat. Busy is what ran on the CPU (user, nice,
    system, irq, softirq); steal is the time the hypervisor gave this virtual CPU's turn to someone else."""
    result = {}
    for line in Path("/proc/stat").read_text().splitlines():
        name, *values = line.split()
        if name.startswith("cpu") and name != "cpu":
            user, nice, system, idle, iowait, irq, softirq, steal = (int(v) for v in values[:8])
            busy = user + nice + system + irq + softirq  # guest time is already in user
            result[int(name[3:])] = (busy, steal, busy + steal + idle + iowait)
    return result


def core_share(before: dict, after: dict, cpu: int | None) -> dict | None:
    """Fractions of the interval that `cpu` was busy, and stolen by the hypervisor."""
    if cpu is None or cpu not in before or cpu not in after:
        return None
    busy, steal, total = (a - b for a, b in zip(after[cpu], before[cpu], strict=True))
    return {"busy": busy / total, "steal": steal / total} if total else None


# -- figure 1: argon2id ----------------------------------------------------------------------------
def timed_cpu(fn: Callable[[], object]) -> tuple[float, float, object]:
    """Wall time and this thread's CPU time of one call: on a shared box the CPU time leaves out the
    moments another process had the core, so the two together tell the hash's cost from the noise."""
    wall, cpu = time.perf_counter(), time.thread_time()
    result = fn()
    return time.perf_counter() - wall, time.thread_time() - cpu, result


def bench_hashing(runs: int, cpu: int) -> dict:
    """Median hash and verify time of the project's hasher, on the server's core."""
    log(f"argon2id: {runs} hashes and {runs} verifications on CPU {cpu}")
    cores_before = core_times()
    with affinity({cpu}):
        for _ in range(3):  # warm-up: first allocation of the 19 MiB, cffi set-up
            stored = passwords.hash_password(PASSWORD)
        hash_times, hash_cpu = [], []
        for _ in range(runs):
            seconds, used, stored = timed_cpu(lambda: passwords.hash_password(PASSWORD))
            hash_times.append(seconds)
            hash_cpu.append(used)
        verify_times, verify_cpu = [], []
        for _ in range(runs):
            seconds, used, ok = timed_cpu(lambda: passwords.verify_password(stored, PASSWORD))
            if not ok:
                raise BenchError("verify_password refused the password it had just hashed")
            verify_times.append(seconds)
            verify_cpu.append(used)
    core = core_share(cores_before, core_times(), cpu)
    found = argon2.extract_parameters(stored)
    parameters = {"type": found.type.name.lower(), "version": found.version, "memory_kib": found.memory_cost,
                  "time_cost": found.time_cost, "parallelism": found.parallelism, "hash_len": found.hash_len,
                  "salt_len": found.salt_len}
    expected = {"type": "id", "memory_kib": passwords.MEMORY_KIB, "time_cost": passwords.TIME_COST,
                "parallelism": passwords.PARALLELISM}
    mismatched = {k: (parameters[k], v) for k, v in expected.items() if parameters[k] != v}
    return {"runs": runs, "cpu": cpu, "hash_s": stats(hash_times), "verify_s": stats(verify_times),
            "hash_cpu_s": stats(hash_cpu), "verify_cpu_s": stats(verify_cpu), "core": core,
            "parameters": parameters, "parameters_match_module": not mismatched, "mismatched": mismatched,
            "needs_rehash": passwords.needs_rehash(stored), "example_hash_prefix": stored.rsplit("$", 2)[0]}


# -- set-up ----------------------------------------------------------------------------------------
def set_up(db: Database) -> Tenant:
    """One tenant, one reseller user per run (role Admin, the default session limit)."""
    with db.session() as session:
        tenant = tenant_service.provision(session, code=TENANT_CODE, name="Bench identity",
                                          base_domain=BASE_DOMAIN)
    for _, _, username, _, _ in RUNS:
        with db.session() as session, tenant_context(tenant):
            users.create_user(session, username=username, email=username, role="Admin", password=PASSWORD,
                              max_sessions=None)
    log(f"provisioned tenant {TENANT_CODE} ({platform_host(TENANT_CODE)}) and {len(RUNS)} reseller users")
    return tenant


def server_env(url: str, redis_url: str, work_dir: Path, namespace: str) -> dict:
    env = child_env(url, redis_url, work_dir)
    env.update(BACKHAUL_SMTP_URL=f"smtp://127.0.0.1:{free_port()}",  # nothing listens: nothing is sent
               BACKHAUL_QUEUE_NAMESPACE=namespace)  # e-mail jobs of this run only, deleted at the end
    return env


# -- the load generator ----------------------------------------------------------------------------
@dataclass
class Sample:
    start: float
    end: float
    ok: bool
    detail: str = ""


@dataclass
class LoginClient:
    """One browser: a keep-alive connection, the device cookie it was given, its samples."""

    port: int
    host: str
    username: str
    keep_device: bool
    device: str | None = None
    samples: list[Sample] = field(default_factory=list)
    reconnects: int = 0
    device_changes: int = 0
    conn: http.client.HTTPConnection | None = None
    served: int = 0  # requests answered on the current connection

    def body(self) -> bytes:
        return json.dumps({"username": self.username, "password": PASSWORD}).encode()

    def login_once(self) -> tuple[bool, str]:
        """One sign-in; (success, what went wrong). Connection errors propagate."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.served = 0
        headers = {"Host": self.host, "Content-Type": "application/json", "Accept": "application/json",
                   "User-Agent": USER_AGENT}
        if self.keep_device and self.device:
            headers["Cookie"] = f"{DEVICE_COOKIE}={self.device}"
        self.conn.request("POST", LOGIN_PATH, body=self.body(), headers=headers)
        response = self.conn.getresponse()
        payload = response.read()
        self.served += 1
        if response.will_close:
            self.close()
            self.reconnects += 1
        if response.status != 200:
            return False, f"HTTP {response.status}: {payload[:200]!r}"
        if not json.loads(payload).get("token", "").startswith("bhs."):
            return False, f"no session token in {payload[:200]!r}"
        device = None
        for header in response.headers.get_all("Set-Cookie") or ():
            cookie = SimpleCookie()
            with contextlib.suppress(CookieError):
                cookie.load(header)
            if DEVICE_COOKIE in cookie:
                device = cookie[DEVICE_COOKIE].value
        if device is None:
            return False, "no device cookie set"
        if self.keep_device and self.device and device != self.device:
            self.device_changes += 1
        self.device = device
        return True, ""

    def attempt(self) -> Sample:
        started = time.perf_counter()
        try:
            ok, detail = self.login_once()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
            stale = self.served > 0
            self.close()
            if not stale:
                return Sample(started, time.perf_counter(), False, f"{type(exc).__name__}: {exc}")
            self.reconnects += 1  # the server dropped an idle keep-alive connection: retry once, timed
            try:
                ok, detail = self.login_once()
            except (OSError, http.client.HTTPException) as again:
                self.close()
                ok, detail = False, f"{type(again).__name__}: {again}"
        except (OSError, http.client.HTTPException, ValueError) as exc:
            self.close()
            ok, detail = False, f"{type(exc).__name__}: {exc}"
        return Sample(started, time.perf_counter(), ok, detail)

    def run_until(self, stop: float) -> None:
        while time.perf_counter() < stop:
            self.samples.append(self.attempt())

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def drive(clients: list[LoginClient], warmup: float, duration: float, on_window: dict) -> tuple[float, float]:
    """Every client logs in back to back until warm-up + duration has passed; returns the window.

    `on_window` holds callables run at the start and end of the measured window (CPU readings).
    """
    begin = time.perf_counter()
    t0, t1 = begin + warmup, begin + warmup + duration
    threads = [threading.Thread(target=c.run_until, args=(t1,), name=f"client-{n}", daemon=True)
               for n, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, t0 - time.perf_counter()))
    on_window["start"]()
    time.sleep(max(0.0, t1 - time.perf_counter()))
    on_window["end"]()
    for thread in threads:
        thread.join(timeout=60)
        if thread.is_alive():
            raise BenchError(f"{thread.name} still waiting for an answer 60 s after the end of the run")
    return t0, t1


# -- server-side readings --------------------------------------------------------------------------
def backend_pids(db: Database) -> list[int]:
    """PostgreSQL backends connected to the scratch database, this process's excepted."""
    with db.engine.connect() as conn:
        return list(conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                      "AND pid <> pg_backend_pid()")).scalars())


def cpu_of(pids: list[int]) -> dict[int, float]:
    result = {}
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            result[pid] = cpu_seconds(pid)
    return result


class CpuMeter:
    """CPU seconds of the gunicorn worker and of the database's backends, and how busy each core was."""

    def __init__(self, server: Server, db: Database):
        self.server, self.db = server, db
        self.before: dict = {}
        self.after: dict = {}

    def reading(self) -> dict:
        return {"worker": cpu_of(self.server.worker_pids()), "postgres": cpu_of(backend_pids(self.db)),
                "cores": core_times(), "at": time.perf_counter()}

    def start(self) -> None:
        self.before = self.reading()

    def end(self) -> None:
        self.after = self.reading()

    def result(self, server_cpu: int, client_cpu: int | None) -> dict:
        def delta(kind: str) -> float:  # a process that appeared mid-window counts from its start
            return sum(v - self.before[kind].get(pid, 0.0) for pid, v in self.after[kind].items())

        return {"worker_cpu_s": delta("worker"), "postgres_cpu_s": delta("postgres"),
                "server_core": core_share(self.before["cores"], self.after["cores"], server_cpu),
                "client_core": core_share(self.before["cores"], self.after["cores"], client_cpu),
                "window_s": self.after["at"] - self.before["at"]}


def account_facts(db: Database, tenant: Tenant, username: str) -> dict:
    """What the server recorded for a user: login events by reason, live sessions, e-mails queued."""
    with db.session() as session, tenant_context(tenant):
        user_id = session.execute(select(m.User.id).where(m.User.username == username)).scalar_one()
        events = dict(session.execute(
            select(m.LoginEvent.reason, func.count()).where(m.LoginEvent.principal_id == user_id,
                                                            m.LoginEvent.principal_kind == "user")
            .group_by(m.LoginEvent.reason)).all())
        live = session.execute(select(func.count()).select_from(m.AuthSession).where(
            m.AuthSession.principal_id == user_id, m.AuthSession.revoked_at.is_(None))).scalar_one()
        total = session.execute(select(func.count()).select_from(m.AuthSession).where(
            m.AuthSession.principal_id == user_id)).scalar_one()
        devices = session.execute(select(func.count()).select_from(m.KnownDevice).where(
            m.KnownDevice.principal_id == user_id)).scalar_one()
        queued = session.execute(select(func.count()).select_from(m.Outbox).where(
            m.Outbox.to_address == username)).scalar_one()
    return {"login_events": events, "live_sessions": live, "sessions_rows": total, "known_devices": devices,
            "emails_queued": queued}


# -- figure 2: logins over HTTP --------------------------------------------------------------------
def bench_login(server: Server, db: Database, tenant: Tenant, spec: tuple, opts: argparse.Namespace,
                cpus: tuple[int, int | None]) -> dict:
    key, label, username, keep_device, count = spec
    count = count or opts.clients
    host = platform_host(tenant.code)
    clients = [LoginClient(server.port, host, username, keep_device) for _ in range(count)]
    meter = CpuMeter(server, db)
    log(f"login, {label}: {count} clients, {opts.warmup:g} s warm-up + {opts.duration:g} s")
    try:
        with affinity({cpus[1]} if cpus[1] is not None else set(os.sched_getaffinity(0))):
            t0, t1 = drive(clients, opts.warmup, opts.duration, {"start": meter.start, "end": meter.end})
    finally:
        for client in clients:
            client.close()
    samples = [s for c in clients for s in c.samples]
    window = [s for s in samples if t0 <= s.end <= t1]
    good = [s for s in window if s.ok]
    errors = [s for s in samples if not s.ok]
    seconds = t1 - t0
    quarter = seconds / 4
    first_q = sum(1 for s in good if s.end < t0 + quarter) / quarter
    last_q = sum(1 for s in good if s.end >= t1 - quarter) / quarter
    result = {
        "label": label, "username": username, "device_cookie": keep_device, "clients": count,
        "window_s": seconds, "logins": len(good), "logins_per_s": len(good) / seconds,
        "rate_first_quarter": first_q, "rate_last_quarter": last_q,
        "errors_in_window": sum(1 for s in window if not s.ok), "errors_total": len(errors),
        "error_examples": sorted({s.detail for s in errors})[:5], "requests_total": len(samples),
        "latency_s": stats([s.end - s.start for s in good]) if good else None,
        "reconnects": sum(c.reconnects for c in clients),
        "device_changes": sum(c.device_changes for c in clients),
        "cpu": meter.result(*cpus),
        "server": account_facts(db, tenant, username),
    }
    result["counts"] = result["errors_total"] == 0 and len(good) > 0
    if good:
        result["worker_cpu_ms_per_login"] = 1000 * result["cpu"]["worker_cpu_s"] / len(good)
        result["postgres_cpu_ms_per_login"] = 1000 * result["cpu"]["postgres_cpu_s"] / len(good)
    lat = result["latency_s"]
    log(f"  {result['logins_per_s']:.1f} logins/s, errors {result['errors_total']}, median "
        f"{ms(lat['median']) if lat else '-'}, p99 {ms(lat['p99']) if lat else '-'}")
    return result


def check_login(server: Server, tenant: Tenant) -> None:
    """One sign-in before anything is timed, so a broken set-up fails loudly instead of timing 401s."""
    client = LoginClient(server.port, platform_host(tenant.code), RUNS[0][2], True)
    try:
        sample = client.attempt()
    finally:
        client.close()
    if not sample.ok:
        raise BenchError(f"POST {LOGIN_PATH} on {client.host} failed: {sample.detail}\n{server.log_tail()}")


def clean_redis(redis_url: str, namespace: str, tenant: Tenant) -> int:
    """Delete what this run left in Redis: its e-mail jobs and its tenant's failed-login counters."""
    import redis

    client = redis.Redis.from_url(redis_url)
    removed = 0
    try:
        for pattern in (f"{namespace}:*", f"backhaul:{tenant.schema}:login-failures:*"):
            keys = list(client.scan_iter(match=pattern, count=500))
            if keys:
                removed += client.delete(*keys)
    finally:
        client.close()
    return removed


# -- report ----------------------------------------------------------------------------------------
def _share(core: dict | None) -> str:
    return f"busy {core['busy']:.0%}, stolen {core['steal']:.0%}" if core else "?"


def summary_rows(results: dict) -> list[tuple[str, str, str, str]]:
    hashing, logins = results["hashing"], results["logins"]
    p = hashing["parameters"]
    ceiling = results["ceiling_logins_per_s"]
    rows = [
        ("argon2id parameters, read back from a hash",
         f"m={p['memory_kib']} KiB ({p['memory_kib'] / 1024:g} MiB), t={p['time_cost']}, p={p['parallelism']}",
         f"argon2{p['type']} v{p['version']}, {p['hash_len']} B hash, {p['salt_len']} B salt",
         "matches module" if hashing["parameters_match_module"] else f"MISMATCH {hashing['mismatched']}"),
        (f"hash_password median (n={hashing['runs']}, CPU {hashing['cpu']})", ms(hashing["hash_s"]["median"]),
         f"p90 {ms(hashing['hash_s']['p90'])}, min {ms(hashing['hash_s']['min'])}; "
         f"CPU time {ms(hashing['hash_cpu_s']['median'])}", ""),
        (f"verify_password median (n={hashing['runs']}, CPU {hashing['cpu']})",
         ms(hashing["verify_s"]["median"]),
         f"p90 {ms(hashing['verify_s']['p90'])}, min {ms(hashing['verify_s']['min'])}; "
         f"CPU time {ms(hashing['verify_cpu_s']['median'])}", ""),
        ("ceiling of one core: 1 / median verify", f"{ceiling:.1f} logins/s",
         f"argon2 alone; core {_share(hashing['core'])} meanwhile", ""),
    ]
    for key, _, _, _, _ in RUNS:
        run = logins.get(key)
        if run is None:
            continue
        lat = run["latency_s"]
        verdict = "counts" if run["counts"] else f"DOES NOT COUNT ({run['errors_total']} errors)"
        rows += [
            (f"login/s, {run['label']} ({run['clients']} clients, {run['window_s']:.0f} s)",
             f"{run['logins_per_s']:.1f} /s", f"{run['logins_per_s'] / ceiling:.0%} of ceiling; "
             f"errors {run['errors_total']}", verdict),
            ("   latency median / p99", f"{ms(lat['median'])} / {ms(lat['p99'])}" if lat else "-",
             f"{run['logins']} logins in the window", ""),
        ]
        if "worker_cpu_ms_per_login" in run:
            cpu = run["cpu"]
            rows.append(("   CPU per login: gunicorn worker / PostgreSQL",
                         f"{run['worker_cpu_ms_per_login']:.1f} / {run['postgres_cpu_ms_per_login']:.1f} ms",
                         f"worker {cpu['worker_cpu_s'] / cpu['window_s']:.0%} of its core; core "
                         f"{_share(cpu['server_core'])}", ""))
    return rows


def print_summary(results: dict) -> None:
    env = results["environment"]
    print(f"\nBackhaul identity benchmark ({env['mode']} run; PostgreSQL {env['postgres']}, Python "
          f"{env['python']}, {env['cpus']} CPUs; server on CPU {env['server_cpu']}, load generator on CPU "
          f"{env['client_cpu']}; gunicorn 1 worker x {env['threads']} gthreads)")
    print_table([("figure", "result", "detail", "verdict"), *summary_rows(results)])
    notes = []
    for key, run in results["logins"].items():
        facts = run["server"]
        notes.append(f"{key}: events {facts['login_events']}, live sessions {facts['live_sessions']}, e-mails "
                     f"queued {facts['emails_queued']}, reconnects {run['reconnects']}, rate first/last quarter "
                     f"{run['rate_first_quarter']:.1f}/{run['rate_last_quarter']:.1f} /s"
                     + (f", errors e.g. {run['error_examples']}" if run["error_examples"] else ""))
    print("(" + "; ".join(notes) + ".)")
    print(f"(Load average {env['loadavg_start']} at start, {env['loadavg_end']} at end; PostgreSQL and Redis "
          f"not pinned. Total run {results['total_s']:.0f} s.)")
    if float(env["loadavg_start"].split()[0]) > 0.5 * (env["cpus"] or 1):
        print("(Other processes were running on this machine: the figures are lower than on a quiet one. 'Stolen' "
              "is the share of the core the hypervisor gave to other guests.)")


# -- main ------------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_connection_args(parser)
    parser.add_argument("--quick", action="store_true", help="small smoke run (" +
                        ", ".join(f"{k}={v:g}" for k, v in QUICK.items()) + ")")
    parser.add_argument("--hashes", type=int, help=f"timed hashes and verifications each (default {FULL['hashes']})")
    parser.add_argument("--duration", type=float,
                        help=f"seconds measured per login run (default {FULL['duration']:g})")
    parser.add_argument("--warmup", type=float, help=f"seconds of warm-up per login run (default {FULL['warmup']:g})")
    parser.add_argument("--clients", type=int, default=8, help="concurrent keep-alive clients (default 8)")
    parser.add_argument("--threads", type=int, default=4, help="gthread threads of the one worker (default 4)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results as JSON")
    opts = parser.parse_args(argv)
    for key, full in FULL.items():
        if getattr(opts, key) is None:
            setattr(opts, key, QUICK[key] if opts.quick else full)
    if opts.hashes < 1 or opts.clients < 1 or opts.threads < 1:
        parser.error("--hashes, --clients and --threads must be at least 1")
    if not (0 < opts.duration <= 600 and 0 <= opts.warmup <= 120):
        parser.error("--duration must be in (0, 600] and --warmup in [0, 120]")
    return opts


def budget(opts: argparse.Namespace) -> int:
    """Seconds the whole run may take before it is stopped (the scratch database is still dropped)."""
    return int(180 + opts.hashes * 0.5 + len(RUNS) * (opts.warmup + opts.duration + 90))


def run(opts: argparse.Namespace) -> dict:
    started = time.perf_counter()
    server_cpu, client_cpu = pick_cpus()
    results: dict = {"environment": {
        "mode": "quick" if opts.quick else "full", "postgres": server_version(opts.database_url),
        "python": platform.python_version(), "cpus": os.cpu_count(), "server_cpu": server_cpu,
        "client_cpu": client_cpu, "threads": opts.threads,
        "loadavg_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(opts).items()
                    if k not in ("database_url", "json")}}}
    if client_cpu is None:
        log("only one CPU available: the load generator shares the server's core")
    results["hashing"] = bench_hashing(opts.hashes, server_cpu)
    results["ceiling_logins_per_s"] = 1 / results["hashing"]["verify_s"]["median"]
    namespace = f"backhaul-bench-{secrets.token_hex(4)}"
    with tempfile.TemporaryDirectory(prefix="backhaul-bench-") as tmp, \
            migrated_database(opts.database_url, "ident") as (url, db):
        work_dir = Path(tmp)
        tenant = set_up(db)
        try:
            settle(url)
            env = server_env(url, opts.redis_url, work_dir, namespace)
            with gunicorn(env, work_dir, "identity", threads=opts.threads, cpus={server_cpu}) as server:
                workers = server.worker_pids()
                results["environment"]["worker_affinity"] = {pid: sorted(os.sched_getaffinity(pid))
                                                             for pid in workers}
                log(f"gunicorn on port {server.port}, worker(s) {workers} on CPUs "
                    f"{sorted({c for p in workers for c in os.sched_getaffinity(p)})}")
                check_login(server, tenant)
                results["logins"] = {spec[0]: bench_login(server, db, tenant, spec, opts, (server_cpu, client_cpu))
                                     for spec in RUNS}
        finally:
            with contextlib.suppress(Exception):
                log(f"removed {clean_redis(opts.redis_url, namespace, tenant)} Redis keys of this run")
    results["environment"]["loadavg_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    results["total_s"] = time.perf_counter() - started
    return results


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    results = within_budget(budget(opts), lambda: run(opts))
    print_summary(results)
    if opts.json:
        write_json(opts.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
