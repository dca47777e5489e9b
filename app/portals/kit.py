"""What every portal page shares: drawing a page of a door, where a signed-in person goes next, and who is
signed in at this door."""

from __future__ import annotations

from flask import g, render_template, request, url_for

from app.portals.doors import CUSTOMERS, TEAM, Door


def page(door: Door, name: str, *, status: int = 200, **context):
    """`<door>/<name>.html` if the theme chain has it (a theme may override one door's page), else the
    page every door shares, `auth/<name>.html`."""
    html = render_template([f"{door.name}/{name}.html", f"auth/{name}.html"], door=door_context(door), **context)
    return html, status, {"Content-Type": "text/html; charset=utf-8"}


def door_context(door: Door) -> dict:
    """What the templates read of a door: its name, the form's labels and its pages' addresses."""
    pages = {
        "login": url_for(f"{door.name}_pages.login"),
        "forgot": url_for(f"{door.name}_pages.forgot"),
        "logout": url_for(f"{door.name}_pages.logout"),
        "home": door.home,
    }
    if door is CUSTOMERS:  # a team member on the customers' form is told where their own form is
        pages["team_login"] = url_for(f"{TEAM.name}_pages.login")
    return {"name": door.name, "kind": door.realm.kind, "identifier_label": door.identifier_label,
            "identifier_hint": door.identifier_hint, "urls": pages}


def safe_next(value: str | None) -> str | None:
    """A `next` address to go back to after signing in: a path on this host, never another site."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")) or any(c in value for c in "\r\n"):
        return None
    return value


def next_from_request() -> str | None:
    return safe_next(request.args.get("next"))


def signed_in(door: Door):
    """The principal signed in at this door (by its cookie), or None."""
    principal = g.get("principal")
    if principal is None or principal.kind != door.realm.kind:
        return None
    return principal
