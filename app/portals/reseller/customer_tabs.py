"""The read-only tabs of a customer's page (registered by app/portals/reseller/customer.py): contacts, services,
invoices, payments, ledger, usage (a chart of the last days with its table), RADIUS sessions, CoA history,
status history and activity.

Each tab reads through the service its API route calls, with the API route's permission: contacts and status
history `customers.view`, services, usage, sessions and CoA `services.view`, money `finance.view`. A tab the
member may not read is not among the links (and answers 403 by address).
"""

from __future__ import annotations

from flask import g, request, url_for

from app.portals import charts, tables
from app.portals.customer.usage import usage_chart
from app.portals.nav import may_open
from app.portals.reseller import service_actions
from app.portals.reseller.customer_common import frame, service_of, service_rows, the_customer
from app.portals.reseller.shell import TEAM_KINDS
from app.portals.tables import Column, TableSpec
from app.services import activity, contacts, customers
from app.services.billing import invoices, ledger, payments
from app.services.branding.rendering import brand_context
from app.services.usage import views
from app.web import db_session
from app.web.auth import requires
from app.web.branding import current_brand

INVOICES = TableSpec("customer_invoices", "Invoices", (
    Column("number", "Number"), Column("kind", "Document"), Column("issued_at", "Issued", type="date"),
    Column("due_on", "Due", type="date"), Column("total", "Total", type="money"),
    Column("balance_due", "Balance due", type="money"), Column("status", "Status")), exportable=False)
PAYMENTS = TableSpec("customer_payments", "Payments", (
    Column("received_at", "Received", type="date"), Column("receipt_number", "Receipt"), Column("method", "Method"),
    Column("reference", "Reference"), Column("amount", "Amount", type="money"), Column("status", "Status")),
    exportable=False)
SESSIONS = TableSpec("customer_sessions", "Sessions", (
    Column("started_at", "Started", type="date"), Column("stopped_at", "Ended", type="date"),
    Column("status", "Status"), Column("nas", "Router"), Column("framed_ip", "IP address"),
    Column("download", "Downloaded", numeric=True), Column("upload", "Uploaded", numeric=True),
    Column("terminate_cause", "Why it ended")), exportable=False)
COA = TableSpec("customer_coa", "CoA and Disconnect requests", (
    Column("created_at", "Sent", type="date"), Column("kind", "Kind"), Column("trigger", "Why"),
    Column("status", "Status"), Column("result", "Router's answer"), Column("attempts", "Attempts", type="int")),
    exportable=False)
LEDGER_ROWS = 200


def _visible() -> frozenset[int] | None:
    return g.principal.allowed_customer_ids


@requires("customers.view", kinds=TEAM_KINDS)
def contacts_tab(customer_id: int):
    customer = the_customer(customer_id)
    session = db_session()
    names = {t.id: t.name for t in contacts.list_types(session)}
    found = contacts.list_for_customer(session, customer.id)
    return frame("contacts", customer, contacts=found, type_names=names,
                 may_edit=may_open("reseller_customer.new_contact"))


@requires("services.view", kinds=TEAM_KINDS)
def services_tab(customer_id: int):
    customer = the_customer(customer_id)
    rows = [{**row, "changes": service_actions.offers(customer.id, row["service"])}
            for row in service_rows(customer.id)]
    return frame("services", customer, rows=rows, may_disconnect=may_open("reseller_customer.disconnect"))


@requires("finance.view", kinds=TEAM_KINDS)
def invoices_tab(customer_id: int):
    customer = the_customer(customer_id)
    state = tables.state(INVOICES)
    found = invoices.list_page(db_session(), customer_id=customer.id, visible=_visible(), page=state.page,
                               per_page=state.per_page)
    rows = [{"number": i.number or "—", "kind": i.kind, "issued_at": i.issued_at, "due_on": i.due_on,
             "total": i.total, "balance_due": i.total - i.amount_paid if i.kind == "invoice" else None,
             "status": i.status, "currency": i.currency} for i in found.items]
    return frame("invoices", customer, table=tables.view(INVOICES, state, rows, found.total))


@requires("finance.view", kinds=TEAM_KINDS)
def payments_tab(customer_id: int):
    customer = the_customer(customer_id)
    session = db_session()
    state = tables.state(PAYMENTS)
    found, total = payments.list_payments(session, customer_id=customer.id, visible=_visible(), page=state.page,
                                          per_page=state.per_page)
    rows = [{"received_at": p.received_at, "receipt_number": p.receipt_number, "method": p.method,
             "reference": p.reference, "amount": p.amount, "status": p.status, "currency": p.currency}
            for p in found]
    return frame("payments", customer, table=tables.view(PAYMENTS, state, rows, total),
                 balance=payments.balance(session, customer.id))


@requires("finance.view", kinds=TEAM_KINDS)
def ledger_tab(customer_id: int):
    customer = the_customer(customer_id)
    session = db_session()
    return frame("ledger", customer, entries=ledger.entries(session, customer.id, limit=LEDGER_ROWS),
                 limit=LEDGER_ROWS, balance=payments.balance(session, customer.id))


# -- usage, sessions and CoA: per service ---------------------------------------------------------------------

def _chosen(customer, rows: list[dict]):
    """The service the tab shows: `?service=` (one of the customer's), else the first live one, else the first."""
    wanted = request.args.get("service", "")
    if wanted.isdigit():
        return service_of(customer, int(wanted))
    live = [r["service"] for r in rows if r["live"]]
    return live[0] if live else (rows[0]["service"] if rows else None)


def _services_and_choice(customer) -> tuple[list[dict], object]:
    rows = service_rows(customer.id)
    return rows, _chosen(customer, rows)


@requires("services.view", kinds=TEAM_KINDS)
def usage_tab(customer_id: int):
    customer = the_customer(customer_id)
    rows, chosen = _services_and_choice(customer)
    found = chart = None
    if chosen is not None:
        found = views.last_days(db_session(), chosen)
        chart = usage_chart(found, url_for("reseller_customer.usage_chart", customer_id=customer.id,
                                           service_id=chosen.id))
    return frame("usage", customer, rows=rows, chosen=chosen, usage=found, chart=chart)


@requires("services.view", kinds=TEAM_KINDS)
def usage_chart_svg(customer_id: int, service_id: int):
    service = service_of(the_customer(customer_id), service_id)
    found = views.last_days(db_session(), service)
    return charts.drawn(usage_chart(found, request.path), brand_context(current_brand()))


@requires("services.view", kinds=TEAM_KINDS)
def sessions_tab(customer_id: int):
    customer = the_customer(customer_id)
    rows, chosen = _services_and_choice(customer)
    table = None
    if chosen is not None:
        state = tables.state(SESSIONS)
        found = views.sessions_page(db_session(), chosen.id, page=state.page, per_page=state.per_page)
        items = [{**r, "nas": r["nas_name"] or r["nas_ip"]} for r in found["items"]]
        table = tables.view(SESSIONS, state, items, found["total"])
    return frame("sessions", customer, rows=rows, chosen=chosen, table=table)


@requires("services.view", kinds=TEAM_KINDS)
def coa_tab(customer_id: int):
    customer = the_customer(customer_id)
    rows, chosen = _services_and_choice(customer)
    table = None
    if chosen is not None:
        state = tables.state(COA)
        found = views.coa_page(db_session(), chosen.id, page=state.page, per_page=state.per_page)
        table = tables.view(COA, state, found["items"], found["total"])
    return frame("coa", customer, rows=rows, chosen=chosen, table=table)


# -- status history and activity ------------------------------------------------------------------------------

@requires("customers.view", kinds=TEAM_KINDS)
def history_tab(customer_id: int):
    customer = the_customer(customer_id)
    changes = list(reversed(customers.history(db_session(), customer.id)))
    return frame("history", customer, changes=changes)


@requires("customers.view", kinds=TEAM_KINDS)
def activity_tab(customer_id: int):
    customer = the_customer(customer_id)
    return frame("activity", customer, events=activity.for_customer(db_session(), customer.id))
