"""The customer's privacy, tested through the customer's API, the reseller's API and the services, with the real
PostgreSQL and Redis: the portal's customers of tests/portal_api (a reseller with a signed-in customer, a second
customer, API keys and support staff signed in as the customer), every tenant audited afterwards (the ledger
and the documents must agree, whatever a deletion did), and a Dramatiq worker of the test's own that builds
exports (the export job re-bound to a broker of this test, as tests/billing's `billing_broker` does: nothing is
mocked, only which broker instance the actor uses is chosen here)."""

from __future__ import annotations

import io
import zipfile

import pytest
from dramatiq import Worker

from tests.brokers import bound_broker
from tests.portal_api.conftest import (  # noqa: F401  (fixtures)
    api_key,
    impersonate,
    invoice,
    make_plan,
    make_tenant,
    pay,
    portal,
    reseller_admin,
    staff,
)


@pytest.fixture
def privacy_broker(redis_url, db, monkeypatch):
    from worker.actors import privacy as actors

    with bound_broker(redis_url, monkeypatch, "privacy", (actors.build_data_export, actors.privacy_daily), db=db,
                      options={"min_backoff": 100, "max_backoff": 200}) as broker:
        yield broker


class ExportWorker:
    """A Dramatiq worker in this process, consuming the test broker's privacy queue."""

    def __init__(self, broker) -> None:
        self.broker = broker
        self.worker = Worker(broker, worker_threads=1, worker_timeout=100)

    def drain(self, timeout_ms: int = 60_000) -> None:
        self.broker.join("privacy", timeout=timeout_ms)
        self.worker.join()


@pytest.fixture
def export_worker(privacy_broker):
    running = ExportWorker(privacy_broker)
    running.worker.start()
    yield running
    running.worker.stop()


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}
