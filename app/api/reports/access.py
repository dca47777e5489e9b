"""Who may run reports, shared by the API (app/api/reports/routes.py) and the reseller portal's Reports: reports
add up every customer of the tenant, so a user limited to some customers cannot run them."""

from __future__ import annotations

from flask import g

from app.web.auth import Forbidden


def unrestricted() -> None:
    if g.principal.allowed_customer_ids is not None:
        raise Forbidden("reports add up every customer; a user limited to some customers cannot run them")
