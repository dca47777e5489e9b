"""`backhaul run`: migrate, (optionally) seed the demo, then serve web, worker, the scheduler (periodiq,
which sends the daily jobs' tick) and RADIUS in the foreground.

With `--demo`, the demo resellers take payments from a gateway simulator (`app.gateway_simulator`) that runs
beside them, unless BACKHAUL_DEMO_GATEWAYS=off or the gateways' addresses are configured (endpoints.py).

With no BACKHAUL_SMTP_URL, a mail catcher (`app.mailcatcher`) runs beside them and web and worker send
to it, so that mail sent on a development machine lands in `<data dir>/mail/` instead of being lost.

Each child stands alone (app/supervisor.py): one that dies is started again after a pause and the others
carry on, so a crashed job worker never takes authentication away from the routers. Ctrl-C or SIGTERM
stops them all.
"""

from __future__ import annotations

import os
import socket
import sys

import click
from rich.markup import escape

from app.cli import err, fail, out, pass_runtime
from app.supervisor import Spec, Supervisor


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


def _mail_catcher(settings, env: dict) -> list[Spec]:
    """The mail catcher when no SMTP server is configured, with the children's mail pointed at it (the
    port is chosen once: a catcher started again listens where web and worker already send)."""
    if settings.smtp_url:
        return []
    port = _free_port("127.0.0.1")
    env["BACKHAUL_SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    return [Spec("mail", [sys.executable, "-m", "app.mailcatcher", "--port", str(port),
                          "--dir", str(settings.data_dir / "mail")], env)]


GATEWAY_VARIABLES = ("BACKHAUL_DARAJA_SANDBOX_URL", "BACKHAUL_STRIPE_API_BASE")


def _gateway_simulator(runtime, env: dict, host: str, port: int) -> tuple[list[Spec], str | None]:
    """The demo's gateway simulator, with the Daraja sandbox and the card processor pointed at it and the demo
    resellers' gateways set to its keys; None said when it is not wanted or the addresses are someone's."""
    if os.environ.get("BACKHAUL_DEMO_GATEWAYS", "").lower() in ("0", "off", "false", "no"):
        return [], None
    if any(os.environ.get(name) for name in GATEWAY_VARIABLES):
        return [], "Demo payments:      through the configured gateway addresses (simulator not started)"
    from app.services import demo, demo_gateways

    settings = runtime.settings
    bind = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 (comparing, not binding)
    shown = "localhost" if bind == "127.0.0.1" else bind
    sim_port = _free_port(bind)
    url = f"http://{bind}:{sim_port}"
    for name in GATEWAY_VARIABLES:
        env[name] = url
    demo_gateways.connect(runtime.db, [spec["code"] for spec in demo.RESELLERS],
                          demo_gateways.Keys.from_secret_key(settings.secret_key))
    spec = Spec("gateways", [sys.executable, "-m", "app.gateway_simulator", "--host", bind, "--port", str(sim_port),
                             "--web", f"http://{bind}:{port}", "--public", f"http://{shown}:{sim_port}"], env)
    return [spec], (f"Demo payments:      M-PESA prompts ring a pretend phone at http://{shown}:{sim_port}/phone "
                    f"(paid after 8 s if left alone); cards pay with 4242 4242 4242 4242")


@click.command("run")
@click.option("--demo/--no-demo", default=False, help="Seed the demo platform first (idempotent).")
@click.option("--migrate/--no-migrate", default=True, show_default=True, help="Run `db upgrade` first.")
@click.option("--host", help="Address to serve on (default BACKHAUL_HTTP_HOST or 127.0.0.1).")
@click.option("--port", type=int, help="Port to serve on (default BACKHAUL_HTTP_PORT or 8000).")
@click.option("--web-workers", type=click.IntRange(1, 64), help="Web processes.")
@click.option("--worker-threads", type=click.IntRange(1, 64), help="Job worker threads.")
@pass_runtime
def command(runtime, demo, migrate, host, port, web_workers, worker_threads) -> None:
    """Run Backhaul in the foreground: web, job worker, scheduler and RADIUS (one that dies is started again;
    Ctrl-C stops everything)."""
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
    gateways, payments_said = _gateway_simulator(runtime, env, host, port) if demo else ([], None)
    specs = _mail_catcher(settings, env) + [
        Spec("web", [sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}",
                     "--workers", str(web_workers or settings.web_workers), "--worker-class", "gthread",
                     "--threads", "4", "--access-logfile", "-", "--graceful-timeout", "5", "--no-control-socket",
                     "app:create_app()"], env),
        Spec("worker", [sys.executable, "-m", "dramatiq", "worker.main", "--processes", "1",
                        "--threads", str(worker_threads or settings.worker_threads)], env),
        # periodiq sends the scheduler's tick every 15 minutes; the worker runs it (worker/scheduler.py)
        Spec("scheduler", [sys.executable, "-c", "from periodiq import entrypoint; entrypoint()", "worker.scheduler"],
             env),
    ]
    radius, said = _radius(settings, env)
    specs += radius
    err.print(said, soft_wrap=True)
    specs += gateways
    _banner(settings, host, port, summary, payments_said)

    supervisor = Supervisor(specs, say=lambda line: err.print(f"[dim]{escape(line)}[/dim]", soft_wrap=True),
                            warn=lambda line: err.print(f"[bold yellow]{escape(line)}[/bold yellow]", soft_wrap=True))
    code = supervisor.run()
    err.print("stopped")
    sys.exit(code)


def _radius(settings, env: dict) -> tuple[list[Spec], str]:
    """RADIUS beside web and worker (BACKHAUL_RADIUS=off: not at all), on BACKHAUL_RADIUS_HOST (loopback
    unless configured, like the web); a port someone else holds (a FreeRADIUS, say) is reported and RADIUS
    left out, rather than stopping the rest."""
    if os.environ.get("BACKHAUL_RADIUS", "").lower() in ("0", "off", "false", "no"):
        return [], "RADIUS:             off (BACKHAUL_RADIUS)"
    from radius.runner import Options, ports_in_use

    options = Options.from_env(host=settings.radius_host)
    taken = ports_in_use(options)
    if taken:
        return [], f"[bold yellow]RADIUS not started, its ports are taken: {', '.join(taken)}[/bold yellow]"
    spec = Spec("radius", [sys.executable, "-c", "from app.cli import main; main()", "radius",
                           "--host", options.host], env)
    return [spec], (f"RADIUS:             {options.host} auth {options.auth_port}/udp, accounting "
                    f"{options.acct_port}/udp")


def _banner(settings, host: str, port: int, summary, payments_said: str | None = None) -> None:
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0", "::") else host  # noqa: S104
    out.rule("[bold]Backhaul is running")
    # soft_wrap: rich would otherwise break a line at the console's width (80 when piped), inside a URL
    out.print(f"Master ISP console: http://{settings.console_host}:{port}/", soft_wrap=True)
    out.print(f"API reference:      http://{settings.console_host}:{port}/api/docs "
              f"(OpenAPI at /api/openapi.json)", soft_wrap=True)
    out.print(f"Health:             http://{shown}:{port}/healthz · /readyz", soft_wrap=True)
    out.print(f"E-mail:             {_mail_destination(settings)}", soft_wrap=True)
    if payments_said:
        out.print(payments_said, soft_wrap=True)
    if summary:
        from app.cli.demo import print_summary

        print_summary(summary, settings.console_host, port)
    out.print("Press Ctrl-C to stop.")


def _mail_destination(settings) -> str:
    if not settings.smtp_url:
        return f"caught into {settings.data_dir / 'mail'}/*.eml (set BACKHAUL_SMTP_URL to send it)"
    from app.services.notifications.smtp import NotConfigured, Server

    try:
        return f"sent through {Server.from_url(settings.smtp_url)}"
    except NotConfigured as exc:
        return f"[bold red]{escape(str(exc))}[/bold red]"
