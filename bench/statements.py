"""Benchmark of commission statement PDFs: how long one statement of 10, 300 and 5,000 lines takes to draw,
on the base design's fast path (ReportLab directly, documents/fast_pdf.py) and, for comparison, through
xhtml2pdf as a theme with its own `documents/commission_statement.html` gets it.

Why: statement.py lists every line of a statement up to DETAIL_LIMIT on the fast path and sums them per kind
beyond THEMED_DETAIL_LIMIT on the HTML path; those limits come from these figures.

The statements are built in memory in the shape statement.document() produces (a customer on every line,
one status, a rate, base and amount per line, the totals of a paid payout with its rate) and drawn through
`documents.render_pdf` with the platform's brand: no database is needed. The themed brand's chain has a
temporary theme whose `documents/commission_statement.html` only extends the base one, so the design is the
same and only the drawing path differs. This process is pinned to one CPU. Each case is drawn `--rounds`
times (fewer for the long HTML ones) and the median kept; the path is read off the PDF's producer.

Run from the repository root:

    .venv/bin/python bench/statements.py                 # 10 and 300 lines on both paths, 5,000 on the fast one
    .venv/bin/python bench/statements.py --rounds 5 --no-html --json bench/results/statements.json
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from common import log, print_table, write_json

from app.services import documents
from app.services.branding.fields import PLATFORM_DEFAULTS
from app.services.branding.rendering import Locale
from app.services.branding.resolve import Brand
from tenants.themes import ThemeChain

RESULTS = Path(__file__).resolve().parent / "results"
CENT = Decimal("0.01")


def statement(lines: int) -> dict:
    """A paid payout of `lines` recurring commission lines of 10% on varied payments."""
    start = date(2026, 1, 1)
    rows, gross = [], Decimal(0)
    for n in range(1, lines + 1):
        base = Decimal(1500 + (n * 37) % 4000).quantize(CENT)
        amount = (base * Decimal("0.10")).quantize(CENT, rounding=ROUND_HALF_UP)
        gross += amount
        rows.append({"date": start + timedelta(days=n % 31), "description": f"#{n} Recurring commission",
                     "customer": f"Customer Number {n}", "kind": "recurring", "base_amount": base,
                     "rate": Decimal("10"), "status": "Approved", "amount": amount})
    return {"number": "PO-2026-0001", "status": "Paid", "issued_on": date(2026, 2, 15),
            "period_start": start, "period_end": date(2026, 1, 31), "currency": "KES",
            "customer": {"name": "Bench Reseller Ltd"}, "lines": rows, "gross": gross, "total": gross,
            "dispute_until": datetime(2026, 2, 20, tzinfo=UTC), "payout_currency": "USD",
            "fx_rate": Decimal("0.0077"), "converted_amount": (gross * Decimal("0.0077")).quantize(CENT),
            "paid_on": datetime(2026, 2, 21, 9, tzinfo=UTC), "method": "wire", "reference": "SWIFT-778"}


def time_one(document: dict, brand: Brand, rounds: int) -> dict:
    samples, data = [], b""
    for _ in range(rounds):
        started = time.perf_counter()
        data = documents.render_pdf(None, "commission_statement", document, brand=brand, locale=Locale())
        samples.append(time.perf_counter() - started)
    path = "xhtml2pdf" if b"xhtml2pdf" in data else "reportlab"
    return {"path": path, "rounds": rounds, "median_ms": round(statistics.median(samples) * 1000, 1),
            "min_ms": round(min(samples) * 1000, 1), "bytes": len(data)}


def run(opts: argparse.Namespace) -> dict:
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    base = Brand(values=dict(PLATFORM_DEFAULTS), sources={})
    results: dict = {"cpu": cpu, "cases": []}
    with tempfile.TemporaryDirectory() as folder:
        theme = Path(folder) / "bench-theme"
        (theme / "templates" / "documents").mkdir(parents=True)
        (theme / "templates" / "documents" / "commission_statement.html").write_text(
            '{% extends "base:documents/commission_statement.html" %}\n')
        themed = Brand(values=dict(PLATFORM_DEFAULTS), sources={}, themes=ThemeChain((theme,)))
        cases = [("fast", 10, opts.rounds), ("fast", 300, opts.rounds), ("fast", 5000, max(1, opts.rounds // 5))]
        if opts.html:
            cases += [("html", 10, opts.rounds), ("html", 300, 1)]
        time_one(statement(10), base, 1)  # warm up: imports, fonts, the catalogue
        for label, lines, rounds in cases:
            log(f"{label} path, {lines} lines, {rounds} round(s)")
            figure = time_one(statement(lines), base if label == "fast" else themed, rounds)
            results["cases"].append({"theme": "base" if label == "fast" else "own template", "lines": lines,
                                     **figure})
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10, help="draws per case (the median is kept)")
    parser.add_argument("--no-html", dest="html", action="store_false", help="skip the xhtml2pdf comparison")
    parser.add_argument("--json", type=Path, default=RESULTS / "statements.json")
    opts = parser.parse_args(argv)
    results = run(opts)
    print_table([("theme", "lines", "drawn by", "median ms", "min ms", "rounds", "KiB")] + [
        (c["theme"], str(c["lines"]), c["path"], str(c["median_ms"]), str(c["min_ms"]), str(c["rounds"]),
         str(c["bytes"] // 1024)) for c in results["cases"]])
    write_json(opts.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
