"""The tables of a customer seen read-only from another door (app/services/customer_summary.py): the console's
Portal ID search and a parent reseller's view of a sub-reseller's customer draw them with one macro,
kit/customer_summary.html."""

from __future__ import annotations

from app.portals import tables
from app.portals.tables import Column, TableSpec
from app.services.customer_summary import LATEST_INVOICES

SERVICES = TableSpec("services", "Services", (
    Column("plan", "Plan"), Column("kind", "Kind"), Column("price", "Price", type="money"),
    Column("status", "Status")), exportable=False, per_page=1000)
INVOICES = TableSpec("invoices", "Latest invoices", (
    Column("number", "Number"), Column("issued_at", "Issued", type="date"), Column("due_on", "Due", type="date"),
    Column("total", "Total", type="money"), Column("balance_due", "Balance due", type="money"),
    Column("status", "Status")), exportable=False, per_page=LATEST_INVOICES)


def views(found: dict) -> dict:
    """The macro's `services` and `invoices` tables of a customer_summary.read_only result."""
    return {"services": tables.view(SERVICES, tables.state(SERVICES), found["services"], len(found["services"])),
            "invoices": tables.view(INVOICES, tables.state(INVOICES), found["invoices"], len(found["invoices"]))}
