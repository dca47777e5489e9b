"""Who may open a portal's signed-in pages, and what a browser that may not is shown.

Pages declare their access with the API's own `@requires(permission, kinds=...)` (the permission matrix
checks them like every route). What differs is the answer to a browser: a visitor who is not signed in is
sent to the door's sign-in page and brought back afterwards, where an API client (a JSON request) gets the
401 problem; on a host of the other kind the portal does not exist (404), signed in or not. One guard for
the three doors (doors.py), so the customer portal, the reseller portal and the console answer alike.
"""

from __future__ import annotations

from flask import Blueprint, g, redirect, request, url_for

from app.portals.doors import Door
from app.web.auth import Unauthenticated
from app.web.errors import handle_service, problem


def _not_here():
    return problem(404, "not-found", "Not Found")


def guard(bp: Blueprint, door: Door) -> None:
    """Install the door's answers on a blueprint of its pages."""

    @bp.before_request
    def on_its_own_host():
        """Somebody of another door signed in here is refused by `requires` (403), as the matrix expects;
        somebody of this door on a host of the other kind finds nothing."""
        principal = g.get("principal")
        if g.get("realm") != door.host and (principal is None or principal.kind == door.realm.kind):
            return _not_here()
        return None

    @bp.errorhandler(Unauthenticated)
    def sign_in_first(exc: Unauthenticated):
        if g.get("realm") != door.host:
            return _not_here()
        if request.method == "GET" and not request.is_json:
            target = request.full_path.rstrip("?") if request.query_string else request.path
            return redirect(url_for(f"{door.name}_pages.login", next=target))
        return handle_service(exc)
