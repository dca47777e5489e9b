"""Drawing a page of the two portals people work in all day, the reseller portal and the master ISP console:
the page's own template with what their shell (kit/workspace.html) reads, so that no view builds the menu,
the sign-out form or the "who is signed in" line itself. The customer portal has its own shell
(customer/shell.py): its people and its navigation differ, its kit is the same."""

from __future__ import annotations

from collections.abc import Callable

from flask import g, render_template, url_for

from app.portals.doors import Door
from app.portals.forms import SignOutForm
from app.portals.kit import door_context


def shell_context(door: Door, menu: Callable[[], list[dict]], **extra) -> dict:
    principal = g.principal
    items = menu()
    groups: list[dict] = []
    for item in items:  # the side navigation's headings, in the order of the sections
        if not groups or groups[-1]["name"] != item["group"]:
            groups.append({"name": item["group"], "items": []})
        groups[-1]["items"].append(item)
    return {
        "menu": items,
        "groups": groups,
        "home": door.home,
        "sign_out": SignOutForm(),
        "sign_out_url": url_for(f"{door.name}_pages.logout"),
        "who": principal.name,
        "read_only": principal.read_only,
        **extra,
    }


def render(door: Door, shell: dict, name: str, *, status: int = 200, **context):
    """`<door>/<name>.html` of the theme chain, in the shell."""
    html = render_template(f"{door.name}/{name}.html", door=door_context(door), shell=shell, **context)
    return html, status, {"Content-Type": "text/html; charset=utf-8"}
