"""The process's broker, built from the settings when this module is first imported.

Actors bind to the broker current at their declaration, so this module is imported before any actor
module (``worker.main`` does that for the `dramatiq` command; ``backhaul run`` starts it).
"""

from __future__ import annotations

import logging
import os
from functools import cache

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from app.config import Settings
from app.db import Database
from tenants import registry, storage
from worker.middleware import TenantMiddleware

# Alembic announces each of its plugins at INFO when first imported (the actors reach app.services.tenants,
# which imports the migration runner): noise in every worker's log
logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def build_broker(redis_url: str, namespace: str | None = None) -> RedisBroker:
    broker = RedisBroker(url=redis_url, namespace=namespace or storage.namespace())
    broker.add_middleware(TenantMiddleware())
    return broker


@cache
def settings() -> Settings:
    from app import embedded

    found = Settings.from_env()
    return found if found.database_url and found.redis_url else embedded.resolve(found)


@cache
def database() -> Database:
    """The worker process's database; the tenant registry is bound to it."""
    db = Database.from_url(settings().database_url, pool_size=settings().db_pool_size)
    registry.bind(db.engine)
    return db


def _redis_url() -> str:
    """Only Redis is needed to declare actors; the database is resolved when a job first runs."""
    url = os.environ.get("REDIS_URL")
    if url:
        return url
    from app import embedded

    return embedded.ensure_redis(Settings.from_env().data_dir)


broker = build_broker(_redis_url())
dramatiq.set_broker(broker)
