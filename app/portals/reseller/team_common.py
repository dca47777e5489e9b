"""What the Team pages (team.py, team_roles.py, team_access.py, team_api.py) share: the page of a part of the
section with its sub-navigation, whether the person may change the team (to draw the forms or leave them
out; the POST is refused by `requires` either way), and how a refused form is answered."""

from __future__ import annotations

from flask import g

from app.portals.forms import FORM_EXPIRED, expired
from app.portals.reseller.shell import page

ADMIN = "users.admin"
SECRETS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def may_change() -> bool:
    return g.principal.can(ADMIN)


def team_page(name: str, *, status: int = 200, **context):
    return page(f"team/{name}", status=status, admin=may_change(), **context)


def secret_page(name: str, **context):
    """A page that shows something once (a password, a secret): never kept by a cache."""
    html, status, headers = team_page(name, **context)
    return html, status, {**headers, **SECRETS}


def refused(form) -> bool:
    """A form that did not validate; one whose token had expired says so above it."""
    if form.validate_on_submit():
        return False
    if expired(form):
        form.form_errors.append(FORM_EXPIRED)
    return True


def place(form, exc, fields: dict[str, str] | None = None) -> None:
    """A service's refusal next to the field it names (`fields` maps the service's names to the form's),
    or above the form when it names none the form has."""
    name = (fields or {}).get(exc.extra.get("field"), exc.extra.get("field"))
    if name and name in form:
        form[name].errors = [exc.detail]
    else:
        form.form_errors.append(exc.detail)
