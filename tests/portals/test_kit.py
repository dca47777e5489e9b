"""The portals' shared kit, as pages use it: a table's sort and page read from the links it draws (never a
column it does not sort by, never a page below one), its CSV with the reports' rules, the form macro's label,
error next to the field and kept input, the chart's SVG without script (and a phone's drawing of it, narrow, with
few large labels) and its figures as a table."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from app.portals import charts, tables
from app.portals.forms import SignInForm

SPEC = tables.TableSpec("invoices", "Invoices", (
    tables.Column("number", "Number", sortable=True), tables.Column("total", "Total", "money", sortable=True),
    tables.Column("notes", "Notes")), default_sort="-number", per_page=2)


def test_a_tables_state_comes_from_its_own_links_and_nothing_else(app):
    with app.test_request_context("/portal/invoices?sort=notes&page=-3&status=Paid"):
        state = tables.state(SPEC)
        assert (state.sort, state.descending, state.page) == ("number", True, 1)  # notes does not sort
        shown = tables.view(SPEC, state, [{"number": "A"}, {"number": "B"}], total=5)
        assert shown["pages"] == 3 and shown["previous"] is None
        assert shown["next"] == "/portal/invoices?status=Paid&sort=-number&page=2"
        assert shown["sort_links"]["number"] == "/portal/invoices?status=Paid&sort=number"  # the other way
        assert shown["exports"]["csv"] == "/portal/invoices?status=Paid&sort=-number&format=csv"
    with app.test_request_context("/portal/invoices?sort=total&page=2"):
        state = tables.state(SPEC)
        assert (state.sort, state.descending, state.offset) == ("total", False, 2)


def test_an_export_keeps_money_exact_and_formulas_as_text(app):
    with app.test_request_context("/portal/invoices?format=csv"):
        assert tables.wanted_format() == "csv"
        response = tables.export_response(SPEC, [{"number": "INV-1", "total": Decimal("1234.5"),
                                                   "notes": "=HYPERLINK(1)"}], "csv", scope="ABC000001",
                                          start=date(2026, 1, 1),
                                          end=date(2026, 1, 31), zone=ZoneInfo("UTC"))
        body = response.get_data(as_text=True).splitlines()
        assert body[:2] == ["Number,Total,Notes", "INV-1,1234.50,'=HYPERLINK(1)"]
        assert response.headers["Content-Disposition"] == 'attachment; filename="invoices_2026-01-01_2026-01-31.csv"'
        xlsx = tables.export_response(SPEC, [], "xlsx", scope="x", start=date(2026, 1, 1),
                                      end=date(2026, 1, 1), zone=ZoneInfo("UTC"))
        assert xlsx.get_data()[:2] == b"PK"


def test_a_field_shows_its_label_error_and_what_was_typed(app):
    with app.test_request_context("/login", method="POST", data={"identifier": "ABC0001", "password": ""}):
        from flask import render_template_string

        form = SignInForm(meta={"csrf": False})
        form.validate()
        html = render_template_string(
            '{% from "kit/forms.html" import wtf_field with context %}'
            '{{ wtf_field(form.identifier, "Portal ID", hint="On your invoice") }}'
            '{{ wtf_field(form.password, "Password") }}', form=form, language="en")
    assert '<label for="identifier">Portal ID</label>' in html and 'value="ABC0001"' in html
    assert 'aria-describedby="identifier-hint"' in html
    assert 'id="password-error">Enter your password.</p>' in html and 'aria-invalid="true"' in html


def test_a_chart_is_an_svg_without_script_in_the_brands_colours():
    chart = charts.Chart(title="Usage", labels=("1 Nov", "2 Nov"), unit="MB",
                         series=(charts.Series("Download", (Decimal("1.5"), Decimal("2"))),))
    svg = charts.svg(chart, {"primary_color": "#0066CC", "secondary_color": "#FF6600"}).decode()
    assert svg.startswith("<svg") and "<script" not in svg and "#0066CC" in svg
    assert chart.rows == [("1 Nov", [Decimal("1.5")]), ("2 Nov", [Decimal("2")])]
    response = charts.svg_response(svg.encode())
    assert response.mimetype == "image/svg+xml" and "script" not in response.headers["Content-Security-Policy"]


def test_a_chart_for_a_phone_is_drawn_narrow_with_few_large_labels():
    chart = charts.Chart(title="Usage", labels=tuple(f"2026-11-{d:02d}" for d in range(1, 31)), unit="MB",
                         series=(charts.Series("Download", tuple(Decimal(d) for d in range(30))),), src="/u.svg?a=1")
    assert chart.narrow_src == "/u.svg?a=1&size=narrow"
    wide, narrow = charts.svg(chart, {}).decode(), charts.svg(chart, {}, narrow=True).decode()
    assert 'viewBox="0 0 720 280"' in wide and 'viewBox="0 0 360 300"' in narrow

    def x_labels(drawn: str) -> list[str]:
        return re.findall(r"<text[^>]*>([^<]+)</text>", drawn[drawn.index('<g class="axis x">'):
                                                              drawn.index('<g class="series')])

    assert len(x_labels(narrow)) <= charts.NARROW.labels < len(x_labels(wide)) <= charts.WIDE.labels
    assert min(int(px) for px in re.findall(r"\.axis text[^{]*\{[^}]*font-size:(\d+)px", narrow)) >= 16


def test_a_phones_x_labels_never_touch_however_long_they_are():
    for labels in (tuple(f"2026-11-{d:02d}" for d in range(1, 31)), tuple(f"{d} Nov" for d in range(1, 31))):
        chart = charts.Chart(title="Usage", labels=labels, every=7,
                             series=(charts.Series("Download", tuple(Decimal(d) for d in range(30))),))
        drawn = charts.svg(chart, {}, narrow=True).decode()
        axis = drawn[drawn.index('<g class="axis x">'):drawn.index('<g class="series')]
        xs = [float(x) for x in re.findall(r'<text x="([\d.]+)"', axis)]
        width = max(len(label) for label in labels) * charts.NARROW.font * 0.6
        assert len(xs) >= 2 and all(b - a >= width for a, b in zip(xs, xs[1:], strict=False)), (labels[0], xs)
