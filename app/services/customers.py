"""Customers of a reseller: creation with a platform-unique Portal ID, within the reseller's limit."""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.models import Customer
from app.models import Tenant as TenantRow
from app.services.errors import Conflict, Invalid
from app.services.portal_ids import next_portal_id
from tenants import require_tenant

KINDS = ("person", "company")


def check_limit(session: Session) -> None:
    tenant = require_tenant()
    limit = session.execute(
        select(TenantRow.customer_limit).where(TenantRow.id == tenant.id)
    ).scalar_one_or_none()
    if limit is None:
        return
    count = session.execute(select(func.count()).select_from(Customer)).scalar_one()
    if count >= limit:
        raise Conflict(f"customer limit reached: {tenant.code} may have at most {limit} customers",
                       limit=limit)


def create(
    session: Session,
    *,
    kind: str = "person",
    first_name: str | None = None,
    last_name: str | None = None,
    company_name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    status: str = "New",
    extra: dict | None = None,
) -> Customer:
    if kind not in KINDS:
        raise Invalid(f"kind must be one of {', '.join(KINDS)}")
    if kind == "company" and not company_name:
        raise Invalid("a company customer needs a company_name")
    if kind == "person" and not (first_name and last_name):
        raise Invalid("a person needs a first_name and a last_name")
    check_limit(session)
    customer_id = session.execute(
        text("SELECT nextval(pg_get_serial_sequence('customers', 'id'))")
    ).scalar_one()
    customer = Customer(
        id=customer_id,
        portal_id=next_portal_id(session, customer_id),
        kind=kind,
        first_name=first_name,
        last_name=last_name,
        company_name=company_name,
        email=email.strip().lower() if email else None,
        phone=phone,
        status=status,
        extra=extra or {},
    )
    session.add(customer)
    session.flush()
    return customer


def find_by_email(session: Session, email: str) -> Customer | None:
    return session.execute(
        select(Customer).where(Customer.email == email.strip().lower())
    ).scalars().first()
