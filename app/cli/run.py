"""`backhaul run`: migrate, (optionally) seed the demo, then serve web, worker and the scheduler (periodiq,
which sends the daily jobs' tick) in the foreground.

With no BACKHAUL_SMTP_URL, a mail catcher (`app.mailcatcher`) runs beside them and web and worker send
to it, so that mail sent on a development machine lands in `<data dir>/mail/` instead of being lost.

The children share our process group, so Ctrl-C in the terminal reaches all of them; when one exits,
the others are stopped too, and the command exits with its code.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import click

from app.cli import err, fail, out, pass_runtime


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _child_env(settings) -> dict:
    env = dict(os.environ)
    env.update(DATABASE_URL=settings.database_url, REDIS_URL=settings.redis_url,
               SECRET_KEY=settings.secret_key, BACKHAUL_DATA_DIR=str(settings.data_dir))
    return env


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _mail_catcher(settings, env: dict) -> dict[str, subprocess.Popen]:
    """Start the mail catcher when no SMTP server is configured, and point the children's mail at it."""
    if settings.smtp_url:
        return {}
    port = _free_port("127.0.0.1")
    env["BACKHAUL_SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    return {"mail": subprocess.Popen([sys.executable, "-m", "app.mailcatcher", "--port", str(port),
                                      "--dir", str(settings.data_dir / "mail")], env=env)}


def _stop(children: dict[str, subprocess.Popen], interrupted: bool, grace: float = 10.0) -> None:
    """Stop the children: after Ctrl-C they got the SIGINT too, so give them a moment on their own
    (a second signal would make Dramatiq kill its workers instead of draining them)."""
    if interrupted:
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline and any(p.poll() is None for p in children.values()):
            time.sleep(0.05)
    for proc in children.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in children.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()


@click.command("run")
@click.option("--demo/--no-demo", default=False, help="Seed the demo platform first (idempotent).")
@click.option("--migrate/--no-migrate", default=True, show_default=True, help="Run `db upgrade` first.")
@click.option("--host", help="Address to serve on (default BACKHAUL_HTTP_HOST or 127.0.0.1).")
@click.option("--port", type=int, help="Port to serve on (default BACKHAUL_HTTP_PORT or 8000).")
@click.option("--web-workers", type=click.IntRange(1, 64), help="Web processes.")
@click.option("--worker-threads", type=click.IntRange(1, 64), help="Job worker threads.")
@pass_runtime
def command(runtime, demo, migrate, host, port, web_workers, worker_threads) -> None:
    """Run Backhaul in the foreground: web and job worker (Ctrl-C stops everything)."""
    settings = runtime.settings
    host = host or settings.http_host
    port = port or settings.http_port
    if not _port_free(host, port):
        fail(f"{host}:{port} is already in use; stop what runs there or pass --port")

    summary = None
    if migrate:
        from app.cli.db import upgrade_all

        upgrade_all(runtime, jobs=None, quiet=True)
        err.print("[dim]database migrated[/dim]")
    if demo:
        from app.cli.demo import seed_demo

        summary = seed_demo(runtime)

    env = _child_env(settings)
    mail = _mail_catcher(settings, env)
    children = {
        "web": subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}",
             "--workers", str(web_workers or settings.web_workers), "--worker-class", "gthread",
             "--threads", "4", "--access-logfile", "-", "--graceful-timeout", "5", "--no-control-socket",
             "app:create_app()"],
            env=env,
        ),
        "worker": subprocess.Popen(
            [sys.executable, "-m", "dramatiq", "worker.main", "--processes", "1",
             "--threads", str(worker_threads or settings.worker_threads)],
            env=env,
        ),
        # periodiq sends the scheduler's tick every 15 minutes; the worker runs it (worker/scheduler.py)
        "scheduler": subprocess.Popen(
            [sys.executable, "-c", "from periodiq import entrypoint; entrypoint()", "worker.scheduler"], env=env,
        ),
    }
    children.update(mail)
    err.print(_radius(children, env))
    _banner(settings, host, port, summary)

    stopping = False
    interrupted = False

    def on_signal(signum, _frame):
        nonlocal stopping, interrupted
        stopping = True
        interrupted = signum == signal.SIGINT

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    exit_code = 0
    try:
        while not stopping:
            for name, proc in children.items():
                code = proc.poll()
                if code is not None:
                    err.print(f"[bold red]{name} exited with code {code}; stopping the rest[/bold red]")
                    exit_code = code or 1
                    stopping = True
                    break
            time.sleep(0.2)
    finally:
        _stop(children, interrupted)
    err.print("stopped")
    sys.exit(exit_code)


def _radius(children: dict[str, subprocess.Popen], env: dict) -> str:
    """Start RADIUS beside web and worker (BACKHAUL_RADIUS=off: not at all); a port someone else holds
    (a FreeRADIUS, say) is reported and RADIUS left out, rather than stopping the rest."""
    if os.environ.get("BACKHAUL_RADIUS", "").lower() in ("0", "off", "false", "no"):
        return "RADIUS:             off (BACKHAUL_RADIUS)"
    from radius.runner import Options, ports_in_use

    options = Options.from_env()
    taken = ports_in_use(options)
    if taken:
        return f"[bold yellow]RADIUS not started, its ports are taken: {', '.join(taken)}[/bold yellow]"
    children["radius"] = subprocess.Popen([sys.executable, "-c", "from app.cli import main; main()", "radius"],
                                          env=env)
    return (f"RADIUS:             {options.host} auth {options.auth_port}/udp, accounting "
            f"{options.acct_port}/udp")


def _banner(settings, host: str, port: int, summary) -> None:
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0", "::") else host  # noqa: S104
    out.rule("[bold]Backhaul is running")
    out.print(f"Master ISP console: http://{settings.console_host}:{port}/")
    out.print(f"API reference:      http://{settings.console_host}:{port}/api/docs "
              f"(OpenAPI at /api/openapi.json)")
    out.print(f"Health:             http://{shown}:{port}/healthz · /readyz")
    out.print(f"E-mail:             {_mail_destination(settings)}")
    if summary:
        from app.cli.demo import print_summary

        print_summary(summary, settings.console_host, port)
    out.print("Press Ctrl-C to stop.")


def _mail_destination(settings) -> str:
    if not settings.smtp_url:
        return f"caught into {settings.data_dir / 'mail'}/*.eml (set BACKHAUL_SMTP_URL to send it)"
    from rich.markup import escape

    from app.services.notifications.smtp import NotConfigured, Server

    try:
        return f"sent through {Server.from_url(settings.smtp_url)}"
    except NotConfigured as exc:
        return f"[bold red]{escape(str(exc))}[/bold red]"
