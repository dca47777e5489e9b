"""Tables of the portals' pages: which column sorts them and which page is shown, read from the query string
the way a plain link sends it (`?sort=-due_on&page=2`), and the same rows as CSV or XLSX (`?format=csv`).

A view declares its table (`TableSpec`), asks `state(spec)` what the request wants (a sort key it did not
declare, or a page that is not a positive number, is ignored rather than refused: the links are ours, and
an edited address still shows the table), passes the sort and the page to its service, and hands the result
to the `table` macro (kit/tables.html), which draws the headers as sort links, the pager and the export
links. Exports are written by the reports' exporter (app/services/reports/export.py), so a customer's CSV
has the reports' rules: two-decimal money from the Decimal, ISO dates, formula-looking text kept as text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Response, request

from app import clock
from app.services.reports import export

FORMATS = ("csv", "xlsx")
MAX_PAGE = 100_000


@dataclass(frozen=True)
class Column:
    key: str
    title: str  # a msgid: the macro translates it; exports carry it as written
    type: str = "text"  # text | int | money | percent | date | month (the exporter's types)
    sortable: bool = False
    numeric: bool = False  # right-aligned

    @property
    def is_numeric(self) -> bool:
        return self.numeric or self.type in ("int", "money", "percent")


@dataclass(frozen=True)
class TableSpec:
    name: str  # the export's file name and the query string's namespace
    title: str
    columns: tuple[Column, ...]
    default_sort: str | None = None  # a key, "-key" for descending
    per_page: int = 25
    exportable: bool = True

    def column(self, key: str) -> Column | None:
        return next((c for c in self.columns if c.key == key), None)


@dataclass(frozen=True)
class TableState:
    sort: str | None  # the column key
    descending: bool
    page: int
    per_page: int
    args: dict = field(default_factory=dict)  # the rest of the query string, kept in every link

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


def state(spec: TableSpec, args=None) -> TableState:
    args = request.args if args is None else args
    wanted = args.get("sort") or spec.default_sort or ""
    key = wanted.lstrip("-")
    column = spec.column(key)
    if column is None or not column.sortable:
        wanted = spec.default_sort or ""
        key = wanted.lstrip("-")
    try:
        page = int(args.get("page", "1"))
    except ValueError:
        page = 1
    kept = {k: v for k, v in args.items() if k not in ("sort", "page", "format")}
    return TableState(sort=key or None, descending=wanted.startswith("-"), page=min(max(page, 1), MAX_PAGE),
                      per_page=spec.per_page, args=kept)


def link(table_state: TableState, **changes) -> str:
    """This page's address with the table's state changed (`sort=`, `page=`, `format=`)."""
    values = dict(table_state.args)
    if table_state.sort:
        values["sort"] = ("-" if table_state.descending else "") + table_state.sort
    values["page"] = table_state.page
    values.update({k: v for k, v in changes.items()})
    values = {k: v for k, v in values.items() if v not in (None, "") and not (k == "page" and v == 1)}
    return f"{request.path}?{urlencode(values)}" if values else request.path


def sort_link(table_state: TableState, key: str) -> str:
    """A header's link: sorts by its column, or the other way when it is the current one; back to page 1."""
    descending = not table_state.descending if table_state.sort == key else False
    return link(table_state, sort=("-" if descending else "") + key, page=1)


def view(spec: TableSpec, table_state: TableState, rows: list[dict], total: int) -> dict:
    """What the `table` macro reads: the spec, the rows of this page, the pager and the links."""
    pages = max(1, -(-total // table_state.per_page))
    return {
        "spec": spec, "rows": rows, "total": total, "page": table_state.page, "pages": pages,
        "sort": table_state.sort, "descending": table_state.descending,
        "sort_links": {c.key: sort_link(table_state, c.key) for c in spec.columns if c.sortable},
        "previous": link(table_state, page=table_state.page - 1) if table_state.page > 1 else None,
        "next": link(table_state, page=table_state.page + 1) if table_state.page < pages else None,
        "exports": {f: link(table_state, format=f, page=None) for f in FORMATS} if spec.exportable else {},
    }


def wanted_format() -> str | None:
    """`csv` or `xlsx` when the request asks for an export; None for the page."""
    found = request.args.get("format")
    return found if found in FORMATS else None


# -- exports, written by the reports' exporter -------------------------------------------------------------

@dataclass(frozen=True)
class _Named:
    name: str
    title: str


@dataclass(frozen=True)
class _Span:
    start: date
    end: date
    zone: ZoneInfo


@dataclass(frozen=True)
class _Export:
    """What export.to_csv / to_xlsx read of a report's table, for a portal's table."""

    report: _Named
    range: _Span
    filters: dict
    scope: str
    rows: list[dict]
    columns: tuple[Column, ...]
    totals: list[dict] = field(default_factory=list)
    generated_at: object = None


def export_response(spec: TableSpec, rows: list[dict], fmt: str, *, scope: str, start: date, end: date,
                    zone: ZoneInfo, filters: dict | None = None) -> Response:
    """Every row (not one page) as a download; `start`–`end` is the span the rows cover, for the XLSX's About."""
    table = _Export(report=_Named(spec.name, spec.title), range=_Span(start, end, zone), filters=filters or {},
                    scope=scope, rows=rows, columns=spec.columns, generated_at=clock.now())
    content = export.to_csv(table) if fmt == "csv" else export.to_xlsx(table)
    response = Response(content, content_type=export.CONTENT_TYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{spec.name}_{start}_{end}.{fmt}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
