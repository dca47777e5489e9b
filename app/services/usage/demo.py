"""Demo data for the portal's usage chart: a month of plausible daily traffic for one service.

Deterministic (the same service gets the same figures), and idempotent: days that already have usage
keep it, so seeding twice, or after real accounting arrived, changes nothing that exists.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app import clock
from app.models.usage import UsageDaily

GB = 1 << 30


def seed_usage(session: Session, service_id: int, *, days: int = 30, today: date | None = None) -> int:
    """Daily usage for the `days` days before `today` (evenings and weekends heavier); returns the days
    written now."""
    today = today or clock.today()
    chance = random.Random(service_id)  # noqa: S311 - demo figures, not secrets
    rows = []
    for back in range(days, 0, -1):
        day = today - timedelta(days=back)
        weekend = day.weekday() >= 5
        download = int(chance.uniform(0.8, 2.5 if weekend else 1.6) * GB)
        rows.append({"service_id": service_id, "day": day, "download": download,
                     "upload": int(download * chance.uniform(0.06, 0.15))})
    if not rows:
        return 0
    return len(session.execute(insert(UsageDaily).values(rows).on_conflict_do_nothing(
        index_elements=["service_id", "day"]).returning(UsageDaily.day)).all())
