"""The platform's dashboard (every tenant summed), kept a few minutes in Redis.

Why kept: `dashboard.build` reads each tenant in its own schema, one short transaction after another, so the
platform's figures cost a pass over every reseller. That is right for the figures of one reseller (a handful of
schemas, and a reseller who just took a payment expects to see it), but the console's landing page, opened by
every member of staff many times a day, and its three charts (each an image fetched on its own) would each pay
for every tenant again. Staff read the platform's trend, not the last shilling, so the page draws what was
computed at most `MAX_AGE` ago, says when, and offers to compute it again now.

The entry is the platform's (`platform` scope in the key: no tenant's key space), per time zone and day, and
holds only what every member of staff may see.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

from app.db import Database
from app.models.base import utcnow
from app.services.reports import dashboard, scope
from tenants.storage import redis_key

MAX_AGE = 300  # seconds


def _key(zone: ZoneInfo, today: date) -> str:
    return redis_key("platform", "dashboard", zone.key, today.isoformat())


def _encode(found: dict) -> str:
    return json.dumps(found, default=lambda v: v.isoformat())


def _decode(raw: bytes | str) -> dict:
    found = json.loads(raw)
    found["as_of"] = date.fromisoformat(found["as_of"])
    found["period"] = {k: date.fromisoformat(v) for k, v in found["period"].items()}
    found["computed_at"] = datetime.fromisoformat(found["computed_at"])
    return found


def figures(db: Database, redis, today: date, zone: ZoneInfo, *, fresh: bool = False) -> dict:
    """`dashboard.build` over every tenant, with `computed_at`; from Redis when computed under MAX_AGE
    ago (unless `fresh`), else computed now and kept."""
    key = _key(zone, today)
    if not fresh:
        raw = redis.get(key)
        if raw is not None:
            return _decode(raw)
    with db.session() as session:
        everyone = scope.of_platform(session, None)
    found = dashboard.build(db, everyone, today, zone)
    found["computed_at"] = utcnow()
    redis.set(key, _encode(found), ex=MAX_AGE)
    return found
