"""The dashboards' charts (reseller portal and console): twelve months of the figures of
app/services/reports/dashboard.py, as the kit's charts (charts.py), money in one currency."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from app.portals import charts
from app.services.branding import i18n
from app.web.branding import current_locale

CHARTS = ("customers", "mrr", "money")


def _values(figures: dict, key: str, wanted: str) -> tuple:
    """A figure's monthly values; money in the reseller's own currency (the figures keep one per currency)."""
    out = []
    for point in figures[key]["series"]:
        value = point["value"]
        if isinstance(value, dict):
            value = value.get(wanted, 0)  # no amount in that currency yet: none
        out.append(None if value is None else Decimal(str(value)))
    return tuple(out)


def month_labels(months: list[str], language: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The table's labels ("December 2026") and the axis's ("Dec 2026") of the figures' months ("2026-12"), in
    the page's language."""
    starts = [date.fromisoformat(f"{m}-01") for m in months]
    return (tuple(charts.day_label(d, language, "LLLL y") for d in starts),
            tuple(charts.day_label(d, language, "LLL y") for d in starts))


def chart(found: dict, which: str, currency: str, src: str) -> charts.Chart:
    language = current_locale().language
    words = i18n.translations(language)
    figures = found["figures"]
    months, axis = month_labels(found["months"], language)
    if which == "customers":
        return charts.Chart(words.gettext("Customers at each month's end"), months, (
            charts.Series(words.gettext("All customers"), _values(figures, "customers_total", currency)),
            charts.Series(words.gettext("Active"), _values(figures, "customers_active", currency))),
            src=src, axis_labels=axis, label_title=words.gettext("Month"), kind="line",
            summary=words.gettext("A line chart of all and active customers at the end of each of the last twelve "
                                  "months; the figures are in the table below."))
    if which == "mrr":
        return charts.Chart(words.gettext("Monthly recurring revenue"), months, (
            charts.Series(words.gettext("MRR"), _values(figures, "mrr", currency)),), src=src, axis_labels=axis,
            label_title=words.gettext("Month"), kind="line",
            summary=words.gettext("A line chart of the monthly recurring revenue at the end of each of the last "
                                  "twelve months; the figures are in the table below."))
    return charts.Chart(words.gettext("Invoiced and collected"), months, (
        charts.Series(words.gettext("Invoiced"), _values(figures, "invoiced", currency)),
        charts.Series(words.gettext("Collected"), _values(figures, "collected", currency))), src=src,
        axis_labels=axis, label_title=words.gettext("Month"),
        summary=words.gettext("A bar chart of the money invoiced and collected in each of the last twelve months; "
                              "the figures are in the table below."))
