"""Failed sign-ins: the account lock, the per-IP limit, and why an attacker cannot lock a user out forever.

- 5 failed attempts lock the account for 30 minutes (one security e-mail, one logged event). Attempts
  while locked are refused without being counted, so they neither extend the lock nor re-send mail.
- The lock does not apply to a device the account has signed in from before (a "device cookie", as
  OWASP recommends): an attacker without that cookie can lock out everyone else's guesses, but not the
  user on their own device. Such a device has its own small failure budget, kept in Redis.
- A password reset lifts the lock at once.
- Every failure also counts against the client's IP address (per tenant): 20 failures in 15 minutes
  and that address gets 429 for the rest of the window, whatever account it tries.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.models.base import utcnow
from app.services.auth.realms import Realm
from app.services.errors import ServiceError
from tenants.storage import redis_key

MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=30)
IP_MAX_FAILURES = 20
IP_WINDOW_SECONDS = 15 * 60
DEVICE_MAX_FAILURES = 5


class TooManyAttempts(ServiceError):
    status = 429
    slug = "too-many-attempts"
    title = "Too many attempts"


class AccountLocked(ServiceError):
    status = 423
    slug = "account-locked"
    title = "Account locked"


def is_locked(account, now: datetime | None = None) -> bool:
    return account.locked_until is not None and account.locked_until > (now or utcnow())


def record_failure(session: Session, realm: Realm, account) -> bool:
    """Count a failed attempt atomically; True when this attempt locked the account."""
    now = utcnow()
    key = realm.account_key
    failures = session.execute(
        update(realm.account).where(key == account.id)
        .values(failed_logins=realm.account.failed_logins + 1).returning(realm.account.failed_logins)
    ).scalar_one()
    if failures < MAX_FAILURES:
        return False
    locked = session.execute(
        update(realm.account).where(key == account.id, realm.account.failed_logins >= MAX_FAILURES)
        .values(failed_logins=0, locked_until=now + LOCK_FOR).returning(key)
    ).first()
    session.refresh(account)
    return locked is not None


def clear(account) -> None:
    account.failed_logins = 0
    account.locked_until = None


def _ip_key(scope: str, ip: str) -> str:
    return redis_key(scope, "login-failures", "ip", ip)


def _device_key(scope: str, device_digest: str) -> str:
    return redis_key(scope, "login-failures", "device", device_digest)


def check_ip(redis, scope: str, ip: str | None) -> None:
    if ip and int(redis.get(_ip_key(scope, ip)) or 0) >= IP_MAX_FAILURES:
        raise TooManyAttempts("too many failed sign-ins from this address; try again in 15 minutes")


def _count(redis, key: str, window: int) -> None:
    """Increment a counter that expires `window` seconds after its first increment (Redis 6 and 7)."""
    pipe = redis.pipeline()
    pipe.set(key, 0, ex=window, nx=True)
    pipe.incr(key)
    pipe.execute()


def count_ip(redis, scope: str, ip: str | None) -> None:
    if ip:
        _count(redis, _ip_key(scope, ip), IP_WINDOW_SECONDS)


def device_exhausted(redis, scope: str, device_digest: str) -> bool:
    return int(redis.get(_device_key(scope, device_digest)) or 0) >= DEVICE_MAX_FAILURES


def count_device(redis, scope: str, device_digest: str) -> None:
    _count(redis, _device_key(scope, device_digest), int(LOCK_FOR.total_seconds()))
