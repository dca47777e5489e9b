"""Access and refresh tokens: issued, found by digest, revoked by family, turned into a Principal.

Access tokens read `bho.<tenant id>.<secret>`, refresh tokens `bhrt.<tenant id>.<secret>`; only their
keyed digests are stored. What a token may do is worked out on every use: its scope ∩ what the client
may still have ∩ (for a user's token) what the user may still do, so revoking a client's scope or
demoting a user shrinks the tokens already out there.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.models import OAuthClient, OAuthToken, User
from app.models.base import utcnow
from app.services.auth import accounts, crypto, realms
from app.services.auth.crypto import digest
from app.services.auth.principal import CLIENT, Principal
from app.services.oauth import scopes as sc
from tenants import current_tenant

ACCESS_PREFIX, REFRESH_PREFIX = "bho", "bhrt"
ACCESS_TTL = 3600                    # seconds: an hour, short enough that a leaked one soon dies
REFRESH_TTL = timedelta(days=30)     # from each rotation: an app unused for a month signs in again
ACCESS, REFRESH = "access_token", "refresh_token"


def new_token(prefix: str, tenant_id: int) -> str:
    return f"{prefix}.{tenant_id}.{secrets.token_urlsafe(32)}"


def _tenant_of(token: str, prefix: str) -> int | None:
    head, _, rest = token.partition(".")
    tenant, _, secret = rest.partition(".")
    if head != prefix or not crypto.is_number(tenant) or len(secret) < 20:
        return None
    return int(tenant)


@dataclass(frozen=True)
class Presented:
    """A token string someone sent us, matched to its row, and which of the pair it was."""

    row: OAuthToken
    kind: str  # ACCESS or REFRESH

    def check_client(self, client) -> bool:
        return self.row.client_id == client.id

    def get_scope(self) -> str:
        return self.row.scope


def store(session: Session, token: dict, *, client_id: int, tenant_id: int, user_id: int | None,
          code_id: int | None = None, parent: OAuthToken | None = None) -> OAuthToken:
    """Keep the digests of a freshly issued token pair. A refresh continues its parent's family."""
    now = utcnow()
    refresh = token.get("refresh_token")
    row = OAuthToken(
        access_digest=digest(token["access_token"]), refresh_digest=digest(refresh) if refresh else None,
        client_id=client_id, tenant_id=tenant_id, user_id=user_id, scope=token.get("scope", ""), issued_at=now,
        expires_in=int(token["expires_in"]), refresh_expires_at=now + REFRESH_TTL if refresh else None,
        family=parent.family if parent else uuid.uuid4(), code_id=parent.code_id if parent else code_id,
        parent_id=parent.id if parent else None,
    )
    session.add(row)
    session.flush()
    return row


def lookup(session: Session, token: str | None, hint: str | None, tenant_id: int | None, *,
           lock: bool = False) -> Presented | None:
    """The row of a presented access or refresh token of this tenant, whatever its state (or None)."""
    if not token or tenant_id is None or len(token) > 200:
        return None
    kinds = (REFRESH, ACCESS) if hint == REFRESH else (ACCESS, REFRESH)
    for kind in kinds:
        prefix, column = (ACCESS_PREFIX, OAuthToken.access_digest) if kind == ACCESS else \
            (REFRESH_PREFIX, OAuthToken.refresh_digest)
        if _tenant_of(token, prefix) != tenant_id:
            continue
        query = select(OAuthToken).where(column == digest(token), OAuthToken.tenant_id == tenant_id)
        row = session.execute(query.with_for_update() if lock else query).scalar()
        if row is not None:
            return Presented(row, kind)
    return None


def access_live(row: OAuthToken, now: datetime | None = None) -> bool:
    return row.access_revoked_at is None and (now or utcnow()) < row.access_expires_at


def refresh_live(row: OAuthToken, now: datetime | None = None) -> bool:
    return (row.refresh_digest is not None and row.refresh_revoked_at is None and row.rotated_at is None
            and row.refresh_expires_at is not None and (now or utcnow()) < row.refresh_expires_at)


def revoke_access(row: OAuthToken, reason: str) -> None:
    if row.access_revoked_at is None:
        row.access_revoked_at, row.revoked_reason = utcnow(), reason


def revoke_family(session: Session, family: uuid.UUID, reason: str) -> int:
    """End every access and refresh token descended from one grant (a code or a rotated refresh chain)."""
    return _revoke(session, OAuthToken.family == family, reason)


def revoke_from_code(session: Session, code_id: int, reason: str) -> int:
    families = select(OAuthToken.family).where(OAuthToken.code_id == code_id).scalar_subquery()
    return _revoke(session, OAuthToken.family.in_(families), reason)


def revoke_client(session: Session, client_row_id: int, reason: str) -> int:
    return _revoke(session, OAuthToken.client_id == client_row_id, reason)


def _revoke(session: Session, where, reason: str) -> int:
    now = utcnow()
    done = session.execute(
        update(OAuthToken).where(where)
        .values(access_revoked_at=func.coalesce(OAuthToken.access_revoked_at, now),
                refresh_revoked_at=func.coalesce(OAuthToken.refresh_revoked_at, now),
                revoked_reason=func.coalesce(OAuthToken.revoked_reason, reason))
        .execution_options(synchronize_session="fetch")
    )
    return done.rowcount


def user_permissions(session: Session, user: User) -> frozenset[str]:
    return accounts.principal_for(session, realms.USER, user).permissions


def principal_of(session: Session, row: OAuthToken) -> Principal | None:
    """Who a live token acts as, with what it may do now; None when its client or user is gone."""
    client = session.get(OAuthClient, row.client_id)
    if client is None or client.revoked_at is not None or client.tenant_id != row.tenant_id:
        return None
    granted = sc.known(sc.parse(row.scope)) & sc.known(client.scopes)
    if row.user_id is None:
        return Principal(kind=CLIENT, id=client.id, name=client.name, tenant_id=client.tenant_id,
                         permissions=granted, via="oauth")
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    own = accounts.principal_for(session, realms.USER, user, via="oauth")
    return replace(own, permissions=own.permissions & granted)


def resolve_access_token(session: Session, token: str) -> Principal | None:
    """The resolver app/web/auth.py calls for `Authorization: Bearer bho.…` (the tenant is already entered)."""
    tenant = current_tenant()
    found = lookup(session, token, ACCESS, tenant.id if tenant else None)
    if found is None or found.kind != ACCESS or not access_live(found.row):
        return None
    return principal_of(session, found.row)


def introspect(session: Session, found: Presented | None) -> dict:
    """RFC 7662 §2.2: inactive for anything expired, revoked, rotated, or whose client or user is gone."""
    if found is None:
        return {"active": False}
    row = found.row
    live = access_live(row) if found.kind == ACCESS else refresh_live(row)
    principal = principal_of(session, row) if live else None
    if principal is None:
        return {"active": False}
    client = session.get(OAuthClient, row.client_id)
    expires = row.access_expires_at if found.kind == ACCESS else row.refresh_expires_at
    out = {"active": True, "scope": sc.render(principal.permissions), "client_id": client.client_id,
           "token_type": "Bearer" if found.kind == ACCESS else "refresh_token", "exp": int(expires.timestamp()),
           "iat": int(row.issued_at.timestamp()), "tenant_id": row.tenant_id}
    if row.user_id is not None:
        out.update(sub=f"user:{row.user_id}", username=principal.name)
    else:
        out["sub"] = f"client:{client.client_id}"
    return out
