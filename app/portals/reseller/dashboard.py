"""The reseller portal's dashboard, `/reseller/`: where every team member lands after signing in.

Who has `finance.reports` (and sees every customer) gets the business in figures, as the API's dashboard
gives them (app/services/reports/dashboard.py: customers, MRR, ARPU, invoiced and collected, collection rate,
receivables, commission earned, credit utilisation), with twelve months of history drawn as charts, and the
alerts that need someone: credit thresholds reached on the account with the master ISP, IP pools running
out. Anyone else lands on the same page with the sections they may open, and no figures they could not
read through the API either.
"""

from __future__ import annotations

from flask import Blueprint, g, request, url_for

from app.portals import charts, figure_charts
from app.portals.nav import may_open
from app.portals.reseller import nav
from app.portals.reseller.shell import TEAM_KINDS, guard, page
from app.services import ip_pools
from app.services.billing.invoices import local_today, zone_of
from app.services.branding.rendering import brand_context
from app.services.reports import dashboard, scope
from app.services.reseller_accounts import accounts as reseller_accounts
from app.services.reseller_accounts import view as account_view
from app.services.settings import get_setting
from app.web import db_session, state
from app.web.auth import requires
from app.web.branding import current_brand

bp = Blueprint("reseller_dashboard", __name__, url_prefix="/reseller")
guard(bp)


def sees_figures() -> bool:
    """The API's rule for its dashboard (app/api/reports/routes.py): `finance.reports`, every customer."""
    principal = g.principal
    return principal.can("finance.reports") and principal.allowed_customer_ids is None


def _figures(consolidated: bool) -> dict:
    session = db_session()
    where = scope.of_tenant(session, g.tenant, consolidated=consolidated)
    return dashboard.build(state().db, where, local_today(session), zone_of(session))


def currency() -> str:
    return get_setting(db_session(), "currency") or "KES"


def alerts() -> list[dict]:
    """What needs someone today: the account's open credit alerts, pools running out."""
    session = db_session()
    found = []
    if g.principal.can("finance.view") and reseller_accounts.find(session, g.tenant.id) is not None:
        account = account_view.summary(session, g.tenant.id)
        for alert in account["open_alerts"]:
            found.append({"kind": "credit", "level": alert["level"], "percent": alert.get("percent"),
                          "url": url_for("reseller_account.index") if may_open("reseller_account.index") else None})
    if g.principal.can("services.view"):
        for pool in ip_pools.running_low(session):
            found.append({"kind": "pool", **pool,
                          "url": url_for("reseller_catalogue.pools") if may_open("reseller_catalogue.pools") else None})
    return found


@requires(kinds=TEAM_KINDS)
def index():
    consolidated = request.args.get("consolidated") == "1"
    found = _figures(consolidated) if sees_figures() else None
    drawn = []
    if found is not None:
        money = currency()
        drawn = [figure_charts.chart(found, which, money,
                                     url_for(".chart", which=which, consolidated="1" if consolidated else None))
                 for which in figure_charts.CHARTS]
    has_children = bool(scope.of_tenant(db_session(), g.tenant, consolidated=True).codes()[1:])
    sections = [item for item in nav.menu() if item["key"] != "dashboard"]
    return page("dashboard/index", dashboard=found, currency=currency(), charts=drawn, alerts=alerts(),
                consolidated=consolidated, has_children=has_children, sections=sections)


@requires("finance.reports", kinds=TEAM_KINDS)
def chart(which: str):
    if which not in figure_charts.CHARTS or not sees_figures():
        return ("", 404)
    found = _figures(request.args.get("consolidated") == "1")
    return charts.drawn(figure_charts.chart(found, which, currency(), request.path), brand_context(current_brand()))


bp.add_url_rule("/", "index", index)
bp.add_url_rule("/dashboard/<which>.svg", "chart", chart)
