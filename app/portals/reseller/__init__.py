"""The reseller portal (DESIGN "The portals"), `/reseller/...` on each tenant's hosts: one module per section,
each a blueprint named `reseller_<section>` whose first page is the endpoint nav.py lists, drawn in the
workspace shell (shell.py) and guarded by the team's door."""

from __future__ import annotations

import pkgutil
from importlib import import_module

from flask import Flask


def init_app(app: Flask) -> None:
    """Every section module of this package that has a blueprint `bp` (the shell, the nav and the forms have
    none), so a new section needs only its module."""
    for found in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = import_module(f"{__name__}.{found.name}")
        if hasattr(module, "bp"):
            app.register_blueprint(module.bp)
