"""A real SMTP server (aiosmtpd) and a real Dramatiq worker on the real Redis, for the outbox's tests.

How the e-mail actors are pointed at the test run. `worker/actors/email.py` declares its actors on the
process broker of `worker.broker`, which is built when that module is first imported, from the
environment of that moment. In a test session that moment may be collection (another test module imports
`worker.broker` at its top), before the session's fixtures have put this run's database and queue
namespace into the environment, so the process broker and `worker.broker.settings()`/`database()` cannot
be trusted to be this run's. The `mail_broker` fixture therefore:

1. builds a broker of its own (`build_broker`, a fresh Redis namespace, the same tenant middleware),
2. re-binds both actors to it (`actor.broker = …` and `broker.declare_actor(actor)`: exactly what the
   `@dramatiq.actor(broker=…)` decorator does at declaration), so that `actor.send()`, which the
   outbox's after-commit hook calls, enqueues there,
3. points `worker.broker.settings` and `worker.broker.database`, which the actors call at run time, at
   this run's settings (with the test SMTP server's URL) and this run's database, and
4. shortens the actors' backoff (their options, as Dramatiq reads them at each retry).

All four are undone by monkeypatch after the test. Nothing is mocked: the broker, Redis, PostgreSQL and
the SMTP server are the real ones; only which instance the actors use is chosen here.
"""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from dramatiq import Worker

from tests.brokers import bound_broker


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float = 15.0, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Inbox:
    """The aiosmtpd handler: keeps what it receives; refuses recipients at `refuse.example` with a 550."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.endswith("@refuse.example"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        with self._lock:
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self.messages if address in m["To"]]


class SmtpServer:
    """A real SMTP server on a loopback port; `start()` again after `stop()` serves the same port."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.inbox = Inbox()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SmtpServer:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp_server():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def mail_broker(redis_url, db, settings, smtp_server, monkeypatch):
    """This test's broker, with the e-mail actors bound to it (see the module docstring)."""
    import worker.broker
    from worker.actors import email

    mail_settings = dataclasses.replace(settings, smtp_url=smtp_server.url)
    monkeypatch.setattr(worker.broker, "settings", lambda: mail_settings)
    with bound_broker(redis_url, monkeypatch, "mail", (email.send_tenant_email, email.send_platform_email), db=db,
                      options={"min_backoff": 200, "max_backoff": 800}) as broker:
        yield broker


class RunningWorker:
    def __init__(self, broker) -> None:
        self.broker = broker
        self.worker = Worker(broker, worker_threads=2, worker_timeout=100)

    def drain(self, timeout_ms: int = 15_000) -> None:
        """Wait until the e-mail queue (and its retries) is empty and nothing is in progress."""
        self.broker.join("email", timeout=timeout_ms)
        self.worker.join()


@pytest.fixture
def mail_worker(mail_broker):
    """A Dramatiq worker, in this process, consuming the test broker's queues."""
    running = RunningWorker(mail_broker)
    running.worker.start()
    yield running
    running.worker.stop()


def queued_count(broker, queue: str = "email") -> int:
    """Messages on the queue, its delay queue and in progress (Dramatiq's own count, from Redis)."""
    return broker.do_qsize(queue)
