"""The reseller's rules for payment plans, its setting `payment_plans`:

    {"enabled": true, "min_balance": "1000.00", "min_instalments": 2, "max_instalments": 6, "grace_days": 3}

- `min_balance`: a customer may ask for a plan only when their open invoices owe at least this much (a plan
  is for a large balance; a small one is paid, or dunned, as usual). Money as a decimal string.
- `min_instalments`, `max_instalments`: the numbers of monthly instalments a customer may propose. The
  reseller, approving, may set any schedule up to MAX_INSTALMENTS.
- `grace_days`: days after an instalment's due date before it counts as missed and the plan ends.

Missing keys take the defaults, so a setting stored before a key existed still reads; a stored value that no
longer validates falls back to the defaults (and says so in the log) rather than stopping the daily check.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from app.services import activity
from app.services.auth.principal import Principal
from app.services.errors import Invalid
from app.services.money import money
from app.services.settings import get_setting, put_setting

log = logging.getLogger(__name__)

SETTING = "payment_plans"
MAX_INSTALMENTS = 36
MAX_GRACE = 60


@dataclass(frozen=True)
class PlanPolicy:
    enabled: bool = True
    min_balance: Decimal = Decimal("1000.00")
    min_instalments: int = 2
    max_instalments: int = 6
    grace_days: int = 3

    def as_setting(self) -> dict:
        return {"enabled": self.enabled, "min_balance": str(self.min_balance),
                "min_instalments": self.min_instalments, "max_instalments": self.max_instalments,
                "grace_days": self.grace_days}


def _whole(value, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Invalid(f"{field}: a whole number from {low} to {high}", field=field)
    return value


def validate(raw) -> PlanPolicy:
    if not isinstance(raw, dict):
        raise Invalid("the payment plan policy is an object")
    unknown = set(raw) - set(PlanPolicy.__dataclass_fields__)
    if unknown:
        raise Invalid(f"unknown key(s): {', '.join(sorted(unknown))}", field=sorted(unknown)[0])
    default = PlanPolicy()
    enabled = raw.get("enabled", default.enabled)
    if not isinstance(enabled, bool):
        raise Invalid("enabled: true or false", field="enabled")
    minimum = money(raw.get("min_balance", str(default.min_balance)), "min_balance")
    if minimum < 0:
        raise Invalid("min_balance: 0 or more", field="min_balance")
    low = _whole(raw.get("min_instalments", default.min_instalments), "min_instalments", 1, MAX_INSTALMENTS)
    high = _whole(raw.get("max_instalments", default.max_instalments), "max_instalments", 1, MAX_INSTALMENTS)
    if high < low:
        raise Invalid("max_instalments: at least min_instalments", field="max_instalments")
    grace = _whole(raw.get("grace_days", default.grace_days), "grace_days", 0, MAX_GRACE)
    return PlanPolicy(enabled=enabled, min_balance=minimum, min_instalments=low, max_instalments=high,
                      grace_days=grace)


def policy(session: Session) -> PlanPolicy:
    stored = get_setting(session, SETTING) or {}
    try:
        return validate(stored)
    except Invalid as exc:
        log.error("payment plan policy is invalid (%s); using the defaults", exc.detail)
        return PlanPolicy()


def put_policy(session: Session, raw, *, principal: Principal | None = None) -> PlanPolicy:
    found = validate(raw)
    put_setting(session, SETTING, found.as_setting())
    activity.record(session, principal, None, "payment_plans.policy_changed", policy=found.as_setting())
    return found
