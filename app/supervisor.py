"""Keeping the processes of `backhaul run` up, each on its own.

Web, job worker, scheduler, RADIUS and the mail catcher are separate services that happen to share a
terminal. Stopping all of them because one died (a job that blew up the worker, an out-of-memory kill)
took authentication away from every router, so a child that exits is started again on its own and the
others never notice. The pause before a restart doubles from `Backoff.first` to `Backoff.longest` while
the child keeps dying (one that cannot start must neither spin the CPU nor flood the log), and falls back
to the first once the child has stayed up `Backoff.stable` seconds.

Each child gets a process group of its own. A restart can then take the leftovers of the one that died
with it (Dramatiq's worker processes, gunicorn's workers, RADIUS's forked servers) before the new one
binds the same ports, and the terminal's Ctrl-C reaches only the supervisor, which passes it on once to
each child: a second signal would make Dramatiq kill its jobs instead of letting them finish. On Linux a
child is also told to stop if the supervisor itself is killed, so nothing is left behind without it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

_PR_SET_PDEATHSIG = 1
_prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None


@dataclass(frozen=True)
class Spec:
    """What to start: the command line and its environment."""

    name: str
    argv: list[str]
    env: dict


@dataclass(frozen=True)
class Backoff:
    first: float = 1.0
    longest: float = 60.0
    stable: float = 30.0  # up this long, and the next death counts as the first again

    def delay(self, failures: int) -> float:
        """The pause before restart number `failures` of a row of quick deaths (1 → first, 2 → double, …)."""
        return min(self.longest, self.first * 2 ** max(0, failures - 1))


def describe_exit(code: int) -> str:
    """`code 1`, or `code -9 (SIGKILL)` for a child a signal ended (Popen's negative return code)."""
    if code < 0:
        try:
            return f"code {code} ({signal.Signals(-code).name})"
        except ValueError:
            return f"code {code} (signal {-code})"
    return f"code {code}"


@dataclass
class Child:
    spec: Spec
    proc: subprocess.Popen | None = None
    started: float = 0.0
    restarts: int = 0  # since the supervisor started
    failures: int = 0  # deaths in a row, each within `stable` seconds of its start
    restart_at: float | None = None
    pids: list[int] = field(default_factory=list)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class Supervisor:
    """Start every child, restart the ones that die, stop them all on SIGINT, SIGTERM or SIGHUP."""

    def __init__(self, specs: list[Spec], say: Callable[[str], None], *, warn: Callable[[str], None] | None = None,
                 backoff: Backoff | None = None, grace: float = 10.0, tick: float = 0.2):
        self.children = [Child(spec) for spec in specs]
        self.say = say
        self.warn = warn or say
        self.backoff = backoff or Backoff()
        self.grace = grace
        self.tick = tick
        self._signals: list[int] = []

    # -- running ---------------------------------------------------------------------------------------
    def run(self) -> int:
        """Supervise until asked to stop; 0 once every child has stopped."""
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self._on_signal)
        self.start()
        while not self._signals:
            self.poll()
            time.sleep(self.tick)
        self.stop(self._signals[0])
        return 0

    def start(self) -> None:
        for child in self.children:
            self._start(child)
        self.say("started " + ", ".join(f"{c.spec.name} (pid {c.proc.pid})" for c in self.children))

    def _on_signal(self, signum, _frame) -> None:
        self._signals.append(signum)
        if len(self._signals) > 1:  # asked twice: stop waiting for the children
            for child in self.children:
                _signal_group(child, signal.SIGKILL)

    def poll(self) -> None:
        """One round: notice the children that died, start again those whose pause is over."""
        now = time.monotonic()
        for child in self.children:
            if child.restart_at is None and child.proc is not None and child.proc.poll() is not None:
                self._died(child, now)
            elif child.restart_at is not None and now >= child.restart_at:
                _signal_group(child, signal.SIGKILL)  # what the dead one left and did not stop on SIGTERM
                child.restarts += 1
                self._start(child)
                self.say(f"{child.spec.name} started again (pid {child.proc.pid})")

    def _died(self, child: Child, now: float) -> None:
        code = child.proc.returncode
        child.failures = 1 if now - child.started >= self.backoff.stable else child.failures + 1
        delay = self.backoff.delay(child.failures)
        child.restart_at = now + delay
        _signal_group(child, signal.SIGTERM)  # its own children, orphaned: let them finish and go
        self.warn(f"{child.spec.name} exited with {describe_exit(code)}; restarting in {delay:g} s "
                  f"(restart {child.restarts + 1})")

    def _start(self, child: Child) -> None:
        child.proc = subprocess.Popen(child.spec.argv, env=child.spec.env, stdin=subprocess.DEVNULL,
                                      process_group=0, preexec_fn=_stop_with_parent)
        child.pids.append(child.proc.pid)
        child.started = time.monotonic()
        child.restart_at = None

    # -- stopping --------------------------------------------------------------------------------------
    def stop(self, signum: int = signal.SIGTERM) -> None:
        """Pass the signal on once (Ctrl-C stays Ctrl-C, anything else is SIGTERM), wait `grace` seconds for
        each child and what it started, then kill what is left."""
        forward = signal.SIGINT if signum == signal.SIGINT else signal.SIGTERM
        for child in self.children:
            child.restart_at = None
            if child.alive:
                _signal_group(child, forward)
        deadline = time.monotonic() + self.grace
        while time.monotonic() < deadline and any(_group_alive(c) for c in self.children):
            time.sleep(0.05)
        for child in self.children:
            _signal_group(child, signal.SIGKILL)
            if child.proc is not None:
                child.proc.wait()


def _signal_group(child: Child, signum: int) -> None:
    if child.proc is None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is empty: nothing to do
        os.killpg(child.proc.pid, signum)


def _group_alive(child: Child) -> bool:
    """The child or anything it started is still there (the leader reaped as soon as it has exited)."""
    if child.proc is None:
        return False
    child.proc.poll()
    try:
        os.killpg(child.proc.pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _stop_with_parent() -> None:
    """In the child, before exec: SIGTERM when the supervisor dies, however it died (Linux only)."""
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM))
