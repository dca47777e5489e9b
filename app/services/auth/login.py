"""Signing in: password, lock, IP rules, second factor, session, history and alerts, in that order.

A failed attempt must be remembered even though the request fails, so on failure this module commits
what it recorded (the counter, the login event, the lockout e-mail) before raising.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import structlog
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.models.base import utcnow
from app.services.auth import accounts, links, lockout, passwords, sessions, totp
from app.services.auth.crypto import digest
from app.services.auth.realms import USER, Realm
from app.services.auth.sessions import RequestMeta
from app.services.errors import ServiceError
from tenants import current_tenant

log = structlog.get_logger(__name__)


class InvalidCredentials(ServiceError):
    status = 401
    slug = "invalid-credentials"
    title = "Invalid credentials"


class TwoFactorRequired(ServiceError):
    status = 401
    slug = "two-factor-required"
    title = "Two-factor code required"


class AddressNotAllowed(ServiceError):
    status = 403
    slug = "address-not-allowed"
    title = "Address not allowed"


@dataclass
class SignedIn:
    token: str
    account: object
    session: object
    device: str          # the device cookie value to (re)set on the client
    new_device: bool


def scope() -> str:
    tenant = current_tenant()
    return tenant.schema if tenant else "public"


def device_digest(device: str | None) -> str | None:
    return digest("device:" + device) if device else None


def _known(session: Session, realm: Realm, account_id: int, dev: str | None) -> bool:
    if not dev:
        return False
    model = realm.known_device
    return session.get(model, (realm.kind, account_id, dev)) is not None


def _event(session: Session, realm: Realm, account_id: int, success: bool, reason: str, meta: RequestMeta,
           dev: str | None) -> None:
    session.add(realm.login_event(principal_kind=realm.kind, principal_id=account_id, success=success,
                                  reason=reason, ip=meta.ip, user_agent=(meta.user_agent or "")[:400] or None,
                                  device=dev))


def sign_in(session: Session, redis, realm: Realm, identifier: str, password: str, code: str | None,
            meta: RequestMeta, *, max_sessions: int | None = None) -> SignedIn:
    where = scope()
    lockout.check_ip(redis, where, meta.ip)
    account = accounts.find(session, realm, identifier)
    dev = device_digest(meta.device)
    if account is None or not account.is_active or not account.password_hash:
        passwords.verify_password(None, password)  # same time as a real check
        lockout.count_ip(redis, where, meta.ip)
        log.info("login.failed", realm=realm.kind, reason="unknown or inactive account", ip=meta.ip)
        raise InvalidCredentials("the sign-in name or password is not correct")

    trusted = _known(session, realm, account.id, dev) and not lockout.device_exhausted(redis, where, dev)
    if lockout.is_locked(account) and not trusted:
        _event(session, realm, account.id, False, "locked", meta, dev)
        session.commit()
        raise lockout.AccountLocked("too many failed sign-ins: this account is locked for 30 minutes; "
                                    "a password reset unlocks it at once")
    if realm is USER and not accounts.address_allowed(account, meta.ip):
        _event(session, realm, account.id, False, "address not allowed", meta, dev)
        session.commit()
        raise AddressNotAllowed("sign-in from this address is not allowed for this user")

    if not passwords.verify_password(account.password_hash, password):
        _fail(session, redis, realm, account, meta, dev, trusted, "wrong password")
    if passwords.needs_rehash(account.password_hash):  # parameters were raised since it was hashed
        account.password_hash = passwords.hash_password(password)
    if account.totp_enabled_at:
        if not code:
            raise TwoFactorRequired("enter the 6-digit code from your authenticator app, or a backup code")
        if not (totp.verify(session, realm, account, code) or totp.use_backup_code(session, realm, account.id, code)):
            _fail(session, redis, realm, account, meta, dev, trusted, "wrong second factor")
    return _succeed(session, realm, account, meta, dev, max_sessions)


def _fail(session, redis, realm, account, meta, dev, trusted, reason) -> None:
    where = scope()
    lockout.count_ip(redis, where, meta.ip)
    if trusted:  # a known device has its own budget and never locks the account for everyone
        lockout.count_device(redis, where, dev)
        just_locked = False
    else:
        just_locked = lockout.record_failure(session, realm, account)
    _event(session, realm, account.id, False, reason, meta, dev)
    if just_locked:
        _event(session, realm, account.id, False, "locked", meta, dev)
        log.warning("login.locked", realm=realm.kind, account=account.id, ip=meta.ip)
        _notify(session, realm, account, "security/lockout", meta)
    session.commit()
    raise InvalidCredentials("the sign-in name or password is not correct")


MAX_KNOWN_DEVICES = 50


def fingerprint(meta: RequestMeta) -> str:
    """How a client that keeps no cookies (a script) is recognised: its user agent and address.

    Good enough to not e-mail a "new device" alert on every sign-in of the same script, never enough
    to be trusted past a lockout (anyone can send any user agent): only the cookie is.
    """
    return digest(f"fingerprint:{meta.user_agent or ''}|{meta.ip or ''}")


def _succeed(session, realm, account, meta, dev, max_sessions) -> SignedIn:
    now = utcnow()
    lockout.clear(account)
    account.last_login_at = now
    device = meta.device if dev else secrets.token_urlsafe(24)
    dev = device_digest(device)
    seen = fingerprint(meta)
    model = realm.known_device
    known = session.execute(
        select(model.device).where(model.principal_kind == realm.kind, model.principal_id == account.id)
        .order_by(model.last_seen_at.desc())
    ).scalars().all()
    new_device = bool(known) and dev not in known and seen not in known
    for digest_ in (dev, seen):
        session.execute(
            insert(model).values(principal_kind=realm.kind, principal_id=account.id, device=digest_,
                                 first_seen_at=now, last_seen_at=now, user_agent=(meta.user_agent or "")[:400] or None)
            .on_conflict_do_update(index_elements=[model.principal_kind, model.principal_id, model.device],
                                   set_={"last_seen_at": now})
        )
    stale = [d for d in known if d not in (dev, seen)][MAX_KNOWN_DEVICES - 2:]
    if stale:  # a client that never keeps its cookie must not grow this list without end
        session.execute(delete(model).where(model.principal_kind == realm.kind, model.principal_id == account.id,
                                            model.device.in_(stale)))
    limit = max_sessions or getattr(account, "max_sessions", None) or realm.default_max_sessions
    tenant = current_tenant()
    token, row = sessions.create(session, realm, account.id, tenant.id if tenant else None, meta,
                                 device_digest=dev, max_sessions=limit)
    _event(session, realm, account.id, True, "new device" if new_device else "ok", meta, dev)
    if new_device:
        _notify(session, realm, account, "security/new_device", meta)
    return SignedIn(token=token, account=account, session=row, device=device, new_device=new_device)


def _notify(session, realm, account, template: str, meta: RequestMeta) -> None:
    to = accounts.email_of(session, realm, account)
    if not to:
        return
    from app.services.notifications.outbox import queue_email

    context = {"name": accounts.display_name(session, realm, account), "ip": meta.ip or "unknown",
               "user_agent": meta.user_agent or "unknown", "at": utcnow().isoformat()}
    reset_url = links.page_url(session, realm, "password/forgot")  # "reset your password" opens this page
    if reset_url:
        context["reset_url"] = reset_url
    queue_email(session, to=to, template=template, context=context)
