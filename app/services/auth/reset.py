"""Password reset by e-mailed token, and password changes.

The token is random, stored only as a keyed digest in the account's own schema (so it is bound to its
tenant: it means nothing on another tenant's host), valid one hour, and single-use: claiming it is one
conditional UPDATE. Asking for a reset answers the same whether or not the account exists.
A successful reset unlocks the account and ends every session of it.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models.base import utcnow
from app.services.auth import accounts, lockout, passwords, sessions
from app.services.auth.crypto import digest
from app.services.auth.realms import Realm
from app.services.errors import Invalid
from tenants import current_tenant

VALID_FOR = timedelta(hours=1)


def request_reset(session: Session, realm: Realm, identifier: str, reset_url: str) -> None:
    """Queue a reset e-mail if the account exists and is active; otherwise do nothing, silently."""
    account = accounts.find(session, realm, identifier)
    if account is None or not account.is_active:
        return
    to = accounts.email_of(session, realm, account)
    if not to:
        return
    tenant = current_tenant()
    token = f"bhr.{tenant.id if tenant else 0}.{secrets.token_urlsafe(32)}"
    session.add(realm.reset_token(token_hash=digest(token), principal_kind=realm.kind, principal_id=account.id,
                                  expires_at=utcnow() + VALID_FOR))
    from app.services.notifications.outbox import queue_email

    queue_email(session, to=to, template="security/password_reset", context={
        "name": accounts.display_name(session, realm, account),
        "reset_url": f"{reset_url}?token={token}", "valid_minutes": int(VALID_FOR.total_seconds() // 60),
    })


def is_live(session: Session, realm: Realm, token: str) -> bool:
    """Whether a reset link can still be used (unused, not expired): so that the page it opens can say at
    once that a new link is needed, before anyone types a new password twice for nothing."""
    model = realm.reset_token
    found = session.execute(
        select(model.principal_id).where(model.token_hash == digest(token or ""), model.principal_kind == realm.kind,
                                         model.used_at.is_(None), model.expires_at > utcnow())
    ).first()
    return found is not None


def confirm_reset(session: Session, realm: Realm, token: str, new_password: str) -> object:
    """Set a new password with a reset token; returns the account."""
    passwords.check_policy(new_password)
    model = realm.reset_token
    now = utcnow()
    claimed = session.execute(
        update(model).where(model.token_hash == digest(token or ""), model.principal_kind == realm.kind,
                            model.used_at.is_(None), model.expires_at > now)
        .values(used_at=now).returning(model.principal_id)
    ).first()
    if claimed is None:
        raise Invalid("this reset link is invalid, already used or expired; ask for a new one", field="token")
    account = session.get(realm.account, claimed[0])
    _set_password(session, realm, account, new_password)
    lockout.clear(account)
    # any other outstanding reset tokens of this account die with this one
    session.execute(update(model).where(model.principal_kind == realm.kind, model.principal_id == account.id,
                                        model.used_at.is_(None)).values(used_at=now))
    sessions.revoke_all(session, realm, account.id, "password reset")
    return account


def change_password(session: Session, realm: Realm, account, current: str, new_password: str,
                    keep_session: str | None) -> None:
    """A signed-in change: the current password is required; other sessions end."""
    if not passwords.verify_password(account.password_hash, current):
        raise Invalid("the current password is not correct", field="current_password")
    passwords.check_policy(new_password)
    if passwords.verify_password(account.password_hash, new_password):
        raise Invalid("the new password must differ from the current one", field="new_password")
    _set_password(session, realm, account, new_password)
    sessions.revoke_all(session, realm, account.id, "password changed", keep=keep_session)


def _set_password(session: Session, realm: Realm, account, new_password: str) -> None:
    account.password_hash = passwords.hash_password(new_password)
    account.password_changed_at = utcnow()
