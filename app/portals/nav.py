"""The navigation of a signed-in portal, drawn from one list of sections per portal (customer/nav.py,
reseller/nav.py, console/nav.py).

A section is shown once its page exists (a view is registered under its endpoint) and the person signed in
may open it: the permission its view declares with `@requires` (read back from the view, never written
twice), so a Readonly team member's menu has no Billing run and nobody is shown a link to a page that would
refuse them. Whether the request is in a section is read from the blueprint: a section's pages are the
endpoints of its blueprint.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g, request, url_for


@dataclass(frozen=True)
class Section:
    key: str
    label: str  # a msgid: the layout translates it
    endpoint: str  # the section's first page
    group: str | None = None  # where the layout puts it (customer: "account"; team and staff: a heading)
    also: tuple[str, ...] = ()  # other blueprints whose pages are in this section (a customer's page, the wizard)

    def holds(self, blueprint: str) -> bool:
        return blueprint == self.endpoint.partition(".")[0] or blueprint in self.also


def may_open(endpoint: str) -> bool:
    """Whether the signed-in principal may open the page at `endpoint` (its view's `requires`)."""
    view = current_app.view_functions.get(endpoint)
    if view is None:
        return False
    access = getattr(view, "backhaul_access", None) or {}
    permission = access.get("permission")
    principal = g.get("principal")
    return access.get("public", False) or principal is not None and (permission is None or principal.can(permission))


def menu(sections: tuple[Section, ...]) -> list[dict]:
    here = (request.endpoint or "").partition(".")[0]
    return [{"key": s.key, "label": s.label, "url": url_for(s.endpoint), "group": s.group,
             "current": s.holds(here)}
            for s in sections if may_open(s.endpoint)]
