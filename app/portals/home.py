"""Where each door lands after signing in, until its portal is built: who is signed in, and signing out.

A visitor who is not signed in at that door is sent to its sign-in page, and back here afterwards. A
customer whose account is Suspended is told so and what to do (they may still sign in, to pay).
"""

from __future__ import annotations

from flask import Blueprint, Flask, abort, g, redirect, request, url_for

from app.models import Customer
from app.portals.doors import CUSTOMERS, DOORS, Door
from app.portals.forms import SignOutForm
from app.portals.kit import page, signed_in
from app.web import db_session
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
        customer = db_session().get(Customer, principal.id) if door is CUSTOMERS else None
        return page(door, "home", principal=principal, customer=customer, sign_out=SignOutForm())

    bp.add_url_rule(door.home, "home", home)
    return bp


def init_app(app: Flask) -> None:
    for door in DOORS:
        app.register_blueprint(build(door))
