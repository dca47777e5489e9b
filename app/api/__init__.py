"""The JSON API: one folder per resource, each with its blueprint and schemas."""

from flask_smorest import Api


def register_blueprints(api: Api) -> None:
    from app.api.auth import routes as auth
    from app.api.console.routes import blp as console
    from app.api.health.routes import blp as health
    from app.api.oauth import routes as oauth
    from app.api.portal.routes import blp as portal
    from app.api.selfcare.routes import blp as selfcare
    from app.api.users.routes import blp as users

    for blp in (health, portal, auth.staff, auth.reseller, auth.customer, users, selfcare, console,
                oauth.protocol, oauth.clients):
        api.register_blueprint(blp)
