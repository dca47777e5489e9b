"""The customer portal (DESIGN "The portals"): one module per section, each a blueprint named
`customer_<section>` whose first page is the endpoint nav.py lists, drawn in the shell of shell.py and
guarded by gate.py. Today: the dashboard, services, usage, profile and security."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from app.portals.customer import billing, dashboard, profile, security, services, usage

    app.register_blueprint(billing.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(profile.bp)
    app.register_blueprint(security.bp)
    app.register_blueprint(services.bp)
    app.register_blueprint(usage.bp)
