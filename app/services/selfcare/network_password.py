"""Showing a service's network (PPPoE / Wi-Fi) password to its customer, who types it into a router.

The password is shown only after the customer types their portal password again: a session left open on
a shared computer must not hand out the credentials of the connection. Wrong passwords are limited like
sign-in failures (`auth.lockout`): they count against the client's address with the sign-ins' own limit,
and 5 within 30 minutes stop revealing for that account for the rest of the 30 minutes (without locking
the account's sign-in: whoever has the session is already signed in). Every attempt, right or wrong, is
in the customer's activity log; a wrong one is committed before the refusal, so that rolling the request
back does not erase it. The portal never changes the network password: the reseller sets it.

Staff signed in as the customer cannot reveal it: they do not know the customer's password, and they
have the reseller's tools for the service's credentials.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.models import PortalAccount
from app.services import activity, network_credentials
from app.services.auth import lockout, passwords
from app.services.auth.principal import Principal
from app.services.errors import Conflict, Invalid
from app.services.selfcare.my_services import own_service
from app.services.selfcare.profile import NotAllowed
from tenants import require_tenant
from tenants.storage import redis_key

MAX_FAILURES = 5
WINDOW_SECONDS = int(lockout.LOCK_FOR.total_seconds())


def _failures_key(customer_id: int) -> str:
    return redis_key(require_tenant().schema, "network-password-failures", customer_id)


def reveal(session: Session, redis, customer_id: int, service_id: int, portal_password: str, *,
           principal: Principal, ip: str | None) -> dict:
    """The service's network username and password, once the portal password is given again."""
    service = own_service(session, customer_id, service_id)
    if principal.impersonator:
        raise NotAllowed("staff signed in as the customer cannot reveal the network password")
    if service.status == "Terminated":
        raise Conflict("this service is terminated")
    scope = require_tenant().schema
    lockout.check_ip(redis, scope, ip)
    key = _failures_key(customer_id)
    if int(redis.get(key) or 0) >= MAX_FAILURES:
        raise lockout.TooManyAttempts("too many wrong passwords: try again in 30 minutes")
    account = session.get(PortalAccount, customer_id)
    if account is None or not passwords.verify_password(account.password_hash, portal_password):
        pipe = redis.pipeline()
        pipe.set(key, 0, ex=WINDOW_SECONDS, nx=True)
        pipe.incr(key)
        pipe.execute()
        lockout.count_ip(redis, scope, ip)
        activity.record(session, principal, customer_id, "service.network_password_refused", service_id=service.id,
                        reason="wrong portal password")
        session.commit()
        raise Invalid("the password is not correct", field="password", errors={"password": ["not correct"]})
    plaintext = network_credentials.network_password(service)
    if plaintext is None:
        raise Conflict("this service has no network password yet: your provider sets it when it is connected")
    redis.delete(key)
    activity.record(session, principal, customer_id, "service.network_password_revealed", service_id=service.id)
    return {"service_id": service.id, "username": service.network_username, "password": plaintext}
