"""A report's file (CSV or XLSX) over many tenants, written by the worker a tenant at a time, with its progress
kept for the page that follows it.

Why a job: a report over one reseller is one query in its schema, quick enough for the request (the page's file
is written at once, as before). Over the platform, or a reseller with a large tree of sub-resellers, it is a pass
over every schema, which grows with the platform and outlasts a request; the member who asked may leave and come
back. So a scope of more than INLINE_TENANTS tenants is kept here and written by `worker/actors/reports.py`,
which notes each tenant done; the page shows a progress bar, then the file. Through the API
(`POST …/api/reports/<name>/exports`, app/api/reports/routes.py) the file is a job whatever the scope: the client
asked for one, and follows it as the page does. Both doors ask through `ask`.

Whose: the job lives in Redis for JOB_SECONDS under its owner's key space, the tenant's schema for a team
member (and their user id), `platform` for a member of staff: nobody else reads it or its file. What it covers is
kept as the door chose it (the report, the range, the filters, whose figures), and the scope is read again when
the worker runs, from the tenant the message carries (a team member's) or from the platform (staff).

Asking twice for the same file within REUSE_SECONDS gives the same job, so reloading the page or clicking the
link again never starts a second pass. The run is idempotent: a job done is not run again, and a job run twice
(a retried message) writes the same file from the same data; a lock lets one worker at a time carry it.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from app.db import Database
from app.models.base import utcnow
from app.services.reports import export, reports, scope
from app.services.reports.periods import DateRange
from tenants import Tenant, require_tenant
from tenants.storage import redis_key

INLINE_TENANTS = 10
JOB_SECONDS = 24 * 3600
REUSE_SECONDS = 300
LOCK_SECONDS = 900
PLATFORM = "platform"


@dataclass(frozen=True)
class Owner:
    """Whose job: a key space (a tenant's schema, or `platform`) and the user in it."""

    space: str
    user_id: int

    @classmethod
    def team(cls, tenant: Tenant, user_id: int) -> Owner:
        return cls(tenant.schema, user_id)

    @classmethod
    def staff(cls, user_id: int) -> Owner:
        return cls(PLATFORM, user_id)

    @property
    def is_staff(self) -> bool:
        return self.space == PLATFORM


def needs_job(where: scope.Scope) -> bool:
    return len(where.tenants) > INLINE_TENANTS


def _key(owner: Owner, job_id: str, *rest: str) -> str:
    return redis_key(owner.space, "report-export", str(owner.user_id), job_id, *rest)


def _asked(owner: Owner, request: dict) -> str:
    digest = hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()[:32]
    return redis_key(owner.space, "report-export", str(owner.user_id), "asked", digest)


def _request(name: str, range_: DateRange, filters: dict, fmt: str, root: str | None, consolidated: bool) -> dict:
    """What a job covers, as kept: asking for the same again is asking for the same job."""
    return {"report": name, "start": range_.start.isoformat(), "end": range_.end.isoformat(),
            "zone": range_.zone.key, "filters": filters, "format": fmt, "root": root, "consolidated": consolidated}


def create(redis, owner: Owner, *, name: str, range_: DateRange, filters: dict, fmt: str, root: str | None,
           consolidated: bool, total: int, back: str | None) -> tuple[str, bool]:
    """Keep a job for the file; returns (its id, whether it is new: only a new one is sent to the worker). The
    same request made again within REUSE_SECONDS is the job already kept."""
    if fmt not in export.CONTENT_TYPES:
        raise ValueError(f"unknown format {fmt!r}")
    request = _request(name, range_, filters, fmt, root, consolidated)
    asked = _asked(owner, request)
    earlier = redis.get(asked)
    if earlier is not None and redis.exists(_key(owner, earlier.decode())):
        return earlier.decode(), False
    job_id = secrets.token_urlsafe(16)
    job = {**request, "back": back, "total": total, "done": 0, "state": "queued", "filename": None,
           "size": None, "created_at": utcnow().isoformat()}
    redis.set(_key(owner, job_id), json.dumps(job), ex=JOB_SECONDS)
    redis.set(asked, job_id, ex=REUSE_SECONDS)
    return job_id, True


def queue(owner: Owner, tenant: Tenant | None, job_id: str) -> None:
    """Send the job to a worker: a team member's in its tenant, a staff member's on the platform (the actors are
    imported here, as the other services' are: the worker's modules build a broker when imported)."""
    from tenants import tenant_context
    from worker.actors import reports as actors

    if owner.is_staff:
        actors.report_export_platform.send(owner.user_id, job_id)
        return
    with tenant_context(tenant):
        actors.report_export.send(owner.user_id, job_id)


def ask(redis, owner: Owner, tenant: Tenant | None, where: scope.Scope, *, name: str, range_: DateRange,
        filters: dict, fmt: str, back: str | None = None) -> tuple[str, bool]:
    """The file as a job, whichever door asks (the pages over many tenants, the API always): the report and its
    filters checked as the report checks them (NotFound, Invalid), the job kept, and sent to the worker when it is
    new; returns (its id, whether it is new). `back` is the page to return to, None from the API (the job's page
    then builds one from what was asked). A job the broker would not take is not kept, or asking again within
    REUSE_SECONDS would find a job that no worker will ever run."""
    filters = reports.clean_filters(reports.get(name), filters)
    root = where.root.code if where.root else None
    job_id, new = create(redis, owner, name=name, range_=range_, filters=filters, fmt=fmt, root=root,
                         consolidated=where.consolidated, total=len(where.tenants), back=back)
    if new:
        try:
            queue(owner, tenant, job_id)
        except Exception:
            redis.delete(_key(owner, job_id),
                         _asked(owner, _request(name, range_, filters, fmt, root, where.consolidated)))
            raise
    return job_id, new


def percent(job: dict) -> int:
    """How far the job is, for a bar: the tenants done over the tenants of the scope (100 once the file is
    written, though a scope that shrank while it ran may have counted fewer)."""
    if job["state"] == "done":
        return 100
    return int(job["done"] * 100 / job["total"]) if job["total"] else 0


def read(redis, owner: Owner, job_id: str) -> dict | None:
    """The job as its page shows it, or None: unknown, expired or someone else's."""
    if not job_id or len(job_id) > 64:
        return None
    raw = redis.get(_key(owner, job_id))
    return None if raw is None else json.loads(raw)


def file(redis, owner: Owner, job_id: str) -> tuple[bytes, str, str] | None:
    """(content, content type, file name) of a job done, or None."""
    job = read(redis, owner, job_id)
    if job is None or job["state"] != "done":
        return None
    content = redis.get(_key(owner, job_id, "file"))
    if content is None:
        return None
    return content, export.CONTENT_TYPES[job["format"]], job["filename"]


def _scope(db: Database, owner: Owner, job: dict) -> scope.Scope:
    with db.session() as session:
        if owner.is_staff:
            return scope.of_platform(session, job["root"])
        return scope.of_tenant(session, require_tenant(), consolidated=job["consolidated"])


def run(db: Database, redis, owner: Owner, job_id: str) -> str:
    """Write the job's file (the current tenant is the owner's, for a team member); returns what it found or did."""
    key = _key(owner, job_id)
    lock = redis.lock(_key(owner, job_id, "lock"), timeout=LOCK_SECONDS, blocking=False)
    if not lock.acquire():
        return "busy"  # its twin is on it
    try:
        raw = redis.get(key)
        if raw is None:
            return "gone"
        job = json.loads(raw)
        if job["state"] == "done":
            return "done"
        where = _scope(db, owner, job)
        job.update(state="running", total=len(where.tenants), done=0)
        redis.set(key, json.dumps(job), ex=JOB_SECONDS)

        def noted(done: int) -> None:
            job["done"] = done
            redis.set(key, json.dumps(job), ex=JOB_SECONDS)
            lock.reacquire()

        range_ = DateRange(date.fromisoformat(job["start"]), date.fromisoformat(job["end"]), ZoneInfo(job["zone"]))
        try:
            table = reports.run(db, where, job["report"], range_, job["filters"], now=utcnow(), progress=noted)
        except Exception:
            job["state"] = "failed"  # the page says so; the message's retry starts it again
            redis.set(key, json.dumps(job), ex=JOB_SECONDS)
            raise
        content, _type, filename = export.render(table, job["format"])
        redis.set(_key(owner, job_id, "file"), content, ex=JOB_SECONDS)
        job.update(state="done", done=job["total"], filename=filename, size=len(content))
        redis.set(key, json.dumps(job), ex=JOB_SECONDS)
        return "done"
    finally:
        lock.release()
