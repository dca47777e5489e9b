"""Server-rendered pages: each host's front page, here; the portals' pages (sign-in, password, the signed-in
landing pages) in app/portals, registered with them. All are drawn in the host's brand (app/web/branding.py)."""

from flask import Flask, g, render_template

from app import portals
from app.web import state
from app.web.auth import requires


@requires(public=True)
def index():
    if g.realm == "console":
        return render_template("console/index.html", settings=state().settings)
    return render_template("portal/index.html", tenant=g.tenant)


def init_app(app: Flask) -> None:
    app.add_url_rule("/", "index", index)
    portals.init_app(app)
