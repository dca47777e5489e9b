"""Invoices, credit notes, receipts and statements as HTML and PDF, in the tenant's brand and language.

A document is drawn from `documents/<kind>.html` looked up along the tenant's theme chain (a theme may
replace a whole template or `{% extends "base:documents/invoice.html" %}` and change one block), with
the `document` flavour of branding/rendering.py: sandboxed, StrictUndefined, autoescaped, with the
`money`, `day`, `when` filters and `_()`. Templates see `brand`, `language`, `timezone` (render_context),
`kind`, `document` (also under its kind's name: `invoice`, `credit_note`, `receipt`, `statement`),
`palette` (the brand colours, checked, with a readable text colour on the primary) and `medium`
("pdf" or "html").

Document shapes (dicts; the billing code builds them). Money is a Decimal or a string of decimals, never
a float: `prepare` refuses a float, because a float has already lost the cent that the document would
then print. Quantities and rates are Decimals too, shown without trailing zeros; rates are percentages
(Decimal("16") is 16%). Dates are `date`s (or ISO strings); `paid_on` is a moment (datetime, UTC if
naive). `?` marks what may be left out (it is then None, or 0 for discounts, payments and credit):

    customer   = {name, portal_id?, address? (may hold line breaks), email?, tax_number?}
    invoice    = {number, kind? ("invoice" | "proforma"), status?, issued_on, due_on?, period_start?,
                  period_end?, currency, customer, lines, subtotal, discount_total?, taxes?, total,
                  amount_paid?, balance_due? (total - amount_paid), notes?}
      lines    = [{description, quantity, unit_price, discount?, tax_rate?, amount}]
                 amount = quantity x unit_price - discount, before tax
      taxes    = [{name, rate?, amount}]
                 subtotal = sum of quantity x unit_price; total = subtotal - discount_total + taxes
    credit_note = {number, invoice_number?, issued_on, reason?, currency, customer, lines, subtotal,
                   taxes?, total, notes?}
    receipt    = {number, paid_on, method?, reference?, currency, customer, amount,
                  allocations? [{invoice_number, amount}], credit_left?, notes?}
    statement  = {period_start, period_end, currency, customer, opening_balance,
                  entries? [{date, description, reference?, debit?, credit?, balance}],
                  closing_balance, notes?}
    commission_statement = {number, status?, issued_on, period_start, period_end, currency, customer (the payee),
                  lines [{date, description, customer?, kind?, base_amount?, rate?, status?, amount}],
                  gross?, adjustments?, carried_in?, total, dispute_until?, payout_currency?, fx_rate?,
                  converted_amount?, paid_on?, method?, reference?, notes?}

Keys beyond these are passed through untouched, for themes that show more.

What the PDF renderer may read. The HTML is drawn from templates a reseller can upload, and from brand
fields a reseller typed, so everything it links to is untrusted. xhtml2pdf fetches what the markup
names: left alone, `<img src="http://169.254.169.254/...">` or an https `logo_url` pointing inside our
network makes the server request it (SSRF), and `<img src="/etc/passwd">` or `file:` reads our disk
(LFI). So `LinkResolver` is the only way in: it answers for `/brand/logo/<file>` and
`/brand/favicon/<file>` (the brand's own uploaded file, by the exact stored name, from its owner's
folder) and `/static/<name>` (the theme chain's static files), and sends everything else to an empty
`data:` URI. It must return something for a refused link: xhtml2pdf treats an empty answer from the
callback as "use the link as written" and would fetch it. Because xhtml2pdf also reads a few things
without asking the callback (some font and background paths), the render additionally runs under a
ResourceAccessPolicy that allows no network at all and no local file outside the brand's asset files and
the chain's static folders. An external `logo_url` is therefore never drawn in a PDF (the header shows the
brand name); upload the logo to have it there.

SVG logos: xhtml2pdf draws SVG by rasterising it through ReportLab's renderPM, which needs the cairo
backend (rlPyCairo). Where that is not installed the image would silently vanish, leaving an empty
header; `svg_drawable()` checks once, and without it an SVG logo gives way to the brand name.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path

import jinja2
from sqlalchemy.orm import Session
from xhtml2pdf import pisa

from app.services.branding import rendering, storage
from app.services.branding.fields import PLATFORM_DEFAULTS
from app.services.branding.rendering import Locale
from app.services.branding.resolve import Brand, brand_of
from app.services.errors import Invalid
from tenants import current_tenant

try:  # recent xhtml2pdf (0.2.28 here): the fetcher's own gate, which also covers what bypasses link_callback
    from xhtml2pdf.config.resources import ResourceAccessPolicy
except ImportError:  # pragma: no cover - older xhtml2pdf: link_callback is then the only gate
    ResourceAccessPolicy = None

KINDS = ("invoice", "credit_note", "receipt", "statement", "commission_statement")
NOTHING = "data:,"  # what a refused link resolves to: an empty resource, never the link itself
SVG_TYPE = "image/svg+xml"

_ASSET_LINK = re.compile(r"^/brand/(logo|favicon)/([A-Za-z0-9][A-Za-z0-9._-]{0,127})$")
_STATIC_LINK = re.compile(r"^/static/([A-Za-z0-9_./-]{1,300})$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_COLOUR = re.compile(r"^#(?:[0-9A-Fa-f]{3}|[0-9A-Fa-f]{6})$")
# the page total as a template writes it; markup only (a brand's or customer's text is escaped to &lt;pdf:…)
_PAGECOUNT = re.compile(r"<pdf:pagecount\s*/?>(?:\s*</pdf:pagecount>)?", re.IGNORECASE)
_PAGE_TREE = re.compile(rb"/Count (\d+) /Kids \[")


class DocumentError(RuntimeError):
    """A document could not be drawn: its template failed or the PDF converter reported errors."""


# -- the shapes ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Shape:
    required: tuple[str, ...]
    defaults: dict = field(default_factory=dict)
    money: tuple[str, ...] = ()
    plain: tuple[str, ...] = ()  # quantities and rates: Decimals shown without trailing zeros
    rows: dict = field(default_factory=dict)  # key -> _Shape of each element of a list
    parts: dict = field(default_factory=dict)  # key -> _Shape of a nested dict


_CUSTOMER = _Shape(("name",), {"portal_id": None, "address": None, "email": None, "tax_number": None})
_LINE = _Shape(("description", "quantity", "unit_price", "amount"), {"discount": Decimal(0), "tax_rate": None},
               money=("unit_price", "discount", "amount"), plain=("quantity", "tax_rate"))
_TAX = _Shape(("name", "amount"), {"rate": None}, money=("amount",), plain=("rate",))
_ALLOCATION = _Shape(("invoice_number", "amount"), money=("amount",))
_ENTRY = _Shape(("date", "description", "balance"), {"reference": None, "debit": None, "credit": None},
                money=("debit", "credit", "balance"))
_COMMISSION_LINE = _Shape(("date", "description", "amount"),
                          {"customer": None, "kind": None, "base_amount": None, "rate": None, "status": None},
                          money=("base_amount", "amount"), plain=("rate",))

SHAPES: dict[str, _Shape] = {
    "invoice": _Shape(
        ("number", "issued_on", "currency", "customer", "lines", "subtotal", "total"),
        {"kind": "invoice", "status": None, "due_on": None, "period_start": None, "period_end": None,
         "discount_total": Decimal(0), "taxes": [], "amount_paid": Decimal(0), "balance_due": None,
         "notes": None},
        money=("subtotal", "discount_total", "total", "amount_paid", "balance_due"),
        rows={"lines": _LINE, "taxes": _TAX}, parts={"customer": _CUSTOMER}),
    "credit_note": _Shape(
        ("number", "issued_on", "currency", "customer", "lines", "subtotal", "total"),
        {"invoice_number": None, "reason": None, "taxes": [], "notes": None},
        money=("subtotal", "total"), rows={"lines": _LINE, "taxes": _TAX}, parts={"customer": _CUSTOMER}),
    "receipt": _Shape(
        ("number", "paid_on", "currency", "customer", "amount"),
        {"method": None, "reference": None, "allocations": [], "credit_left": Decimal(0), "notes": None},
        money=("amount", "credit_left"), rows={"allocations": _ALLOCATION}, parts={"customer": _CUSTOMER}),
    "statement": _Shape(
        ("period_start", "period_end", "currency", "customer", "opening_balance", "closing_balance"),
        {"entries": [], "notes": None},
        money=("opening_balance", "closing_balance"), rows={"entries": _ENTRY}, parts={"customer": _CUSTOMER}),
    # a reseller's commission statement (app/services/commissions/statement.py); `customer` is the payee
    "commission_statement": _Shape(
        ("number", "issued_on", "period_start", "period_end", "currency", "customer", "lines", "total"),
        {"status": None, "gross": Decimal(0), "adjustments": Decimal(0), "carried_in": Decimal(0),
         "dispute_until": None, "payout_currency": None, "fx_rate": None, "converted_amount": None,
         "paid_on": None, "method": None, "reference": None, "notes": None},
        money=("gross", "adjustments", "carried_in", "total", "converted_amount"), plain=("fx_rate",),
        rows={"lines": _COMMISSION_LINE}, parts={"customer": _CUSTOMER}),
}


def _decimal(value, where: str) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool | float):
        raise Invalid(f"{where} must be a Decimal or a string of decimals, never a float "
                      "(a float has already lost the exact amount)", field=where)
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int | str):
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise Invalid(f"{where} is not a number: {str(value)[:40]!r}", field=where) from None
    else:
        raise Invalid(f"{where} must be a Decimal or a string of decimals", field=where)
    if not number.is_finite():
        raise Invalid(f"{where} must be a finite number", field=where)
    return number


def _plain(number: Decimal | None) -> Decimal | None:
    """2.500 -> 2.5, 16.00 -> 16 (and never 1E+1, which normalize() alone would make of 10)."""
    if number is None:
        return None
    return number.quantize(Decimal(1)) if number == number.to_integral_value() else number.normalize()


def _fit(shape: _Shape, value, where: str) -> dict:
    if not isinstance(value, dict):
        raise Invalid(f"{where} must be a mapping", field=where)
    out = {**shape.defaults, **value}
    for key in shape.required:
        if out.get(key) is None:
            raise Invalid(f"{where}.{key} is missing", field=f"{where}.{key}")
    for key in shape.money:
        out[key] = _decimal(out[key], f"{where}.{key}")
    for key in shape.plain:
        out[key] = _plain(_decimal(out[key], f"{where}.{key}"))
    for key, part in shape.parts.items():
        out[key] = _fit(part, out[key], f"{where}.{key}")
    for key, row in shape.rows.items():
        items = out[key] if out[key] is not None else []
        if not isinstance(items, list | tuple):
            raise Invalid(f"{where}.{key} must be a list", field=f"{where}.{key}")
        out[key] = [_fit(row, item, f"{where}.{key}[{i}]") for i, item in enumerate(items)]
    return out


def prepare(kind: str, document: dict) -> dict:
    """The document as templates get it: checked against its shape, optional keys filled in, numbers as
    Decimals. The caller's dict is not changed. Invalid names the first field that is wrong."""
    if kind not in SHAPES:
        raise Invalid(f"unknown document kind {kind!r}; one of {', '.join(KINDS)}", field="kind")
    prepared = _fit(SHAPES[kind], document, kind)
    if not isinstance(prepared["currency"], str) or not _CURRENCY.match(prepared["currency"]):
        raise Invalid(f"{kind}.currency must be an ISO 4217 code such as KES", field=f"{kind}.currency")
    if kind == "receipt" and not isinstance(prepared["paid_on"], datetime | str):
        raise Invalid("receipt.paid_on must be a moment (a datetime), not a date", field="receipt.paid_on")
    if kind == "invoice":
        if prepared["kind"] not in ("invoice", "proforma"):
            raise Invalid("invoice.kind must be 'invoice' or 'proforma'", field="invoice.kind")
        if prepared["balance_due"] is None:
            prepared["balance_due"] = prepared["total"] - prepared["amount_paid"]
    return prepared


# -- colours ---------------------------------------------------------------------------------------------

def _hex(value, fallback: str) -> str:
    value = value if isinstance(value, str) and _COLOUR.match(value) else fallback
    if len(value) == 4:
        value = "#" + "".join(c * 2 for c in value[1:])
    return value.upper()


def _luminance(colour: str) -> float:
    def channel(byte: int) -> float:
        c = byte / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def palette(values: dict) -> dict:
    """The brand colours for a document's style. Written into CSS as they are (xhtml2pdf has no CSS
    variables), so they are checked again here rather than trusted; `on_primary` is white or dark ink,
    whichever reads better on the primary colour (a reseller's pale yellow must not hide the headings)."""
    primary = _hex(values.get("primary_color"), PLATFORM_DEFAULTS["primary_color"])
    secondary = _hex(values.get("secondary_color"), PLATFORM_DEFAULTS["secondary_color"])
    ink = "#1F2933"
    on_white = (1.05) / (_luminance(primary) + 0.05)
    on_ink = (_luminance(primary) + 0.05) / (_luminance(ink) + 0.05)
    r, g, b = (int(primary[i:i + 2], 16) for i in (1, 3, 5))
    tint = "#" + "".join(f"{round(255 - (255 - c) * 0.08):02X}" for c in (r, g, b))
    return {"primary": primary, "secondary": secondary, "on_primary": "#FFFFFF" if on_white >= on_ink else ink,
            "tint": tint, "ink": ink}


# -- what the PDF may read -------------------------------------------------------------------------------

class LinkResolver:
    """xhtml2pdf's link_callback for one brand: the brand's uploaded logo and favicon and the theme chain's
    static files, and nothing else (see the module docstring for why)."""

    def __init__(self, brand: Brand):
        self.brand = brand

    def resolve(self, link) -> Path | None:
        """The local file a link stands for, or None if the document may not read it."""
        if not isinstance(link, str):
            return None
        found = _ASSET_LINK.match(link)
        if found:
            return self._asset(found[1], found[2])
        found = _STATIC_LINK.match(link)
        if found:
            return self.brand.themes.static_file(found[1])
        return None

    def _asset(self, kind: str, name: str) -> Path | None:
        asset = self.brand.asset(kind)
        if asset is None:
            return None
        owner, stored = asset
        if not isinstance(stored, dict) or stored.get("file") != name:
            return None
        try:
            path = storage.asset_path(owner, name)
        except ValueError:
            return None
        return path if path.is_file() else None

    def __call__(self, link, relative=None) -> str:
        path = self.resolve(link)
        return str(path) if path is not None else NOTHING

    def roots(self) -> tuple[Path, ...]:
        """The only places on disk the render may read: the brand's asset files and the static folders."""
        paths = []
        for kind in ("logo", "favicon"):
            asset = self.brand.asset(kind)
            found = self._asset(kind, str(asset[1].get("file") or "")) if asset and isinstance(asset[1], dict) \
                else None
            if found is not None:
                paths.append(found)
        paths += [folder for folder in self.brand.themes.statics if folder.is_dir()]
        return tuple(path.resolve() for path in paths)

    def policy(self):
        if ResourceAccessPolicy is None:  # pragma: no cover
            return None
        return ResourceAccessPolicy.server(base_dir=None, extra_roots=self.roots(), allow_remote=False,
                                           allowed_hosts=frozenset(), allow_private_networks=False)


@cache
def svg_drawable() -> bool:
    """Whether xhtml2pdf can draw an SVG image here (svglib and a working renderPM backend)."""
    try:
        import svglib.svglib  # noqa: F401
        from reportlab.graphics import renderPM
        from reportlab.graphics.shapes import Drawing, Rect

        drawing = Drawing(2, 2)
        drawing.add(Rect(0, 0, 2, 2))
        return bool(renderPM.drawToString(drawing, fmt="PNG"))
    except Exception:
        return False


def _logo_drawable_in_pdf(brand: Brand) -> bool:
    asset = brand.asset("logo")
    return asset is None or asset[1].get("content_type") != SVG_TYPE or svg_drawable()


# -- rendering -------------------------------------------------------------------------------------------

def _resolve(session: Session, brand: Brand | None, locale: Locale | None) -> tuple[Brand, Locale]:
    if brand is None:
        tenant = current_tenant()
        brand = brand_of(session, tenant.id if tenant else None)
    return brand, locale if locale is not None else rendering.locale_of(session)


def _html(kind: str, document: dict, brand: Brand, locale: Locale, *, medium: str) -> str:
    if kind not in KINDS:
        raise Invalid(f"unknown document kind {kind!r}; one of {', '.join(KINDS)}", field="kind")
    prepared = prepare(kind, document)
    context = rendering.render_context(brand, locale)
    if medium == "pdf" and not _logo_drawable_in_pdf(brand):
        context["brand"]["logo_src"] = None
    context.update({"kind": kind, "document": prepared, kind: prepared, "palette": palette(brand.values),
                    "medium": medium})
    try:
        template = rendering.environment("document", brand.themes).get_template(f"documents/{kind}.html")
        return template.render(context)
    except (jinja2.TemplateError, TypeError, ValueError, ArithmeticError) as exc:
        # a theme's template (or a value no filter can show) failed: say which document, never half-draw it
        raise DocumentError(f"the {kind} template could not be drawn: {exc.__class__.__name__}: {exc}") from exc


def render_html(session: Session, kind: str, document: dict, *, brand: Brand | None = None,
                locale: Locale | None = None) -> str:
    """The document as HTML (for previews in a browser; the PDF is drawn from the same markup).
    `brand` and `locale` default to the current tenant's."""
    brand, locale = _resolve(session, brand, locale)
    return _html(kind, document, brand, locale, medium="html")


def _convert(kind: str, source: str, resolver: LinkResolver) -> bytes:
    """One xhtml2pdf conversion of `source`, under the resolver's link callback and access policy."""
    options = {}
    policy = resolver.policy()
    if policy is not None:
        options["resource_policy"] = policy
    out = io.BytesIO()
    try:
        status = pisa.CreatePDF(source, dest=out, link_callback=resolver, **options)
    except Exception as exc:
        raise DocumentError(f"the {kind} could not be converted to PDF: {exc.__class__.__name__}: {exc}") from exc
    if status.err:
        problems = "; ".join(str(entry[2]) for entry in status.log if entry[0] == "error") or "unknown error"
        raise DocumentError(f"the {kind} could not be converted to PDF ({status.err} error(s)): {problems}")
    data = out.getvalue()
    if not data.startswith(b"%PDF"):
        raise DocumentError(f"the {kind} converter produced no PDF")
    return data


def _page_count(data: bytes) -> int | None:
    """The pages of a PDF ReportLab wrote (one flat page tree), or None if it cannot be read off."""
    found = _PAGE_TREE.findall(data)
    return int(found[-1]) if len(found) == 1 else None


def _estimated_pages(source: str) -> int:
    """A cheap guess at the pages the document fills, from its table rows (about 38 to an A4 page of the base
    layout, the header, parties and totals taking up the rest of the first). Only a guess: see render_pdf."""
    return 1 + (source.count("<tr") + 8) // 38


def render_pdf(session: Session, kind: str, document: dict, *, brand: Brand | None = None,
               locale: Locale | None = None) -> bytes:
    """The document as an A4 PDF. Invalid for an unknown kind or a document of the wrong shape;
    DocumentError if the template or the converter fails (never a half-drawn PDF).

    The page total ("Page 2 of 3", `<pdf:pagecount>`) makes xhtml2pdf lay the whole document out twice,
    the first time only to count the pages: half the cost of a one-page invoice. So the total is guessed
    instead and written in as text, the document drawn once, and its pages counted; only a wrong guess draws
    it again with the right total (which cannot move a page break: the count sits in the fixed-height page
    footer). Should that ever still disagree, xhtml2pdf counts the pages itself, as before.

    Even so xhtml2pdf cannot reach the billing figure (≥ 50 invoice PDFs a second on one core), so while
    the tenant's theme chain leaves `documents/<kind>.html` and `documents/layout.html` to the base theme,
    the same design is drawn straight with ReportLab (fast_pdf.py). A theme that overrides a document keeps
    this HTML path, and so full control; so does a document the fast path cannot lay out."""
    brand, locale = _resolve(session, brand, locale)
    from app.services.documents import fast_pdf  # here: fast_pdf builds on this module

    if kind in fast_pdf.KINDS and not fast_pdf.overridden(brand.themes, kind):
        prepared = prepare(kind, document)
        try:
            return fast_pdf.render(kind, prepared, brand, locale)
        except fast_pdf.CannotDraw:
            pass  # a cell taller than a page, say: xhtml2pdf may still split it
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise DocumentError(f"the {kind} could not be drawn: {exc.__class__.__name__}: {exc}") from exc
    source = _html(kind, document, brand, locale, medium="pdf")
    resolver = LinkResolver(brand)
    if not _PAGECOUNT.search(source):
        return _convert(kind, source, resolver)
    pages = _estimated_pages(source)
    for _attempt in range(2):
        data = _convert(kind, _PAGECOUNT.sub(str(pages), source), resolver)
        drawn = _page_count(data)
        if drawn == pages:
            return data
        if drawn is None:
            break
        pages = drawn
    return _convert(kind, source, resolver)
