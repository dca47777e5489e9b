"""The tenant travels with every message, over the real Redis broker, with a real Dramatiq worker."""


import dramatiq
import pytest
from dramatiq import Message, Worker
from dramatiq.brokers.redis import RedisBroker

from app.services.settings import get_setting, put_setting
from tenants import current_tenant, tenant_context
from tenants.context import TenantError
from tests.brokers import bound_broker


@pytest.fixture
def broker(redis_url, monkeypatch):
    with bound_broker(redis_url, monkeypatch, "tenancy") as made:
        yield made


def _drain(broker, queue: str) -> None:
    worker = Worker(broker, worker_threads=2, worker_timeout=100)
    worker.start()
    try:
        broker.join(queue, timeout=10_000)
        worker.join()
    finally:
        worker.stop()


def _dead_letters(broker, queue: str) -> int:
    return broker.client.zcard(f"{broker.namespace}:{queue}.XQ")


def test_each_message_runs_in_the_tenant_it_was_sent_from(broker, db, make_tenant):
    a, b = make_tenant("JOBA"), make_tenant("JOBB")
    ran_as = []

    @dramatiq.actor(broker=broker, queue_name="tq", max_retries=0)
    def remember(value):
        ran_as.append(current_tenant().code)
        with db.session() as s:
            put_setting(s, "remembered", value)

    for tenant, value in ((a, "alpha"), (b, "bravo"), (a, "alpha-2")):
        with tenant_context(tenant):
            remember.send(value)
    _drain(broker, "tq")
    assert sorted(ran_as) == sorted([a.code, b.code, a.code])
    with db.session() as s, tenant_context(a):
        assert get_setting(s, "remembered") in ("alpha", "alpha-2")
    with db.session() as s, tenant_context(b):
        assert get_setting(s, "remembered") == "bravo"
    assert current_tenant() is None


def test_sending_a_tenant_scoped_job_without_a_tenant_fails(broker):
    @dramatiq.actor(broker=broker, queue_name="tq2")
    def scoped():
        raise AssertionError("must not run")

    with pytest.raises(TenantError, match="tenant-scoped"):
        scoped.send()


def _foreign_producer(broker) -> RedisBroker:
    """A producer without our middleware: what a stale or rogue client could put on the queue."""
    return RedisBroker(client=broker.client, namespace=broker.namespace)


@pytest.mark.parametrize("options", [{}, {"tenant": "NO_SUCH_TENANT"}, {"tenant": "WRONG_ID", "tenant_id": -1}])
def test_messages_without_a_valid_tenant_are_refused_not_run(broker, make_tenant, options):
    if options.get("tenant") == "WRONG_ID":
        options = {"tenant": make_tenant("RECREATED").code, "tenant_id": -1}
    ran = []

    @dramatiq.actor(broker=broker, queue_name="tq3", max_retries=0)
    def scoped():
        ran.append(current_tenant())

    foreign = _foreign_producer(broker)
    foreign.declare_queue("tq3")
    foreign.enqueue(Message(queue_name="tq3", actor_name="scoped", args=(), kwargs={}, options=options))
    _drain(broker, "tq3")
    assert ran == []
    assert _dead_letters(broker, "tq3") == 1


def test_platform_actors_run_without_a_tenant(broker):
    ran = []

    @dramatiq.actor(broker=broker, queue_name="tq4", tenant_scoped=False)
    def platform_wide():
        ran.append(current_tenant())

    platform_wide.send()
    _drain(broker, "tq4")
    assert ran == [None]
