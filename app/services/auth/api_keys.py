"""Customers' personal API keys ("API Access" in the self-care portal).

A key is `bhk.<tenant id>.<secret>`, shown once and stored as a keyed digest with its first characters
for recognition; read-only or read-write; optionally expiring; revocable. A key acts as its customer
with `self.view` (read) or `self.view` + `self.edit` (read-write), never more.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import models as m
from app.models.base import utcnow
from app.services import activity
from app.services.auth import permissions
from app.services.auth.crypto import digest
from app.services.auth.principal import CUSTOMER, Principal
from app.services.errors import Invalid, NotFound
from app.services.ids import valid_id
from tenants import require_tenant

ACCESS = ("read", "read_write")
MAX_KEYS = 20
TOUCH_EVERY = timedelta(minutes=1)


def create(session: Session, customer_id: int, *, name: str, access: str, expires_at: datetime | None,
           actor: Principal | None = None) -> tuple[str, m.ApiKey]:
    """A new key, returned once as (the key itself, its row); the customer's activity log says who made it."""
    if access not in ACCESS:
        raise Invalid("access must be read or read_write", field="access")
    if expires_at is not None and expires_at <= utcnow():
        raise Invalid("the expiry must be in the future", field="expires_at")
    live = [k for k in list_keys(session, customer_id) if k.revoked_at is None]
    if len(live) >= MAX_KEYS:
        raise Invalid(f"at most {MAX_KEYS} active keys; revoke one first")
    raw = f"bhk.{require_tenant().id}.{secrets.token_urlsafe(32)}"
    key = m.ApiKey(customer_id=customer_id, name=(name or "API key").strip()[:100], prefix=raw[:16],
                   key_hash=digest(raw), access=access, expires_at=expires_at)
    session.add(key)
    session.flush()
    activity.record(session, actor, customer_id, "api_key.create", key=key.prefix, access=key.access)
    return raw, key


def list_keys(session: Session, customer_id: int) -> list[m.ApiKey]:
    return list(session.execute(select(m.ApiKey).where(m.ApiKey.customer_id == customer_id)
                                .order_by(m.ApiKey.id)).scalars())


def own_key(session: Session, customer_id: int, key_id: int) -> m.ApiKey:
    """One of the customer's keys still working; anyone else's, or a revoked one, is not found."""
    key = session.get(m.ApiKey, key_id) if valid_id(key_id) else None
    if key is None or key.customer_id != customer_id or key.revoked_at is not None:
        raise NotFound("no such active key")
    return key


def revoke(session: Session, customer_id: int, key_id: int, *, actor: Principal | None = None) -> None:
    key = own_key(session, customer_id, key_id)
    key.revoked_at = utcnow()
    activity.record(session, actor, customer_id, "api_key.revoke", key_id=key_id)


def resolve(session: Session, token: str) -> Principal | None:
    key = session.execute(select(m.ApiKey).where(m.ApiKey.key_hash == digest(token))).scalar_one_or_none()
    now = utcnow()
    if key is None or key.revoked_at is not None or (key.expires_at is not None and key.expires_at <= now):
        return None
    customer = session.get(m.Customer, key.customer_id)
    account = session.get(m.PortalAccount, key.customer_id)
    if customer is None or (account is not None and not account.is_active):
        return None
    if key.last_used_at is None or now - key.last_used_at > TOUCH_EVERY:
        key.last_used_at = now
    granted = permissions.CUSTOMER_ALL if key.access == "read_write" else permissions.CUSTOMER_READ
    return Principal(kind=CUSTOMER, id=customer.id, name=customer.portal_id, tenant_id=require_tenant().id,
                     permissions=granted, via="api_key")
