"""The Backhaul application: config, models, services, the API and portals, the CLI."""

from app.factory import create_app

__all__ = ["create_app"]
