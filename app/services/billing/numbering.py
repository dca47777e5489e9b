"""Gap-free document numbers per tenant and series, in the reseller's format.

Why a counter row and not a sequence: a PostgreSQL sequence hands out a value that a rolled-back
transaction never gives back, so an aborted invoice would leave a hole in the numbers, and tax
authorities ask about holes. The counter is a row of the tenant's `counters` table, incremented with
`INSERT … ON CONFLICT DO UPDATE … RETURNING` inside the transaction that issues the document: the row
stays locked until that transaction ends, a rollback gives the number back with everything else, and the
next issuer (waiting on the lock) takes it. Numbers of one series are therefore issued one transaction
at a time per tenant; that is the price of "no gaps", and it is paid only while a document is issued.

Formats come from the `billing` setting (`invoice_format`, `proforma_format`, `credit_note_format`,
`receipt_format`), for example `INV-{YYYY}-{000000}`:

- `{YYYY}` / `{YY}`: the year of issue (four or two digits), `{MM}`: the month (two digits);
- a run of zeros in braces (`{000000}`): the counter, zero-padded to that many digits (more digits
  when it outgrows them, never truncated).

A format with a year restarts its counter each year (`INV-2027-000001` follows `INV-2026-004211`); one
without counts forever. Only issued documents get numbers; drafts have none, so deleting a draft costs
nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.models import Counter
from app.services.errors import Invalid
from app.services.settings import default_settings, get_setting

SERIES = ("invoice", "proforma", "credit_note", "receipt")  # receipts: payments.py
_TOKEN = re.compile(r"\{(YYYY|YY|MM|0+)\}")
_DEFAULTS = default_settings("CUS", "")["billing"]


def validate_format(fmt: str) -> str:
    """A format with exactly one counter token, and only known tokens in braces."""
    if not isinstance(fmt, str) or not fmt.strip() or len(fmt) > 40:
        raise Invalid("a number format is 1 to 40 characters, e.g. INV-{YYYY}-{000000}", field="format")
    counters = [t for t in _TOKEN.findall(fmt) if t.startswith("0")]
    if len(counters) != 1:
        raise Invalid("a number format has exactly one counter such as {000000}", field="format")
    leftover = _TOKEN.sub("", fmt)
    if "{" in leftover or "}" in leftover:
        raise Invalid("a number format knows {YYYY}, {YY}, {MM} and {000…} only", field="format")
    return fmt


def render(fmt: str, value: int, on: date) -> str:
    """The number `value` of a series in `fmt`, issued on `on`."""

    def token(found: re.Match) -> str:
        name = found[1]
        if name == "YYYY":
            return f"{on.year:04d}"
        if name == "YY":
            return f"{on.year % 100:02d}"
        if name == "MM":
            return f"{on.month:02d}"
        return f"{value:0{len(name)}d}"

    return _TOKEN.sub(token, fmt)


def counter_name(series: str, fmt: str, on: date) -> str:
    """The counter row a number comes from: one per series, and per year when the format shows it."""
    if series not in SERIES:
        raise Invalid(f"series: one of {', '.join(SERIES)}", field="series")
    yearly = "{YYYY}" in fmt or "{YY}" in fmt
    return f"number:{series}:{on.year}" if yearly else f"number:{series}"


def format_of(session: Session, series: str) -> str:
    billing = get_setting(session, "billing") or {}
    key = f"{series}_format"
    return validate_format(billing.get(key) or _DEFAULTS[key])


@dataclass(frozen=True)
class Block:
    """Numbers taken together (a billing run's batch): `first`..`first + count - 1` of one series."""

    series: str
    fmt: str
    on: date
    first: int
    count: int

    def numbers(self) -> list[str]:
        return [render(self.fmt, value, self.on) for value in range(self.first, self.first + self.count)]


def take(session: Session, series: str, on: date, count: int = 1, *, fmt: str | None = None) -> Block:
    """Take the next `count` numbers of `series` in the current transaction (the counter row stays locked
    until it ends: commit keeps them, rollback gives them back). `fmt`: the series' format, when the
    caller has read it already (a billing run, once for all its batches)."""
    if count < 1:
        raise ValueError("take at least one number")
    fmt = fmt or format_of(session, series)
    name = counter_name(series, fmt, on)
    last = session.execute(
        insert(Counter).values(name=name, value=count)
        .on_conflict_do_update(index_elements=[Counter.name], set_={"value": Counter.value + count})
        .returning(Counter.value)
    ).scalar_one()
    return Block(series, fmt, on, last - count + 1, count)


def next_number(session: Session, series: str, on: date) -> str:
    """The next number of `series`, for a document issued on `on` (the tenant's local date)."""
    return take(session, series, on).numbers()[0]


def lock(session: Session, series: str, on: date, *, fmt: str | None = None) -> int:
    """Lock the series' counter for the rest of the transaction without taking a number; returns the last
    number given. A billing run's batch locks once it has planned, then looks again at whoever got a
    document meanwhile, so that two runs of one tenant cannot both bill the same days, and every other
    issuer waits for the batch's writing only (runs.py)."""
    fmt = fmt or format_of(session, series)
    name = counter_name(series, fmt, on)
    session.execute(insert(Counter).values(name=name, value=0).on_conflict_do_nothing(index_elements=[Counter.name]))
    return session.execute(select(Counter.value).where(Counter.name == name).with_for_update()).scalar_one()
