"""A service's network credentials (PPPoE / Wi-Fi): the ISP-managed password, separate from the portal's.

The password is encrypted at rest (`app.services.auth.crypto`), not hashed, because the RADIUS service
needs the plaintext to answer CHAP and MS-CHAP challenges. It is shown once, when set or generated,
and read back only by `network_password` (for RADIUS). The customer's portal password lives elsewhere
(`portal_accounts`) and neither one ever changes the other.

Usernames start with the customer's Portal ID: RADIUS finds the tenant of a User-Name through the
platform-wide Portal ID registry, so the Portal ID itself (the default), or `<Portal ID>.<suffix>` for
a customer's further services, is what a username may be.
"""

from __future__ import annotations

import re
import secrets
import string

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import Customer
from app.models.base import utcnow
from app.models.provisioning import Service
from app.services.auth.crypto import decrypt, encrypt
from app.services.errors import Conflict, Invalid

ALPHABET = "".join(c for c in string.ascii_letters + string.digits if c not in "0O1lI")
GENERATED_LENGTH = 12
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


def generate_password() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(GENERATED_LENGTH))


def _taken(session: Session, username: str, service_id: int) -> bool:
    return session.execute(
        select(Service.id).where(Service.network_username == username, Service.status != "Terminated",
                                 Service.id != service_id)
    ).first() is not None


def default_username(session: Session, service: Service, customer: Customer) -> str:
    """The Portal ID for the customer's first live service with credentials; `<Portal ID>.<id>` after."""
    if not _taken(session, customer.portal_id, service.id):
        return customer.portal_id
    return f"{customer.portal_id}.{service.id}"


def check_username(username: str, customer: Customer) -> str:
    username = username.strip()
    if not _USERNAME.match(username):
        raise Invalid("a network username is 1–64 letters, digits, '.', '_', '@' or '-'", field="username")
    if username != customer.portal_id and not username.startswith(customer.portal_id + "."):
        raise Invalid(f"a network username is the Portal ID ({customer.portal_id}) or starts with "
                      f"'{customer.portal_id}.'", field="username")
    return username


def check_password(password: str) -> str:
    if not 8 <= len(password) <= 64:
        raise Invalid("a network password has 8 to 64 characters", field="password")
    if any(not (" " < c <= "~") for c in password):
        raise Invalid("a network password is printable ASCII without spaces (routers type it)", field="password")
    return password


def set_credentials(session: Session, service: Service, *, username: str | None = None,
                    password: str | None = None) -> str:
    """Set (or regenerate) the service's credentials; returns the plaintext password, to be shown once.

    No username: keep the current one, or take the default. No password: generate one. A default that a
    concurrent activation of the same customer took a moment earlier falls back to `<Portal ID>.<id>`,
    which no other service can hold; a username that was asked for is refused instead.
    """
    customer = session.get(Customer, service.customer_id)
    if service.status == "Terminated":
        raise Conflict("this service is terminated")
    if username is not None:
        names = [check_username(username, customer)]
    elif service.network_username:
        names = [service.network_username]
    else:
        names = [default_username(session, service, customer), f"{customer.portal_id}.{service.id}"]
    plaintext = check_password(password) if password is not None else generate_password()
    for name in dict.fromkeys(names):
        if _taken(session, name, service.id):
            continue
        try:
            with session.begin_nested():
                service.network_username = name
                service.network_password_encrypted = encrypt(plaintext)
                service.credentials_set_at = utcnow()
                session.flush()
        except IntegrityError:  # taken by a concurrent transaction between our check and our write
            continue
        return plaintext
    raise Conflict(f"the network username {names[0]} is in use by another service", field="username")


def find_live(session: Session, username: str) -> Service | None:
    """The service (not Terminated) that signs in to the network as `username`, in the current tenant:
    what RADIUS looks up once the Portal ID registry has given it the tenant. Whether its status lets it
    online (Active; Limited at reduced speeds) is for the RADIUS service to decide."""
    return session.execute(
        select(Service).where(Service.network_username == username, Service.status != "Terminated")
    ).scalar_one_or_none()


def network_password(service: Service) -> str | None:
    """The plaintext network password (for the RADIUS service); None when none is set."""
    if service.network_password_encrypted is None:
        return None
    return decrypt(service.network_password_encrypted)
