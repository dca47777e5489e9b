"""A Dramatiq broker of one test: the real Redis under a namespace of its own, the actors the test runs bound to
it, and the worker's database this run's; when the test ends, the broker goes with everything it queued.

Why a broker per test: the process broker is shared by every test of a worker process, and a message one test
leaves behind would run in the next. Each area's fixture names its actors (and quick retries where it waits for
them) and yields what its tests use.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from dramatiq import Worker

import worker.broker


@contextmanager
def bound_broker(redis_url: str, monkeypatch, name: str, actors: Iterable = (), *, db=None,
                 options: dict | None = None) -> Iterator:
    """A broker named `backhaul-test-<name>-…` with `actors` declared on it (each with `options` set, such as
    quick backoffs), and `worker.broker.database` this run's `db` when given."""
    namespace = f"backhaul-test-{name}-{secrets.token_hex(4)}"
    broker = worker.broker.build_broker(redis_url, namespace=namespace)
    for actor in actors:
        monkeypatch.setattr(actor, "broker", broker)
        broker.declare_actor(actor)
        for key, value in (options or {}).items():
            monkeypatch.setitem(actor.options, key, value)
    if db is not None:
        monkeypatch.setattr(worker.broker, "database", lambda: db)
    try:
        yield broker
    finally:
        broker.flush_all()
        broker.client.delete(*broker.client.keys(f"{namespace}*") or ["-"])
        broker.close()


@contextmanager
def worker_running(broker, threads: int = 1) -> Iterator[Worker]:
    """A Dramatiq worker in this process consuming `broker`'s queues while the block runs (a page that follows a
    job waits for it inside the block)."""
    runner = Worker(broker, worker_threads=threads, worker_timeout=100)
    runner.start()
    try:
        yield runner
    finally:
        runner.stop()
