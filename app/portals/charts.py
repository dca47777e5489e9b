"""Charts for the portals' pages: drawn on the server as SVG with pygal, in the brand's colours, and always
with the same figures as a table (kit/charts.html), which is what screen readers and keyboard users read.

Why an SVG of its own, shown with `<img>`, rather than inline in the page: pygal writes its look as an inline
`<style>` (and a `<script>` with its settings) inside the SVG. Inline, the page's policy (app/web/security.py:
no inline style or script) would refuse them, and replacing pygal's stylesheet with ours would tie our CSS to
pygal's inner markup. As an image, the SVG is a document of its own that can never run script (browsers run
none in `<img>`), served with a policy of its own that allows its styles and nothing else; its script is
removed anyway. The page stays small however many points a chart has (the figures' table is the page's
share), and the chart's address is an ordinary URL that its view guards like the page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

import pygal
from flask import Response
from pygal.style import Style

SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>|<script\b[^>]*/>", re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


@dataclass(frozen=True)
class Series:
    title: str
    values: tuple[Decimal | int | None, ...]


@dataclass(frozen=True)
class Chart:
    """A chart and its figures: `labels` along the x axis, one value per label in each series."""

    title: str
    labels: tuple[str, ...]
    series: tuple[Series, ...]
    unit: str = ""
    src: str = ""  # where the page's <img> loads the SVG from
    label_title: str = ""  # the heading of the labels' column in the table
    summary: str = ""  # the image's alternative text: what the chart shows, in a sentence
    every: int = 1  # label every n-th point on the axis (the table has them all)
    kind: str = "bar"
    extra: dict = field(default_factory=dict)

    @property
    def rows(self) -> list[tuple[str, list]]:
        return [(label, [s.values[i] for s in self.series]) for i, label in enumerate(self.labels)]


def style(primary: str, secondary: str, font: str) -> Style:
    return Style(colors=(primary, secondary, "#6e7781", "#1c2128"), background="transparent",
                 plot_background="transparent", foreground="#1c2128", foreground_strong="#1c2128",
                 foreground_subtle="#d0d7de", font_family=font, label_font_size=13, major_label_font_size=13,
                 legend_font_size=14, value_font_size=12, opacity=".9", opacity_hover=".9", transition="0s",
                 guide_stroke_color="#d0d7de", major_guide_stroke_color="#afb8c1")


def svg(chart: Chart, brand: dict, *, width: int = 720, height: int = 280) -> bytes:
    """The chart as an SVG document in the brand's colours and font (the brand as templates read it)."""
    kinds = {"bar": pygal.Bar, "line": pygal.Line}
    options = dict(js=[], style=style(brand.get("primary_color") or "#0b5cab", brand.get("secondary_color") or
                                      "#f28c28", brand.get("font_family") or "system-ui, sans-serif"),
                   width=width, height=height, disable_xml_declaration=True, legend_at_bottom=True,
                   show_legend=len(chart.series) > 1, truncate_label=-1, print_values=False,
                   show_minor_x_labels=chart.every <= 1, x_labels_major_every=max(1, chart.every),
                   y_title=chart.unit or None, margin=8)
    drawn = kinds[chart.kind](**options, **chart.extra)
    drawn.x_labels = list(chart.labels)
    for series in chart.series:
        drawn.add(series.title, [None if v is None else float(v) for v in series.values])
    text = drawn.render(is_unicode=True)
    return _COMMENT.sub("", _SCRIPT.sub("", text)).encode("utf-8")


def svg_response(body: bytes) -> Response:
    """An SVG chart, with the policy of the module's docstring; private, since it is one customer's figures."""
    response = Response(body, mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = SVG_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-cache"
    return response
