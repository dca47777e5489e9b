"""Test fixtures: a real PostgreSQL database made for this run (and dropped after), a real Redis.

DATABASE_URL points at a server (CI: the machine's PostgreSQL); the suite creates its own database
`backhaul_test_<random>` there. Without DATABASE_URL, the embedded PostgreSQL under
`.test-data/` is started. REDIS_URL likewise (embedded Redis otherwise); queues get a namespace of their own.
"""

from __future__ import annotations

import json
import os
import secrets
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import clock, embedded  # here, in xdist's controller, BACKHAUL_CLOCK becomes the offset its workers inherit
from app.config import Settings
from app.db import Database, sqlalchemy_url
from tenants import registry

ROOT = Path(__file__).resolve().parent.parent
RUN_ID = secrets.token_hex(4)
DATA_DIR = Path(os.environ.get("BACKHAUL_TEST_DATA_DIR", ROOT / ".test-data"))
QUEUE_NAMESPACE = f"backhaul-test-{RUN_ID}"

# Set before any test module is imported: `worker.broker` builds the process's broker at import, and
# its jobs (e-mails queued by the code under test) must land in this run's own namespace, in the
# Redis of this run, never in the default namespace of a Backhaul running on the same machine.
os.environ["REDIS_URL"] = os.environ.get("REDIS_URL") or embedded.ensure_redis(DATA_DIR)
os.environ["BACKHAUL_QUEUE_NAMESPACE"] = QUEUE_NAMESPACE


def pytest_report_header(config):
    """Say so when the clock is moved (BACKHAUL_CLOCK, the moved-clock runs of `make test`): a failure then
    may be a test or a rule that hangs on the day it runs."""
    if clock.is_moved():
        return (f"clock: moved to {clock.now().isoformat(timespec='seconds')} (BACKHAUL_CLOCK), ticking; "
                "tests that pin their own day (@pytest.mark.clock) are left out")
    return None


def pytest_collection_modifyitems(config, items):
    """Under a moved clock, a test marked `clock` would travel to its own day anyway: it would run exactly
    as it did in the normal run, so the moved-clock runs leave it out rather than pay for it again."""
    if not clock.is_moved():
        return
    pinned = [item for item in items if item.get_closest_marker("clock")]
    if pinned:
        config.hook.pytest_deselected(items=pinned)
        items[:] = [item for item in items if not item.get_closest_marker("clock")]


def _server_urls() -> tuple[str, str]:
    database_url = os.environ.get("DATABASE_URL") or embedded.ensure_postgres(DATA_DIR)
    return sqlalchemy_url(database_url), os.environ["REDIS_URL"]


@pytest.fixture(scope="session")
def server_urls():
    return _server_urls()


@pytest.fixture(scope="session")
def database_url(server_urls):
    """A fresh database for this test run, migrated to head, dropped at the end."""
    server = make_url(server_urls[0])
    name = f"backhaul_test_{RUN_ID}_{os.getpid()}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        # A test database is thrown away at the end: a commit need not wait for the disk to say its WAL is
        # written (a crash loses the last commits of a database nobody keeps); on a slow disk that wait is
        # most of a test's time. Nothing else about the server changes.
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit TO off'))
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        from migrations.runner import upgrade_public

        engine = Database.from_url(url, pool_size=1).engine
        upgrade_public(engine)
        engine.dispose()
        yield url
    finally:
        registry.close_all()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def redis_url(server_urls):
    yield server_urls[1]
    import redis

    client = redis.Redis.from_url(server_urls[1])
    keys = list(client.scan_iter(f"{QUEUE_NAMESPACE}*"))
    if keys:  # this run's queues: nothing of it should outlive the run
        client.delete(*keys)


@pytest.fixture(scope="session")
def test_env(database_url, redis_url, tmp_path_factory) -> dict:
    """The environment a Backhaul process of this test run sees."""
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "BACKHAUL_DATA_DIR": str(tmp_path_factory.mktemp("data")),
        "BACKHAUL_BASE_DOMAIN": "test.example",
        "BACKHAUL_CONSOLE_HOST": "console.test.example",
        "SECRET_KEY": "test-secret-" + RUN_ID,
        "BACKHAUL_TRUSTED_PROXIES": "10.0.0.0/8",
        "BACKHAUL_QUEUE_NAMESPACE": QUEUE_NAMESPACE,
    }


@pytest.fixture(scope="session", autouse=True)
def _process_env(test_env):
    """CLI commands and the worker read the environment: point them at the test run's services."""
    saved = {k: os.environ.get(k) for k in test_env}
    os.environ.update(test_env)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def settings(test_env) -> Settings:
    return Settings.from_env(test_env)


@pytest.fixture(scope="session")
def db(database_url) -> Database:
    database = Database.from_url(database_url, pool_size=5)
    directory = registry.bind(database.engine)
    _suite["engine"] = database.engine
    yield database
    _suite.pop("engine", None)
    directory.close()
    database.engine.dispose()


_suite: dict = {}


@pytest.fixture(autouse=True)
def _registry_back_to_the_suite():
    """A CLI command run in a test binds the tenant registry to its own engine, which does not LISTEN; give
    the suite's (listening) one back after every test, so later tests see NOTIFY-driven cache drops."""
    yield
    engine = _suite.get("engine")
    if engine is not None and registry._current is not None and registry._current.engine is not engine:
        registry.bind(engine)


@pytest.fixture(scope="session")
def app(settings, db):
    from app import create_app

    flask_app = create_app(settings, db)
    flask_app.config["TESTING"] = True
    return flask_app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(autouse=True)
def _pinned_clock(request):
    """`@pytest.mark.clock("2026-11-01T06:00:00Z")` (or a date: noon UTC) pins the one clock (app/clock.py)
    for a test that means a particular day; `tick=True` lets it run on from there. Unmarked tests read the
    clock as it is, which the moved-clock re-runs of `make test` set to other days."""
    marker = request.node.get_closest_marker("clock")
    if marker is None:
        yield
        return
    with clock.travel(marker.args[0], tick=marker.kwargs.get("tick", False)):
        yield


_counter = iter(range(1, 1_000_000))


@pytest.fixture
def make_tenant(db, settings):
    """Provision a tenant with a unique code; returns the Tenant (its platform host is `host_of(t)`)."""
    from app.services import tenants as svc

    def make(prefix: str = "T", **kwargs):
        code = kwargs.pop("code", None) or f"{prefix}{RUN_ID.upper()}_{next(_counter)}"
        with db.session() as session:
            return svc.provision(session, code=code, name=kwargs.pop("name", f"Tenant {code}"),
                                 base_domain=settings.base_domain, actor="test", **kwargs)

    return make


def host_of(tenant, settings_or_domain="test.example") -> str:
    from tenants.schema import subdomain_for_code

    return f"{subdomain_for_code(tenant.code)}.{settings_or_domain}"


@contextmanager
def platform_brand_kept(db):
    """The platform's own brand put back as it was when the block ends: the demo's tenants, which the portal
    tests share, inherit it (its terms, say), so a test that changes it must not leave the change behind."""
    from app.services import branding

    with db.session() as s:
        before = s.execute(text("SELECT fields FROM public.brandings WHERE tenant_id IS NULL")).scalar_one_or_none()
    try:
        yield
    finally:
        with db.session() as s:
            s.execute(text("DELETE FROM public.brandings WHERE tenant_id IS NULL"))
            if before is not None:
                s.execute(text("INSERT INTO public.brandings (tenant_id, fields) VALUES (NULL, CAST(:f AS jsonb))"),
                          {"f": json.dumps(before)})
            s.commit()
        branding.forget()
