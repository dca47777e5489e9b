"""Server-rendered pages. The portals grow here; for now, each host's front page."""

from flask import Flask, g, render_template

from app.services.settings import get_setting
from app.web import db_session, state
from app.web.auth import requires


@requires(public=True)
def index():
    if g.realm == "console":
        return render_template("console/index.html", settings=state().settings)
    portal = get_setting(db_session(), "portal")
    return render_template("portal/index.html", tenant=g.tenant, portal=portal)


def init_app(app: Flask) -> None:
    app.add_url_rule("/", "index", index)
