"""Where each kind of account signs in and resets its password: the addresses the security e-mails carry.

The paths are the sign-in pages' (app/portals/doors.py registers each kind's pages under its prefix here, so
a path is written once). The host is the one an e-mail belongs to: for a reseller's customers and team, the
reseller's primary host (the domain it chose for links and e-mails, README "Custom domains"), whichever host
the request that caused the e-mail came to; for the master ISP's staff, the console host.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.services.auth.realms import Realm
from tenants import current_tenant

PREFIX = {"customer": "", "user": "/reseller", "staff": "/console"}
HOME = {"customer": "/portal", "user": "/reseller/", "staff": "/console/"}
PAGES = ("login", "password/forgot", "password/reset")


def path(realm: Realm, page: str) -> str:
    if page not in PAGES:
        raise ValueError(f"no sign-in page {page!r}")
    return f"{PREFIX[realm.kind]}/{page}"


def base_url(session: Session, realm: Realm) -> str | None:
    """`scheme://host[:port]` of the host this realm's e-mails send people to, in the current tenant's
    context (None when a tenant has no verified host yet)."""
    from app.config import Settings
    from app.services.branding.rendering import primary_host

    settings = Settings.from_env()
    if realm.kind == "staff":
        return settings.public_url(settings.console_host)
    tenant = current_tenant()
    host = primary_host(session, tenant.id) if tenant is not None else None
    return settings.public_url(host) if host else None


def page_url(session: Session, realm: Realm, page: str, *, default_base: str | None = None) -> str | None:
    """The absolute address of one of the realm's pages (`default_base` when its host is not known)."""
    base = base_url(session, realm) or default_base
    return f"{base.rstrip('/')}{path(realm, page)}" if base else None
