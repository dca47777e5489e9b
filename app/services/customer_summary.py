"""A customer read-only, in their own tenant's schema: who they are, their services, their balance and their latest
invoices (drafts are not shown, as to the customer).

Two doors look at a customer they do not serve themselves: the master ISP's staff (the console's Portal ID search)
and a parent reseller watching a sub-reseller's customers. Both read it here, in a transaction of its own inside
the customer's tenant (never on the request's session, whose tenant is another one or none), so both show the same.
"""

from __future__ import annotations

from app.db import Database
from app.services import customers
from app.services.selfcare import finance, my_services
from tenants import Tenant, tenant_context

LATEST_INVOICES = 10


def read_only(db: Database, tenant: Tenant, customer_id: int) -> dict:
    """The customer of `tenant` as others see them; NotFound for an id that is not one of its customers."""
    with tenant_context(tenant), db.session() as s:
        customer = customers.get(s, customer_id)
        return {
            "tenant": tenant,
            "portal_id": customer.portal_id,
            "customer": {name: getattr(customer, name) for name in (
                "id", "portal_id", "display_name", "kind", "status", "email", "phone", "created_at")},
            "services": [{"plan": (found["plan"] or {}).get("name"), "kind": found["kind"], "price": found["price"],
                          "currency": found["currency"], "billing_period": found["billing_period"],
                          "status": found["status"]}
                         for found in my_services.list_services(s, customer.id)],
            "balance": {k: v for k, v in finance.balance(s, customer.id).items() if k != "open_invoices"},
            "invoices": [{"number": i.number, "kind": i.kind, "issued_at": i.issued_at, "due_on": i.due_on,
                          "total": i.total, "balance_due": finance.balance_due(i), "status": i.status,
                          "currency": i.currency}
                         for i in finance.list_invoices(s, customer.id, per_page=LATEST_INVOICES).items],
        }
