"""A report as CSV or XLSX, with types a spreadsheet can compute with.

CSV: UTF-8, a header of column titles, the rows, an empty line, then the totals with "Total" in the
first column. Money and percentages are written from the Decimal with exactly two places ("1234.50"),
never through a float; months as YYYY-MM, dates as YYYY-MM-DD.

Text that a spreadsheet would run as a formula (a plan named "=HYPERLINK(…)") stays text: quoted in CSV,
a string cell in XLSX.

XLSX (openpyxl): the same table on a sheet "Report", and what it is (report, scope, range, filters,
when) on a sheet "About". Money and percentages are numeric cells with a two-decimal number format,
counts are integers, months and dates are date cells (a month is its first day, shown as yyyy-mm).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font

from app.services.reports.reports import Table

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
NUMBER_FORMATS = {"money": "#,##0.00", "percent": "0.00", "int": "0", "month": "yyyy-mm", "date": "yyyy-mm-dd"}


def filename(table: Table, fmt: str) -> str:
    return f"{table.report.name}_{table.range.start.isoformat()}_{table.range.end.isoformat()}.{fmt}"


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _text(value, type_: str) -> str:
    if value is None:
        return ""
    if type_ == "text" and str(value).startswith(FORMULA_STARTS):
        return "'" + str(value)  # a name a spreadsheet would run as a formula (CSV injection) stays text
    if type_ in ("money", "percent"):
        return f"{Decimal(value):.2f}"
    if type_ == "month":
        return value.strftime("%Y-%m")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def to_csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    columns = table.columns
    writer.writerow([c.title for c in columns])
    for row in table.rows:
        writer.writerow([_text(row.get(c.key), c.type) for c in columns])
    writer.writerow([])
    for total in table.totals:
        writer.writerow(["Total", *(_text(total.get(c.key), c.type) for c in columns[1:])])
    return out.getvalue().encode("utf-8")


def _utc(moment: datetime | None) -> datetime | None:
    """Spreadsheets have no time zones: the instant as a naive UTC time."""
    return None if moment is None else moment.astimezone(UTC).replace(tzinfo=None)


def _cell(value, type_: str):
    if value is None:
        return None
    if type_ in ("money", "percent"):
        return Decimal(value).quantize(Decimal("0.01"))
    return value


def to_xlsx(table: Table) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Report"
    columns = table.columns
    sheet.append([c.title for c in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    lines = [[row.get(c.key) for c in columns] for row in table.rows]
    if table.totals:
        lines.append([])
        lines += [["Total", *(t.get(c.key) for c in columns[1:])] for t in table.totals]
    for values in lines:
        sheet.append([_cell(v, c.type) for v, c in zip(values, columns, strict=False)])
        for cell, column in zip(sheet[sheet.max_row], columns, strict=False):
            if column.type in NUMBER_FORMATS and cell.value is not None:
                cell.number_format = NUMBER_FORMATS[column.type]
            elif isinstance(cell.value, str) and cell.data_type == "f":
                cell.data_type = "s"  # text that begins with "=" is text here, never a formula
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = max(12, len(column.title) + 2)
    sheet.freeze_panes = "A2"
    about = book.create_sheet("About")
    for line in (("Report", table.report.title), ("Scope", table.scope),
                 ("From", table.range.start), ("To", table.range.end), ("Time zone", table.range.zone.key),
                 ("Filters", ", ".join(f"{k}={v}" for k, v in table.filters.items()) or "none"),
                 ("Generated (UTC)", _utc(table.generated_at))):
        about.append(list(line))
        if isinstance(line[1], datetime):
            about.cell(about.max_row, 2).number_format = "yyyy-mm-dd hh:mm:ss"
        elif isinstance(line[1], date):
            about.cell(about.max_row, 2).number_format = "yyyy-mm-dd"
    about.column_dimensions["A"].width = 12
    about.column_dimensions["B"].width = 40
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def render(table: Table, fmt: str) -> tuple[bytes, str, str]:
    """(content, content type, file name) of the table in `fmt` (csv or xlsx)."""
    content = to_csv(table) if fmt == "csv" else to_xlsx(table)
    return content, CONTENT_TYPES[fmt], filename(table, fmt)
