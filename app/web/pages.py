"""Server-rendered pages. The portals grow here; for now, each host's front page and the sign-in page,
both in the host's brand (app/web/branding.py)."""

from flask import Flask, abort, g, render_template

from app.web import state
from app.web.auth import requires


@requires(public=True)
def index():
    if g.realm == "console":
        return render_template("console/index.html", settings=state().settings)
    return render_template("portal/index.html", tenant=g.tenant)


@requires(public=True)
def login_page():
    if g.realm != "tenant":
        abort(404)
    return render_template("portal/login.html", tenant=g.tenant)


def init_app(app: Flask) -> None:
    app.add_url_rule("/", "index", index)
    app.add_url_rule("/login", "login_page", login_page)
