"""The JSON API: one folder per resource, each with its blueprint and schemas."""

from flask_smorest import Api


def register_blueprints(api: Api) -> None:
    from app.api.health.routes import blp as health
    from app.api.portal.routes import blp as portal

    api.register_blueprint(health)
    api.register_blueprint(portal)
