"""The Backhaul application: config, models, services, the API and portals, the CLI."""


def create_app(*args, **kwargs):
    """The Flask app (imported lazily, so that the CLI, workers and migration processes stay light)."""
    from app.factory import create_app as factory

    return factory(*args, **kwargs)


__all__ = ["create_app"]
