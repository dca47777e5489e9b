"""A report's file over many tenants, at both doors (the reseller portal's Reports, the console's): asking for it
keeps a job for the worker (app/services/reports/export_jobs.py) and goes to the job's page, which follows its
progress (htmx asks every POLL_SECONDS; "Refresh" without JavaScript) and then offers the file. The page is at an
address of its own, so the member may leave and come back to it while it is kept.

Over a scope of a few tenants the file is written in the request, as the API's report writes it: `queued` says None
and the view goes on as before. A job asked through the API (`POST …/api/reports/<name>/exports`) is the same job
and has the same page.

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
    back = url_for(request.endpoint, **request.view_args,
                   **{k: v for k, v in request.args.items() if k != "format"})
    try:
        job_id, _new = export_jobs.ask(state().redis, owner, tenant, where, name=name, range_=range_,
                                       filters=filters, fmt=fmt, back=back)
    except Invalid:
        return None
    return redirect(url_for(endpoint, job_id=job_id), 303)


def _back(owner: Owner, job: dict) -> str:
    """The report's page with what the job was asked for, for a job asked through the API (which has no page to
    go back to): the door's own `.report`, the console's with its reseller, a reseller's with its sub-resellers."""
    args = {"from": job["start"], "to": job["end"], **job["filters"]}
    if owner.is_staff and job["root"]:
        args["tenant"] = job["root"]
    elif not owner.is_staff and job["consolidated"]:
        args["consolidated"] = "y"
    return url_for(".report", name=job["report"], **args)


def followed(owner: Owner, job_id: str) -> dict | None:
    """What the job's page draws (kit/report_export.html), or None: unknown, expired or another's."""
    job = export_jobs.read(state().redis, owner, job_id)
    if job is None:
        return None
    job["back"] = job.get("back") or _back(owner, job)
    return {"job": job, "report": reports.get(job["report"]), "percent": export_jobs.percent(job),
            "following": job["state"] in ("queued", "running"), "poll": POLL_SECONDS}


def served(owner: Owner, job_id: str) -> Response:
    """The job's file, as the request would have written it; 404 before it is done or after it is gone."""
    found = export_jobs.file(state().redis, owner, job_id)
    if found is None:
        abort(404)
    return attachment(*found)
