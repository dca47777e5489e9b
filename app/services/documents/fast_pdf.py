"""Customer documents drawn straight with ReportLab platypus, for tenants whose theme leaves them alone.

Why a second drawing path: the billing figure (issue 6) asks for at least 50 invoice PDFs a second on one
core for a 10-line invoice, and a 200-line invoice in no more than 20 times that. The HTML path (Jinja
template, then xhtml2pdf) spends about 150 ms on a 10-line invoice, most of it in xhtml2pdf's CSS and
layout work (about 1 ms a table cell), so it cannot get there. xhtml2pdf draws with ReportLab underneath;
building the same page from platypus flowables directly skips the HTML and CSS and costs a few ms.

The drawing here is the base theme's `documents/layout.html` and `documents/<kind>.html`, written in
Python: same blocks, same order, same brand colours (`palette`), same labels through the same gettext
catalogue, same `money`, `day` and `when` formatting. It is used only while the tenant's theme chain does
not override those templates (`overridden`): a theme that replaces or extends a document keeps the HTML
path and so keeps full control of it. A change to the base document templates must be made here too
(tests/whitelabel/test_documents.py reads both paths' PDFs with the same expectations). A reseller's
commission statement is drawn here as well: a large reseller's month runs to thousands of lines, and xhtml2pdf
needs most of a second for every hundred (tests/commissions/test_statement.py, bench/statements.py).

What it may read: the brand's own uploaded raster logo, found through the same LinkResolver as the HTML
path's link callback (the exact stored file of the brand's owner). An external `logo_url` is never fetched
and an SVG logo is never drawn here: the header shows the brand name instead. Nothing else is opened.

Text typed by customers and resellers is never read as markup: it is drawn as plain strings (table cells
that fit on one line, and `Text` blocks, which wrap without parsing, and cost a fraction of a Paragraph),
so `<b>Evil</b> & Co` prints as written. The one Paragraph (a credit note's reason) is XML-escaped.
"""

from __future__ import annotations

import io
from functools import lru_cache, partial
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Image, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.doctemplate import LayoutError
from reportlab.platypus.flowables import HRFlowable

from app.services.branding import i18n, rendering
from app.services.branding.resolve import Brand
from app.services.documents.pdf import SVG_TYPE, LinkResolver, palette
from tenants.themes import ThemeChain

KINDS = ("invoice", "credit_note", "receipt", "statement", "commission_statement")

WIDTH = 18 * cm  # A4 less 1.5 cm either side, as layout.html's @page
MARGIN = 1.5 * cm
BOTTOM = 2.4 * cm
FOOTER_Y = A4[1] - 28.0 * cm - 7.5  # the footer frame's first line (layout.html: top 28.0cm)
LOGO_HEIGHT = 42  # layout.html's height="56" (px), in points
BODY, SMALL, NOTE = 9, 8.5, 7.5
GREY, RULE, FOOT, INK = "#52606D", "#D9DDE3", "#7B8794", "#1F2933"
FONT, BOLD = "Helvetica", "Helvetica-Bold"
LEADING = 1.3  # line-height, as layout.html's body
PAD = 5  # .items td padding left/right


class CannotDraw(RuntimeError):
    """The fast path cannot lay this document out (say, a table cell taller than a page); the caller
    falls back to the HTML path, which may split it."""


def overridden(chain: ThemeChain, kind: str) -> bool:
    """Whether a theme in the chain holds its own `documents/<kind>.html` or `documents/layout.html`, so the
    document must be drawn from the templates (the last folder of `chain.templates` is the base theme's)."""
    names = ("layout.html", f"{kind}.html")
    return any((folder / "documents" / name).is_file() for folder in chain.templates[:-1] for name in names)


def _esc(text) -> str:
    return escape(str(text))


# -- styles ---------------------------------------------------------------------------------------------

@lru_cache(maxsize=64)
def _styles(primary: str, secondary: str, on_primary: str, tint: str, ink: str) -> dict:
    """The colours of layout.html's stylesheet for one palette (and the one Paragraph style still used)."""
    colour = colors.HexColor
    return {
        "primary": colour(primary), "secondary": colour(secondary), "on_primary": colour(on_primary),
        "tint": colour(tint), "ink": colour(ink), "grey": colour(GREY), "rule": colour(RULE), "foot": colour(FOOT),
        "body": ParagraphStyle("body", fontName=FONT, fontSize=BODY, leading=BODY * LEADING, textColor=colour(ink)),
    }


def _cell(text, width: float, align: str = "left", font: str = FONT, size: float = BODY, colour=None):
    """A table cell's content: a plain string when it fits on one line (the table draws it in the column's
    font), else a Text that wraps. Neither is parsed."""
    text = "" if text is None else str(text)
    if "\n" not in text and stringWidth(text, font, size) <= width:
        return text
    return Text([(text, font, size, colour or colors.HexColor(INK))], align)


# -- text -----------------------------------------------------------------------------------------------

class Text(Flowable):
    """Lines of plain text, each in its own font, size and colour, wrapped to the width it is given and
    aligned left, right or centre. Nothing is parsed: a customer's `<b>` prints as `<b>`. It does what a
    Paragraph would do here for a fraction of the cost (no markup, no per-word fragments), and splits
    across pages like one (long notes or terms)."""

    def __init__(self, lines: list[tuple[str, str, float, object]], align: str = "left", space_before: float = 0,
                 space_after: float = 0):
        super().__init__()
        self.lines = lines  # (text, font, size, colour); a text may hold line breaks
        self.align = align
        self.spaceBefore, self.spaceAfter = space_before, space_after
        self._laid: list[tuple[str, str, float, object]] = []

    def wrap(self, available_width, available_height):
        laid = []
        for text, font, size, colour in self.lines:
            for part in str(text).splitlines() or [""]:
                if stringWidth(part, font, size) <= available_width:
                    laid.append((part, font, size, colour))
                else:
                    laid += [(piece, font, size, colour)
                             for piece in simpleSplit(part, font, size, available_width) or [""]]
        self._laid = laid
        self.width = available_width
        self.height = sum(size * LEADING for _, _, size, _ in laid)
        return self.width, self.height

    def split(self, available_width, available_height):
        self.wrap(available_width, available_height)
        used, first = 0.0, []
        for line in self._laid:
            if used + line[2] * LEADING > available_height:
                break
            used += line[2] * LEADING
            first.append(line)
        if not first or len(first) == len(self._laid):
            return [] if not first else [self]
        head = Text(first, self.align, self.spaceBefore, 0)
        tail = Text(self._laid[len(first):], self.align, 0, self.spaceAfter)
        return [head, tail]

    def draw(self):
        canvas, y = self.canv, self.height
        for text, font, size, colour in self._laid:
            y -= size * LEADING
            baseline = y + size * (LEADING - 1) / 2 + size * 0.22
            canvas.setFont(font, size)
            canvas.setFillColor(colour)
            if self.align == "right":
                canvas.drawRightString(self.width, baseline, text)
            elif self.align == "center":
                canvas.drawCentredString(self.width / 2, baseline, text)
            else:
                canvas.drawString(0, baseline, text)


# -- the page total -------------------------------------------------------------------------------------

class _NumberedCanvas(Canvas):
    """A canvas that keeps each page until the end, then writes "Page X of Y" on each: the total is known
    without laying the document out twice."""

    def __init__(self, *args, footer=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._footer = footer
        self._pages: list[dict] = []

    def showPage(self):  # noqa: N802 - ReportLab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self._footer(self, number, total)
            super().showPage()
        super().save()


# -- the document ---------------------------------------------------------------------------------------

class _Drawing:
    """One document being drawn: the brand, the language's gettext, the palette's styles."""

    def __init__(self, kind: str, document: dict, brand: Brand, locale: rendering.Locale):
        self.kind, self.doc, self.brand, self.locale = kind, document, brand, locale
        self.values = brand.values
        self.gettext = i18n.translations(locale.language).gettext
        self.context = {"language": locale.language, "timezone": locale.timezone}
        colours = palette(brand.values)
        self.s = _styles(colours["primary"], colours["secondary"], colours["on_primary"], colours["tint"],
                         colours["ink"])

    def day(self, value) -> str:
        return rendering.day(self.context, value)

    def when(self, value) -> str:
        return rendering.when(self.context, value)

    # -- layout.html ---------------------------------------------------------------------------------

    def logo(self):
        """The uploaded raster logo (the brand's own stored file, as the link callback would allow), else
        the brand name. An SVG or an external logo_url gives way to the name."""
        asset = self.brand.asset("logo")
        if asset is not None and isinstance(asset[1], dict) and asset[1].get("content_type") != SVG_TYPE:
            path = LinkResolver(self.brand).resolve(f"/brand/logo/{asset[1].get('file')}")
            if path is not None:
                image = _logo_image(path)
                if image is not None:
                    return image
        return Text([(self.values["brand_name"], BOLD, 20, self.s["primary"])])

    def seller(self) -> Text:
        v, _, grey = self.values, self.gettext, self.s["grey"]
        lines = [(v["brand_name"], BOLD, 10, self.s["ink"])]
        if v.get("address"):
            lines.append((v["address"], FONT, SMALL, grey))
        if v.get("tax_number"):
            lines.append((f'{_("Tax number")}: {v["tax_number"]}', FONT, SMALL, grey))
        lines += [(v[key], FONT, SMALL, grey) for key in ("support_email", "support_phone") if v.get(key)]
        return Text(lines, "right")

    def header(self) -> list:
        table = Table([[self.logo(), self.seller()]], colWidths=[WIDTH / 2, WIDTH / 2])
        table.setStyle(_PLAIN)
        return [table, HRFlowable(width="100%", thickness=2, color=self.s["primary"], spaceBefore=6,
                                  spaceAfter=14)]

    def customer(self, label: str) -> list:
        c, _, ink = self.doc["customer"], self.gettext, self.s["ink"]
        lines = [(label.upper(), BOLD, BODY, self.s["grey"]), (c["name"], BOLD, BODY, ink)]
        if c.get("portal_id"):
            lines.append((f'{_("Customer ID")}: {c["portal_id"]}', FONT, BODY, ink))
        if c.get("address"):
            lines.append((c["address"], FONT, BODY, ink))
        if c.get("email"):
            lines.append((c["email"], FONT, BODY, ink))
        if c.get("tax_number"):
            lines.append((f'{_("Tax number")}: {c["tax_number"]}', FONT, BODY, ink))
        return [Text(lines)]

    def facts(self, rows: list[tuple[str, str | None, bool]]):
        """layout.html's `fact` rows: (label, value, is_status); a row without a value is left out."""
        value_width = WIDTH / 2 * 0.48
        label_width = WIDTH / 2 - value_width
        data, style = [], list(_FACTS)
        for label, value, status in rows:
            if not value:
                continue
            row = len(data)
            data.append([_cell(label, label_width - 6, "right", FONT, BODY, self.s["grey"]),
                         _cell(value, value_width, "right", BOLD, 10 if status else BODY,
                               self.s["secondary"] if status else self.s["ink"])])
            if status:
                style += [("FONT", (1, row), (1, row), BOLD, 10),
                          ("TEXTCOLOR", (1, row), (1, row), self.s["secondary"])]
        if not data:
            return Spacer(0, 0)
        table = Table(data, colWidths=[label_width, value_width], hAlign="RIGHT")
        table.setStyle(TableStyle(style + [("TEXTCOLOR", (0, 0), (0, -1), self.s["grey"])]))
        return table

    def parties(self, label: str, heading: str, facts) -> Table:
        right = [Text([(heading, BOLD, 18, self.s["primary"])], "right", space_after=4), self.facts(facts)]
        table = Table([[self.customer(label), right]], colWidths=[WIDTH / 2, WIDTH / 2])
        table.setStyle(_PLAIN)
        return table

    def items(self, columns: list[tuple[str, float, bool]], rows: list[list], special=()) -> list:
        """A `.items` table: heading row repeated on every page; columns are (heading, width %, numeric).
        `special` rows (statement's opening and closing) span all but the last column, tinted and bold."""
        widths = [WIDTH * share / 100 for _, share, _ in columns]
        data = [[_cell(heading, width - 2 * PAD, "right" if numeric else "left", BOLD, BODY, self.s["on_primary"])
                 for (heading, _, numeric), width in zip(columns, widths, strict=True)]]
        ink, fits = self.s["ink"], [width - 2 * PAD for width in widths]
        aligns = ["right" if numeric else "left" for _, _, numeric in columns]
        for row in rows:
            data.append([_cell(value, fits[i], aligns[i], FONT, BODY, ink) for i, value in enumerate(row)])
        style = list(_ITEMS) + [
            ("BACKGROUND", (0, 0), (-1, 0), self.s["primary"]),
            ("TEXTCOLOR", (0, 0), (-1, 0), self.s["on_primary"]),
            ("LINEBELOW", (0, 1), (-1, -1), 0.5, self.s["rule"]),
        ]
        style += [("ALIGN", (i, 0), (i, -1), "RIGHT") for i, (_, _, numeric) in enumerate(columns) if numeric]
        for index in special:
            row = index if index >= 0 else len(data) + index
            style += [("SPAN", (0, row), (-2, row)), ("BACKGROUND", (0, row), (-1, row), self.s["tint"]),
                      ("FONT", (0, row), (-1, row), BOLD, BODY)]
        table = Table(data, colWidths=widths, repeatRows=1)
        table.setStyle(TableStyle(style))
        return [Spacer(0, 14), table]

    def totals(self, rows: list[tuple[str, str, str]]) -> list:
        """A `.totals` table: (label, value, "" | "grand" | "due") under the right-hand 45% of the page."""
        widths = [WIDTH * 0.55, WIDTH * 0.25, WIDTH * 0.20]
        data, style = [], list(_TOTALS) + [("TEXTCOLOR", (1, 0), (1, -1), self.s["grey"])]
        for label, value, kind in rows:
            row = len(data)
            big = kind in ("grand", "due")
            font, size = (BOLD, 10.5) if big else (FONT, BODY)
            colour = self.s["ink"] if big else self.s["grey"]
            data.append(["", _cell(label, widths[1] - 2 * PAD, "right", font, size, colour),
                         _cell(value, widths[2] - 2 * PAD, "right", font, size, self.s["ink"])])
            if big:
                style += [("FONT", (1, row), (2, row), BOLD, 10.5), ("TEXTCOLOR", (1, row), (2, row), self.s["ink"])]
            if kind == "grand":
                style += [("LINEABOVE", (1, row), (2, row), 1, self.s["primary"]),
                          ("TOPPADDING", (1, row), (2, row), 4)]
            elif kind == "due":
                style += [("BACKGROUND", (1, row), (2, row), self.s["tint"])]
        table = Table(data, colWidths=widths)
        table.setStyle(TableStyle(style))
        return [Spacer(0, 8), table]

    def closing(self) -> list:
        """The notes and the terms and conditions (the terms close the document, as in layout.html)."""
        _, out = self.gettext, []
        if self.doc.get("notes"):
            out += [Spacer(0, 14), Text([(_("Notes"), BOLD, BODY, self.s["primary"])], space_after=3),
                    Text([(self.doc["notes"], FONT, BODY, self.s["ink"])])]
        if self.values.get("terms"):
            grey = self.s["grey"]
            out += [Spacer(0, 18), HRFlowable(width="100%", thickness=0.5, color=self.s["rule"], spaceAfter=4),
                    Text([(_("Terms and conditions"), BOLD, NOTE, grey), (self.values["terms"], FONT, NOTE, grey)])]
        return out

    # -- the kinds -----------------------------------------------------------------------------------

    def invoice(self) -> tuple[str, str, list]:
        d, _ = self.doc, self.gettext
        heading = _("Pro-forma invoice") if d["kind"] == "proforma" else _("Invoice")
        period = (f"{self.day(d['period_start'])} –\n{self.day(d['period_end'])}"
                  if d["period_start"] and d["period_end"] else None)
        facts = [(_("Invoice number"), d["number"], False), (_("Issue date"), self.day(d["issued_on"]), False),
                 (_("Due date"), self.day(d["due_on"]), False), (_("Billing period"), period, False),
                 (_("Status"), _(d["status"]) if d["status"] else None, True)]
        discounted = any(line["discount"] for line in d["lines"])
        columns = [(_("Description"), 40 if discounted else 52, False), (_("Qty"), 8, True),
                   (_("Unit price"), 14, True)]
        if discounted:
            columns.append((_("Discount"), 12, True))
        columns += [(_("Tax"), 9, True), (_("Amount"), 17, True)]
        money = rendering.money
        rows = []
        for line in d["lines"]:
            row = [line["description"], str(line["quantity"]), money(line["unit_price"])]
            if discounted:
                row.append(f"-{money(line['discount'])}" if line["discount"] else "")
            row += [f"{line['tax_rate']}%" if line["tax_rate"] is not None else "", money(line["amount"])]
            rows.append(row)
        totals = [(_("Subtotal"), money(d["subtotal"]), "")]
        if d["discount_total"]:
            totals.append((_("Discount"), f"-{money(d['discount_total'])}", ""))
        totals += self._taxes(d["taxes"])
        totals.append((_("Total"), money(d["total"], d["currency"]), "grand"))
        if d["amount_paid"]:
            totals.append((_("Amount paid"), f"-{money(d['amount_paid'])}", ""))
        totals.append((_("Balance due"), money(d["balance_due"], d["currency"]), "due"))
        body = [self.parties(_("Bill to"), heading, facts), *self.items(columns, rows), *self.totals(totals)]
        return heading, f"{heading} {d['number']}", body

    def credit_note(self) -> tuple[str, str, list]:
        d, _ = self.doc, self.gettext
        heading = _("Credit note")
        facts = [(_("Credit note number"), d["number"], False), (_("Issue date"), self.day(d["issued_on"]), False),
                 (_("Credited invoice"), d["invoice_number"], False)]
        money = rendering.money
        body = [self.parties(_("Bill to"), heading, facts)]
        if d["reason"]:
            body += [Spacer(0, 9), Paragraph(f'<b>{_esc(_("Reason"))}:</b> {_esc(d["reason"])}', self.s["body"])]
        columns = [(_("Description"), 52, False), (_("Qty"), 8, True), (_("Unit price"), 14, True),
                   (_("Tax"), 9, True), (_("Amount"), 17, True)]
        rows = [[line["description"], str(line["quantity"]), money(line["unit_price"]),
                 f"{line['tax_rate']}%" if line["tax_rate"] is not None else "", money(line["amount"])]
                for line in d["lines"]]
        totals = [(_("Subtotal"), money(d["subtotal"]), ""), *self._taxes(d["taxes"]),
                  (_("Total credited"), money(d["total"], d["currency"]), "grand")]
        body += [*self.items(columns, rows), *self.totals(totals)]
        return heading, f"{heading} {d['number']}", body

    def receipt(self) -> tuple[str, str, list]:
        d, _ = self.doc, self.gettext
        heading = _("Receipt")
        facts = [(_("Receipt number"), d["number"], False), (_("Payment date"), self.when(d["paid_on"]), False),
                 (_("Payment method"), d["method"], False), (_("Payment reference"), d["reference"], False)]
        money = rendering.money
        body = [self.parties(_("Received from"), heading, facts),
                *self.totals([(_("Amount received"), money(d["amount"], d["currency"]), "due")])]
        if d["allocations"]:
            body += self.items([(_("Applied to invoice"), 70, False), (_("Amount"), 30, True)],
                               [[a["invoice_number"], money(a["amount"])] for a in d["allocations"]])
        if d["credit_left"]:
            body += self.totals([(_("Credit remaining on account"), money(d["credit_left"], d["currency"]), "")])
        body += [Spacer(0, 14), Text([(_("Thank you for your payment."), FONT, BODY, self.s["ink"])])]
        return heading, f"{heading} {d['number']}", body

    def statement(self) -> tuple[str, str, list]:
        d, _ = self.doc, self.gettext
        heading = _("Statement of account")
        start, end = self.day(d["period_start"]), self.day(d["period_end"])
        facts = [(_("From"), start, False), (_("To"), end, False), (_("Currency"), d["currency"], False)]
        money = rendering.money
        columns = [(_("Date"), 18, False), (_("Description"), 24, False), (_("Reference"), 16, False),
                   (_("Debit"), 13, True), (_("Credit"), 13, True), (_("Balance"), 16, True)]
        rows = [[_("Opening balance"), "", "", "", "", money(d["opening_balance"])]]
        for entry in d["entries"]:
            rows.append([self.day(entry["date"]), entry["description"], entry["reference"] or "",
                         money(entry["debit"]) if entry["debit"] is not None else "",
                         money(entry["credit"]) if entry["credit"] is not None else "", money(entry["balance"])])
        rows.append([_("Closing balance"), "", "", "", "", money(d["closing_balance"], d["currency"])])
        body = [self.parties(_("Account"), heading, facts), *self.items(columns, rows, special=(1, -1))]
        return heading, f"{heading} {start} – {end}", body

    def commission_statement(self) -> tuple[str, str, list]:
        """A reseller's commission statement (documents/commission_statement.html): the payee, the payout's
        lines, its totals, and once paid the rate and the converted amount, then how it was paid."""
        d, _ = self.doc, self.gettext
        heading = _("Commission statement")
        period = f"{self.day(d['period_start'])} –\n{self.day(d['period_end'])}"
        facts = [(_("Statement number"), d["number"], False), (_("Issue date"), self.day(d["issued_on"]), False),
                 (_("Period"), period, False), (_("Disputes until"), self.when(d["dispute_until"]), False),
                 (_("Status"), _(d["status"]) if d["status"] else None, True)]
        money = rendering.money
        columns = [(_("Date"), 14, False), (_("Description"), 30, False), (_("Base"), 15, True),
                   (_("Rate"), 9, True), (_("Status"), 14, False), (_("Amount"), 18, True)]
        rows = [[self.day(line["date"]),
                 f"{line['description']}\n{line['customer']}" if line["customer"] else line["description"],
                 money(line["base_amount"]) if line["base_amount"] is not None else "",
                 f"{line['rate']}%" if line["rate"] is not None else "",
                 _(line["status"]) if line["status"] else "", money(line["amount"])]
                for line in d["lines"]]
        totals = [(_("Earned in the period"), money(d["gross"]), "")]
        if d["adjustments"]:
            totals.append((_("Adjustments"), money(d["adjustments"]), ""))
        if d["carried_in"]:
            totals.append((_("Brought forward"), money(d["carried_in"]), ""))
        totals.append((_("Total"), money(d["total"], d["currency"]), "grand"))
        if d["converted_amount"] is not None and d["payout_currency"]:
            totals += [(f'{_("Rate")} {d["currency"]}/{d["payout_currency"]}', str(d["fx_rate"]), ""),
                       (_("Paid"), money(d["converted_amount"], d["payout_currency"]), "due")]
        body = [self.parties(_("Payee"), heading, facts), *self.items(columns, rows), *self.totals(totals)]
        if d["paid_on"]:
            paid = " · ".join(part for part in (self.when(d["paid_on"]), d["method"], d["reference"]) if part)
            body += [Spacer(0, 14), KeepTogether([Text([(_("Payment"), BOLD, BODY, self.s["primary"])], space_after=3),
                                                  Text([(paid, FONT, BODY, self.s["ink"])])])]
        return heading, f"{heading} {d['number']}", body

    def _taxes(self, taxes: list[dict]) -> list:
        return [(f"{tax['name']} ({tax['rate']}%)" if tax["rate"] is not None else str(tax["name"]),
                 rendering.money(tax["amount"]), "") for tax in taxes]

    # -- the whole -----------------------------------------------------------------------------------

    def pdf(self) -> bytes:
        heading, reference, body = getattr(self, self.kind)()
        story = [*self.header(), *body, *self.closing()]
        page = self.gettext("Page %(number)s of %(count)s")
        foot = self.s["foot"]

        def footer(canvas: Canvas, number: int, total: int) -> None:
            canvas.saveState()
            canvas.setFont(FONT, NOTE)
            canvas.setFillColor(foot)
            canvas.drawCentredString(MARGIN + WIDTH / 2, FOOTER_Y,
                                     f"{reference} · {page % {'number': number, 'count': total}}")
            canvas.restoreState()

        out = io.BytesIO()
        title = f"{reference} · {self.values['brand_name']}" if self.kind != "statement" else \
            f"{heading} · {self.doc['customer']['name']} · {self.values['brand_name']}"
        document = SimpleDocTemplate(out, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                                     bottomMargin=BOTTOM, title=title, author=self.values["brand_name"],
                                     lang=self.locale.language)
        try:
            document.build(story, canvasmaker=partial(_NumberedCanvas, footer=footer))
        except LayoutError as exc:
            raise CannotDraw(str(exc)) from exc
        return out.getvalue()


_PLAIN = TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                     ("RIGHTPADDING", (0, 0), (-1, -1), 0), ("TOPPADDING", (0, 0), (-1, -1), 0),
                     ("BOTTOMPADDING", (0, 0), (-1, -1), 0)])
_FACTS = [("VALIGN", (0, 0), (-1, -1), "TOP"), ("ALIGN", (0, 0), (-1, -1), "RIGHT"),
          ("FONT", (0, 0), (0, -1), FONT, BODY), ("FONT", (1, 0), (1, -1), BOLD, BODY),
          ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0),
          ("RIGHTPADDING", (0, 0), (0, -1), 6), ("TOPPADDING", (0, 0), (-1, -1), 1),
          ("BOTTOMPADDING", (0, 0), (-1, -1), 1), ("LEADING", (0, 0), (-1, -1), BODY * 1.3)]
_ITEMS = [("VALIGN", (0, 0), (-1, -1), "TOP"), ("FONT", (0, 0), (-1, 0), BOLD, BODY),
          ("FONT", (0, 1), (-1, -1), FONT, BODY), ("LEFTPADDING", (0, 0), (-1, -1), PAD),
          ("RIGHTPADDING", (0, 0), (-1, -1), PAD), ("TOPPADDING", (0, 0), (-1, -1), 4),
          ("BOTTOMPADDING", (0, 0), (-1, -1), 3), ("LEADING", (0, 0), (-1, -1), BODY * 1.3)]
_TOTALS = [("VALIGN", (0, 0), (-1, -1), "TOP"), ("ALIGN", (1, 0), (2, -1), "RIGHT"),
           ("FONT", (0, 0), (-1, -1), FONT, BODY), ("LEFTPADDING", (0, 0), (-1, -1), PAD),
           ("RIGHTPADDING", (0, 0), (-1, -1), PAD), ("TOPPADDING", (0, 0), (-1, -1), 2),
           ("BOTTOMPADDING", (0, 0), (-1, -1), 2), ("LEADING", (0, 0), (-1, -1), BODY * 1.3)]


def _logo_image(path: Path) -> Image | None:
    """The logo at the header's height (never wider than half the page), or None if it cannot be read."""
    try:
        image = Image(str(path))
        width, height = image.imageWidth, image.imageHeight
    except Exception:  # a damaged upload: the brand name is better than a failed document
        return None
    if not width or not height:
        return None
    scale = min(LOGO_HEIGHT / height, (WIDTH / 2) / width)
    image.drawWidth, image.drawHeight = width * scale, height * scale
    image.hAlign = "LEFT"
    return image


def render(kind: str, document: dict, brand: Brand, locale: rendering.Locale) -> bytes:
    """The PDF of a prepared document (pdf.prepare) in the base theme's design. CannotDraw when platypus
    cannot lay it out; the caller then uses the HTML path."""
    if kind not in KINDS:
        raise ValueError(f"unknown document kind {kind!r}")
    return _Drawing(kind, document, brand, locale).pdf()


__all__ = ["KINDS", "CannotDraw", "overridden", "render"]
