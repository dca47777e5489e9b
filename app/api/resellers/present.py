"""Turning tenant rows, figures and customers into the API's shapes (resellers' and the console's)."""

from __future__ import annotations

from decimal import Decimal

from app.models import Tenant as TenantRow
from app.services import resellers
from app.services.resellers import Figures
from app.services.tenants import ref


def money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def figures_out(figures: Figures) -> dict:
    return {"customers": figures.customers, "active_customers": figures.active_customers,
            "active_services": figures.active_services,
            "mrr": {currency: money(amount) for currency, amount in figures.mrr.items()}}


def tenant_out(db, row: TenantRow, level: int, *, parent_code: str | None = None) -> dict:
    """A tenant with its terms, hosts and (read in its own schema) key figures."""
    parent = row.parent.code if parent_code is None and row.parent is not None else parent_code
    return {
        "id": row.id, "code": row.code, "name": row.name, "parent_id": row.parent_id, "parent_code": parent,
        "level": level, "status": row.status, "commission_percent": money(row.commission_percent),
        "customer_limit": row.customer_limit,
        "allowed_services": list(row.allowed_services) if row.allowed_services is not None else None,
        "inherited_branding": row.inherited_branding,
        "hosts": [d.host for d in sorted(row.domains, key=lambda d: (not d.is_primary, d.id)) if d.verified_at],
        "pending_hosts": [d.host for d in sorted(row.domains, key=lambda d: d.id) if not d.verified_at],
        "created_at": row.created_at,
        "figures": figures_out(resellers.figures(db, ref(row))),
    }


def customer_out(c: resellers.CustomerRow) -> dict:
    return {"id": c.id, "portal_id": c.portal_id, "name": c.name, "kind": c.kind, "email": c.email,
            "status": c.status, "created_at": c.created_at}
