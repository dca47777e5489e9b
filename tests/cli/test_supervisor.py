"""The supervisor of `backhaul run` with real processes: a child that dies is started again alone, after a pause
that doubles while it keeps dying, and takes what it left behind with it; stopping ends every process."""

from __future__ import annotations

import os
import signal
import sys
import time

from app.supervisor import Backoff, Spec, Supervisor, describe_exit

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    with open(f"/proc/{pid}/stat") as fh:  # a zombie not reaped yet (its parent is init) is gone too
        return fh.read().rsplit(")", 1)[1].split()[0] == "Z"


def _until(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_exit_codes_say_which_signal():
    assert describe_exit(1) == "code 1"
    assert describe_exit(-9) == "code -9 (SIGKILL)"
    assert describe_exit(-15) == "code -15 (SIGTERM)"


def test_a_killed_child_is_restarted_alone_and_the_log_says_what_happened():
    said: list[str] = []
    supervisor = Supervisor([Spec("worker", SLEEPER, dict(os.environ)), Spec("radius", SLEEPER, dict(os.environ))],
                            say=said.append, backoff=Backoff(first=0.1, longest=1.0, stable=30))
    supervisor.start()
    worker, radius = supervisor.children
    first_worker, first_radius = worker.proc.pid, radius.proc.pid
    try:
        assert said == [f"started worker (pid {first_worker}), radius (pid {first_radius})"]
        os.kill(first_worker, signal.SIGKILL)
        assert _until(lambda: (supervisor.poll(), worker.restarts == 1)[1])
        assert said[1] == "worker exited with code -9 (SIGKILL); restarting in 0.1 s (restart 1)"
        assert said[2] == f"worker started again (pid {worker.proc.pid})"
        assert worker.proc.pid != first_worker and worker.alive
        assert radius.proc.pid == first_radius and radius.alive and radius.restarts == 0  # never touched
    finally:
        supervisor.stop()
    assert not worker.alive and not radius.alive


def test_the_pause_doubles_while_a_child_keeps_dying_and_is_capped():
    said: list[str] = []
    crasher = [sys.executable, "-c", "raise SystemExit(3)"]
    supervisor = Supervisor([Spec("web", crasher, dict(os.environ))], say=said.append,
                            backoff=Backoff(first=0.05, longest=0.2, stable=30))
    supervisor.start()
    try:
        assert _until(lambda: (supervisor.poll(), supervisor.children[0].restarts >= 4)[1], timeout=20)
    finally:
        supervisor.stop()
    deaths = [line for line in said if "exited" in line]
    assert deaths[:4] == ["web exited with code 3; restarting in 0.05 s (restart 1)",
                          "web exited with code 3; restarting in 0.1 s (restart 2)",
                          "web exited with code 3; restarting in 0.2 s (restart 3)",
                          "web exited with code 3; restarting in 0.2 s (restart 4)"]


def test_a_child_that_stayed_up_a_while_starts_again_after_the_shortest_pause():
    said: list[str] = []
    supervisor = Supervisor([Spec("worker", SLEEPER, dict(os.environ))], say=said.append,
                            backoff=Backoff(first=0.05, longest=5.0, stable=0.5))
    supervisor.start()
    child = supervisor.children[0]
    try:
        for restarts in (1, 2):  # two quick deaths in a row: the pause doubles
            os.kill(child.proc.pid, signal.SIGKILL)
            assert _until(lambda r=restarts: (supervisor.poll(), child.restarts == r)[1])
        time.sleep(0.6)  # up longer than `stable`
        os.kill(child.proc.pid, signal.SIGKILL)
        assert _until(lambda: (supervisor.poll(), child.restarts == 3)[1])
    finally:
        supervisor.stop()
    pauses = [line.split("restarting in ")[1] for line in said if "exited" in line]
    assert pauses == ["0.05 s (restart 1)", "0.1 s (restart 2)", "0.05 s (restart 3)"]


def test_what_a_dead_child_started_goes_with_it_before_the_restart(tmp_path):
    """A Dramatiq or RADIUS parent killed outright leaves its worker processes: they must not keep the queue's
    messages or the UDP ports from the one started in its place."""
    pid_file = tmp_path / "grandchild.pid"
    parent = [sys.executable, "-c",
              "import subprocess, sys, time\n"
              f"p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
              f"open({str(pid_file)!r}, 'w').write(str(p.pid))\n"
              "time.sleep(600)\n"]
    supervisor = Supervisor([Spec("worker", parent, dict(os.environ))], say=lambda _line: None,
                            backoff=Backoff(first=0.2, longest=1.0, stable=30))
    supervisor.start()
    child = supervisor.children[0]
    try:
        assert _until(lambda: pid_file.exists() and pid_file.read_text().strip())
        grandchild = int(pid_file.read_text())
        pid_file.unlink()
        os.kill(child.proc.pid, signal.SIGKILL)
        assert _until(lambda: (supervisor.poll(), child.restarts == 1)[1])
        assert _until(lambda: _gone(grandchild))
    finally:
        supervisor.stop()


def test_stopping_ends_every_child_and_what_it_started(tmp_path):
    stubborn = [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                                      "time.sleep(600)"]
    supervisor = Supervisor([Spec("web", SLEEPER, dict(os.environ)), Spec("mail", stubborn, dict(os.environ))],
                            say=lambda _line: None, grace=1.0)
    supervisor.start()
    pids = [c.proc.pid for c in supervisor.children]
    time.sleep(0.3)  # the stubborn one has installed its handler
    started = time.monotonic()
    supervisor.stop(signal.SIGTERM)
    assert time.monotonic() - started < 5  # the one ignoring SIGTERM is killed after the grace period
    assert all(_gone(pid) for pid in pids)
    assert [c.proc.returncode for c in supervisor.children] == [-signal.SIGTERM, -signal.SIGKILL]
