"""The reseller's RADIUS usage settings: keys of the tenant setting `radius` (the same object as the reply
policy of radius/profiles.py, whose `interim_interval` it shares), each optional:

- `interim_interval` (seconds, default 900 as in radius/profiles.py): the Acct-Interim-Interval routers are
  told; a session with no accounting for `stale_after_intervals` (default 3) of them is closed as stale;
- `session_retention_days` (default 180): closed sessions older than this are purged (daily usage is
  kept 24 months whatever this says).

A value that is not a positive whole number falls back to its default.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.services.settings import get_setting

DEFAULTS = {"interim_interval": 900, "stale_after_intervals": 3, "session_retention_days": 180}
USAGE_RETENTION_MONTHS = 24


def radius_settings(session: Session) -> dict:
    stored = get_setting(session, "radius")
    merged = dict(DEFAULTS)
    if isinstance(stored, dict):
        for key, default in DEFAULTS.items():
            value = stored.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                merged[key] = value
            elif value is not None:
                merged[key] = default
        merged.update({k: v for k, v in stored.items() if k not in DEFAULTS})
    return merged
