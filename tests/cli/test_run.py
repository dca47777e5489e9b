"""`backhaul run` as an operator runs it, a real process tree on the test database: a job worker killed outright
is started again while RADIUS and the web carry on answering, and SIGTERM stops every process."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import redis
from rich.console import Console
from sqlalchemy import delete

from app.models import PortalId
from app.models.nas import NasClient
from app.services import nas as nas_service
from app.services.auth import users
from tenants import tenant_context
from tests.cli.sockets import free_tcp_port, udp_listeners
from tests.conftest import QUEUE_NAMESPACE, host_of
from tests.provisioning.conftest import make_plan, make_shop  # noqa: F401  (fixtures)
from tests.radius.conftest import SECRET, free_udp_ports, radclient, subscriber, wait_for  # noqa: F401


def access(port: int, username: str) -> str | None:
    pairs = f"User-Name={username},User-Password=net-Pass-2024,Message-Authenticator=0x00"
    return radclient(port, pairs, timeout=1.0).code


def healthz(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return response.status
    except OSError:
        return 0


@pytest.fixture
def platform_nas(db):
    """127.0.0.1 as a NAS of the platform (it serves every tenant), for the RADIUS of `backhaul run`."""
    with db.session() as s:
        s.execute(delete(NasClient).where(NasClient.network == "127.0.0.1/32"))
        nas_service.create(s, name="run NAS", network="127.0.0.1/32", secret=SECRET, vendor="mikrotik",
                           tenant_id=None, require_message_authenticator=True)
    yield
    with db.session() as s:
        s.execute(delete(NasClient).where(NasClient.network == "127.0.0.1/32"))


@pytest.fixture
def backhaul_run(test_env, tmp_path):
    """Start `backhaul run` on free ports with its own data folder and queue namespace; stopped afterwards."""
    started = []

    def start() -> Running:
        web_port = free_tcp_port()
        auth_port, acct_port = free_udp_ports()
        namespace = f"{QUEUE_NAMESPACE}-run"
        env = {key: value for key, value in os.environ.items()
               if key not in ("BACKHAUL_RADIUS_HOST", "BACKHAUL_RADIUS", "BACKHAUL_SMTP_URL")}
        env.update(test_env, BACKHAUL_DATA_DIR=str(tmp_path / "data"), BACKHAUL_QUEUE_NAMESPACE=namespace,
                   BACKHAUL_RADIUS_AUTH_PORT=str(auth_port), BACKHAUL_RADIUS_ACCT_PORT=str(acct_port),
                   BACKHAUL_WEB_WORKERS="1", BACKHAUL_WORKER_THREADS="1", COLUMNS="40")
        stdout, stderr = tmp_path / "stdout.log", tmp_path / "stderr.log"
        with stdout.open("wb") as out, stderr.open("wb") as err:
            proc = subprocess.Popen([sys.executable, "-c", "from app.cli import main; main()", "run", "--no-migrate",
                                     "--port", str(web_port)], env=env, stdout=out, stderr=err,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        running = Running(proc, web_port, auth_port, tmp_path / "data", stdout, stderr, namespace, env["REDIS_URL"])
        started.append(running)
        return running

    yield start
    for running in started:
        if running.proc.poll() is None:
            running.proc.send_signal(signal.SIGTERM)
            try:
                running.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(running.proc.pid, signal.SIGKILL)
                running.proc.wait()
        client = redis.Redis.from_url(running.redis_url)
        keys = list(client.scan_iter(f"{running.namespace}*"))
        if keys:
            client.delete(*keys)


class Running:
    def __init__(self, proc, web_port, auth_port, data_dir, stdout, stderr, namespace, redis_url):
        self.proc, self.web_port, self.auth_port, self.data_dir = proc, web_port, auth_port, data_dir
        self.stdout_path, self.stderr_path, self.namespace, self.redis_url = stdout, stderr, namespace, redis_url

    @property
    def log(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    @property
    def banner(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    def children(self) -> dict[str, int]:
        """The processes `backhaul run` started, by what they serve (read from /proc, not from our own log)."""
        names = {"gunicorn": "web", "dramatiq": "worker", "periodiq": "scheduler", "radius": "radius",
                 "app.mailcatcher": "mail"}
        found = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(fields[1]) == self.proc.pid and fields[0] != "Z":
                for word, name in names.items():
                    if word in cmdline:
                        found[name] = int(stat.parent.name)
        return found


def _group(pgid: int) -> list[int]:
    """The live processes of a process group (a child of `backhaul run` and what it started)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.slow
def test_a_killed_worker_is_started_again_while_radius_and_the_web_keep_answering(
        backhaul_run, platform_nas, subscriber, db):  # noqa: F811
    sub = subscriber("Active")
    with db.session() as s, tenant_context(sub.tenant):  # portal access, for the reset e-mail below
        users.set_portal_password(s, s.get(PortalId, sub.portal_id).customer_id, "portal-Pass-2026")
    run = backhaul_run()
    assert wait_for(lambda: access(run.auth_port, sub.username) == "Access-Accept", timeout=120), run.log
    assert wait_for(lambda: healthz(run.web_port) == 200, timeout=60), run.log
    pids = run.children()
    assert set(pids) == {"mail", "web", "worker", "scheduler", "radius"}, run.log
    assert udp_listeners(run.auth_port) == {"127.0.0.1"}  # loopback, like the web, unless configured

    os.kill(pids["worker"], signal.SIGKILL)
    for _ in range(3):  # while the worker is down and coming back, routers are still answered
        assert access(run.auth_port, sub.username) == "Access-Accept"
        assert healthz(run.web_port) == 200
    assert wait_for(lambda: "worker started again" in run.log, timeout=30), run.log
    assert "worker exited with code -9 (SIGKILL); restarting in 1 s (restart 1)" in run.log
    restarted = run.children()["worker"]
    assert restarted != pids["worker"] and f"worker started again (pid {restarted})" in run.log
    assert _group(pids["worker"]) == []  # the killed worker's own worker processes went with it
    assert "stopping the rest" not in run.log
    assert all(_alive(pid) for name, pid in pids.items() if name != "worker"), run.log  # the others never stopped
    assert access(run.auth_port, sub.username) == "Access-Accept"

    # the new worker does the jobs: a password reset asked on the web is mailed (into the mail catcher)
    request = urllib.request.Request(f"http://127.0.0.1:{run.web_port}/portal/auth/password-reset", method="POST",
                                     data=json.dumps({"identifier": sub.portal_id}).encode(),
                                     headers={"Host": host_of(sub.tenant), "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (http, built above)
            assert response.status == 202
    except urllib.error.HTTPError as exc:
        pytest.fail(f"{exc}: {run.log}")
    mail = run.data_dir / "mail"
    assert wait_for(lambda: any(mail.glob("*.eml")), timeout=60), run.log
    assert _alive(restarted)

    run.proc.send_signal(signal.SIGTERM)
    assert run.proc.wait(timeout=30) == 0
    assert run.log.rstrip().endswith("stopped")
    assert wait_for(lambda: not any(_alive(pid) for pid in [*pids.values(), restarted]), timeout=10)
    assert access(run.auth_port, sub.username) is None


def test_the_banner_prints_every_url_whole_however_narrow_the_console(monkeypatch, settings):
    from app.cli import demo as demo_cli
    from app.cli import run as run_cli

    console = Console(file=io.StringIO(), width=40, highlight=False)
    monkeypatch.setattr(run_cli, "out", console)
    monkeypatch.setattr(demo_cli, "out", console)
    summary = {"password": "Demo#Pass2026", "staff": {"email": "admin@backhaul.example"},
               "resellers": [{"name": "ABC Internet", "code": "ABC_ISP", "parent": None,
                              "hosts": ["east.abc.localhost", "abc-isp.localhost"],
                              "users": [("admin@abc-internet.example", "Admin")],
                              "customers": [("ABC000001", "Juma Ali", "Active")], "network_password": "NetPass2026"}]}
    run_cli._banner(settings, "127.0.0.1", 8000, summary)
    printed = console.file.getvalue()
    for url in ("http://console.test.example:8000/", "http://console.test.example:8000/api/docs",
                "http://localhost:8000/healthz", "http://east.abc.localhost:8000/", "http://abc-isp.localhost:8000/"):
        assert re.search(rf"(^|\s){re.escape(url)}(\s|$)", printed, re.M), printed
