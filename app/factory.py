"""The Flask app factory."""

from __future__ import annotations

from flask import Flask

from app import embedded
from app.config import Settings
from app.db import Database
from app.logging import configure_logging
from app.state import State
from app.web.branding import BrandedFlask
from app.web.openapi import SWAGGER_UI_URL, Api
from app.web.proxy import TrustedProxies
from tenants import registry


def create_app(settings: Settings | None = None, db: Database | None = None) -> Flask:
    settings = settings or Settings.from_env()
    if not (settings.database_url and settings.redis_url):
        settings = embedded.resolve(settings)
    configure_logging(settings.log_level)
    db = db or Database.from_url(settings.database_url, pool_size=settings.db_pool_size)
    state = State(settings=settings, db=db, directory=registry.bind(db.engine))

    # Templates and static files come through each request's theme chain (app/web/branding.py).
    app = BrandedFlask("app", template_folder=None, static_folder=None)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        JSON_SORT_KEYS=False,
        API_TITLE="Backhaul API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        OPENAPI_SWAGGER_UI_URL=SWAGGER_UI_URL,  # served by the app from the installed package (app/web/openapi.py)
    )
    app.extensions["backhaul"] = state

    api = Api(app)
    from app.api import register_blueprints
    from app.services.auth import crypto
    from app.web import auth, branding, errors, limits, pages, security, tenancy

    crypto.configure(settings.secret_key)
    import radius.coa  # noqa: F401  (CoA/Disconnect on service changes made through the web)
    register_blueprints(api)
    tenancy.init_app(app)
    limits.init_app(app)  # after the tenant is known (its brand on error pages), before anything reads the body
    auth.init_app(app)
    errors.init_app(app)
    branding.init_app(app)
    pages.init_app(app)
    security.init_app(app)  # after branding: Talisman reaches for the page templates' environment
    app.wsgi_app = TrustedProxies(app.wsgi_app, settings.trusted_proxies)
    return app
