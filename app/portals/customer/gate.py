"""Who may open the customer portal's pages, and what a browser that may not is shown.

Pages declare their access with the API's own `@requires("self.view", kinds=CUSTOMER)` (the permission
matrix checks them like every route). What differs is the answer to a browser: a visitor who is not signed in
is sent to the customers' sign-in page and brought back afterwards, where an API client (a JSON request) gets
the 401 problem; on the console host the portal does not exist (404), signed in or not.
"""

from __future__ import annotations

from flask import Blueprint, g, redirect, request, url_for

from app.portals.doors import CUSTOMERS
from app.web.auth import Unauthenticated
from app.web.errors import handle_service, problem

CUSTOMER = ("customer",)


def _not_here():
    return problem(404, "not-found", "Not Found")


def guard(bp: Blueprint) -> None:
    """Install the door's answers on a blueprint of customer pages."""

    @bp.before_request
    def on_a_tenant_host():
        """Staff and team members elsewhere are refused by `requires` (403), as the matrix expects."""
        principal = g.get("principal")
        if g.get("realm") != CUSTOMERS.host and (principal is None or principal.kind == CUSTOMER[0]):
            return _not_here()
        return None

    @bp.errorhandler(Unauthenticated)
    def sign_in_first(exc: Unauthenticated):
        if g.get("realm") != CUSTOMERS.host:
            return _not_here()
        if request.method == "GET" and not request.is_json:
            target = request.full_path.rstrip("?") if request.query_string else request.path
            return redirect(url_for(f"{CUSTOMERS.name}_pages.login", next=target))
        return handle_service(exc)
