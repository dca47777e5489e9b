"""Per request: Host → tenant (or the console) → context variable; the session's life around it.

Unknown hosts get a 404 and never a default tenant. `/healthz` and `/readyz` answer on every host,
known or not, because load balancers probe by address.
"""

from __future__ import annotations

from flask import Flask, g, request

from app.web import state
from tenants import context
from tenants.hosts import request_host

HOST_FREE_PATHS = frozenset({"/healthz", "/readyz"})


class UnknownHost(Exception):
    pass


class TenantUnavailable(Exception):
    """The host's tenant, or a reseller above it, is suspended (or otherwise not active): its pages say
    so and its API refuses (app/web/errors.py)."""

    def __init__(self, tenant, status: str | None = None):
        super().__init__(tenant.code)
        self.tenant = tenant
        self.status = status or tenant.status  # the blocking tenant's: a sub-reseller is Active itself


def resolve_request() -> None:
    g.realm = None
    g.tenant = None
    if request.path in HOST_FREE_PATHS:
        return
    st = state()
    host = request_host(request.headers.get("Host"), request.headers.get("X-Forwarded-Host"),
                        request.environ.get("backhaul.peer", request.remote_addr), st.settings.trusted_proxies)
    g.host = host
    if host is not None and host == st.settings.console_host:
        g.realm = "console"
        return
    tenant = st.directory.by_host(host)
    if tenant is None:
        raise UnknownHost(host)
    blocker = st.directory.blocking(tenant)
    if blocker is not None:
        raise TenantUnavailable(tenant, blocker.status)
    g.realm = "tenant"
    g.tenant = tenant
    g._tenant_token = context.enter(tenant)


def switch_tenant(tenant) -> None:
    """Enter `tenant` mid-request (a reseller signing in on the master ISP's host names its code).

    Whatever the request did so far under the previous context is discarded first, so that no
    transaction begun with the old search_path carries on under the new tenant.
    """
    session = g.pop("_db", None)
    if session is not None:
        session.rollback()
        session.close()
    token = g.pop("_tenant_token", None)
    if token is not None:
        context.leave(token)
    g.tenant = tenant
    g._tenant_token = context.enter(tenant)


def finish_session(response):
    session = g.pop("_db", None)
    if session is not None:
        try:
            if response.status_code < 400:
                session.commit()
            else:
                session.rollback()
        finally:
            session.close()
    return response


def teardown(_exc=None) -> None:
    session = g.pop("_db", None)
    if session is not None:  # the view raised: nothing it did is kept
        session.rollback()
        session.close()
    token = g.pop("_tenant_token", None)
    if token is not None:
        context.leave(token)


def init_app(app: Flask) -> None:
    app.before_request(resolve_request)
    app.after_request(finish_session)
    app.teardown_request(teardown)
