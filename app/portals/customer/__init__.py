"""The customer portal (DESIGN "The portals"): one module per section, each a blueprint named
`customer_<section>` whose first page is the endpoint nav.py lists, drawn in the shell of shell.py and
guarded by gate.py. Today: the dashboard, services, usage, billing, disputes and payment plans, top-ups,
profile, security and privacy."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from app.portals.customer import (
        billing,
        dashboard,
        disputes,
        privacy,
        profile,
        security,
        services,
        topups,
        usage,
    )

    for section in (billing, dashboard, disputes, privacy, profile, security, services, topups, usage):
        app.register_blueprint(section.bp)
