"""The reseller portal's customer list, `/reseller/customers`: every filter of the API's list, full-text search,
sort, keyset pages with the exact total, CSV and XLSX of the filtered set, saved filters, and a status change
over chosen customers (or all those the filters match) with the outcome for each.

Every page calls the services the API's routes call (app/api/customers/routes.py, app/api/saved_filters):
`customers.list_page` with the signed-in member's `allowed_customer_ids`, so a member limited to some customers
sees those alone, and a customer of another reseller is never in the list; `customers.change_statuses` for the
bulk change, which reports a customer outside the member's reach as not found. Saving or deleting a saved
filter is a write, so it asks `customers.edit` as the API does; a Readonly member opens the filters the team
shares and saves none. The filter form is a GET form
under the API's names, so a page's address is the API's query string and works without JavaScript.

Pages are a keyset's: "Next page" carries the last row's cursor, and the way back is the first page (or the
browser's Back), as the API offers no cursor backwards. A bulk change over a few customers is made in the
request; over more (app/services/customers/bulk_jobs.py INLINE_MAX) the worker makes it a chunk at a time and
the result page follows it with a progress bar (htmx asks every second; "Refresh" without JavaScript), so the
member may leave and come back. Either way the outcome, customer by customer, is kept in Redis under a random
key of the member's, and the result page reads it back (POST, then redirect, then GET), so reloading it changes
nothing again.
"""

from __future__ import annotations

import contextlib

from flask import Blueprint, flash, g, redirect, request, url_for

from app.models import Customer
from app.portals import tables
from app.portals.forms import FORM_EXPIRED, expired
from app.portals.nav import may_open
from app.portals.reseller.customers_forms import (
    ActionForm,
    BulkStatusForm,
    SaveFilterForm,
    filter_form,
    query_string,
)
from app.portals.reseller.shell import TEAM_KINDS, guard, page
from app.portals.tables import Column, TableSpec
from app.services import customers
from app.services.billing.invoices import local_date
from app.services.customers import bulk_jobs, saved_filters
from app.services.errors import Conflict, Invalid, NotFound
from app.services.settings import local_today, zone
from app.web import db_session, state
from app.web.auth import requires

bp = Blueprint("reseller_customers", __name__, url_prefix="/reseller/customers")
guard(bp)

PER_PAGE = 50
NEW_URL = "/reseller/customers/new"
EXPORT_MAX = customers.BULK_MAX  # every row of the filtered set, up to what a bulk change may act on
POLL_SECONDS = 1  # how often a running bulk change's page asks how far it is (htmx)
TOO_MANY_TO_EXPORT = "The filters match more than 10,000 customers: narrow them to download the list."
PAGE_GONE = "That page of the list could not be found again; here is the first page."
NOTHING_CHOSEN = "Choose the customers to change first: tick them in the list, or choose all that match."
TOO_BROAD = "The filters match more than 10,000 customers: narrow them first."
RESULT_GONE = "This result is no longer kept. The customers' histories say what was changed."
SAVED = "The filter is saved."
SAVED_GONE = "That saved filter no longer exists."
SAVED_DELETED = "The saved filter is deleted."
NOT_YOURS = "A colleague shared this filter: only they can delete it."
TOO_MANY_SAVED = "You have 100 saved filters: delete one before saving another."
FILTERS_UNREAD = "Check the filters: some could not be read."

CUSTOMERS = TableSpec("customers", "Customers", (
    Column("portal_id", "Portal ID", sortable=True), Column("name", "Name", sortable=True),
    Column("status", "Status"), Column("phone", "Phone"), Column("email", "E-mail"),
    Column("mpesa_number", "M-PESA number"), Column("city", "City"), Column("county", "County"),
    Column("sub_county", "Sub-county"), Column("category", "Category"),
    Column("created_at", "Created", type="date", sortable=True)), default_sort="-created_at")
SHOWN = ("portal_id", "name", "status", "phone", "city", "created_at")  # the page's columns; exports have all
PICK = Column("pick", "Select")
MORE_FILTERS = ("portal_id", "name", "county", "sub_county", "city", "category", "created_from", "created_to",
                "service_type", "payment_status")  # behind "More filters", shown open when one is used


def visible() -> frozenset[int] | None:
    return g.principal.allowed_customer_ids


def may_edit() -> bool:
    return may_open("reseller_customers.bulk")


def customer_url(customer_id: int) -> str:
    """The customer's page (another part of the portal), by its address: it may not be built yet."""
    return f"/reseller/customers/{customer_id}"


def rows_of(items, where) -> list[dict]:
    return [{"id": r.id, "portal_id": r.portal_id, "url": customer_url(r.id),
             "name": Customer.name_of(r.kind, r.first_name, r.last_name, r.company_name, r.portal_id),
             "status": r.status, "phone": r.phone, "email": r.email, "mpesa_number": r.mpesa_number,
             "city": r.city, "county": r.county, "sub_county": r.sub_county, "category": r.category,
             "created_at": local_date(r.created_at, where)} for r in items]


def _link(query: dict, **more) -> str:
    found = query_string(query, **more)
    return f"{url_for('.index')}?{found}" if found else url_for(".index")


def _table(form, found, rows: list[dict], cursor: str | None) -> dict:
    """What the kit's `table` macro reads, for a keyset list: sort links in the headers, one "Next page"."""
    query = form.query()
    sort = form.sort_value
    key, descending = sort.lstrip("-"), sort.startswith("-")
    shown = tuple(c for c in CUSTOMERS.columns if c.key in SHOWN)
    if may_edit():
        shown = (PICK, *shown)
    spec = TableSpec(CUSTOMERS.name, CUSTOMERS.title, shown, default_sort=CUSTOMERS.default_sort)
    base = form.query(with_sort=False)  # a header sorts by its column, the other way when it is the current one
    sort_links = {c.key: _link(base, sort=("-" if key == c.key and not descending else "") + c.key)
                  for c in shown if c.sortable}
    return {"spec": spec, "rows": rows, "total": found.total, "page": 1, "pages": 1,
            "sort": key, "descending": descending, "sort_links": sort_links,
            "previous": None, "next": _link(query, cursor=found.next_cursor) if found.next_cursor else None,
            "first": _link(query) if cursor else None,
            "exports": {f: _link(query, format=f) for f in tables.FORMATS} if found.total else {}}


def _export(form, fmt: str):
    session = db_session()
    rows, cursor, total = [], None, 0
    while True:  # every row, page by page as the API gives them, so the export is the list's own set
        found = customers.list_page(session, form.customer_filter(), sort=form.sort_value, limit=customers.PAGE_MAX,
                                    cursor=cursor, visible=visible())
        total = found.total
        if total > EXPORT_MAX:
            flash(TOO_MANY_TO_EXPORT, "error")
            return redirect(_link(form.query()))
        rows += rows_of(found.items, zone(session))
        cursor = found.next_cursor
        if cursor is None:
            break
    days = [r["created_at"] for r in rows]
    today = local_today(session)
    return tables.export_response(CUSTOMERS, rows, fmt, scope=g.tenant.code, start=min(days, default=today),
                                  end=max(days, default=today), zone=zone(session),
                                  filters={k: ", ".join(v) if isinstance(v, list) else v
                                           for k, v in form.query().items()})


# -- the list ------------------------------------------------------------------------------------------------

@requires("customers.view", kinds=TEAM_KINDS)
def index():
    return _list()


def _list(save_form: SaveFilterForm | None = None, status: int = 200):
    """The list as the address asks for it; `save_form` is a refused "Save these filters", given back."""
    session = db_session()
    form = filter_form(request.args)
    saved = saved_filters.visible_to(session, g.principal.id)
    context = {"form": form, "saved": saved, "save_form": save_form or SaveFilterForm(formdata=None),
               "action": ActionForm(),
               "may_edit": may_edit(), "may_save": may_open("reseller_customers.save_filter"),
               "customer_url": customer_url,
               # the onboarding wizard is another part's page, linked by its address: it asks customers.create
               "new_url": NEW_URL if g.principal.can("customers.create") else None}
    if not form.validate():
        return page("customers/list", table=None, status=422, **context)
    fmt = tables.wanted_format() if save_form is None else None
    if fmt:
        return _export(form, fmt)
    cursor = request.args.get("cursor") or None
    try:
        found = customers.list_page(session, form.customer_filter(), sort=form.sort_value, limit=PER_PAGE,
                                    cursor=cursor, visible=visible())
    except Invalid:
        if cursor is None:
            raise
        flash(PAGE_GONE, "error")
        return redirect(_link(form.query()))
    rows = rows_of(found.items, zone(session))
    query = form.query()
    return page("customers/list", table=_table(form, found, rows, cursor), query=query,
                query_string=query_string(query), filtered=form.is_filtered(),
                more_open=any(k in query for k in MORE_FILTERS),
                bulk_statuses=customers.STATUSES, bulk_max=customers.BULK_MAX, status=status, **context)


# -- saved filters -------------------------------------------------------------------------------------------

@requires("customers.edit", kinds=TEAM_KINDS)
def save_filter():
    """Save the filters of the page's address (`?status=…`, as the list's form sent them) under a name."""
    form = SaveFilterForm()
    filters = filter_form(request.args)
    if not filters.validate():  # an edited address: nothing to save
        flash(FILTERS_UNREAD, "error")
        return redirect(url_for(".index"))
    if not form.validate_on_submit():
        if expired(form):
            flash(FORM_EXPIRED, "error")
            return redirect(_link(filters.query()))
        return _list(save_form=form, status=422)  # the name's message next to it, what was typed kept
    try:
        saved_filters.save(db_session(), g.principal.id, form.label.data, filters.query(), shared=form.shared.data)
    except Conflict:
        flash(TOO_MANY_SAVED, "error")
        return redirect(_link(filters.query()))
    flash(SAVED, "success")
    return redirect(_link(filters.query()))


@requires("customers.view", kinds=TEAM_KINDS)
def open_filter(filter_id: int):
    found = saved_filters.get(db_session(), g.principal.id, filter_id)
    return redirect(_link(found.filters))


@requires("customers.edit", kinds=TEAM_KINDS)
def delete_filter(filter_id: int):
    form = ActionForm()
    if not form.validate_on_submit():
        flash(FORM_EXPIRED, "error")
        return redirect(url_for(".index"))
    try:
        saved_filters.delete(db_session(), g.principal.id, filter_id)
    except NotFound:
        flash(SAVED_GONE, "error")
    except Conflict:
        flash(NOT_YOURS, "error")
    else:
        flash(SAVED_DELETED, "success")
    return redirect(url_for(".index"))


# -- bulk status change --------------------------------------------------------------------------------------

def _chosen_ids() -> list[int]:
    found = []
    for raw in request.args.getlist("ids")[:customers.BULK_MAX]:
        if raw.isdigit() and customers.valid_id(int(raw)):
            found.append(int(raw))
    return list(dict.fromkeys(found))


def _selection(filters) -> dict:
    """Which customers the page's address names: ticked ones (`ids`), or `all` those the filters match."""
    session = db_session()
    if request.args.get("all") == "1":
        found = customers.list_page(session, filters.customer_filter(), limit=1, visible=visible())
        return {"all": True, "count": found.total, "ids": None, "names": []}
    ids = _chosen_ids()
    names = []
    for customer_id in ids[:PER_PAGE]:
        if g.principal.may_see_customer(customer_id):
            with contextlib.suppress(NotFound):  # gone meanwhile: the change will say "not found"
                names.append(customers.get(session, customer_id))
    return {"all": False, "count": len(ids), "ids": ids, "names": names}


@requires("customers.edit", kinds=TEAM_KINDS)
def bulk():
    """GET: what will happen, to whom, and the reason asked for; POST: the change, then its result page."""
    filters = filter_form(request.args)
    valid = filters.validate()
    back = _link(filters.query() if valid else {})
    chosen = _selection(filters) if valid else None
    if not chosen or not chosen["count"]:
        flash(NOTHING_CHOSEN, "error")
        return redirect(back)
    if chosen["all"] and chosen["count"] > customers.BULK_MAX:
        flash(TOO_BROAD, "error")
        return redirect(back)
    if request.method == "GET":
        form = BulkStatusForm(formdata=None, status=request.args.get("to") or "")
        return page("customers/bulk", form=form, chosen=chosen, back=back, query=filters.query(),
                    customer_url=customer_url)
    form = BulkStatusForm()
    if not form.validate_on_submit():
        if expired(form):
            form.form_errors.append(FORM_EXPIRED)
        return page("customers/bulk", form=form, chosen=chosen, back=back, query=filters.query(),
                    customer_url=customer_url, status=422)
    session = db_session()
    ids = chosen["ids"]
    if ids is None:
        ids = customers.matching_ids(session, filters.customer_filter(), visible())
    redis, reason = state().redis, form.reason.data
    if len(ids) > bulk_jobs.INLINE_MAX:  # the worker does it, a chunk at a time; the page follows it
        token = bulk_jobs.create(redis, g.tenant, g.principal, ids, form.status.data, reason, back)
        bulk_jobs.queue(g.tenant, g.principal.id, token)
        return redirect(url_for(".bulk_result", token=token))
    results = customers.change_statuses(session, ids, form.status.data, reason, actor=g.principal,
                                        visible=visible())
    session.commit()  # the changes first: the result page must never tell of changes a failed commit undid
    token = bulk_jobs.keep_done(redis, g.tenant, g.principal, results, form.status.data, reason, back)
    return redirect(url_for(".bulk_result", token=token))


@requires("customers.edit", kinds=TEAM_KINDS)
def bulk_result(token: str):
    kept = bulk_jobs.read(state().redis, g.tenant, g.principal.id, token)
    if kept is None:
        flash(RESULT_GONE, "error")
        return redirect(url_for(".index"))
    results = kept["results"]
    counts = {o: sum(1 for r in results if r["outcome"] == o) for o in ("changed", "unchanged", "refused", "not_found")}
    allowed = {s: sorted(customers.TRANSITIONS[s]) for s in customers.TRANSITIONS}
    following = kept["state"] != "done"
    percent = int(kept["done"] * 100 / kept["total"]) if kept["total"] else 100
    return page("customers/result", kept=kept, results=results, counts=counts, allowed=allowed,
                customer_url=customer_url, following=following, percent=percent, poll=POLL_SECONDS)


bp.add_url_rule("", "index", index)
bp.add_url_rule("/saved-filters", "save_filter", save_filter, methods=["POST"])
bp.add_url_rule("/saved-filters/<int:filter_id>", "open_filter", open_filter)
bp.add_url_rule("/saved-filters/<int:filter_id>/delete", "delete_filter", delete_filter, methods=["POST"])
bp.add_url_rule("/bulk", "bulk", bulk, methods=["GET", "POST"])
bp.add_url_rule("/bulk/<token>", "bulk_result", bulk_result)
