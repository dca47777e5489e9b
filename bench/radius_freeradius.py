"""FreeRADIUS 3.2 for the RADIUS benchmark: installed from Debian when missing, configured in a private copy
of `/etc/freeradius/3.0` (its own ports, logging to a file, rlm_sql on the bench's PostgreSQL), seeded with
the same users as Backhaul, run in the foreground as a child process and stopped by its pid.

The configuration is the one an operator who wants speed would write, so the comparison is fair:
- only the modules the work needs (preprocess, chap, pap, sql, plus the `acct_unique` policy): no `files`,
  `detail`, `unix`/`radutmp`, `eap`, `exec`, `linelog` — each of those adds per-packet work Backhaul does not do;
- no post-auth logging to `radpostauth` (an INSERT per authentication) and `read_groups = no` (users carry
  their own reply attributes, so the group queries would only find nothing), leaving FreeRADIUS its two
  indexed SELECTs a request (radcheck, radreply) and one UPDATE an Interim-Update;
- a thread pool and an SQL connection pool sized for two cores whose work waits on PostgreSQL (8–16), a
  request table big enough for the duplicate-detection window at the rates measured (`max_requests`);
- `require_message_authenticator = yes` for the client, as Backhaul requires it (BlastRADIUS).
The text of every generated file is returned by `FreeRadius.config_text()` for the results JSON.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from common import BenchError, log
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from app.db import sqlalchemy_url

SYSTEM_CONFIG = Path("/etc/freeradius/3.0")
SCHEMA = SYSTEM_CONFIG / "mods-config/sql/main/postgresql/schema.sql"
PACKAGES = ("freeradius", "freeradius-postgresql", "freeradius-utils")
MODULES = ("always", "expr", "pap", "chap", "preprocess")  # linked from mods-available; sql is generated

THREADS = {"start_servers": 8, "max_servers": 16, "min_spare_servers": 4, "max_spare_servers": 8}
SQL_POOL = {"start": 8, "min": 4, "max": 16, "spare": 8}


def binary() -> str | None:
    return shutil.which("freeradius") or shutil.which("radiusd") or (
        "/usr/sbin/freeradius" if Path("/usr/sbin/freeradius").exists() else None)


def version(path: str) -> str:
    out = subprocess.run([path, "-v"], capture_output=True, text=True, timeout=30).stdout
    first = next((line for line in out.splitlines() if "Version" in line), out.strip()[:80])
    return first.strip()


def ensure_installed() -> str:
    """The freeradius binary; `apt-get install` of Debian's packages when it (or rlm_sql_postgresql) is missing."""
    path = binary()
    if path and Path("/usr/lib/freeradius/rlm_sql_postgresql.so").exists() and SCHEMA.exists():
        return path
    if not shutil.which("apt-get"):
        raise BenchError("FreeRADIUS is not installed and there is no apt-get to install it: "
                         f"install {' '.join(PACKAGES)} (3.2) first")
    log(f"installing {' '.join(PACKAGES)} with apt-get…")
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    done = subprocess.run([*sudo, "apt-get", "install", "-y", "--no-install-recommends", *PACKAGES], env=env,
                          capture_output=True, text=True, timeout=600)
    path = binary()
    if done.returncode != 0 or not path:
        raise BenchError(f"apt-get install {' '.join(PACKAGES)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return path


# -- the database -----------------------------------------------------------------------------------

def seed_database(url: str, users: list[dict], sessions: int) -> float:
    """FreeRADIUS's standard PostgreSQL schema, then per user: radcheck Cleartext-Password; radreply
    Mikrotik-Rate-Limit, Session-Timeout and Acct-Interim-Interval when Backhaul sends them, and, when the
    service has one, its static Framed-IP-Address — what Backhaul answers for the same user. `sessions` is
    only for the log line."""
    started = time.perf_counter()
    engine = create_engine(sqlalchemy_url(url), poolclass=NullPool)
    check, reply = [], []
    for user in users:
        check.append((user["username"], "Cleartext-Password", ":=", user["password"]))
        reply.append((user["username"], "Mikrotik-Rate-Limit", ":=", user["rate_limit"]))
        for attribute, key in (("Session-Timeout", "session_timeout"), ("Acct-Interim-Interval", "interim_interval")):
            if user.get(key) is not None:
                reply.append((user["username"], attribute, ":=", str(user[key])))
        if user.get("framed_ip"):
            reply.append((user["username"], "Framed-IP-Address", ":=", user["framed_ip"]))
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(SCHEMA.read_text())
            for table, rows in (("radcheck", check), ("radreply", reply)):
                conn.execute(text(
                    f"INSERT INTO {table} (username, attribute, op, value) "
                    "SELECT * FROM unnest(CAST(:u AS text[]), CAST(:a AS text[]), CAST(:o AS text[]), "
                    "CAST(:v AS text[]))"), {"u": [r[0] for r in rows], "a": [r[1] for r in rows],
                                            "o": [r[2] for r in rows], "v": [r[3] for r in rows]})
    finally:
        engine.dispose()
    log(f"FreeRADIUS database: {len(check):,} radcheck and {len(reply):,} radreply rows "
        f"(room for {sessions:,} sessions in radacct)")
    return time.perf_counter() - started


# -- the configuration ------------------------------------------------------------------------------

def _radiusd_conf(root: Path) -> str:
    threads = "\n".join(f"    {k} = {v}" for k, v in THREADS.items())
    return f"""# generated by bench/radius_freeradius.py
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = {root}/var
sbindir = /usr/sbin
logdir = {root}/log
raddbdir = {root}
radacctdir = {root}/log/radacct
name = freeradius
confdir = {root}
modconfdir = ${{confdir}}/mods-config
certdir = ${{confdir}}/certs
cadir = ${{confdir}}/certs
run_dir = {root}/run
db_dir = {root}
libdir = /usr/lib/freeradius
pidfile = {root}/run/freeradius.pid
max_request_time = 30
cleanup_delay = 5
max_requests = 262144
hostname_lookups = no
log {{
    destination = files
    colourise = no
    file = {root}/log/radius.log
    auth = no
    auth_badpass = no
    auth_goodpass = no
}}
security {{
    allow_core_dumps = no
    max_attributes = 200
    reject_delay = 0
    status_server = yes
}}
proxy_requests = no
$INCLUDE clients.conf
thread pool {{
{threads}
    max_requests_per_server = 0
    auto_limit_acct = no
    max_queue_size = 65536
}}
modules {{
    $INCLUDE mods-enabled/
}}
instantiate {{
}}
policy {{
    $INCLUDE policy.d/
}}
$INCLUDE sites-enabled/
"""


def _clients_conf(secret: str) -> str:
    return f"""client bench {{
    ipaddr = 127.0.0.1
    secret = {secret}
    require_message_authenticator = yes
    nas_type = other
}}
"""


def _sql_conf(url: str) -> str:
    parts = make_url(sqlalchemy_url(url))
    pool = "\n".join(f"        {k} = {v}" for k, v in SQL_POOL.items())
    password = f'\n    password = "{parts.password}"' if parts.password else ""
    return f"""sql {{
    dialect = "postgresql"
    driver = "rlm_sql_postgresql"
    server = "{parts.host or '127.0.0.1'}"
    port = {parts.port or 5432}
    login = "{parts.username or 'postgres'}"{password}
    radius_db = "{parts.database}"
    postgresql {{
        send_application_name = yes
    }}
    acct_table1 = "radacct"
    acct_table2 = "radacct"
    postauth_table = "radpostauth"
    authcheck_table = "radcheck"
    groupcheck_table = "radgroupcheck"
    authreply_table = "radreply"
    groupreply_table = "radgroupreply"
    usergroup_table = "radusergroup"
    read_groups = no
    read_profiles = no
    delete_stale_sessions = yes
    read_clients = no
    client_table = "nas"
    pool {{
{pool}
        uses = 0
        retry_delay = 30
        lifetime = 0
        idle_timeout = 60
    }}
    group_attribute = "SQL-Group"
    $INCLUDE ${{modconfdir}}/${{.:name}}/main/${{dialect}}/queries.conf
}}
"""


def _site(auth_port: int, acct_port: int) -> str:
    return f"""server bench {{
listen {{
    type = auth
    ipaddr = 127.0.0.1
    port = {auth_port}
}}
listen {{
    type = acct
    ipaddr = 127.0.0.1
    port = {acct_port}
}}
authorize {{
    preprocess
    chap
    sql
    pap
}}
authenticate {{
    Auth-Type PAP {{
        pap
    }}
    Auth-Type CHAP {{
        chap
    }}
}}
preacct {{
    preprocess
    acct_unique
}}
accounting {{
    sql
}}
post-auth {{
    Post-Auth-Type REJECT {{
        ok
    }}
}}
}}
"""


def _problem_lines(log_path: Path, limit: int = 40) -> str:
    if not log_path.exists():
        return "(no log)"
    return "\n".join(log_path.read_text(errors="replace").splitlines()[-limit:])


@dataclass
class FreeRadius:
    """A running FreeRADIUS: its process, ports, configuration folder and log."""

    proc: subprocess.Popen
    root: Path
    auth_port: int
    acct_port: int
    version: str
    files: dict[str, str] = field(default_factory=dict)

    @property
    def log_path(self) -> Path:
        return self.root / "log" / "radius.log"

    def config_text(self) -> dict[str, str]:
        return dict(self.files)

    def pids(self) -> list[int]:
        return [self.proc.pid]


def write_config(root: Path, url: str, secret: str, auth_port: int, acct_port: int) -> dict[str, str]:
    """The private copy: Debian's tree (dictionaries, policies, module templates, SQL queries) with the
    enabled modules and sites replaced and the main file rewritten. Returns the generated files' text."""
    shutil.copytree(SYSTEM_CONFIG, root, symlinks=True, dirs_exist_ok=True)
    for folder in ("mods-enabled", "sites-enabled"):
        for entry in (root / folder).iterdir():
            entry.unlink()
    for module in MODULES:
        (root / "mods-enabled" / module).symlink_to(f"../mods-available/{module}")
    for folder in ("var", "log", "log/radacct", "run"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    files = {"radiusd.conf": _radiusd_conf(root), "clients.conf": _clients_conf(secret),
             "mods-enabled/sql": _sql_conf(url), "sites-enabled/bench": _site(auth_port, acct_port)}
    for name, body in files.items():
        (root / name).write_text(body)
    os.chmod(root, 0o700)
    return {name: body.replace(secret, "<secret>") for name, body in files.items()}


def _check_config(path: str, root: Path) -> None:
    done = subprocess.run([path, "-C", "-d", str(root), "-n", "radiusd"], capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise BenchError(f"FreeRADIUS refused the generated configuration:\n{done.stdout[-3000:]}{done.stderr[-2000:]}")


def _wait_listening(server: FreeRadius, timeout: float) -> None:
    """Ready when the log says so (it opens its sockets just before)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise BenchError(f"FreeRADIUS exited with {server.proc.returncode}:\n{_problem_lines(server.log_path)}")
        if server.log_path.exists() and "Ready to process requests" in server.log_path.read_text(errors="replace"):
            return
        time.sleep(0.1)
    raise BenchError(f"FreeRADIUS not ready after {timeout:.0f} s:\n{_problem_lines(server.log_path)}")


@contextlib.contextmanager
def running(url: str, secret: str, auth_port: int, acct_port: int, *,
            ready_timeout: float = 60.0) -> Iterator[FreeRadius]:
    """FreeRADIUS in the foreground (`-f`) from a temporary copy of its configuration, logging to a file
    there; stopped (TERM, then KILL) and the folder removed at the end, whatever happens."""
    path = ensure_installed()
    root = Path(tempfile.mkdtemp(prefix="backhaul-bench-freeradius-"))
    proc = None
    try:
        files = write_config(root, url, secret, auth_port, acct_port)
        _check_config(path, root)
        # radiusd.conf is read as `<name>.conf`: -n radiusd
        proc = subprocess.Popen([path, "-f", "-d", str(root), "-n", "radiusd"], stdout=subprocess.DEVNULL,
                                stderr=(root / "log" / "stderr.log").open("w"), start_new_session=True)
        server = FreeRadius(proc, root, auth_port, acct_port, version(path), files)
        _wait_listening(server, ready_timeout)
        log(f"FreeRADIUS ({server.version}) listening on 127.0.0.1:{auth_port}/{acct_port}, pid {proc.pid}")
        yield server
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        shutil.rmtree(root, ignore_errors=True)
