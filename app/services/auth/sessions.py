"""Server-side sessions: a random token for the client, only its keyed digest in the database.

Tokens look like `bhs.<tenant id>.<secret>` (tenant id 0 for master ISP staff), so a request can be
routed to the right schema before the lookup, and a token shown on another tenant's host is refused
without touching that tenant's data. Idle and absolute expiry are enforced on every lookup; the
last-seen time is written at most once a minute, not on every request.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models.base import utcnow
from app.services.auth import crypto
from app.services.auth.crypto import digest
from app.services.auth.realms import Realm

PREFIX = "bhs"
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class RequestMeta:
    """What we know of the client making a request (for sessions, login history and alerts)."""

    ip: str | None = None
    user_agent: str | None = None
    device: str | None = None  # the raw device cookie value, if the client sent one


def make_token(tenant_id: int | None) -> str:
    return f"{PREFIX}.{tenant_id or 0}.{secrets.token_urlsafe(32)}"


def token_tenant(token: str, prefix: str = PREFIX) -> int | None:
    """The tenant id a token names (0 for the platform), or None when it is not such a token."""
    parts = token.split(".", 2)
    if len(parts) != 3 or parts[0] != prefix or not crypto.is_number(parts[1]) or len(parts[2]) < 20:
        return None
    return int(parts[1])


def create(session: Session, realm: Realm, principal_id: int, tenant_id: int | None, meta: RequestMeta, *,
           device_digest: str | None = None, impersonator: str | None = None,
           max_sessions: int | None = None) -> tuple[str, object]:
    now = utcnow()
    if max_sessions:
        _evict_beyond(session, realm, principal_id, max_sessions - 1, now)
    token = make_token(tenant_id)
    row = realm.session(
        id=digest(token), principal_kind=realm.kind, principal_id=principal_id, created_at=now,
        last_seen_at=now, authenticated_at=now, expires_at=now + timedelta(hours=realm.absolute_hours),
        idle_minutes=realm.idle_minutes, ip=meta.ip, user_agent=(meta.user_agent or "")[:400] or None,
        device=device_digest, impersonator=impersonator,
    )
    session.add(row)
    session.flush()
    return token, row


def _evict_beyond(session: Session, realm: Realm, principal_id: int, keep: int, now: datetime) -> None:
    """Enforce the concurrent-session limit: the oldest sessions beyond `keep` end."""
    live = active(session, realm, principal_id)
    for old in live[keep:] if keep >= 0 else live:
        old.revoked_at, old.revoked_reason = now, "session limit"


def active(session: Session, realm: Realm, principal_id: int) -> list:
    now = utcnow()
    model = realm.session
    rows = session.execute(
        select(model).where(model.principal_kind == realm.kind, model.principal_id == principal_id,
                            model.revoked_at.is_(None), model.expires_at > now)
        .order_by(model.created_at.desc())
    ).scalars().all()
    return [r for r in rows if not _idle(r, now)]


def _idle(row, now: datetime) -> bool:
    return now - row.last_seen_at > timedelta(minutes=row.idle_minutes)


def lookup(session: Session, realm_session_model: type, token: str):
    """The live session row of `token`, or None (expired or idle sessions are ended on the way)."""
    row = session.get(realm_session_model, digest(token))
    if row is None or row.revoked_at is not None:
        return None
    now = utcnow()
    if now >= row.expires_at or _idle(row, now):
        row.revoked_at, row.revoked_reason = now, "expired" if now >= row.expires_at else "idle"
        return None
    if now - row.last_seen_at > TOUCH_EVERY:
        row.last_seen_at = now
    return row


def revoke(session: Session, realm: Realm, principal_id: int, session_id: str, reason: str) -> bool:
    model = realm.session
    done = session.execute(
        update(model).where(model.id == session_id, model.principal_kind == realm.kind,
                            model.principal_id == principal_id, model.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )
    return done.rowcount == 1


def revoke_all(session: Session, realm: Realm, principal_id: int, reason: str, *, keep: str | None = None) -> int:
    model = realm.session
    query = update(model).where(model.principal_kind == realm.kind, model.principal_id == principal_id,
                                model.revoked_at.is_(None))
    if keep:
        query = query.where(model.id != keep)
    return session.execute(query.values(revoked_at=utcnow(), revoked_reason=reason)).rowcount
