"""Signing in as a customer ("Login as User"), for troubleshooting: master ISP staff, or the reseller's own team.

A staff member must hold `can_impersonate` (any tenant's customer, from the console); a team member the
`customers.impersonate` permission (their own reseller's customers they may see, from the customer's page; Admins
hold it, other roles when it is given them). Either is handed a one-minute, single-use ticket (kept in Redis
under the customer's tenant); the customer's portal host redeems it for a short session marked with the
impersonator. Everything done in that session is written to the customer's activity log as "staff X as customer
Y" (or "user X as ..."), and the session cannot change the customer's password, 2FA or API keys.
"""

from __future__ import annotations

import json
import secrets
from datetime import timedelta

from sqlalchemy.orm import Session

from app import models as m
from app.models.base import utcnow
from app.services import activity, audit
from app.services.auth import sessions
from app.services.auth.crypto import digest
from app.services.auth.principal import STAFF as STAFF_KIND
from app.services.auth.principal import USER, Principal
from app.services.auth.realms import CUSTOMER
from app.services.auth.sessions import RequestMeta
from app.services.errors import Invalid, NotFound, ServiceError
from tenants import Tenant, tenant_context
from tenants.storage import redis_key

TICKET_SECONDS = 60
SESSION_FOR = timedelta(hours=1)


class NotAllowed(ServiceError):
    status = 403
    slug = "forbidden"
    title = "Forbidden"


def _key(tenant: Tenant, ticket: str) -> str:
    return redis_key(tenant.schema, "impersonation", digest(ticket))


def issue_ticket(session: Session, redis, staff: Principal, portal_id: str) -> tuple[Tenant, str]:
    """A ticket to open the customer's portal as them; returns the customer's tenant and the ticket."""
    if staff.kind != STAFF_KIND or not staff.can_impersonate:
        raise NotAllowed("impersonation needs the can_impersonate permission")
    entry = session.get(m.PortalId, (portal_id or "").strip().upper())
    if entry is None:
        raise NotFound(f"no customer with Portal ID {portal_id!r}")
    from tenants.registry import directory

    tenant = directory().by_id(entry.tenant_id)
    return tenant, _ticket(session, redis, tenant, f"staff {staff.id} ({staff.name})", entry.customer_id,
                           entry.portal_id)


def issue_team_ticket(session: Session, redis, member: Principal, tenant: Tenant, customer_id: int) -> str:
    """A ticket for a team member to open their own customer's portal as them. The caller has found the
    customer among those the member may see (app/api/visibility.py) in `tenant`, the current tenant."""
    if member.kind != USER or member.read_only or member.tenant_id != tenant.id \
            or not member.can("customers.impersonate"):
        raise NotAllowed("signing in as a customer needs the customers.impersonate permission")
    customer = session.get(m.Customer, customer_id)
    if customer is None:
        raise NotFound("no such customer")
    return _ticket(session, redis, tenant, f"user {member.id} ({member.name})", customer.id, customer.portal_id)


def _ticket(session: Session, redis, tenant: Tenant, impersonator: str, customer_id: int, portal_id: str) -> str:
    ticket = "bhi." + secrets.token_urlsafe(32)
    payload = {"impersonator": impersonator, "customer_id": customer_id, "portal_id": portal_id}
    redis.set(_key(tenant, ticket), json.dumps(payload), ex=TICKET_SECONDS)
    audit.record(session, impersonator, "customer.impersonate", tenant.id, portal_id=portal_id,
                 customer_id=customer_id)
    return ticket


def redeem(session: Session, redis, tenant: Tenant, ticket: str, meta: RequestMeta) -> tuple[str, object, Principal]:
    """Exchange a ticket (once) for an impersonation session on the customer's tenant."""
    raw = redis.getdel(_key(tenant, ticket or ""))
    if raw is None:
        raise Invalid("this impersonation link is invalid, used or expired", field="ticket")
    data = json.loads(raw)
    with tenant_context(tenant):
        account = session.get(m.PortalAccount, data["customer_id"])
        if account is None:  # a customer who never set a portal password can still be looked at
            account = m.PortalAccount(customer_id=data["customer_id"], password_hash=None)
            session.add(account)
            session.flush()
        impersonator = data["impersonator"]
        token, row = sessions.create(session, CUSTOMER, account.customer_id, tenant.id, meta,
                                     impersonator=impersonator)
        row.expires_at = utcnow() + SESSION_FOR
        principal = Principal(kind="customer", id=account.customer_id, name=data["portal_id"], tenant_id=tenant.id,
                              permissions=frozenset({"self.view", "self.edit"}), session_id=row.id,
                              impersonator=impersonator)
        activity.record(session, principal, account.customer_id, "impersonation.start")
    return token, row, principal


