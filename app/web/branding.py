"""Pages in the brand of the host they are served on: the template environment of the request's theme
chain, the brand in every template, the per-tenant stylesheet, the brand's files and theme statics.

The brand is looked up once per request (cached per process until the registry changes). A request
that cannot reach the database still gets its error page, drawn from the base theme with the
platform's defaults.
"""

from __future__ import annotations

import logging

import jinja2
from flask import Flask, abort, g, has_request_context, redirect, send_file, url_for
from flask import Response as FlaskResponse

from app.services import branding
from app.services.branding import rendering, storage
from app.services.branding.resolve import Brand, merge
from app.services.branding.resolve import Level as BrandLevel
from app.web import db_session
from app.web.auth import requires
from tenants.themes import BASE_CHAIN, environments

log = logging.getLogger(__name__)
_FALLBACK = merge([BrandLevel("platform", "Backhaul", None, {})])
_IMMUTABLE = "public, max-age=31536000, immutable"
_FAVICON_MAX_AGE = 24 * 3600


def current_brand() -> Brand:
    """The brand of the request's host: its tenant's, or the platform's on the console."""
    found = g.get("_brand")
    if found is None:
        tenant = g.get("tenant")
        try:
            found = branding.brand_of(db_session(), tenant.id if tenant is not None else None)
        except Exception:  # the database is down: the error page must still render
            log.exception("brand of %s unavailable; drawing with the platform defaults", tenant)
            found = _FALLBACK
        g._brand = found
    return found


def current_locale() -> rendering.Locale:
    found = g.get("_locale")
    if found is None:
        try:
            found = rendering.locale_of(db_session())
        except Exception:
            found = rendering.Locale()
        g._locale = found
    return found


class BrandedFlask(Flask):
    """Flask, whose `jinja_env` is the environment of the current request's theme chain.

    `render_template` and error handlers read `app.jinja_env`; making it follow the request is what
    lets every page (and every theme override) come from the right tenant without each view choosing.
    """

    @property
    def jinja_env(self) -> jinja2.Environment:  # type: ignore[override]
        chain = BASE_CHAIN
        if has_request_context() and g.get("realm") is not None:
            chain = current_brand().themes
        return environments.get("page", chain)


def _page_flavour(app: Flask):
    def configure(environment: jinja2.Environment) -> None:
        # The theme chain first; then the templates that Flask extensions ship in their blueprints
        # (flask-smorest's viewers), which a loader of the chain alone would lose.
        environment.loader = jinja2.ChoiceLoader([environment.loader, app.create_global_jinja_loader()])
        base = app.create_jinja_environment()
        environment.globals.update(base.globals)
        environment.filters.update(base.filters)
        environment.tests.update(base.tests)
        environment.policies.update(base.policies)
        rendering.add_filters(environment)
    return configure


def _inject() -> dict:
    if g.get("realm") is None:
        return {"brand": rendering.brand_context(_FALLBACK), "language": "en", "timezone": "UTC"}
    return rendering.render_context(current_brand(), current_locale())


@requires(public=True)
def theme_stylesheet(digest: str):
    """The brand's stylesheet, cached for ever under its content hash; an old hash is sent on to the new."""
    css, current = current_brand().stylesheet
    if digest != current:
        return redirect(url_for("brand_stylesheet", digest=current), code=302)
    response = FlaskResponse(css, mimetype="text/css")
    response.headers["Cache-Control"] = _IMMUTABLE
    return response


@requires(public=True)
def brand_file(kind: str, name: str):
    """The brand's logo or favicon, only by the name the brand holds now (a name is its content hash)."""
    found = current_brand().asset(kind)
    if found is None or found[1].get("file") != name:
        abort(404)
    owner, stored = found
    path = storage.asset_path(owner, stored["file"])
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=stored["content_type"], max_age=31536000)
    response.headers["Cache-Control"] = _IMMUTABLE
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@requires(public=True)
def theme_static(filename: str):
    """A static file along the request's theme chain (the tenant's theme first, base last)."""
    chain = current_brand().themes if g.get("realm") is not None else BASE_CHAIN
    path = chain.static_file(filename)
    if path is None:
        abort(404)
    response = send_file(path, max_age=3600)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@requires(public=True)
def favicon():
    """What browsers ask every host for: the brand's uploaded favicon (its own, or the one it inherits), else
    the theme chain's `static/favicon.ico` (the platform's default in `themes/base`).

    Served here rather than redirected, since some clients do not follow a redirect for it; cached for a day
    and revalidated by ETag, because the brand can change it under the same address."""
    brand = current_brand()
    found = brand.asset("favicon")
    if found is not None:
        owner, stored = found
        path = storage.asset_path(owner, stored["file"])
        if path.is_file():
            response = send_file(path, mimetype=stored["content_type"], max_age=_FAVICON_MAX_AGE)
            response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
            response.headers["X-Content-Type-Options"] = "nosniff"
            return response
    path = (brand.themes if g.get("realm") is not None else BASE_CHAIN).static_file("favicon.ico")
    if path is None:
        abort(404)
    response = send_file(path, mimetype="image/x-icon", max_age=_FAVICON_MAX_AGE)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def init_app(app: Flask) -> None:
    storage.configure(app.extensions["backhaul"].settings.data_dir)
    environments.register("page", _page_flavour(app), autoescape=app.select_jinja_autoescape,
                          **app.jinja_options)
    app.context_processor(_inject)
    app.add_url_rule("/brand/theme-<digest>.css", "brand_stylesheet", theme_stylesheet)
    app.add_url_rule("/brand/<any(logo, favicon):kind>/<name>", "brand_file", brand_file)
    app.add_url_rule("/static/<path:filename>", "static", theme_static)
    app.add_url_rule("/favicon.ico", "favicon", favicon)
