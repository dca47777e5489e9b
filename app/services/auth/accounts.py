"""Finding the account a sign-in names, and what that account may do once signed in."""

from __future__ import annotations

import ipaddress

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import models as m
from app.services.auth import permissions
from app.services.auth.principal import CUSTOMER, STAFF, USER, Principal
from app.services.auth.realms import Realm
from app.services.errors import NotFound
from app.services.settings import get_setting
from tenants import current_tenant


def find(session: Session, realm: Realm, identifier: str):
    """The account named by `identifier` (e-mail for staff, username for users, Portal ID or e-mail for
    customers), or None. Customers are looked up through the platform's Portal ID registry, and only
    within the current tenant."""
    ident = (identifier or "").strip()
    if not ident or len(ident) > 254:
        return None
    if realm.kind == STAFF:
        return session.execute(select(m.StaffUser).where(func.lower(m.StaffUser.email) == ident.lower())).scalar()
    if realm.kind == USER:
        return session.execute(select(m.User).where(func.lower(m.User.username) == ident.lower())).scalar()
    tenant = current_tenant()
    customer_id = None
    entry = session.get(m.PortalId, ident.upper())
    if entry is not None and tenant is not None and entry.tenant_id == tenant.id:
        customer_id = entry.customer_id
    elif "@" in ident and (get_setting(session, "customers") or {}).get("login_with_email"):
        customer_id = session.execute(
            select(m.Customer.id).where(m.Customer.email == ident.lower()).order_by(m.Customer.id)
        ).scalars().first()
    if not customer_id:
        return None
    customer = session.get(m.Customer, customer_id)
    if customer is None or customer.status == "Inactive":  # closed for good; Suspended may still sign in to pay
        return None
    return session.get(m.PortalAccount, customer_id)


def get(session: Session, realm: Realm, principal_id: int):
    """A signed-in principal's own account (its password and second factor), by the principal's id."""
    account = session.get(realm.account, principal_id)
    if account is None:
        raise NotFound("account not found")
    return account


def email_of(session: Session, realm: Realm, account) -> str | None:
    if realm.kind == CUSTOMER:
        customer = session.get(m.Customer, account.customer_id)
        return customer.email if customer else None
    return account.email


def display_name(session: Session, realm: Realm, account) -> str:
    if realm.kind == CUSTOMER:
        customer = session.get(m.Customer, account.customer_id)
        return customer.portal_id if customer else str(account.customer_id)
    if realm.kind == USER:
        return account.username
    return account.email


def address_allowed(account, ip: str | None) -> bool:
    """A reseller user's IP allow-list (empty: any address)."""
    allowlist = getattr(account, "ip_allowlist", None) or []
    if not allowlist:
        return True
    if not ip:
        return False
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(addr in ipaddress.ip_network(str(net), strict=False) for net in allowlist)


def principal_for(session: Session, realm: Realm, account, *, session_id: str | None = None,
                  impersonator: str | None = None, via: str = "session") -> Principal:
    tenant = current_tenant()
    if realm.kind == STAFF:
        return Principal(kind=STAFF, id=account.id, name=account.email, tenant_id=None,
                         permissions=frozenset(permissions.PERMISSIONS), via=via, session_id=session_id,
                         can_impersonate=account.can_impersonate)
    if realm.kind == USER:
        role = account.role
        granted = permissions.role_permissions(role.name, role.builtin, role.permissions) | frozenset(
            p for p in account.extra_permissions or () if p in permissions.PERMISSIONS)
        allowed = frozenset(account.allowed_customer_ids) if account.allowed_customer_ids else None
        return Principal(kind=USER, id=account.id, name=account.username, tenant_id=tenant.id if tenant else None,
                         permissions=granted, allowed_customer_ids=allowed, via=via, session_id=session_id)
    return Principal(kind=CUSTOMER, id=account.customer_id, name=display_name(session, realm, account),
                     tenant_id=tenant.id if tenant else None, permissions=permissions.CUSTOMER_ALL, via=via,
                     session_id=session_id, impersonator=impersonator)
