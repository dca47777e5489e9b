"""Fixtures for the dashboard and report tests: billable customers (with the ledger audit after each
test), the reseller tree of tests/resellers, signed-in users, and the real SMTP server and worker of
tests/notifications.
"""

from __future__ import annotations

import secrets

import pytest

from tests.billing.conftest import billable, make_tenant  # noqa: F401  (fixtures)
from tests.notifications.conftest import mail_broker, mail_worker, smtp_server  # noqa: F401
from tests.provisioning.conftest import make_plan, make_shop  # noqa: F401
from tests.resellers.conftest import root, staff, tree  # noqa: F401


@pytest.fixture
def export_broker(redis_url, db, monkeypatch):
    """The export actors bound to a broker of this test (the real Redis), and this run's database."""
    import worker.broker
    from worker.actors import reports as actors
    from worker.broker import build_broker

    namespace = f"backhaul-test-export-{secrets.token_hex(4)}"
    broker = build_broker(redis_url, namespace=namespace)
    for actor in (actors.report_export, actors.report_export_platform):
        monkeypatch.setattr(actor, "broker", broker)
        broker.declare_actor(actor)
    monkeypatch.setattr(worker.broker, "database", lambda: db)
    yield broker
    broker.flush_all()
    broker.client.delete(*broker.client.keys(f"{namespace}*") or ["-"])
    broker.close()
