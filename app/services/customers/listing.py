"""The customer list: filters, search (PostgreSQL full text over the generated `search` column) and pages
with a keyset cursor, so that a page deep in a list of 100,000 costs what page 1 costs and a page never
skips or repeats a row while customers are added. The same filters choose the customers a bulk operation
acts on (`matching_ids`).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, func, literal_column, or_, select, tuple_
from sqlalchemy.orm import Session

from app import clock
from app.models import Customer
from app.models.billing import Invoice
from app.models.catalogue import PLAN_KINDS
from app.models.provisioning import Service
from app.services.customers.records import valid_id
from app.services.errors import Invalid

BULK_MAX = 10_000
PAGE_MAX = 200
SERVICE_TYPES = PLAN_KINDS  # a service is of its plan's kind
_SPACES = re.compile(r"\s+")
_TERM = re.compile(r"[^\W_]+")
MAX_TERMS = 8
_SIMPLE = literal_column("'simple'::regconfig")


def tsquery(query: str | None, weights: str = "") -> str | None:
    """A prefix query from what someone types: every word must match the start of a word of the customer
    ("wanj mwa" finds Wanjiru Mwangi; "0712345" their M-PESA number). Words are letters and digits only,
    so nothing typed can inject tsquery syntax."""
    terms = _TERM.findall((query or "").lower())[:MAX_TERMS]
    if not terms:
        return None
    return " & ".join(f"'{term[:100]}':*{weights}" for term in terms)


@dataclass(frozen=True)
class CustomerFilter:
    """The list's filters; location and category match whole values, case-insensitively.

    `service_type` keeps the customers with at least one service of that kind that is not Terminated:
    a terminated service is history (a customer who gave up voice is not a voice customer, and a bulk
    operation over "voice customers" must not reach them), while a Pending one is a service ordered and
    about to be installed, which is what a reseller looking for its internet customers expects to find.

    `payment_status` reads the invoices: `overdue` has an open invoice past its due date, `unpaid` has open
    invoices none of which is past due, `paid` has no open invoice (a customer never invoiced is paid up).
    "Past due" is against the database's date (UTC); the daily dunning run marks invoices Overdue in the
    tenant's own time zone, and an invoice it marked counts as overdue whatever the hour.
    """

    portal_id: str | None = None
    q: str | None = None
    name: str | None = None
    statuses: tuple[str, ...] = ()
    county: str | None = None
    sub_county: str | None = None
    city: str | None = None
    category: str | None = None
    created_from: datetime | None = None
    created_before: datetime | None = None  # exclusive
    service_type: str | None = None
    payment_status: str | None = None

    def conditions(self) -> list:
        where = []
        if self.portal_id:
            where.append(Customer.portal_id == self.portal_id.strip().upper())
        for value, weights in ((self.q, ""), (self.name, "A")):  # A: the name words of the search vector
            if value is not None and value.strip():  # blank: no search; only punctuation: nothing matches
                query = tsquery(value, weights)
                if query is None:
                    where.append(literal_column("false"))
                else:
                    where.append(Customer.search.bool_op("@@")(func.to_tsquery(_SIMPLE, query)))
        if self.statuses:
            where.append(Customer.status.in_(self.statuses))
        for column, value in ((Customer.county, self.county), (Customer.sub_county, self.sub_county),
                              (Customer.city, self.city), (Customer.category, self.category)):
            if value is not None:
                where.append(func.lower(column) == _SPACES.sub(" ", value).strip().lower())
        if self.created_from is not None:
            where.append(Customer.created_at >= self.created_from)
        if self.created_before is not None:
            where.append(Customer.created_at < self.created_before)
        if self.service_type is not None:
            if self.service_type not in SERVICE_TYPES:
                raise Invalid(f"service_type must be one of {', '.join(SERVICE_TYPES)}",
                              errors={"service_type": ["unknown service type"]})
            where.append(exists().where(Service.customer_id == Customer.id, Service.kind == self.service_type,
                                        Service.status != "Terminated"))
        if self.payment_status is not None:
            where.append(_payment_condition(self.payment_status))
        return where


PAYMENT_STATUSES = ("paid", "unpaid", "overdue")


def _payment_condition(status: str):
    if status not in PAYMENT_STATUSES:
        raise Invalid(f"payment_status must be one of {', '.join(PAYMENT_STATUSES)}",
                      errors={"payment_status": ["unknown payment status"]})
    open_ = (Invoice.customer_id == Customer.id, Invoice.kind == "invoice",
             Invoice.status.in_(("Issued", "Partially Paid", "Overdue")))
    late = or_(Invoice.status == "Overdue", Invoice.due_on < clock.today())
    if status == "overdue":
        return exists().where(*open_, late)
    if status == "unpaid":
        return and_(exists().where(*open_), ~exists().where(*open_, late))
    return ~exists().where(*open_)


@dataclass(frozen=True)
class SortKey:
    column: object
    parse: object  # cursor value -> column value


def _cursor_text(value) -> str:
    if not isinstance(value, str) or "\x00" in value:
        raise ValueError("text")
    return value


def _cursor_moment(value) -> datetime:
    moment = datetime.fromisoformat(_cursor_text(value))
    if moment.tzinfo is None:
        raise ValueError("naive")
    return moment


def _cursor_id(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not valid_id(value):
        raise ValueError("id")
    return value


SORTS = {  # a cursor carries the last row's key; these read it back, refusing anything a row could not hold
    "created_at": SortKey(Customer.created_at, _cursor_moment),
    "name": SortKey(Customer.sort_name, _cursor_text),
    "portal_id": SortKey(Customer.portal_id, _cursor_text),
    "id": SortKey(Customer.id, _cursor_id),
}
DEFAULT_SORT = "-created_at"


def sort_options() -> list[str]:
    return [f"{sign}{name}" for name in SORTS for sign in ("", "-")]


# What a row of the list shows (the full profile is one GET away): read as plain columns, not as
# Customer objects, so that a page costs neither ORM loading nor the wide columns it does not show.
LIST_COLUMNS = (Customer.id, Customer.portal_id, Customer.kind, Customer.first_name, Customer.last_name,
                Customer.company_name, Customer.status, Customer.email, Customer.phone, Customer.mpesa_number,
                Customer.city, Customer.county, Customer.sub_county, Customer.category, Customer.created_at)


@dataclass
class Page:
    items: list  # rows of LIST_COLUMNS
    total: int
    next_cursor: str | None
    limit: int
    sort: str


def _encode_cursor(sort: str, key, customer_id: int) -> str:
    value = key.isoformat() if isinstance(key, datetime) else key
    raw = json.dumps({"s": sort, "k": value, "i": customer_id}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _decode_cursor(cursor: str, sort: str, spec: SortKey) -> tuple:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        if data["s"] != sort:
            raise ValueError("sort")
        return spec.parse(data["k"]), _cursor_id(data["i"])
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise Invalid("the cursor is not valid for this list (was the sort changed?); start again without it",
                      errors={"cursor": ["not valid for this list and sort"]}) from None


def _where(filters: CustomerFilter, visible: frozenset[int] | None) -> list:
    where = filters.conditions()
    if visible is not None:
        where.append(Customer.id.in_(sorted(visible)))
    return where


def matching_ids(session: Session, filters: CustomerFilter, visible: frozenset[int] | None,
                 cap: int = BULK_MAX) -> list[int]:
    """The ids a bulk operation over a filter acts on; refused when more than `cap` (narrow the filter)."""
    query = select(Customer.id).where(*_where(filters, visible)).order_by(Customer.id)
    ids = list(session.execute(query.limit(cap + 1)).scalars())
    if len(ids) > cap:
        raise Invalid(f"the filter matches more than {cap} customers; narrow it", errors={"filter": ["too broad"]})
    return ids


def list_page(session: Session, filters: CustomerFilter, *, sort: str = DEFAULT_SORT, limit: int = 50,
              cursor: str | None = None, visible: frozenset[int] | None = None) -> Page:
    """One page of the filtered, sorted list, its total, and the cursor of the next page.

    Keyset pagination: the order is (sort key, id), unique, and the next page starts after the last row's
    (key, id) — an index range whatever the depth, and rows added meanwhile only ever appear where they
    belong instead of shifting every later page by one. The total counts the filtered set exactly.
    """
    name = sort.lstrip("-")
    spec = SORTS.get(name)
    if spec is None:
        raise Invalid(f"sort must be one of {', '.join(sort_options())}", errors={"sort": ["unknown sort"]})
    if not 1 <= limit <= PAGE_MAX:
        raise Invalid(f"limit must be between 1 and {PAGE_MAX}", errors={"limit": ["out of range"]})
    descending = sort.startswith("-")
    where = _where(filters, visible)
    total = session.execute(select(func.count()).select_from(Customer).where(*where)).scalar_one()
    key = spec.column
    query = select(*LIST_COLUMNS, key.label("sort_key")).where(*where)
    if cursor:
        after = _decode_cursor(cursor, sort, spec)
        position = tuple_(key, Customer.id)
        query = query.where(position < tuple_(*after) if descending else position > tuple_(*after))
    order = (key.desc(), Customer.id.desc()) if descending else (key.asc(), Customer.id.asc())
    rows = session.execute(query.order_by(*order).limit(limit + 1)).all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = _encode_cursor(sort, rows[-1].sort_key, rows[-1].id)
    return Page(rows, total, next_cursor, limit, sort)
