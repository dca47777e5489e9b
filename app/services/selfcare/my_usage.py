"""The customer's usage of their own services, as the Usage pages show it: upload and download over a period
(by day, week or month) with the current cycle, the RADIUS sessions, calls and messages, and their own usage
alerts.

The figures are `app.services.usage`'s (views, records, thresholds), read through one rule: a customer sees
only their own services; another customer's is not found, as if it did not exist. What is added here is the
customer's side of it:

- the period a page opens on when none is asked for: the current billing cycle, from its first day to today
  (a service that never started has no cycle: the last 30 days);
- their own alerts: at most `MAX_ALERTS` per service (the customer's API allows as many), each a whole
  percent from 1 to 100 of the plan's allowance, on top of the platform's 75, 90 and 100; a change is in the
  customer's activity log.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from app.models.catalogue import Plan
from app.models.provisioning import Service
from app.services import activity
from app.services.auth.principal import Principal
from app.services.errors import Invalid
from app.services.selfcare.my_services import own_service
from app.services.settings import local_today
from app.services.usage import records, thresholds, views

MAX_ALERTS = 5
DEFAULT_DAYS = 30


def default_period(session: Session, service: Service, current: dict | None = None) -> tuple[date, date]:
    """This cycle so far (its first day to today, or to its last day if that is earlier), or the last 30 days;
    `current` is the service's cycle (`views.cycle`) when the caller has it."""
    today = local_today(session)
    current = current or views.cycle(session, service)
    if current is None:
        return today - timedelta(days=DEFAULT_DAYS - 1), today
    return current["start"], min(today, current["end"])


def usage(session: Session, customer_id: int, service_id: int, start: date | None = None, end: date | None = None,
          group: str = "day") -> dict:
    """The service's upload and download from `start` to `end` (both included; the default period when either
    is missing), grouped by `group`, their totals and the current cycle."""
    if group not in views.GROUPS:
        raise Invalid(f"group: one of {', '.join(views.GROUPS)}", field="group")
    service = own_service(session, customer_id, service_id)
    current = views.cycle(session, service)  # read once: it opens the default period and is shown beside it
    if start is None or end is None:
        start, end = default_period(session, service, current)
    return views.usage(session, service, start, end, group=group, current=current)


def has_calls(session: Session, customer_id: int, service_id: int) -> bool:
    """Whether the service has calls or messages to show: a voice service, a plan with minutes, or records."""
    service = own_service(session, customer_id, service_id)
    plan = session.get(Plan, service.plan_id)
    if service.kind == "voice" or (plan is not None and plan.voice_minutes):
        return True
    return records.page(session, service.id, page=1, per_page=1)["total"] > 0


def sessions(session: Session, customer_id: int, service_id: int, *, page: int, per_page: int) -> dict:
    """The service's RADIUS sessions, newest first."""
    return views.sessions_page(session, own_service(session, customer_id, service_id).id, page=page,
                               per_page=per_page)


def calls(session: Session, customer_id: int, service_id: int, *, page: int, per_page: int) -> dict:
    """The service's calls and messages, newest first, with what each took from the buckets."""
    return records.page(session, own_service(session, customer_id, service_id).id, page=page, per_page=per_page)


def alerts(session: Session, customer_id: int, service_id: int) -> dict:
    """The customer's own alerts for the service, the platform's, and the two together."""
    return views.thresholds_out(session, own_service(session, customer_id, service_id).id)


def set_alerts(session: Session, customer_id: int, service_id: int, percents: list[int], *,
               principal: Principal | None) -> dict:
    """Replace the customer's own alerts for the service (duplicates count once; an empty list removes them)."""
    service = own_service(session, customer_id, service_id)
    if len(set(percents)) > MAX_ALERTS:
        raise Invalid(f"percents: at most {MAX_ALERTS} alerts", field="percents")
    before = thresholds.of_service(session, service.id)
    after = thresholds.set_for_service(session, service.id, percents)
    if after != before:
        activity.record(session, principal, customer_id, "usage_thresholds.set", service_id=service.id,
                        percents=after)
    return views.thresholds_out(session, service.id)
