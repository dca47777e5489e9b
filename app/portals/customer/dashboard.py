"""The customer's dashboard, `/portal`: balance and credit, the next bill, what is unpaid, a card per service
with its cycle's usage and fair-use state, the latest payments (app/services/customer_overview.py reads them
all). Panels for messages, news and tickets join it when those exist; until then they are absent.

A card's "Refresh usage" is `/portal?service=<id>#service-<id>`: the page again, at that card. It was an htmx
swap of the card alone; the dashboard no longer loads htmx, whose 52 kB were half its weight, for a refresh the
server answers in a few milliseconds anyway. The card's 30-day chart is an SVG of its own (app/portals/charts.py).
A service that is not the customer's own is not found, on every address.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, request, url_for

from app.portals import charts
from app.portals.customer.gate import CUSTOMER, guard
from app.portals.customer.shell import page
from app.services import customer_overview
from app.services.branding import i18n
from app.services.branding.rendering import brand_context
from app.services.usage import views
from app.web import db_session
from app.web.auth import requires
from app.web.branding import current_brand, current_locale

bp = Blueprint("customer_dashboard", __name__, url_prefix="/portal")
guard(bp)
PAY_ENDPOINT = "customer_billing.pay"  # the payment page, once it exists: takes `invoice_id`


def pay_url(invoice) -> str | None:
    """Where the invoice is paid, if the portal has a payment page; no button otherwise (never a dead one)."""
    if PAY_ENDPOINT not in current_app.view_functions:
        return None
    return url_for(PAY_ENDPOINT, invoice_id=invoice.id)


def usage_chart(card: customer_overview.ServiceCard) -> charts.Chart:
    """The card's chart and its table: download and upload per day, in megabytes, in the page's language."""
    words = i18n.translations(current_locale().language)
    days = card.days
    return charts.Chart(
        title=words.gettext("Data used per day, last %(days)s days") % {"days": len(days)},
        summary=words.gettext("A bar chart of the data downloaded and uploaded each day; the figures are in "
                              "the table below it."),
        labels=tuple(d["day"].isoformat() for d in days), label_title=words.gettext("Day"), unit="MB",
        axis_labels=tuple(charts.day_label(d["day"], current_locale().language) for d in days),
        series=(charts.Series(words.gettext("Download"), tuple(views.mb(d["download"]) for d in days)),
                charts.Series(words.gettext("Upload"), tuple(views.mb(d["upload"]) for d in days))),
        src=url_for(".chart", service_id=card.service.id), every=7)


def _service_id(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not raw.isdigit() or len(raw) > 18:
        abort(404)
    return int(raw)


@requires("self.view", kinds=CUSTOMER)
def index():
    session = db_session()
    wanted = _service_id(request.args.get("service"))
    if wanted is not None:  # a card's refresh: its service must be the customer's own
        customer_overview.service_card(session, g.principal.id, wanted)
    found = customer_overview.overview(session, g.principal.id)
    return page("dashboard/index", overview=found, pay_url=pay_url,
                charts={c.service.id: usage_chart(c) for c in found.services})


@requires("self.view", kinds=CUSTOMER)
def chart(service_id: int):
    card = customer_overview.service_card(db_session(), g.principal.id, service_id)
    return charts.drawn(usage_chart(card), brand_context(current_brand()))


bp.add_url_rule("", "index", index)
bp.add_url_rule("/dashboard/services/<int:service_id>/usage.svg", "chart", chart)
