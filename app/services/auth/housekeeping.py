"""Dropping identity rows that can no longer matter, so that sign-in costs do not grow with history.

Kept: live sessions and 30 days of ended ones (for "sessions" and investigations), 400 days of sign-in
history and of devices (a year and a bit: "new device" means new this year), reset tokens until a week
after they expired or were used, OAuth codes for 30 days after expiry (so that a replayed code is still
recognised and its tokens revoked), OAuth tokens until 30 days after both access and refresh expired.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, or_, text
from sqlalchemy.orm import Session

from app.models import OAuthCode, OAuthToken
from app.models.base import utcnow
from app.services.auth.realms import CUSTOMER, STAFF, Realm

ENDED_SESSIONS = timedelta(days=30)
HISTORY = timedelta(days=400)
RESET_TOKENS = timedelta(days=7)
OAUTH = timedelta(days=30)


def _purge_realm(session: Session, realm: Realm) -> int:
    now = utcnow()
    s, e, d, r = realm.session, realm.login_event, realm.known_device, realm.reset_token
    done = session.execute(delete(s).where(or_(s.revoked_at < now - ENDED_SESSIONS,
                                               s.expires_at < now - ENDED_SESSIONS))).rowcount
    done += session.execute(delete(e).where(e.at < now - HISTORY)).rowcount
    done += session.execute(delete(d).where(d.last_seen_at < now - HISTORY)).rowcount
    done += session.execute(delete(r).where(or_(r.expires_at < now - RESET_TOKENS,
                                                r.used_at < now - RESET_TOKENS))).rowcount
    return done


def purge_tenant(session: Session) -> int:
    """In the current tenant's schema (users and customers share its tables)."""
    return _purge_realm(session, CUSTOMER)


def purge_platform(session: Session) -> int:
    now = utcnow()
    done = _purge_realm(session, STAFF)
    done += session.execute(delete(OAuthCode).where(OAuthCode.expires_at < now - OAUTH)).rowcount
    access_end = OAuthToken.issued_at + func.make_interval(0, 0, 0, 0, 0, 0, OAuthToken.expires_in)
    done += session.execute(delete(OAuthToken).where(
        access_end < now - OAUTH,
        or_(OAuthToken.refresh_expires_at.is_(None), OAuthToken.refresh_expires_at < now - OAUTH),
        # a token another one was rotated from stays while its family can still be replayed
        ~OAuthToken.id.in_(text("SELECT parent_id FROM public.oauth_tokens WHERE parent_id IS NOT NULL")),
    )).rowcount
    return done


__all__ = ["purge_platform", "purge_tenant"]
