"""Master ISP staff looking at a reseller's portal as the reseller sees it, read-only ("view as reseller").

Why a session of its own rather than a login as one of the reseller's users: the staff member is nobody
in the reseller's team, must not borrow a team member's identity or permissions, and must not be able
to change anything. So the console hands out a short session in the reseller's own `sessions` table:

- realm "user" (the reseller API's views accept it as a reseller user), marked with the `impersonator`
  ("staff N (e-mail)"), and with `principal_id = -N`: no reseller user has a negative id, so the session
  can never be taken for a team member's (their session lists, limits and revocations never see it),
  and the staff member it belongs to is known without parsing text;
- the principal holds the read permissions only (`permissions.READ`) and is `read_only`, which
  `app.web.auth.requires` enforces for every view: anything but GET/HEAD/OPTIONS is refused with 403,
  whatever permission the view asks for, so a view added later cannot forget to refuse it;
- 30 minutes at most, 15 idle; the staff member must still be active and hold `can_impersonate` on
  every request, so taking the right away ends it at once;
- audited: the start in the platform audit log (`tenant.view_as`), and every request made with it
  (`tenant.view_as.request`, refused ones too).

The token has the ordinary form `bhs.<tenant id>.<secret>`: it works on the reseller's host and, like
any reseller token, on the console host, and nowhere else.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app import models as m
from app.db import Database
from app.models.base import utcnow
from app.services import audit
from app.services.auth import permissions, sessions
from app.services.auth.principal import STAFF, USER, Principal
from app.services.auth.realms import USER as USER_REALM
from app.services.auth.sessions import RequestMeta
from app.services.errors import Conflict, ServiceError
from tenants import Tenant, current_tenant, tenant_context

SESSION_FOR = timedelta(minutes=30)
IDLE_MINUTES = 15


class NotAllowed(ServiceError):
    status = 403
    slug = "forbidden"
    title = "Forbidden"


def staff_label(staff_id: int, email: str) -> str:
    return f"staff {staff_id} ({email})"


def start(db: Database, staff: Principal, tenant: Tenant, meta: RequestMeta,
          reason: str | None = None) -> tuple[str, datetime]:
    """A read-only session on `tenant` for `staff`; returns the token (shown once) and its expiry.

    Written in a transaction of its own, in the tenant's schema, with its audit record: a token is never
    handed out without the record of it.
    """
    if staff.kind != STAFF or not staff.can_impersonate:
        raise NotAllowed("viewing as a reseller needs the can_impersonate permission")
    if not tenant.is_active:
        raise Conflict(f"{tenant.code} is {tenant.status.lower()}: its portal cannot be viewed")
    label = staff_label(staff.id, staff.name)
    with tenant_context(tenant), db.session() as s:
        token, row = sessions.create(s, USER_REALM, -staff.id, tenant.id, meta, impersonator=label)
        row.expires_at = utcnow() + SESSION_FOR
        row.idle_minutes = IDLE_MINUTES
        audit.record(s, label, "tenant.view_as", tenant.id, session_ref=row.id[:12], reason=reason,
                     expires_at=row.expires_at.isoformat(), ip=meta.ip)
        return token, row.expires_at


def is_view_as(row) -> bool:
    """Whether a tenant session row is a staff member's view-as session (see the module doc)."""
    return row.principal_kind == USER and row.principal_id < 0 and row.impersonator is not None


def principal_for(session: Session, row) -> Principal | None:
    """The read-only principal of a view-as session, or None when its staff member may no longer use it."""
    staff = session.get(m.StaffUser, -row.principal_id)
    tenant = current_tenant()
    if staff is None or not staff.is_active or not staff.can_impersonate or tenant is None:
        return None
    return Principal(kind=USER, id=row.principal_id, name=f"{tenant.code} (read-only view)", tenant_id=tenant.id,
                     permissions=permissions.READ, session_id=row.id,
                     impersonator=staff_label(staff.id, staff.email), read_only=True)


def record_request(db: Database, principal: Principal, method: str, path: str, status: int) -> None:
    """One request made in a view-as session, in its own transaction (the request's may be rolled back)."""
    with db.session() as s:
        audit.record(s, principal.impersonator or principal.actor, "tenant.view_as.request", principal.tenant_id,
                     method=method, path=path, status=status,
                     session_ref=(principal.session_id or "")[:12])
