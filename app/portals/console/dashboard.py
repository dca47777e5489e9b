"""The console's dashboard, `/console/`: the platform in the figures of the reseller dashboard, summed over
every tenant (app/services/reports/dashboard.py, as the console API's `/dashboard`), months in UTC, with a
Portal ID search box, since finding a customer is what staff do most. The figures are those of the last few
minutes (app/services/reports/platform_dashboard.py: a pass over every tenant is not paid for each view and
each chart); the page says when they were computed, and "Refresh" computes them again now."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, request, url_for

from app import clock
from app.portals import charts, figure_charts
from app.portals.console import nav
from app.portals.console.shell import STAFF_KINDS, guard, page
from app.services.branding.rendering import brand_context
from app.services.reports import platform_dashboard
from app.web import state
from app.web.auth import requires
from app.web.branding import current_brand

bp = Blueprint("console_dashboard", __name__, url_prefix="/console")
guard(bp)

UTC = ZoneInfo("UTC")
CURRENCY = "KES"  # the platform's figures are drawn in the master ISP's currency


def _figures(*, fresh: bool = False) -> dict:
    return platform_dashboard.figures(state().db, state().redis, clock.today(), UTC, fresh=fresh)


@requires(kinds=STAFF_KINDS)
def index():
    found = _figures(fresh=request.args.get("fresh") == "1")
    drawn = [figure_charts.chart(found, which, CURRENCY, url_for(".chart", which=which))
             for which in figure_charts.CHARTS]
    sections = [item for item in nav.menu() if item["key"] != "dashboard"]
    return page("dashboard/index", dashboard=found, charts=drawn, currency=CURRENCY, sections=sections)


@requires(kinds=STAFF_KINDS)
def chart(which: str):
    if which not in figure_charts.CHARTS:
        return ("", 404)
    return charts.drawn(figure_charts.chart(_figures(), which, CURRENCY, request.path), brand_context(current_brand()))


bp.add_url_rule("/", "index", index)
bp.add_url_rule("/dashboard/<which>.svg", "chart", chart)
