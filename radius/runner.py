"""Running the RADIUS server in one or several processes (`backhaul radius`, `backhaul run`).

Several processes share both ports (SO_REUSEPORT); each is forked before it opens anything (its own
database pool, caches and LISTEN connection), and a child that dies is started again. The parent only
supervises: it opens no socket and no database connection of its own.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import time
from dataclasses import dataclass

log = logging.getLogger("radius")


@dataclass(frozen=True)
class Options:
    host: str = "0.0.0.0"  # noqa: S104 - routers reach the server from the network
    auth_port: int = 1812
    acct_port: int = 1813
    processes: int = 1
    preload: int = 100_000  # subscribers each process loads into its caches at start (0: none)
    # the platform's policy for customers of a suspended reseller (or of a reseller below a suspended one):
    # "reject" their sign-ins (the default: the reseller's service is what is suspended), or "accept" them as
    # usual (a master ISP that keeps end customers online while it settles with the reseller)
    suspended_reseller: str = "reject"

    @classmethod
    def from_env(cls, env: dict | None = None, **overrides) -> Options:
        env = os.environ if env is None else env
        values = {
            "host": env.get("BACKHAUL_RADIUS_HOST") or cls.host,
            "auth_port": int(env.get("BACKHAUL_RADIUS_AUTH_PORT") or cls.auth_port),
            "acct_port": int(env.get("BACKHAUL_RADIUS_ACCT_PORT") or cls.acct_port),
            "processes": int(env.get("BACKHAUL_RADIUS_PROCESSES") or cls.processes),
            "preload": int(env.get("BACKHAUL_RADIUS_PRELOAD") or cls.preload),
            "suspended_reseller": suspended_policy(env.get("BACKHAUL_RADIUS_SUSPENDED_RESELLER")),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


SUSPENDED_POLICIES = ("reject", "accept")


def suspended_policy(value: str | None) -> str:
    """The policy named by the environment; a value that is neither is refused at start, not guessed."""
    chosen = (value or "reject").strip().lower()
    if chosen not in SUSPENDED_POLICIES:
        raise ValueError(f"BACKHAUL_RADIUS_SUSPENDED_RESELLER must be one of {', '.join(SUSPENDED_POLICIES)}, "
                         f"not {value!r}")
    return chosen


def ports_in_use(options: Options) -> list[str]:
    """Which of the two UDP ports something else holds (a FreeRADIUS, say); empty when both are free.

    Bound without SO_REUSEPORT, so that another Backhaul RADIUS counts as a holder too."""
    taken = []
    family = socket.AF_INET6 if ":" in options.host else socket.AF_INET
    for port in (options.auth_port, options.acct_port):
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            try:
                sock.bind((options.host, port))
            except OSError as exc:
                taken.append(f"{options.host}:{port}/udp ({exc.strerror})")
    return taken


def _serve_one(database_url: str, options: Options) -> None:
    """One serving process: its own engine, registry binding and server; SIGTERM stops it."""
    from app.db import Database
    from app.logging import configure_logging
    from radius.server import RadiusServer
    from tenants import registry

    configure_logging()
    # a database that does not answer costs a lookup 3 s, not the kernel's TCP timeout
    db = Database.from_url(database_url, pool_size=6, max_overflow=4, pool_timeout=5,
                           connect_args={"connect_timeout": 3})
    registry.bind(db.engine)
    server = RadiusServer(db, options.host, options.auth_port, options.acct_port, preload=options.preload,
                          suspended_reseller=options.suspended_reseller)
    server.tune_gc = True
    server.bind()
    signal.signal(signal.SIGTERM, lambda *_: server._stop.set())
    signal.signal(signal.SIGINT, lambda *_: server._stop.set())
    server.serve_forever()


def serve(database_url: str, options: Options) -> None:
    """Serve until SIGTERM/SIGINT. One process serves in the foreground; more are supervised children."""
    if options.processes <= 1:
        _serve_one(database_url, options)
        return
    context = multiprocessing.get_context("fork")
    stopping = False

    def on_signal(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    children: list[multiprocessing.Process] = []

    def spawn() -> multiprocessing.Process:
        child = context.Process(target=_serve_one, args=(database_url, options), name="backhaul-radius",
                                daemon=False)
        child.start()
        return child

    children = [spawn() for _ in range(options.processes)]
    log.info("RADIUS: %d processes on %s (auth %d, accounting %d)", options.processes, options.host,
             options.auth_port, options.acct_port)
    try:
        while not stopping:
            time.sleep(0.5)
            for i, child in enumerate(children):
                if not child.is_alive() and not stopping:
                    log.error("RADIUS process %s exited with %s; starting another", child.pid, child.exitcode)
                    time.sleep(1.0)  # a child that dies at once (a bad port, say) must not spin the CPU
                    children[i] = spawn()
    finally:
        for child in children:
            if child.is_alive():
                child.terminate()
        for child in children:
            child.join(timeout=5.0)
            if child.is_alive():
                child.kill()
