"""What a process holds once: settings, the database, Redis, the tenant directory."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import redis

from app.config import Settings
from app.db import Database
from tenants.registry import TenantDirectory


@dataclass
class State:
    settings: Settings
    db: Database
    directory: TenantDirectory

    @cached_property
    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
