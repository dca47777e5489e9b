"""Usage: RADIUS accounting sessions, daily usage per service, fair use (FUP) and usage alerts.

The RADIUS server writes sessions and daily usage in bulk (radius/accounting.py); what reads them, and the
daily upkeep, is here:

- `rollup.daily(session, service_id, start, end)`: upload/download per day, for the portal's charts and
  for billing (also exported as `usage.daily`);
- `fup`: usage in the current billing cycle against the plan's allowance, threshold notifications, the
  Limited status at 100 % and its reset on the cycle date;
- `thresholds`: the customer's own usage alerts;
- `sessions`: open sessions, closing them (Accounting-On/Off, stale timeout) and purging old ones.
"""

from app.services.usage.rollup import cycle_usage, daily  # noqa: F401

__all__ = ["cycle_usage", "daily"]
