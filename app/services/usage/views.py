"""What the API shows of a service's usage: daily figures with totals, the current billing cycle against
the plan's allowance, accounting sessions, and the CoA/Disconnect history; and an operator's Disconnect.

Read over the tables the RADIUS service writes (the accounting store, fup.py, radius/coa.py): nothing here
recomputes usage, so what a customer sees is what fair use and billing count. The one write: the current
cycle's plan buckets are made when the cycle is shown before any usage made them (allowance.py), so the
plan's allowance is always in the list. Octets are exact integers; megabytes (2^20 octets, as allowances
count them) are decimals rounded half-up.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.models import Customer
from app.models.base import utcnow
from app.models.catalogue import Plan
from app.models.provisioning import Service
from app.models.usage import CoaRequest, FupState, RadiusSession
from app.services.billing import buckets, cycles, invoices, topups
from app.services.errors import Conflict
from app.services.settings import local_today
from app.services.usage import allowance, rollup, thresholds
from app.services.usage import fup as fup_rule
from app.services.usage.allowance import OCTETS_PER_MB

MB_PLACES = Decimal("0.001")
ZERO = Decimal("0")
PERCENT_PLACES = Decimal("0.1")
WARNING_PERCENT = 75
PORTAL_DAYS = 30

# RFC 5176 §3.5: what a router's NAK says
ERROR_CAUSES = {
    201: "Residual Session Context Removed", 202: "Invalid EAP Packet (Ignored)", 401: "Unsupported Attribute",
    402: "Missing Attribute", 403: "NAS Identification Mismatch", 404: "Invalid Request",
    405: "Unsupported Service", 406: "Unsupported Extension", 407: "Invalid Attribute Value",
    501: "Administratively Prohibited", 502: "Request Not Routable (Proxy)", 503: "Session Context Not Found",
    504: "Session Context Not Removable", 505: "Other Proxy Processing Error", 506: "Resources Unavailable",
    507: "Request Initiated", 508: "Multiple Session Selection Unsupported",
}


def mb(octets: int) -> Decimal:
    return (Decimal(octets) / OCTETS_PER_MB).quantize(MB_PLACES, rounding=ROUND_HALF_UP)


def cycle(session: Session, service: Service, *, now: datetime | None = None) -> dict | None:
    """The billing cycle `now` falls in, with the usage in it against the plan's allowance and the
    buckets it is drawn from; None for a service never activated (it has no cycle yet).

    `percent` is of the plan's allowance, counting only the usage that reached it (fup.py: promotions and
    top-ups are drawn first); `remaining_mb` is what every usable data bucket still holds. `state`:
    `unlimited` (no allowance), `ok`, `warning` (75 % or more), `exceeded` (100 % or more, still at full
    speed: emergency credit or another bucket drawn after the plan's is being used), `limited` (Limited by
    fair use until a top-up or `resets_on`)."""
    return cycles_of(session, [service], now=now)[service.id]


def cycles_of(session: Session, services: list[Service], *, now: datetime | None = None) -> dict[int, dict | None]:
    """`cycle` for several services, by service id, in a handful of queries whatever their number (a
    dashboard shows every service's cycle)."""
    now = now or utcnow()
    zone = invoices.zone_of(session)
    today = invoices.local_date(now, zone)
    active = [s for s in services if s.activated_at is not None]
    out: dict[int, dict | None] = {s.id: None for s in services}
    if not active:
        return out
    ids = [s.id for s in active]
    billing_days = dict(session.execute(select(Customer.id, Customer.billing_day)
                                        .where(Customer.id.in_({s.customer_id for s in active}))).all())
    periods = {s.id: cycles.cycle_containing(
        today, cycles.anchor(invoices.local_date(s.activated_at, zone), billing_days.get(s.customer_id)),
        cycles.cycle_months(s.billing_period)) for s in active}
    allowance.ensure_current_of(session, ids, now=now)
    used: dict[int, int] = {}
    for period in set(periods.values()):
        used.update(rollup.cycle_usage(session, [i for i in ids if periods[i] == period], period.start, period.end))
    plan_mb = dict(session.execute(select(Plan.id, Plan.data_allowance_mb)
                                   .where(Plan.id.in_({s.plan_id for s in active}))).all())
    fups = {f.service_id: f for f in session.execute(select(FupState).where(FupState.service_id.in_(ids))).scalars()
            if f.cycle_start == periods[f.service_id].start}
    drawn = buckets.of_services(session, ids, include_spent=True, now=now)
    for service in active:
        period, fup, allowance_mb = periods[service.id], fups.get(service.id), plan_mb.get(service.plan_id)
        found = cycle_buckets(drawn.get(service.id, []), period, zone, now)
        octets = used.get(service.id, 0)
        figures = {"start": period.start, "end": period.end, "resets_on": period.end + timedelta(days=1),
                   "used_octets": octets, "used_mb": mb(octets), "allowance_mb": allowance_mb, "remaining_mb": None,
                   "percent": None, "topup_drawn_mb": fup.drawn_mb if fup else ZERO,
                   "uncovered_mb": fup.uncovered_mb if fup else ZERO,
                   "thresholds_crossed": sorted(fup.crossed or []) if fup else [], "state": "unlimited",
                   "buckets": found}
        if allowance_mb is not None:
            percent = fup_rule.percent_of(fup_rule.plan_share(fup) if fup else ZERO, allowance_mb)
            remaining = sum((b["remaining"] for b in found if b["kind"] == "data" and b["usable"]), ZERO)
            figures.update(percent=percent, remaining_mb=remaining.quantize(MB_PLACES),
                           state=_state(session, service, percent))
        out[service.id] = figures
    return out


def _state(session: Session, service: Service, percent: Decimal | None) -> str:
    if topups.limited_by_usage(session, service):
        return "limited"
    if percent is not None and percent >= 100:
        return "exceeded"
    if percent is not None and percent >= WARNING_PERCENT:
        return "warning"
    return "ok"


def cycle_buckets(held: list, period: cycles.Period, zone, now: datetime) -> list[dict]:
    """Of a service's buckets (every one it holds, in draw order), those that count in this cycle: those
    usable now, and those that began or ran out (expired) during the cycle so far. Closed emergency
    credit (nothing granted left) is left out."""
    begins, ends = allowance.window(period, zone)
    out = []
    for bucket in held:
        usable = bucket.remaining > 0 and bucket.starts_at <= now and (
            bucket.expires_at is None or bucket.expires_at > now)
        began = begins <= bucket.starts_at <= now
        ran_out = bucket.expires_at is not None and begins < bucket.expires_at <= min(ends, now)
        if bucket.total <= 0 or not (usable or began or ran_out):
            continue
        out.append({"id": bucket.id, "kind": bucket.kind, "source": bucket.source, "weight": bucket.weight,
                    "unit": buckets.UNITS[bucket.kind], "size": bucket.total, "used": bucket.total - bucket.remaining,
                    "remaining": bucket.remaining, "starts_at": bucket.starts_at, "expires_at": bucket.expires_at,
                    "usable": usable})
    return out


def usage(session: Session, service: Service, start: date, end: date, *, group: str = "day",
          now: datetime | None = None, current: dict | None = None) -> dict:
    """Upload/download from `start` to `end` (both included, zero-filled) per day, or summed per week
    (from Monday; a row's `day` is the first day of the range it covers) or per month, their totals, and
    the current cycle (`current`, when the caller has just read it with `cycle`)."""
    days = rollup.daily(session, service.id, start, end)
    upload = sum(d["upload"] for d in days)
    download = sum(d["download"] for d in days)
    return {"service_id": service.id, "from": start, "to": end, "group": group, "days": grouped(days, group),
            "totals": {"upload": upload, "download": download, "total": upload + download,
                       "total_mb": mb(upload + download)},
            "cycle": current if current is not None else cycle(session, service, now=now)}


GROUPS = ("day", "week", "month")


def grouped(days: list[dict], group: str) -> list[dict]:
    if group == "day":
        return days
    out: dict[date, dict] = {}
    for d in days:
        key = d["day"] - timedelta(days=d["day"].weekday()) if group == "week" else d["day"].replace(day=1)
        row = out.setdefault(key, {"day": max(key, days[0]["day"]), "upload": 0, "download": 0})
        row["upload"] += d["upload"]
        row["download"] += d["download"]
    return list(out.values())


def last_days(session: Session, service: Service, *, days: int = PORTAL_DAYS, now: datetime | None = None) -> dict:
    today = local_today(session, now)
    return usage(session, service, today - timedelta(days=days - 1), today, now=now)


def _nas_names(session: Session, nas_ids: set[int]) -> dict[int, str]:
    """Names of the routers (public.nas_clients; no foreign key across schemas, a removed one is absent)."""
    if not nas_ids:
        return {}
    rows = session.execute(text("SELECT id, name FROM public.nas_clients WHERE id = ANY(:ids)"),
                           {"ids": sorted(nas_ids)})
    return {row.id: row.name for row in rows}


def sessions_page(session: Session, service_id: int, *, page: int, per_page: int, status: str | None = None) -> dict:
    """The service's accounting sessions, newest first."""
    where = [RadiusSession.service_id == service_id]
    if status:
        where.append(RadiusSession.status == status)
    total = session.execute(select(func.count()).select_from(RadiusSession).where(*where)).scalar_one()
    rows = list(session.execute(select(RadiusSession).where(*where)
                                .order_by(RadiusSession.started_at.desc(), RadiusSession.id.desc())
                                .limit(per_page).offset((page - 1) * per_page)).scalars())
    names = _nas_names(session, {r.nas_id for r in rows})
    items = [{"id": r.id, "status": r.status, "username": r.username, "acct_session_id": r.acct_session_id,
              "nas_id": r.nas_id, "nas_name": names.get(r.nas_id), "nas_ip": _ip(r.nas_ip),
              "framed_ip": _ip(r.framed_ip), "calling_station_id": r.calling_station_id,
              "started_at": r.started_at, "updated_at": r.updated_at, "stopped_at": r.stopped_at,
              "session_time": r.session_time, "upload": r.input_octets, "download": r.output_octets,
              "terminate_cause": r.terminate_cause} for r in rows]
    return {"items": items, "total": total, "page": page, "per_page": per_page}


def coa_page(session: Session, service_id: int, *, page: int, per_page: int) -> dict:
    """The CoA and Disconnect requests sent (or being sent) for the service, newest first."""
    where = CoaRequest.service_id == service_id
    total = session.execute(select(func.count()).select_from(CoaRequest).where(where)).scalar_one()
    rows = session.execute(select(CoaRequest).where(where).order_by(CoaRequest.id.desc())
                           .limit(per_page).offset((page - 1) * per_page)).scalars()
    return {"items": [coa_out(r) for r in rows], "total": total, "page": page, "per_page": per_page}


def coa_out(r: CoaRequest) -> dict:
    return {"id": r.id, "kind": r.kind, "trigger": r.trigger, "status": r.status, "attempts": r.attempts,
            "result": r.result, "error_cause": r.error_cause, "error_cause_name": ERROR_CAUSES.get(r.error_cause),
            "last_error": r.last_error, "session_id": r.session_id, "nas_id": r.nas_id, "nas_ip": _ip(r.nas_ip),
            "attributes": r.attributes or {}, "created_at": r.created_at, "completed_at": r.completed_at}


def _ip(value) -> str | None:
    return str(value) if value is not None else None


def disconnect(session: Session, service_id: int, *, actor: str, reason: str | None) -> list[CoaRequest]:
    """A Disconnect-Request for each live session of the service, sent by the worker once this transaction
    commits (radius/coa.py: the same rows, retries and ACK/NAK record as any status change)."""
    from radius import coa  # the CoA path lives with the RADIUS service; the web app loads it at start anyway

    trigger = f"disconnect by {actor}" + (f": {reason}" if reason else "")
    ids = coa.create_requests(session, service_id, trigger, disconnect=True)
    if not ids:
        raise Conflict("the service has no live session to disconnect")
    return list(session.execute(select(CoaRequest).where(CoaRequest.id.in_(ids)).order_by(CoaRequest.id)).scalars())


def thresholds_out(session: Session, service_id: int) -> dict:
    own = thresholds.of_service(session, service_id)
    return {"service_id": service_id, "percents": own, "platform": list(thresholds.DEFAULT),
            "effective": sorted(set(own) | set(thresholds.DEFAULT))}
