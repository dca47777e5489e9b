"""RADIUS NAS clients (public): the routers allowed to ask the RADIUS service, and whose customers they serve.

Public because the RADIUS service looks a NAS up by the packet's source address before it knows any
tenant. `tenant_id` NULL is a platform NAS (serves every tenant's customers); otherwise the NAS serves
that tenant and its descendants. The shared secret is encrypted at rest (app/services/auth/crypto.py):
RADIUS needs it in the clear to sign replies, so it cannot be hashed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Identity, Integer, String, Text, event, inspect, text
from sqlalchemy.dialects.postgresql import CIDR
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.models.base import PublicBase, utcnow
from app.models.provisioning import Service
from tenants import current_tenant

NAS_VENDORS = ("mikrotik", "cisco", "generic")


class NasClient(PublicBase):
    __tablename__ = "nas_clients"
    __table_args__ = (
        CheckConstraint("vendor IN ('mikrotik', 'cisco', 'generic')", name="vendor"),
        CheckConstraint("coa_port BETWEEN 1 AND 65535", name="coa_port"),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    network: Mapped[str] = mapped_column(CIDR, unique=True)
    secret_encrypted: Mapped[str] = mapped_column(Text)
    vendor: Mapped[str] = mapped_column(String(20), default="generic", server_default="generic")
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("public.tenants.id", ondelete="CASCADE"), index=True)
    require_message_authenticator: Mapped[bool] = mapped_column(default=True, server_default="true")
    coa_port: Mapped[int] = mapped_column(Integer, default=3799, server_default="3799")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    created_by: Mapped[str | None] = mapped_column(String(300))
    # when the RADIUS service last answered it (radius/heard.py writes it, a minute at a time): None, never
    last_heard_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# -- telling the RADIUS processes that a service changed ---------------------------------------------
RADIUS_CHANNEL = "backhaul_radius"
_WATCHED = ("status", "plan_id", "network_username", "network_password_encrypted", "static_ip", "customer_id")
_MAX_KEYS = 50  # beyond that, one "every service of the tenant" notice instead of one per username


def _changed_usernames(session: Session) -> set[str]:
    names: set[str] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if not isinstance(obj, Service):
            continue
        state = inspect(obj)
        if obj in session.dirty and not any(state.attrs[a].history.has_changes() for a in _WATCHED):
            continue
        history = state.attrs.network_username.history
        names.update(n for n in (*history.added, *history.deleted, *history.unchanged) if n)
        if obj.network_username:
            names.add(obj.network_username)
    return names


@event.listens_for(Session, "after_flush")
def _notify_radius(session: Session, _flush_context) -> None:
    """NOTIFY the RADIUS processes of the usernames whose service changed, in the flushing transaction.

    Why here and not in a domain-event subscriber: NOTIFY is transactional, so the notice goes out exactly
    when the change commits (never on a rollback), from whichever process made it (web, worker, CLI), and
    nothing in `app/` has to import the RADIUS server. RADIUS processes LISTEN (radius/cachebus.py) and drop
    the cached subscriber; a time-to-live there bounds staleness from changes made by plain SQL.
    """
    tenant = current_tenant()
    if tenant is None:
        return
    names = _changed_usernames(session)
    if not names:
        return
    payloads = [f"service:{tenant.id}:{n}" for n in names] if len(names) <= _MAX_KEYS else [f"service:{tenant.id}:*"]
    conn = session.connection()
    for payload in payloads:
        conn.execute(text("SELECT pg_notify(:c, :p)"), {"c": RADIUS_CHANNEL, "p": payload[:7900]})
