"""Where the reseller's team and the master ISP's staff land after signing in, until their portals are built:
who is signed in, and signing out. (Customers land on their dashboard, app/portals/customer/dashboard.py.)

A visitor who is not signed in at that door is sent to its sign-in page, and back here afterwards.
"""

from __future__ import annotations

from flask import Blueprint, Flask, abort, g, redirect, request, url_for

from app.portals.doors import STAFF_DOOR, TEAM, Door
from app.portals.forms import SignOutForm
from app.portals.kit import page, signed_in
from app.web.auth import requires


def build(door: Door) -> Blueprint:
    bp = Blueprint(f"{door.name}_home", __name__)

    @bp.before_request
    def on_its_own_host():
        if g.get("realm") != door.host:
            abort(404)

    @requires(public=True)
    def home():
        principal = signed_in(door)
        if principal is None:
            return redirect(url_for(f"{door.name}_pages.login", next=request.path))
        return page(door, "home", principal=principal, customer=None, sign_out=SignOutForm())

    bp.add_url_rule(door.home, "home", home)
    return bp


def init_app(app: Flask) -> None:
    for door in (TEAM, STAFF_DOOR):
        app.register_blueprint(build(door))
