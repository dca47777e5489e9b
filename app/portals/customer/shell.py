"""Drawing a page of the signed-in customer portal: the page's own template with what the shell around it
(portal/layout.html) reads, so that no view builds the menu, the sign-out form or the support banner itself."""

from __future__ import annotations

from flask import g, render_template, url_for

from app.portals.customer import nav
from app.portals.doors import CUSTOMERS
from app.portals.forms import SignOutForm
from app.portals.kit import door_context
from app.services import customers
from app.web import db_session


def shell_context() -> dict:
    principal = g.principal
    customer = customers.get(db_session(), principal.id)
    return {
        "menu": nav.menu(),
        "home": CUSTOMERS.home,
        "sign_out": SignOutForm(),
        "sign_out_url": url_for(f"{CUSTOMERS.name}_pages.logout"),
        "impersonator": principal.impersonator,  # staff signed in as the customer (auth/impersonation.py)
        "customer_name": customer.display_name,
        "portal_id": customer.portal_id,
        "customer_status": customer.status,
    }


def page(name: str, *, status: int = 200, **context):
    """`portal/<name>.html` of the theme chain, in the shell."""
    html = render_template(f"portal/{name}.html", door=door_context(CUSTOMERS), shell=shell_context(), **context)
    return html, status, {"Content-Type": "text/html; charset=utf-8"}

