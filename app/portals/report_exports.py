"""A report's file over many tenants, at both doors (the reseller portal's Reports, the console's): asking for it
keeps a job for the worker (app/services/reports/export_jobs.py) and goes to the job's page, which follows its
progress (htmx asks every POLL_SECONDS; "Refresh" without JavaScript) and then offers the file. The page is at an
address of its own, so the member may leave and come back to it while it is kept.

Over a scope of a few tenants the file is written in the request, as the API writes it: `queued` says None and
the view goes on as before.

Messages are msgids (translated where they are drawn).
"""

from __future__ import annotations

from flask import Response, abort, redirect, request, url_for

from app.portals.report_views import attachment
from app.services.errors import Invalid
from app.services.reports import export_jobs, reports
from app.services.reports.export_jobs import Owner
from app.services.reports.periods import DateRange
from app.services.reports.scope import Scope
from app.web import state
from tenants import Tenant

POLL_SECONDS = 1
EXPORT_GONE = "That file is no longer kept: ask for it again from its report."


def queued(owner: Owner, tenant: Tenant | None, where: Scope, name: str, range_: DateRange, filters: dict,
           fmt: str, endpoint: str) -> Response | None:
    """Over more than a few tenants, the file as a job, and a redirect to its page at `endpoint`; None when the
    request writes the file itself, or a filter is refused (the view shows the refusal as it does for the page)."""
    if not export_jobs.needs_job(where):
        return None
    try:
        filters = reports.clean_filters(reports.get(name), filters)
    except Invalid:
        return None
    back = url_for(request.endpoint, **request.view_args,
                   **{k: v for k, v in request.args.items() if k != "format"})
    job_id, new = export_jobs.create(state().redis, owner, name=name, range_=range_, filters=filters, fmt=fmt,
                                     root=where.root.code if where.root else None, consolidated=where.consolidated,
                                     total=len(where.tenants), back=back)
    if new:
        export_jobs.queue(owner, tenant, job_id)
    return redirect(url_for(endpoint, job_id=job_id), 303)


def followed(owner: Owner, job_id: str) -> dict | None:
    """What the job's page draws (kit/report_export.html), or None: unknown, expired or another's."""
    job = export_jobs.read(state().redis, owner, job_id)
    if job is None:
        return None
    percent = int(job["done"] * 100 / job["total"]) if job["total"] else 0
    return {"job": job, "report": reports.get(job["report"]), "percent": 100 if job["state"] == "done" else percent,
            "following": job["state"] in ("queued", "running"), "poll": POLL_SECONDS}


def served(owner: Owner, job_id: str) -> Response:
    """The job's file, as the request would have written it; 404 before it is done or after it is gone."""
    found = export_jobs.file(state().redis, owner, job_id)
    if found is None:
        abort(404)
    return attachment(*found)
