"""Benchmark of the RADIUS service against FreeRADIUS 3.2, side by side in one run (issue 8, "Figures").

Goals: Access-Request/s at p99 ≤ 10 ms, Backhaul ÷ FreeRADIUS ≥ 1.0; Accounting-Request/s (Interim-Updates
of many live sessions) with zero drops, Backhaul ÷ FreeRADIUS ≥ 1.0.

1. Seeds Backhaul in a scratch database (`backhaul_bench_<random>_rad`): T tenants, N customers in all, each
   with an Active internet service and network credentials, every fifth with a static address from the
   tenant's pool (bench/radius_seed.py), and 127.0.0.1 as a platform NAS with the bench's shared secret.
2. Runs `backhaul radius` (`--processes`, default 2) on free loopback ports and checks its answers (Accept
   with the plan's rate limit, the static address where there is one; Reject for a wrong password).
3. Seeds FreeRADIUS's standard PostgreSQL schema in a second scratch database (`…_frad`) on the same server
   with the same users and the same reply attributes Backhaul gave, and runs FreeRADIUS (Debian's 3.2,
   installed when missing) from a private copy of its configuration (bench/radius_freeradius.py, which
   says how it is tuned), and checks its answers the same way.
4. Both servers stay up together (idle, each costs nothing) and are measured in turns, with the same
   generator (bench/radius_load.py: open loop, paced, 2 processes × 8 source ports, latency from send to
   the kernel's receive timestamp): a step of Backhaul, then the same step of FreeRADIUS, then the next,
   so that whatever else the machine is doing weighs on both alike; each step loads one server only:
   - warm-up: every user asks once, at a gentle rate (`--warm-rate`): a server in service has its
     subscribers' data warm, and a subscriber always asks from the same source port, kept from step to
     step (one NAS), so that with several processes on SO_REUSEPORT it always reaches the same process;
   - Access-Request ladder: the offered rate grows (×growth) from `start` until a step fails (p99 > 10 ms,
     or any request lost or rejected) and fails again when repeated (one stall on a shared machine is not a
     limit), then is bisected `refine` times between the last pass and the fail;
   - accounting: a Start for each of S sessions, then the same ladder of Interim-Updates (each session's
     counters growing), where a step fails on any request unanswered within 2 s (nothing is retransmitted),
     any datagram the kernel dropped on the server's sockets, or answers coming later and later through the
     step (the median of its last fifth more than 50 ms above that of its first: a queue growing, i.e. a
     rate not sustained, which a longer step would turn into drops);
   - the rows each server stored are counted (every session present, interim counters applied).
   Each ladder goes on alone once the other's is over.
5. Prints the two figures and their ratios, every step, the load average and CPU use; writes JSON.

The machine is not pinned: the servers, PostgreSQL and the generator share its CPUs as they would on a
small RADIUS box; each step records how busy the CPUs were and how much CPU the generator itself took,
and a step where the generator fell behind its schedule is marked (its limit, not the server's).

Everything runs in scratch databases dropped at the end and temporary folders removed, even on error or
Ctrl-C; both servers are stopped by their process ids; they listen on loopback only.

Run from the repository root (as root, or with FreeRADIUS 3.2 already installed):

    .venv/bin/python bench/radius.py            # full: 20,000 users across 4 tenants, 10 s steps
    .venv/bin/python bench/radius.py --quick    # 2,000 users across 2 tenants, 2 s steps (< 3 minutes)
    .venv/bin/python bench/radius.py --servers freeradius --users 5000
    .venv/bin/python bench/radius.py --quick --profile /tmp/radius-profile   # where Backhaul's time goes
"""

from __future__ import annotations

import os.path
import sys

# This script is bench/radius.py, and Python puts bench/ first on sys.path: `import radius` would find this
# file, not the server's package. The repository root goes first, bench/ last (`import common` still works).
sys.path.append(sys.path.pop(0))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import argparse
import contextlib
import os
import platform
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import radius_freeradius as freeradius
import radius_load as load
import radius_profile
import radius_seed
from common import (
    ROOT,
    BenchError,
    add_connection_args,
    backhaul_cli,
    child_env,
    log,
    migrated_database,
    print_table,
    scratch_database,
    server_version,
    settle,
    within_budget,
    write_json,
)
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from app.db import sqlalchemy_url
from app.services.auth import crypto

SECRET = "bench-radius-shared-secret"
SECRET_KEY = child_env("", "", Path("."))["SECRET_KEY"]  # the servers' SECRET_KEY: passwords are encrypted with it
P99_GOAL_MS = 10.0
AUTH_TIMEOUT_S, ACCT_TIMEOUT_S = 1.0, 2.0  # accounting: RFC 5080's initial retransmission time
GROWTH_LIMIT_MS = 50.0  # accounting: answers at the end of a step no later than this after those at its start
FULL = {"users": 20_000, "tenants": 4, "sessions": 10_000, "step_s": 10.0, "refine": 2, "start": 250, "growth": 1.5,
        "pause": 1.5, "warm_rate": 250}
QUICK = {"users": 2_000, "tenants": 2, "sessions": 1_000, "step_s": 2.0, "refine": 1, "start": 500, "growth": 2.0,
         "pause": 1.0, "warm_rate": 500}
RESULTS = Path(__file__).resolve().parent / "results"
SERVERS = ("backhaul", "freeradius")


# -- the machine -------------------------------------------------------------------------------------------

def cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs (Linux /proc/stat)."""
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def tree_pids(pid: int) -> list[int]:
    """A process and its descendants (Linux /proc children lists)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            todo.extend(int(p) for p in Path(f"/proc/{current}/task/{current}/children").read_text().split())
    return found


def tree_cpu(pid: int) -> float:
    total = 0.0
    for each in tree_pids(pid):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def free_udp_ports(count: int) -> list[int]:
    """Ports free for UDP on loopback now (bound and released together, so they differ)."""
    socks = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind(("127.0.0.1", 0))
            socks.append(sock)
        return [s.getsockname()[1] for s in socks]
    finally:
        for sock in socks:
            sock.close()


# -- Backhaul's server -------------------------------------------------------------------------------------

def register_nas(db) -> None:
    """127.0.0.1 as a platform NAS (serves every tenant) with the bench's secret, Message-Authenticator required."""
    try:
        from app.services import nas as nas_service
    except ImportError:
        nas_service = None
    with db.session() as s:
        if nas_service is not None and hasattr(nas_service, "create"):
            nas_service.create(s, name="bench", network="127.0.0.1/32", secret=SECRET, vendor="mikrotik",
                               tenant_id=None)
        else:
            from app.models.nas import NasClient

            s.add(NasClient(name="bench", network="127.0.0.1/32", secret_encrypted=crypto.encrypt(SECRET),
                            vendor="mikrotik", tenant_id=None, require_message_authenticator=True))


RUNNER = ("import os; from radius.runner import Options, serve; "
          "serve(os.environ['DATABASE_URL'], Options(host='127.0.0.1', auth_port={auth}, acct_port={acct}, "
          "processes={processes}))")


def backhaul_argv(auth_port: int, acct_port: int, processes: int) -> list[str] | None:
    """`backhaul radius …`, or (before that command exists) the same runner it starts; None if neither does."""
    done = subprocess.run([*backhaul_cli(), "radius", "--help"], capture_output=True, text=True, timeout=60,
                          cwd=ROOT)
    if done.returncode == 0 and "--acct-port" in done.stdout:
        return [*backhaul_cli(), "radius", "--auth-port", str(auth_port), "--acct-port", str(acct_port),
                "--processes", str(processes), "--host", "127.0.0.1"]
    try:
        from radius.runner import Options, serve  # noqa: F401
    except ImportError:
        return None
    return [sys.executable, "-c", RUNNER.format(auth=auth_port, acct=acct_port, processes=processes)]


def backhaul_available() -> str | None:
    """None when Backhaul's RADIUS server can be started here, else why not."""
    if backhaul_argv(1812, 1813, 1) is None:
        return "neither `backhaul radius` nor radius.runner.serve exists in this tree"
    return None


class Running:
    """A server under test: its name, ports, root pid and log."""

    def __init__(self, name: str, pid: int, auth_port: int, acct_port: int, log_path: Path, info: dict,
                 db_url: str):
        self.name, self.pid, self.auth_port, self.acct_port = name, pid, auth_port, acct_port
        self.log_path, self.info, self.db_url = log_path, info, db_url

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def wait_answering(server: Running, user: dict, proc: subprocess.Popen | None, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise BenchError(f"{server.name} exited with {proc.returncode}:\n{server.log_tail()}")
        if load.probe_auth("127.0.0.1", server.auth_port, SECRET.encode(), user["username"], user["password"],
                           timeout=0.5):
            return
    raise BenchError(f"{server.name} did not answer within {timeout:.0f} s:\n{server.log_tail()}")


@contextlib.contextmanager
def backhaul_server(env: dict, log_dir: Path, processes: int, probe_user: dict, ready_timeout: float = 60.0,
                    profile_dir: Path | None = None):
    auth_port, acct_port = free_udp_ports(2)
    log_path = log_dir / "backhaul-radius.log"
    if profile_dir is not None:
        argv, processes = radius_profile.argv(profile_dir, auth_port, acct_port), 1
    else:
        argv = backhaul_argv(auth_port, acct_port, processes)
    with log_path.open("w") as log_file:
        proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT,
                                start_new_session=True)
    server = Running("backhaul", proc.pid, auth_port, acct_port, log_path,
                     {"argv": " ".join(argv[1:]), "processes": processes}, env["DATABASE_URL"])
    try:
        wait_answering(server, probe_user, proc, ready_timeout)
        log(f"backhaul radius listening on 127.0.0.1:{auth_port}/{acct_port}, {processes} processes, pid {proc.pid}")
        yield server
    finally:
        stop_group(proc)


def stop_group(proc: subprocess.Popen) -> None:
    """TERM to the server's own process group (it was started in a new session: its pid is the group id),
    then KILL what is left after 15 s."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # children that outlived their parent


# -- the checks and the ladders ----------------------------------------------------------------------------

def check_answers(server: Running, users: list[dict]) -> dict:
    """What the server answers a user without and with a static address, and a wrong password."""
    plain = next(u for u in users if not u["framed_ip"])
    static = next(u for u in users if u["framed_ip"])
    out = {}
    for label, user, password in (("plain", plain, plain["password"]), ("static_ip", static, static["password"]),
                                  ("wrong_password", plain, plain["password"] + "x")):
        answer = load.probe_auth("127.0.0.1", server.auth_port, SECRET.encode(), user["username"], password)
        if answer is None:
            raise BenchError(f"{server.name} did not answer the {label} check:\n{server.log_tail()}")
        code, attrs = answer
        out[label] = {"username": user["username"], "code": {2: "Access-Accept", 3: "Access-Reject"}.get(code, code),
                      **attrs}
    problems = []
    if out["plain"]["code"] != "Access-Accept" or out["static_ip"]["code"] != "Access-Accept":
        problems.append("a valid user was not accepted")
    if out["static_ip"].get("Framed-IP-Address") != static["framed_ip"]:
        problems.append(f"static address {out['static_ip'].get('Framed-IP-Address')} ≠ {static['framed_ip']}")
    if "Mikrotik-Rate-Limit" not in out["plain"]:
        problems.append("no Mikrotik-Rate-Limit in the Accept")
    if out["wrong_password"]["code"] != "Access-Reject":
        problems.append("a wrong password was not rejected")
    if problems:
        raise BenchError(f"{server.name} answers wrongly: {'; '.join(problems)}: {out}")
    return out


def process_cpu(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def backends_cpu(db_url: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend connected to the server's database (what its queries
    cost, which the server's own CPU time does not show); empty when /proc does not show them."""
    engine = create_engine(sqlalchemy_url(db_url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            pids = conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                     "AND pid <> pg_backend_pid()")).scalars().all()
    finally:
        engine.dispose()
    found = {pid: process_cpu(pid) for pid in pids}
    return {pid: cpu for pid, cpu in found.items() if cpu is not None}


def idle_cpu(server: Running, seconds: float = 3.0) -> dict:
    """What the server and its database backends burn with no request at all (a baseline for the steps)."""
    db0, cpu0 = backends_cpu(server.db_url), tree_cpu(server.pid)
    time.sleep(seconds)
    db1, cpu1 = backends_cpu(server.db_url), tree_cpu(server.pid)
    db = sum(cpu - db0.get(pid, 0.0) for pid, cpu in db1.items()) if db1 or db0 else None
    return {"seconds": seconds, "server_cores": (cpu1 - cpu0) / seconds,
            "db_cores": None if db is None else round(db / seconds, 3)}


def socket_drops(port: int) -> int:
    """Datagrams the kernel dropped on the sockets bound to `port` (every SO_REUSEPORT socket of the server;
    /proc/net/udp's last column): the server's own drops, whatever else the host is doing."""
    needle = f":{port:04X}"
    total = 0
    with open("/proc/net/udp") as table:
        next(table)
        for line in table:
            fields = line.split()
            if len(fields) > 12 and fields[1].endswith(needle):
                total += int(fields[-1])
    return total


def measure(server: Running, step: load.Step) -> dict:
    port = server.auth_port if step.kind == "auth" else server.acct_port
    drops0 = socket_drops(port)
    db0 = backends_cpu(server.db_url)
    busy0, total0 = cpu_ticks()
    cpu0 = tree_cpu(server.pid)
    result = load.run(step)
    busy1, total1 = cpu_ticks()
    result["server_cpu_s"] = tree_cpu(server.pid) - cpu0
    result["server_socket_drops"] = socket_drops(port) - drops0
    db1 = backends_cpu(server.db_url)
    result["db_cpu_s"] = sum(cpu - db0.get(pid, 0.0) for pid, cpu in db1.items()) if db1 or db0 else None
    result["cpus_busy_pct"] = 100.0 * (busy1 - busy0) / max(1, total1 - total0)
    result["loadavg_1m"] = os.getloadavg()[0]
    return result


def verdict(result: dict) -> str:
    """'pass', or why not. A generator that fell well behind its schedule is said so (its limit)."""
    if result["exhausted"] or result["lost"]:
        return f"lost {result['lost'] + result['exhausted']}"
    if result["unexpected"]:
        return f"{result['unexpected']} bad answers"
    if result["kind"] == "auth":
        if result["rejected"]:
            return f"{result['rejected']} rejected"
        if result["latency_ms"]["p99"] > P99_GOAL_MS:
            return f"p99 {result['latency_ms']['p99']:.1f} ms"
    elif result["server_socket_drops"]:
        return f"{result['server_socket_drops']} UDP drops"
    elif result["latency_growth_ms"] > GROWTH_LIMIT_MS:
        return f"queue growing (+{result['latency_growth_ms']:.0f} ms)"
    if result["send_span_s"] > result["duration_s"] * 1.1 + 0.1:
        return f"generator behind ({result['send_span_s']:.1f} s to send {result['duration_s']:g} s of requests)"
    return "pass"


class Ladder:
    """One server's search for its highest passing rate, a step at a time, so that the servers' ladders can
    take turns: each step of one runs next to the same step of the other, under the same background load.

    The rate grows (×growth) from `start` while steps pass; a failed step is repeated once (one stall on a
    shared machine is not a limit), and a second failure ends the growth; then the rate is bisected
    `refine` times between the last pass and that fail. If even the first rate fails, a quarter and a
    sixteenth of it are tried."""

    def __init__(self, opts: argparse.Namespace):
        self.opts = opts
        self.rate = float(opts.start)
        self.best: float = 0.0
        self.failed: float | None = None
        self.phase = "grow"
        self.retrying = False
        self.lower: list[float] = []
        self.refines = opts.refine
        self.steps: list[dict] = []

    def next_rate(self) -> float | None:
        """The rate of the next step, or None when the search is over."""
        if self.phase == "grow":
            return self.rate if self.rate <= self.opts.max_rate else None
        if self.phase == "down":
            return self.lower[0] if self.lower else None
        if self.refines <= 0 or not self.best or self.failed is None:
            return None
        middle = round((self.best + self.failed) / 2 / 10) * 10
        return None if middle in (self.best, self.failed) else middle

    def record(self, rate: float, passed: bool) -> None:
        if self.phase == "grow":
            if passed:
                self.best, self.retrying = rate, False
                self.rate = round(rate * self.opts.growth)
            elif not self.retrying:
                self.retrying = True
            else:
                self.failed = rate
                self.phase = "refine" if self.best else "down"
                self.lower = [round(rate / 4), round(rate / 16)]
        elif self.phase == "down":
            self.lower.pop(0)
            if passed:
                self.best, self.phase = rate, "refine"
            else:
                self.failed = rate
        else:
            self.refines -= 1
            if passed:
                self.best = rate
            else:
                self.failed = rate

    def result(self) -> dict:
        return {"best_per_s": self.best, "first_fail_per_s": self.failed, "capped": self.failed is None,
                "steps": self.steps}


def ladders(runs: list[tuple[Running, Callable[[float], load.Step]]], opts: argparse.Namespace, label: str,
            probe_user: dict) -> dict[str, dict]:
    """The servers' ladders in turns (a step of each, then the next step of each…), each server measured
    alone on the machine, after the previous step's queues drained."""
    state = {server.name: Ladder(opts) for server, _ in runs}
    while True:
        stepped = False
        for server, make_step in runs:
            ladder = state[server.name]
            rate = ladder.next_rate()
            if rate is None:
                continue
            stepped = True
            result = measure(server, make_step(rate))
            result["verdict"] = verdict(result)
            ladder.steps.append(result)
            log(f"{server.name} {label} {rate:,.0f}/s: {result['verdict']}, p99 {result['latency_ms']['p99']:.2f} ms, "
                f"answered {result['answered']:,}/{result['sent']:,}, CPUs {result['cpus_busy_pct']:.0f}% busy")
            time.sleep(opts.pause)
            drain(server, probe_user)
            ladder.record(rate, result["verdict"] == "pass")
        if not stepped:
            return {name: ladder.result() for name, ladder in state.items()}


def stored(server: Running, db_url: str, sessions: int) -> dict:
    """How many of the sessions the server stored, and with interim counters applied (not just the Start)."""
    engine = create_engine(sqlalchemy_url(db_url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            if server.name == "freeradius":
                row = conn.execute(text("SELECT count(*), count(*) FILTER (WHERE acctsessiontime > 0) "
                                        "FROM radacct")).one()
            else:
                row = backhaul_sessions(conn)
    finally:
        engine.dispose()
    if row is None:
        return {"sessions": sessions, "stored": None, "with_interims": None}
    return {"sessions": sessions, "stored": row[0], "with_interims": row[1]}


def backhaul_sessions(conn):
    """(sessions, with interim counters) over every tenant's RADIUS session table, if it has one."""
    from app.models import usage

    table = next((m for m in vars(usage).values() if getattr(m, "__tablename__", "") in (
        "radius_sessions", "sessions", "usage_sessions", "network_sessions")), None)
    if table is None:
        return None
    name = table.__tablename__
    columns = {c.name for c in table.__table__.columns}
    counter = next((c for c in ("session_time", "acct_session_time", "duration_seconds", "input_octets",
                                "download_octets", "output_octets") if c in columns), None)
    schemas = [r[0] for r in conn.execute(text("SELECT schema_name FROM public.tenants"))]
    total = with_counters = 0
    for schema in schemas:
        total += conn.execute(text(f'SELECT count(*) FROM "{schema}".{name}')).scalar_one()
        if counter:
            with_counters += conn.execute(text(f'SELECT count(*) FROM "{schema}".{name} WHERE {counter} > 0')
                                          ).scalar_one()
    return total, with_counters if counter else None


def workload(server: Running, users: list[dict], opts: argparse.Namespace) -> tuple[list, list, dict]:
    """(credentials, sessions, the Step arguments every step shares) for this server."""
    creds = [(u["username"].encode(), u["password"].encode()) for u in users]
    sessions = [(u["username"].encode(), f"{server.name[:2].upper()}{n:08X}".encode(),
                 socket.inet_aton(u["framed_ip"]) if u["framed_ip"] else None, n)
                for n, u in enumerate(users[:opts.sessions])]
    common = {"host": "127.0.0.1", "secret": SECRET.encode(), "processes": opts.gen_processes,
              "sockets": opts.gen_sockets, "source_ports": free_udp_ports(opts.gen_processes * opts.gen_sockets)}
    return creds, sessions, common


def warm_up_step(server: Running, creds: list, common: dict, opts: argparse.Namespace) -> load.Step:
    """Every user asks once, at a gentle rate with a long timeout: the caches and PostgreSQL's buffers are
    filled before anything is measured (a server in service has its subscribers' data warm)."""
    return load.Step("auth", opts.warm_rate, len(creds) / opts.warm_rate, 5.0, port=server.auth_port, users=creds,
                     every_user=True, **common)


def drain(server: Running, user: dict, timeout: float = 60.0) -> None:
    """Wait until the server answers promptly again (its queue from the previous step is gone)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        started = time.monotonic()
        if load.probe_auth("127.0.0.1", server.auth_port, SECRET.encode(), user["username"], user["password"],
                           timeout=2.0) and time.monotonic() - started < 0.05:
            return
        time.sleep(0.5)
    log(f"{server.name} still slow to answer after {timeout:.0f} s; going on")


def profile_server(server: Running, users: list[dict], opts: argparse.Namespace) -> dict:
    """A fixed load for the profiler: warm-up and Starts (not profiled), then Access-Requests and
    Interim-Updates at `--profile-rate` (profiled)."""
    creds, sessions, common = workload(server, users, opts)
    rate, out = opts.profile_rate, {"rate_per_s": opts.profile_rate}
    for name, step in (
            ("warm_up", warm_up_step(server, creds, common, opts)),
            ("starts", load.Step("start", opts.warm_rate, len(sessions) / opts.warm_rate, 5.0,
                                 port=server.acct_port, sessions=sessions, **common)),
            ("auth", load.Step("auth", rate, opts.step_s, AUTH_TIMEOUT_S, port=server.auth_port, users=creds,
                               **common)),
            ("interim", load.Step("interim", rate, opts.step_s, ACCT_TIMEOUT_S, port=server.acct_port,
                                  sessions=sessions, **common))):
        if name == "auth":
            os.kill(server.pid, signal.SIGUSR1)  # the profile starts here: warm caches, sessions open
        result = measure(server, step)
        out[name] = {k: result[k] for k in ("sent", "answered", "lost", "latency_ms", "server_cpu_s")}
        log(f"profiled {name}: {result['answered']:,}/{result['sent']:,} answered, "
            f"p50 {result['latency_ms']['p50']:.2f} ms, p99 {result['latency_ms']['p99']:.2f} ms")
        drain(server, users[0])  # idle before the next step, and before the stop (the threads dump on exit)
    return out


def prepare(server: Running, users: list[dict], opts: argparse.Namespace) -> tuple[dict, tuple]:
    """Check the server's answers, measure it idle, warm it up; (its results so far, its workload)."""
    work = workload(server, users, opts)
    creds, _sessions, common = work
    out = {"answers": check_answers(server, users), "info": server.info, "idle": idle_cpu(server)}
    log(f"{server.name} idle: {out['idle']['server_cores']:.3f} cores, its database "
        f"{out['idle']['db_cores'] if out['idle']['db_cores'] is not None else '—'} cores")
    warm = measure(server, warm_up_step(server, creds, common, opts))
    out["warm_up"] = {"requests": warm["sent"], "answered": warm["answered"], "p99_ms": warm["latency_ms"]["p99"],
                      "rate_per_s": opts.warm_rate}
    log(f"{server.name}: warmed up ({warm['answered']:,}/{warm['sent']:,} answered, p99 "
        f"{warm['latency_ms']['p99']:.1f} ms)")
    drain(server, users[0])
    return out, work


def open_sessions(server: Running, work: tuple, opts: argparse.Namespace) -> dict:
    """An Accounting-Start for every session (not measured; every one must be answered)."""
    _creds, sessions, common = work
    start = measure(server, load.Step("start", opts.warm_rate, len(sessions) / opts.warm_rate, 5.0,
                                      port=server.acct_port, sessions=sessions, **common))
    if start["answered"] != start["sent"]:
        raise BenchError(f"{server.name} answered {start['answered']} of {start['sent']} Accounting-Starts")
    return {"sent": start["sent"], "answered": start["answered"], "p99_ms": start["latency_ms"]["p99"]}


def auth_steps(server: Running, work: tuple, opts: argparse.Namespace) -> Callable[[float], load.Step]:
    creds, _sessions, common = work
    return lambda rate: load.Step("auth", rate, opts.step_s, AUTH_TIMEOUT_S, port=server.auth_port, users=creds,
                                  seed=int(rate), **common)


def interim_steps(server: Running, work: tuple, opts: argparse.Namespace) -> Callable[[float], load.Step]:
    """Steps of Interim-Updates whose counters carry on from where the previous step left them."""
    _creds, sessions, common = work
    tick = [1]

    def make(rate: float) -> load.Step:
        step = load.Step("interim", rate, opts.step_s, ACCT_TIMEOUT_S, port=server.acct_port, sessions=sessions,
                         tick=tick[0], **common)
        tick[0] += int(rate * opts.step_s / len(sessions)) + 2
        return step

    return make


def compare(running: list[Running], users: list[dict], opts: argparse.Namespace) -> dict:
    """Both servers up together; each measured alone, step by step in turns."""
    out, work = {}, {}
    for server in running:
        out[server.name], work[server.name] = prepare(server, users, opts)
    auth = ladders([(s, auth_steps(s, work[s.name], opts)) for s in running], opts, "Access-Request", users[0])
    for server in running:
        out[server.name]["auth"] = auth[server.name]
        out[server.name]["starts"] = open_sessions(server, work[server.name], opts)
        drain(server, users[0])
    acct = ladders([(s, interim_steps(s, work[s.name], opts)) for s in running], opts, "Interim-Update", users[0])
    for server in running:
        out[server.name]["acct"] = acct[server.name]
        out[server.name]["stored"] = stored(server, server.db_url, opts.sessions)
    return out


# -- the run -----------------------------------------------------------------------------------------------

def reply_template(answers: dict | None, plan: dict) -> dict:
    """FreeRADIUS answers what Backhaul answered (rate limit string, timers), or the plan's rate by default."""
    plain = (answers or {}).get("plain", {})
    return {"rate_limit": plain.get("Mikrotik-Rate-Limit") or radius_seed.rate_limit(plan),
            "session_timeout": plain.get("Session-Timeout"), "interim_interval": plain.get("Acct-Interim-Interval")}


def run(opts: argparse.Namespace) -> dict:
    started = time.perf_counter()
    results: dict = {"environment": {
        "mode": "quick" if opts.quick else "full", "postgres": server_version(opts.database_url),
        "python": platform.python_version(), "cpus": os.cpu_count(),
        "loadavg_start": " ".join(f"{x:.2f}" for x in os.getloadavg()), "users": opts.users,
        "tenants": opts.tenants, "sessions": opts.sessions, "step_s": opts.step_s, "growth": opts.growth,
        "start_per_s": opts.start, "refine": opts.refine, "generator": f"{opts.gen_processes} processes × "
        f"{opts.gen_sockets} sockets", "p99_goal_ms": P99_GOAL_MS, "acct_timeout_s": ACCT_TIMEOUT_S,
        "profile_dir": str(opts.profile) if opts.profile else None}}
    servers = [s for s in SERVERS if s in opts.servers]
    if "backhaul" in servers and (why := backhaul_available()):
        log(f"skipping Backhaul: {why}")
        results["skipped"] = {"backhaul": why}
        servers.remove("backhaul")
    if "freeradius" in servers and not opts.profile:
        freeradius.ensure_installed()
    crypto.configure(SECRET_KEY)
    with tempfile.TemporaryDirectory(prefix="backhaul-bench-radius-") as tmp, \
            migrated_database(opts.database_url, "rad") as (url, db), \
            scratch_database(opts.database_url, "frad") as fr_url:
        log(f"seeding Backhaul: {opts.users:,} customers across {opts.tenants} tenants…")
        seeded = radius_seed.seed(db, opts.users, opts.tenants)
        register_nas(db)
        settle(url)
        users = seeded.users
        results["seed_s"] = seeded.seconds
        results["plan"] = seeded.plan
        answers = None
        if opts.profile:
            env = child_env(url, opts.redis_url, Path(tmp))
            with backhaul_server(env, Path(tmp), 1, users[0], profile_dir=opts.profile) as server:
                results["profile"] = profile_server(server, users, opts)
            results["profile"]["stats"] = radius_profile.summary(opts.profile)
            results["profile"]["gc"] = radius_profile.gc_pauses(opts.profile)
            servers = []
        with contextlib.ExitStack() as stack:
            running = []
            if "backhaul" in servers:
                env = child_env(url, opts.redis_url, Path(tmp))
                running.append(stack.enter_context(backhaul_server(env, Path(tmp), opts.processes, users[0])))
                answers = check_answers(running[-1], users)
            if "freeradius" in servers:
                template = reply_template(answers, seeded.plan)
                fr_users = [{**u, **template} for u in users]
                results["freeradius_seed_s"] = freeradius.seed_database(fr_url, fr_users, opts.sessions)
                settle(fr_url)
                auth_port, acct_port = free_udp_ports(2)
                fr = stack.enter_context(freeradius.running(fr_url, SECRET, auth_port, acct_port))
                running.append(Running("freeradius", fr.proc.pid, auth_port, acct_port, fr.log_path,
                                       {"version": fr.version, "threads": freeradius.THREADS,
                                        "sql_pool": freeradius.SQL_POOL, "config": fr.config_text()}, fr_url))
            results.update(compare(running, users, opts))
    results["ratios"] = {}
    if "backhaul" in results and "freeradius" in results:
        for kind in ("auth", "acct"):
            theirs = results["freeradius"][kind]["best_per_s"]
            results["ratios"][kind] = results["backhaul"][kind]["best_per_s"] / theirs if theirs else None
    results["environment"]["loadavg_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    results["total_s"] = time.perf_counter() - started
    return results


def _rate(figure: dict | None) -> str:
    if not figure:
        return "—"
    return f"{figure['best_per_s']:,.0f}" + (" (cap)" if figure["capped"] else "")


def print_summary(results: dict) -> None:
    env = results["environment"]
    if "profile" in results:
        for thread, text_ in results["profile"].get("stats", {}).items():
            print(f"\n== {thread} thread ==\n{text_}")
        print(f"garbage collection while profiled: {results['profile'].get('gc')}")
        print(f"profiles (pstats) in {results['environment']['profile_dir']}")
        return
    print(f"\nRADIUS, {env['users']:,} users across {env['tenants']} tenants, {env['sessions']:,} live sessions; "
          f"steps of {env['step_s']:g} s, generator {env['generator']} (PostgreSQL {env['postgres']}, "
          f"Python {env['python']}, {env['cpus']} CPUs, not pinned)\n")
    rows = [["figure", "Backhaul", "FreeRADIUS", "Backhaul ÷ FreeRADIUS", "goal"]]
    for kind, name in (("auth", f"Access-Request/s at p99 ≤ {P99_GOAL_MS:g} ms"),
                       ("acct", "Interim-Update/s, none lost")):
        ratio = results["ratios"].get(kind)
        rows.append([name, _rate(results.get("backhaul", {}).get(kind)), _rate(results.get("freeradius", {}).get(kind)),
                     f"{ratio:.2f}" if ratio is not None else "—",
                     "—" if ratio is None else "ok" if ratio >= 1.0 else "MISSED (≥ 1.0)"])
    print_table(rows)
    steps = [["server", "request", "offered/s", "answered/s", "p50 ms", "p99 ms", "max ms", "lost", "server",
              "database", "µs CPU/req", "CPUs busy", "generator", "verdict"]]
    for server in SERVERS:
        for kind in ("auth", "acct"):
            for s in results.get(server, {}).get(kind, {}).get("steps", []):
                db_cpu = s.get("db_cpu_s")
                per_request = (s["server_cpu_s"] + (db_cpu or 0.0)) / max(1, s["answered"]) * 1e6
                steps.append([server, "Access" if kind == "auth" else "Interim", f"{s['offered_per_s']:,.0f}",
                              f"{s['answered_per_s']:,.0f}", f"{s['latency_ms']['p50']:.2f}",
                              f"{s['latency_ms']['p99']:.2f}", f"{s['latency_ms']['max']:.1f}",
                              str(s["lost"] + s["exhausted"]), f"{s['server_cpu_s'] / s['duration_s']:.2f}",
                              "—" if db_cpu is None else f"{db_cpu / s['duration_s']:.2f}", f"{per_request:,.0f}",
                              f"{s['cpus_busy_pct']:.0f}%", f"{s['generator_cpu_s'] / s['duration_s']:.2f}",
                              s["verdict"]])
    print("\nevery step (latency from send to the kernel's receive timestamp; server, database (its PostgreSQL "
          "backends) and generator in CPU cores over the step; µs CPU/req: server + database per answer)\n")
    print_table(steps)
    for server in SERVERS:
        if server in results:
            st = results[server]["stored"]
            print(f"\n{server}: {st['stored']} of {st['sessions']} sessions stored, {st['with_interims']} with "
                  f"interim counters; answers {results[server]['answers']['static_ip']}")
    for server, why in results.get("skipped", {}).items():
        print(f"\n{server} skipped: {why}")
    print(f"\nload average {env['loadavg_start']} → {env['loadavg_end']}; total {results['total_s']:.0f} s")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_connection_args(parser)
    parser.add_argument("--quick", action="store_true", help="2,000 users, 2 s steps, coarser ladder (< 3 min)")
    parser.add_argument("--users", type=int, help=f"customers in all (default {FULL['users']:,})")
    parser.add_argument("--tenants", type=int, help=f"tenants they are spread over (default {FULL['tenants']})")
    parser.add_argument("--sessions", type=int, help="live sessions sending Interim-Updates (default half the users)")
    parser.add_argument("--step-s", type=float, help="seconds a step lasts (full 10, quick 2)")
    parser.add_argument("--start", type=float, help="first offered rate, requests/s (full 250, quick 500)")
    parser.add_argument("--growth", type=float, help="rate factor from a passed step to the next (full 1.5, quick 2)")
    parser.add_argument("--refine", type=int, help="bisections between the last pass and the fail (full 2, quick 1)")
    parser.add_argument("--max-rate", type=float, default=40_000, help="stop growing here (default 40,000/s)")
    parser.add_argument("--warm-rate", type=float,
                        help="requests/s of the warm-up (every user once) and of the Accounting-Starts "
                             "(full 250, quick 500)")
    parser.add_argument("--pause", type=float, help="seconds between steps (queues drain; full 1.5, quick 1)")
    parser.add_argument("--processes", type=int, default=2, help="`backhaul radius --processes` (default 2)")
    parser.add_argument("--gen-processes", type=int, default=2, help="load generator processes (default 2)")
    parser.add_argument("--gen-sockets", type=int, default=8, help="source ports per generator process (default 8)")
    parser.add_argument("--servers", default=",".join(SERVERS), help="which to measure (default both)")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="instead of the comparison: one Backhaul process under cProfile at a fixed load "
                             "(--profile-rate), its serving threads' profiles written to DIR and summarised")
    parser.add_argument("--profile-rate", type=float, default=300, help="requests/s while profiling (default 300)")
    parser.add_argument("--json", type=Path, metavar="PATH",
                        help="where to write the results (default bench/results/radius[-quick].json)")
    opts = parser.parse_args(argv)
    defaults = QUICK if opts.quick else FULL
    for key in ("users", "tenants", "step_s", "refine", "start", "growth", "pause", "warm_rate"):
        if getattr(opts, key) is None:
            setattr(opts, key, defaults[key])
    if opts.sessions is None:
        opts.sessions = min(defaults["sessions"], opts.users // 2)
    opts.servers = {s.strip() for s in opts.servers.split(",") if s.strip()}
    if not opts.servers or not opts.servers <= set(SERVERS):
        parser.error(f"--servers takes a comma-separated subset of {', '.join(SERVERS)}")
    if not (1 <= opts.tenants <= 26 and opts.tenants * 10 <= opts.users <= 500_000
            and opts.gen_processes <= opts.sessions <= opts.users):
        parser.error("--tenants in [1, 26], --users at least 10 a tenant (at most 500,000), "
                     "--sessions at most --users")
    if not (opts.step_s > 0 and opts.start > 0 and opts.growth > 1 and 0 <= opts.refine <= 10
            and 1 <= opts.processes <= 64 and 1 <= opts.gen_processes <= 32 and 1 <= opts.gen_sockets <= 64):
        parser.error("--step-s and --start positive, --growth above 1, --refine in [0, 10], process counts sensible")
    opts.json = opts.json or RESULTS / ("radius-profile.json" if opts.profile else
                                        "radius-quick.json" if opts.quick else "radius.json")
    if opts.profile:
        opts.profile = opts.profile.resolve()
    return opts


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    seconds = 900 + opts.users / 100 + 2 * 2 * 20 * (opts.step_s + opts.pause + 1)
    results = within_budget(int(seconds), lambda: run(opts))
    print_summary(results)
    write_json(opts.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
