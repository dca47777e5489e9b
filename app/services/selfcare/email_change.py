"""Changing the customer's e-mail address: it lands only when the link sent to the new address is opened.

Why a link and not an edit: the address is where password resets go ("Email changes require
verification", 003), so whoever can type a new one must also prove they can read it; otherwise a session
left open, or a typo, hands the account to someone else. The old address is told that a change was asked
for, so an owner who did not ask can act.

The link's token is random, names its tenant (`bhe.<tenant id>.…`, good on that reseller's hosts only),
is kept in Redis only as a keyed digest, for 24 hours, and works once. Only the newest link of a
customer works: asking again makes the earlier links stale, so an address typed wrongly and corrected
cannot land afterwards. Where the reseller lets customers sign in with their e-mail
(`customers.login_with_email`), an address another of its customers has is refused, at the request and
again when the link is opened: two accounts with one sign-in name could not be told apart.

The link opens the portal page at `CONFIRM_PATH` (the page asks for a click before it calls
`confirm_email_change`, so a mail scanner fetching the link changes nothing).
"""

from __future__ import annotations

import json
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Customer
from app.services import activity, customers
from app.services.auth import links
from app.services.auth.crypto import digest
from app.services.auth.principal import CUSTOMER, Principal
from app.services.auth.realms import CUSTOMER as CUSTOMER_REALM
from app.services.errors import Conflict, Invalid, NotFound
from app.services.settings import get_setting
from tenants import require_tenant
from tenants.storage import redis_key

VALID_FOR = timedelta(hours=24)
CONFIRM_PATH = "/portal/profile/email/confirm"
PREFIX = "bhe"
INVALID = "this link is invalid, already used, replaced by a newer one or expired; ask for a new one"


def _token_key(token: str) -> str:
    return redis_key(require_tenant().schema, "email-change", "token", digest(token))


def _latest_key(customer_id: int) -> str:
    return redis_key(require_tenant().schema, "email-change", "customer", customer_id)


def _clean(value) -> str:
    try:
        email = customers.clean_email(value)
    except ValueError as exc:
        raise Invalid(f"email: {exc}", field="email", errors={"email": [str(exc)]}) from None
    if not email:
        raise Invalid("email: the new address is needed", field="email", errors={"email": ["required"]})
    return email


def _check_free(session: Session, customer_id: int, email: str) -> None:
    if not (get_setting(session, "customers") or {}).get("login_with_email"):
        return
    taken = session.execute(select(Customer.id).where(Customer.email == email, Customer.id != customer_id)
                            .limit(1)).first()
    if taken is not None:
        raise Conflict("this address is in use for another account; use another one, or ask support",
                       field="email")


def confirm_url(session: Session, token: str, *, default_base: str | None = None) -> str:
    """The link of the e-mail: the confirmation page on the reseller's primary host."""
    base = links.base_url(session, CUSTOMER_REALM) or default_base or ""
    return f"{base.rstrip('/')}{CONFIRM_PATH}?token={token}"


def request_email_change(session: Session, redis, customer_id: int, new_email: str, *, actor: Principal | None,
                         default_base: str | None = None) -> str:
    """Send the verification link to `new_email` (and a notice to the current address); returns the
    address the link went to. Nothing about the customer changes until the link is opened."""
    customer = customers.get(session, customer_id)
    email = _clean(new_email)
    if email == customer.email:
        raise Invalid("email: this is your e-mail address already", field="email",
                      errors={"email": ["this is your e-mail address already"]})
    _check_free(session, customer_id, email)
    token = f"{PREFIX}.{require_tenant().id}.{secrets.token_urlsafe(32)}"
    seconds = int(VALID_FOR.total_seconds())
    redis.set(_token_key(token), json.dumps({"customer_id": customer_id, "email": email}), ex=seconds)
    redis.set(_latest_key(customer_id), json.dumps({"digest": digest(token), "email": email}), ex=seconds)
    from app.services.notifications.outbox import queue_email

    name = customer.display_name
    queue_email(session, to=email, template="customer/email_change", context={
        "name": name, "portal_id": customer.portal_id, "new_email": email,
        "confirm_url": confirm_url(session, token, default_base=default_base),
        "valid_hours": seconds // 3600})
    if customer.email:
        queue_email(session, to=customer.email, template="customer/email_change_notice", context={
            "name": name, "portal_id": customer.portal_id, "new_email": email})
    activity.record(session, actor, customer_id, "email_change.requested", email=email)
    return email


def pending_email(redis, customer_id: int) -> str | None:
    """The address a verification link was last sent to and not yet opened, if any."""
    raw = redis.get(_latest_key(customer_id))
    return json.loads(raw)["email"] if raw else None


def confirm_email_change(session: Session, redis, token: str) -> Customer:
    """Open the link: the customer's address becomes the one it was sent to. The link works once, on its
    own reseller's hosts, within 24 hours, and only if no newer link was sent since."""
    prefix, _, rest = str(token or "").partition(".")
    tenant, _, secret = rest.partition(".")
    if prefix != PREFIX or tenant != str(require_tenant().id) or len(secret) < 20:
        raise Invalid(INVALID, field="token")
    raw = redis.getdel(_token_key(token))
    if raw is None:
        raise Invalid(INVALID, field="token")
    data = json.loads(raw)
    latest = redis.get(_latest_key(data["customer_id"]))
    if latest is None or json.loads(latest)["digest"] != digest(token):
        raise Invalid(INVALID, field="token")
    try:
        customer = customers.get(session, data["customer_id"])
    except NotFound:
        raise Invalid(INVALID, field="token") from None
    _check_free(session, customer.id, data["email"])
    actor = Principal(kind=CUSTOMER, id=customer.id, name=customer.portal_id, tenant_id=require_tenant().id)
    previous = customer.email
    customers.update(session, customer.id, {"email": data["email"]}, actor=actor)
    activity.record(session, actor, customer.id, "email_change.confirmed", email=data["email"], previous=previous)
    redis.delete(_latest_key(customer.id))
    return customer
