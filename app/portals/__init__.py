"""The pages people use: the customer portal and the reseller portal on each tenant's hosts, the console on
the console host. Each portal is a door onto the same services as the API (DESIGN, "The portals").

Each has its sign-in pages (signin.py, one factory for the three, as the API's auth routes are) and its
package of sections: customer/ in its own shell, reseller/ and console/ in the workspace shell (workspace.py);
all three guarded alike (gate.py), their menus drawn from one list each (nav.py), from the shared kit (kit.py,
tables.py, charts.py and the macros of themes/base/templates/kit/). Every page is a server-rendered
form that works without JavaScript (POST, redirect, GET), with a CSRF token (Flask-WTF), drawn from the
theme chain in the host's brand and language.
"""

from __future__ import annotations

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface


class _FormSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie session, which holds the forms' CSRF secret and the flash messages, marked
    `Secure` whenever the request came over TLS (as our own cookies are, app/web/auth.py)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(super().get_cookie_secure(app) or request.is_secure)


def init_app(app: Flask) -> None:
    from app.portals import console, customer, reseller, signin

    app.config.update(SESSION_COOKIE_NAME="bh_forms", SESSION_COOKIE_SAMESITE="Lax")
    app.session_interface = _FormSessions()
    signin.init_app(app)
    customer.init_app(app)
    reseller.init_app(app)
    console.init_app(app)
