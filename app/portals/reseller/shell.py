"""Drawing a page of the reseller portal in its shell (app/portals/workspace.py, kit/workspace.html).

Views declare access with `@requires(<permission>, kinds=TEAM_KINDS)` and guard their blueprint with
`guard(bp)`: a visitor who is not signed in is sent to the team's sign-in page and brought back."""

from __future__ import annotations

from flask import Blueprint, g

from app.portals import gate, workspace
from app.portals.doors import TEAM
from app.portals.reseller import nav
from app.services.auth.principal import USER

TEAM_KINDS = (USER,)


def guard(bp: Blueprint) -> None:
    gate.guard(bp, TEAM)


def page(name: str, *, status: int = 200, **context):
    """`reseller/<name>.html` of the theme chain, in the shell."""
    tenant = g.tenant
    shell = workspace.shell_context(TEAM, nav.menu, business=tenant.name, business_code=tenant.code,
                                    portal_label="Reseller portal")
    return workspace.render(TEAM, shell, name, status=status, **context)
