"""Drawing a page of the master ISP console in its shell (app/portals/workspace.py, kit/workspace.html).

Views declare access with `@requires(kinds=STAFF_KINDS)` and guard their blueprint with `guard(bp)`."""

from __future__ import annotations

from flask import Blueprint

from app.portals import gate, workspace
from app.portals.console import nav
from app.portals.doors import STAFF_DOOR
from app.services.auth.principal import STAFF

STAFF_KINDS = (STAFF,)


def guard(bp: Blueprint) -> None:
    gate.guard(bp, STAFF_DOOR)


def page(name: str, *, status: int = 200, **context):
    """`console/<name>.html` of the theme chain, in the shell."""
    shell = workspace.shell_context(STAFF_DOOR, nav.menu, business=None, business_code=None,
                                    portal_label="Master ISP console")
    return workspace.render(STAFF_DOOR, shell, name, status=status, **context)
