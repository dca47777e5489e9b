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
from datetime import date
from decimal import Decimal

import pygal
from babel import UnknownLocaleError
from babel.dates import format_date
from flask import Response, request
from pygal.style import Style

SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>|<script\b[^>]*/>", re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


@dataclass(frozen=True)
class Size:
    """How big a chart is drawn, in the SVG's own pixels, and the most labels it shows on each axis.

    Why two: the image is scaled to the width it is given, and its text with it. Drawn 720 px wide, a chart
    shown about 300 px wide on a phone has its labels at 5 px and crowded together; so phones (the kit's
    `<picture>` picks by the width of the screen, NARROW_MEDIA) get a drawing made for their width, with a
    larger font and a few labels only. The table below the chart still has every figure."""

    width: int
    height: int
    font: int
    labels: int
    y_labels: int  # at most this many steps on the y axis (pygal's `max_scale`)


WIDE = Size(width=720, height=280, font=13, labels=12, y_labels=8)
NARROW = Size(width=360, height=300, font=16, labels=4, y_labels=5)
NARROW_MEDIA = "(max-width: 40rem)"


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
    axis_labels: tuple[str, ...] = ()  # shorter labels for the axis (the table shows `labels`); default: `labels`
    kind: str = "bar"
    extra: dict = field(default_factory=dict)

    @property
    def rows(self) -> list[tuple[str, list]]:
        return [(label, [s.values[i] for s in self.series]) for i, label in enumerate(self.labels)]

    @property
    def narrow_src(self) -> str:
        """The phone's drawing of the same chart: the same address, with `size=narrow`."""
        if not self.src:
            return ""
        return f"{self.src}{'&' if '?' in self.src else '?'}size=narrow"

    @property
    def sizes(self) -> dict[str, Size]:
        return {"wide": WIDE, "narrow": NARROW}

    @property
    def narrow_media(self) -> str:
        return NARROW_MEDIA


def style(primary: str, secondary: str, font: str, *, font_size: int = 13) -> Style:
    return Style(colors=(primary, secondary, "#6e7781", "#1c2128"), background="transparent",
                 plot_background="transparent", foreground="#1c2128", foreground_strong="#1c2128",
                 foreground_subtle="#d0d7de", font_family=font, label_font_size=font_size,
                 major_label_font_size=font_size, legend_font_size=font_size + 1, title_font_size=font_size + 1,
                 value_font_size=font_size - 1, opacity=".9", opacity_hover=".9", transition="0s",
                 guide_stroke_color="#d0d7de", major_guide_stroke_color="#afb8c1")


def svg(chart: Chart, brand: dict, *, narrow: bool = False) -> bytes:
    """The chart as an SVG document in the brand's colours and font (the brand as templates read it); `narrow`
    is the phone's drawing (see `Size`)."""
    size = NARROW if narrow else WIDE
    kinds = {"bar": pygal.Bar, "line": pygal.Line}
    axis = list(chart.axis_labels or chart.labels)
    every = max(1, chart.every, -(-len(axis) // min(size.labels, _labels_that_fit(axis, size))))
    options = dict(js=[], style=style(brand.get("primary_color") or "#0b5cab", brand.get("secondary_color") or
                                      "#f28c28", brand.get("font_family") or "system-ui, sans-serif",
                                      font_size=size.font),
                   width=size.width, height=size.height, disable_xml_declaration=True, legend_at_bottom=True,
                   show_legend=len(chart.series) > 1, truncate_label=-1, print_values=False,
                   show_minor_x_labels=every <= 1, x_labels_major_every=every,
                   y_title=chart.unit or None, margin=8, max_scale=size.y_labels)
    drawn = kinds[chart.kind](**options, **chart.extra)
    drawn.x_labels = axis
    for series in chart.series:
        drawn.add(series.title, [None if v is None else float(v) for v in series.values])
    text = drawn.render(is_unicode=True)
    return _COMMENT.sub("", _SCRIPT.sub("", text)).encode("utf-8")


def day_label(day: date, language: str, pattern: str = "d MMM") -> str:
    """A day as an axis shows it, short ("5 Nov"), in the page's language (English where Babel has none)."""
    try:
        return format_date(day, pattern, locale=language or "en")
    except (ValueError, UnknownLocaleError):
        return format_date(day, pattern, locale="en")


def _labels_that_fit(labels: list[str], size: Size) -> int:
    """How many x labels fit side by side without touching: a character is about 0.6 of the font size wide,
    with a space of one font size between labels, along the plot (the width less the y axis)."""
    longest = max((len(label) for label in labels), default=1)
    return max(2, int((size.width - 80) / (longest * size.font * 0.6 + size.font)))


def drawn(chart: Chart, brand: dict) -> Response:
    """The chart's SVG as the request asks for it: the phone's drawing when `size=narrow`."""
    return svg_response(svg(chart, brand, narrow=request.args.get("size") == "narrow"))


def svg_response(body: bytes) -> Response:
    """An SVG chart, with the policy of the module's docstring; private, since it is one customer's figures."""
    response = Response(body, mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = SVG_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-cache"
    return response
