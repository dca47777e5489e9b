"""Errors as `application/problem+json` (RFC 9457) for API clients, as pages for browsers.

Every problem has a stable `type` URI (`/problems/<slug>`) that clients can switch on.
"""

from __future__ import annotations

import logging

from flask import Flask, g, render_template, request
from werkzeug.exceptions import HTTPException

from app.services.errors import ServiceError
from app.web.tenancy import TenantUnavailable, UnknownHost

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"


def wants_html() -> bool:
    if request.path.startswith("/api/") or request.path in ("/healthz", "/readyz"):
        return False
    best = request.accept_mimetypes.best_match(["application/json", PROBLEM, "text/html"])
    return best == "text/html" and request.accept_mimetypes[best] > request.accept_mimetypes["application/json"]


_OWN_MEMBERS = frozenset({"type", "title", "status", "detail", "slug", "instance"})


def problem(status: int, slug: str, title: str, detail: str | None = None, **extra):
    if wants_html():
        body = render_template("errors/error.html", status=status, title=title, detail=detail, slug=slug,
                               tenant=g.get("tenant"))
        return body, status, {"Content-Type": "text/html; charset=utf-8"}
    payload = {"type": f"/problems/{slug}", "title": title, "status": status}
    if detail:
        payload["detail"] = detail
    payload.update({k: v for k, v in extra.items() if v is not None})
    return payload, status, {"Content-Type": PROBLEM}


def _slug(exc: HTTPException) -> str:
    return (exc.name or "error").lower().replace(" ", "-").replace("'", "")


def handle_http(exc: HTTPException):
    if exc.code is None:
        return exc
    errors = None
    data = getattr(exc, "data", None)
    if isinstance(data, dict) and "messages" in data:  # flask-smorest / webargs validation
        errors = data["messages"]
    detail = exc.description if exc.description and errors is None else None
    if errors is not None:
        return problem(exc.code, "validation", "Invalid input", "the request does not match the schema",
                       errors=errors)
    response = problem(exc.code, _slug(exc), exc.name, detail)
    if exc.code == 405 and exc.valid_methods:
        body, status, headers = response
        headers["Allow"] = ", ".join(exc.valid_methods)
    return response


def handle_service(exc: ServiceError):
    # the problem's own members are never overwritten by an error's extras (an extra named `status` once was)
    return problem(exc.status, exc.slug, exc.title, exc.detail,
                   **{k: v for k, v in exc.extra.items() if k not in _OWN_MEMBERS})


def handle_unknown_host(exc: UnknownHost):
    host = exc.args[0]
    return problem(404, "unknown-host", "Unknown host",
                   f"no portal is configured for {host!r}" if host else "the request names no valid host")


def handle_unavailable(exc: TenantUnavailable):
    tenant = exc.tenant
    if wants_html():
        body = render_template("errors/suspended.html", tenant=tenant, status=exc.status)
        return body, 403, {"Content-Type": "text/html; charset=utf-8"}
    return problem(403, "tenant-suspended", "Portal unavailable",
                   f"the portal of {tenant.name} is {exc.status.lower()}; contact your provider",
                   tenant_status=exc.status)


def handle_unexpected(exc: Exception):
    log.exception("unhandled error on %s %s", request.method, request.path)
    return problem(500, "internal", "Internal error", "something went wrong on our side; it has been logged")


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(ServiceError, handle_service)
    app.register_error_handler(UnknownHost, handle_unknown_host)
    app.register_error_handler(TenantUnavailable, handle_unavailable)
    app.register_error_handler(Exception, handle_unexpected)
