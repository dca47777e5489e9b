"""Scheduled reports: what to send, how often, to whom; and the daily run that sends what is due.

A run on day D covers the period just closed: daily → D−1; weekly → the seven days D−7 … D−1; monthly →
the previous calendar month. Monthly schedules run on a day of the month between 1 and 28, so that every
month has it.

The run is idempotent per (schedule, run date): the `report_runs` row is inserted first (ON CONFLICT DO
NOTHING) in the same transaction as the outbox e-mails, their attachments and the schedule's next date,
so a second run of the same day finds the row and sends nothing, and a crash before the commit leaves
nothing behind to be half-sent. A run that was missed (the worker down for days) sends once, for the
day it runs, and moves the schedule past it: no burst of stale reports.

Who may schedule: the principal is passed in, so every door (API, portal, CLI) meets the same rule.
Managing schedules is `finance.report_schedules`, apart from `finance.reports` (reading a report),
because a schedule sends the reseller's figures out by e-mail, every day, long after the session that
made it. A schedule that sends to an address which is not an active team member's e-mail (of this
reseller: a user of another tenant is nobody here) is saved only by a holder of `users.admin`: letting
someone outside the team receive the figures is the same decision as letting them in the team, and that
is the permission that makes it (`settings.manage` is pricing and branding, not who sees what). Anyone
who manages schedules may still pause or delete such a schedule: sending less never needs an Admin.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from email.utils import parseaddr

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.db import Database
from app.models import User
from app.models.base import utcnow
from app.models.reports import FREQUENCIES, REPORT_FORMATS, ReportRun, ReportSchedule
from app.services.auth.principal import Principal
from app.services.billing.invoices import local_today, zone_of
from app.services.errors import Invalid, NotFound, ServiceError
from app.services.notifications import queue_email
from app.services.reports import export, reports, scope
from app.services.reports.periods import DateRange, add_months, month_start
from tenants import require_tenant

log = logging.getLogger(__name__)

MAX_RECIPIENTS = 20
FIELDS = ("name", "report", "filters", "format", "frequency", "recipients", "next_run_on", "active")
MANAGE = "finance.report_schedules"
OUTSIDE = "users.admin"


class NotAllowed(ServiceError):
    status = 403
    slug = "forbidden"
    title = "Forbidden"


class OutsideRecipients(ServiceError):
    status = 403
    slug = "outside-recipients"
    title = "Recipients outside the team"


def period_for(frequency: str, run_on: date) -> tuple[date, date]:
    """The period a run on `run_on` reports on (inclusive dates)."""
    yesterday = run_on - timedelta(days=1)
    if frequency == "daily":
        return yesterday, yesterday
    if frequency == "weekly":
        return run_on - timedelta(days=7), yesterday
    return add_months(run_on, -1), month_start(run_on) - timedelta(days=1)


def following(frequency: str, current: date, after: date) -> date:
    """The first date of the schedule's cadence (from `current`) later than `after`."""
    nxt = current
    while nxt <= after:
        if frequency == "daily":
            nxt += timedelta(days=1)
        elif frequency == "weekly":
            nxt += timedelta(days=7)
        else:
            nxt = add_months(nxt, 1).replace(day=current.day)
    return nxt


# -- validation ------------------------------------------------------------------------------------
def _recipients(value) -> list[str]:
    if not isinstance(value, list) or not value:
        raise Invalid("recipients: a list of one or more e-mail addresses", field="recipients")
    if len(value) > MAX_RECIPIENTS:
        raise Invalid(f"recipients: at most {MAX_RECIPIENTS}", field="recipients")
    out = []
    for item in value:
        address = parseaddr(str(item))[1].strip().lower()
        if "@" not in address or any(c in str(item) for c in "\r\n") or len(address) > 254:
            raise Invalid(f"recipients: {item!r} is not an e-mail address", field="recipients")
        if address not in out:
            out.append(address)
    return out


def _filters(report: str, value) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Invalid("filters: an object of filter names and values", field="filters")
    value = dict(value)
    consolidated = value.pop("consolidated", False)
    if not isinstance(consolidated, bool):
        raise Invalid("filters.consolidated: true or false", field="filters")
    cleaned = reports.clean_filters(reports.get(report), {k: str(v) for k, v in value.items()})
    return {**cleaned, **({"consolidated": True} if consolidated else {})}


def _clean(values: dict, current: ReportSchedule | None, today: date) -> dict:
    merged = {k: getattr(current, k) for k in FIELDS} if current is not None else {}
    merged.update({k: v for k, v in values.items() if k in FIELDS})
    name = str(merged.get("name") or "").strip()
    if not name or len(name) > 200:
        raise Invalid("name: 1 to 200 characters", field="name")
    report = merged.get("report")
    reports.get(report or "")
    if merged.get("format") not in REPORT_FORMATS:
        raise Invalid(f"format: one of {', '.join(REPORT_FORMATS)}", field="format")
    frequency = merged.get("frequency")
    if frequency not in FREQUENCIES:
        raise Invalid(f"frequency: one of {', '.join(FREQUENCIES)}", field="frequency")
    next_run_on = merged.get("next_run_on") or today + timedelta(days=1)
    if "next_run_on" in values and next_run_on < today:
        raise Invalid("next_run_on: today or later", field="next_run_on")
    if frequency == "monthly" and next_run_on.day > 28:
        raise Invalid("next_run_on: a monthly report runs on day 1 to 28 (every month has it)", field="next_run_on")
    return {"name": name, "report": report, "filters": _filters(report, merged.get("filters")),
            "format": merged["format"], "frequency": frequency, "recipients": _recipients(merged.get("recipients")),
            "next_run_on": next_run_on, "active": bool(merged.get("active", True))}


# -- who may ---------------------------------------------------------------------------------------
def _may_manage(by: Principal) -> None:
    if by.read_only or not by.can(MANAGE):
        raise NotAllowed(f"scheduling reports needs the '{MANAGE}' permission")


def outside_team(session: Session, addresses: list[str]) -> list[str]:
    """The addresses (already lower-cased) that are no active team member's e-mail, in their order."""
    team = set(session.execute(select(func.lower(User.email)).where(
        User.is_active, func.lower(User.email).in_(addresses))).scalars()) if addresses else set()
    return [a for a in addresses if a not in team]


def _may_send_to(session: Session, by: Principal, cleaned: dict, current: ReportSchedule | None) -> None:
    if by.can(OUTSIDE):
        return
    outside = outside_team(session, cleaned["recipients"])
    if not outside:
        return
    kept = set(current.recipients) if current is not None else set()
    if not cleaned["active"] and set(outside) <= kept:
        return  # pausing (or tidying a paused schedule) sends nothing and adds no one
    raise OutsideRecipients(
        f"{', '.join(outside)} {'is' if len(outside) == 1 else 'are'} not the e-mail of an active team member; "
        f"only a user with the '{OUTSIDE}' permission (an Admin) may send reports outside the team",
        outside=outside, permission=OUTSIDE)


# -- CRUD ------------------------------------------------------------------------------------------
def get(session: Session, schedule_id: int) -> ReportSchedule:
    row = session.get(ReportSchedule, schedule_id) if 0 < schedule_id < 2**63 else None
    if row is None:
        raise NotFound("no such report schedule")
    return row


def list_all(session: Session) -> list[ReportSchedule]:
    return list(session.execute(select(ReportSchedule).order_by(ReportSchedule.id)).scalars())


def create(session: Session, values: dict, *, by: Principal) -> ReportSchedule:
    _may_manage(by)
    cleaned = _clean(values, None, local_today(session))
    _may_send_to(session, by, cleaned, None)
    row = ReportSchedule(**cleaned, created_by=by.actor)
    session.add(row)
    session.flush()
    return row


def update(session: Session, schedule_id: int, values: dict, *, by: Principal) -> ReportSchedule:
    _may_manage(by)
    row = get(session, schedule_id)
    cleaned = _clean(values, row, local_today(session))
    _may_send_to(session, by, cleaned, row)
    for key, value in cleaned.items():
        setattr(row, key, value)
    session.flush()
    return row


def delete(session: Session, schedule_id: int, *, by: Principal) -> None:
    _may_manage(by)
    session.delete(get(session, schedule_id))
    session.flush()


# -- running ---------------------------------------------------------------------------------------
def run_due(db: Database, on: date) -> list[int]:
    """Send every active schedule of the current tenant due on or before `on`; returns the ids of the
    runs made now (each schedule in a transaction of its own, so one failing does not hold the others)."""
    with db.session() as session:
        due = session.execute(select(ReportSchedule.id).where(
            ReportSchedule.active, ReportSchedule.next_run_on <= on).order_by(ReportSchedule.id)).scalars().all()
    made = []
    for schedule_id in due:
        try:
            run_id = run_one(db, schedule_id, on)
        except Exception:  # one broken schedule (a filter no longer valid...) must not stop the others
            log.exception("report schedule %s: the run of %s failed", schedule_id, on)
            continue
        if run_id is not None:
            made.append(run_id)
    return made


def run_one(db: Database, schedule_id: int, on: date) -> int | None:
    """One schedule's run of `on`, or None when it already ran that day (or is not due)."""
    tenant = require_tenant()
    with db.session() as session:
        row = session.get(ReportSchedule, schedule_id, with_for_update=True)
        if row is None or not row.active or row.next_run_on > on:
            return None
        start, end = period_for(row.frequency, on)
        run_id = session.execute(insert(ReportRun).values(
            schedule_id=row.id, run_on=on, period_start=start, period_end=end, rows=0)
            .on_conflict_do_nothing(constraint="uq_report_runs_schedule_run_on").returning(ReportRun.id)
        ).scalar_one_or_none()
        if run_id is None:
            return None
        filters = dict(row.filters or {})
        consolidated = bool(filters.pop("consolidated", False))
        zone = zone_of(session)
        where = scope.of_tenant(session, tenant, consolidated=consolidated)
        table = reports.run(db, where, row.report, DateRange(start, end, zone), filters, now=utcnow())
        content, content_type, filename = export.render(table, row.format)
        context = {"report_title": table.report.title, "schedule_name": row.name, "period_start": start,
                   "period_end": end, "scope": table.scope, "rows": len(table.rows), "filename": filename}
        outbox_ids = [queue_email(session, to=address, template="reports/scheduled", context=context,
                                  attachments=[(filename, content_type, content)]).id
                      for address in row.recipients]
        run = session.get(ReportRun, run_id)
        run.rows, run.outbox_ids = len(table.rows), outbox_ids
        row.last_sent_on = on
        row.next_run_on = following(row.frequency, row.next_run_on, on)
        return run_id
