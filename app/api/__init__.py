"""The JSON API: one folder per resource, each with its blueprint(s) and schemas.

Every `app/api/<resource>/routes.py` is registered: its `blp`, plus anything it lists in `BLUEPRINTS`.
Adding a resource is adding a folder; nothing else needs editing (and no resource is forgotten).
"""

import importlib
import pkgutil
from pathlib import Path

from flask_smorest import Api


def register_blueprints(api: Api) -> None:
    for info in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda i: i.name):
        if not info.ispkg:
            continue
        try:
            routes = importlib.import_module(f"app.api.{info.name}.routes")
        except ModuleNotFoundError as exc:
            if exc.name == f"app.api.{info.name}.routes":
                continue  # a folder of shared schemas, not a resource
            raise
        for blueprint in getattr(routes, "BLUEPRINTS", None) or [routes.blp]:
            api.register_blueprint(blueprint)
