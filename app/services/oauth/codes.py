"""Authorization codes: five minutes, one use, only their digest stored."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import OAuthCode
from app.models.base import utcnow
from app.services.auth.crypto import digest

CODE_TTL = timedelta(minutes=5)  # RFC 6749 §4.1.2 asks for at most ten; the redirect takes seconds


def save(session: Session, code: str, *, client_id: int, tenant_id: int, user_id: int, redirect_uri: str,
         scope: str, challenge: str, method: str) -> OAuthCode:
    now = utcnow()
    row = OAuthCode(code_digest=digest("oauth-code:" + code), client_id=client_id, tenant_id=tenant_id,
                    user_id=user_id, redirect_uri=redirect_uri, scope=scope, code_challenge=challenge,
                    code_challenge_method=method, created_at=now, expires_at=now + CODE_TTL)
    session.add(row)
    session.flush()
    return row


def find_for_update(session: Session, code: str, tenant_id: int | None) -> OAuthCode | None:
    """The code's row, used or not, locked: two exchanges of one code run one after the other, and the
    second sees the first's `used_at`."""
    if not code or tenant_id is None or len(code) > 200:
        return None
    return session.execute(
        select(OAuthCode).where(OAuthCode.code_digest == digest("oauth-code:" + code),
                                OAuthCode.tenant_id == tenant_id).with_for_update()
    ).scalar()


def expired(row: OAuthCode) -> bool:
    return utcnow() >= row.expires_at


def mark_used(row: OAuthCode) -> None:
    row.used_at = utcnow()
