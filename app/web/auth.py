"""Who is calling: a session cookie, or `Authorization: Bearer <token>` (session, OAuth or API key).

Every token names its tenant (`<kind>.<tenant id>.<secret>`, 0 for the platform). On a tenant's host
a token of another tenant is refused before anything is looked up; on the console host a tenant token
enters its own tenant (so resellers can use the API on the master ISP's domain, as the reseller journey
describes), and a platform token is a master ISP staff session.

Views declare what they need with `@requires(...)`; the permission matrix test reads that declaration.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Flask, current_app, g, request
from sqlalchemy.orm import Session

from app.models import AuthSession, StaffSession
from app.services.auth import accounts, api_keys, crypto, sessions, view_as
from app.services.auth.principal import USER, Principal
from app.services.auth.realms import BY_KIND, STAFF
from app.services.errors import ServiceError
from app.web import db_session, state
from tenants import context
from tenants.context import UnknownTenant
from tenants.registry import directory

SESSION_COOKIE = "bh_session"
# An impersonation ("support") session lives in a cookie of its own, read on the customer portal's paths only: a
# reseller's team and its customers share a host, so a team member who opens a customer's portal as them stays
# signed in to the reseller portal beside it (and ending the support session ends that one alone).
SUPPORT_COOKIE = "bh_support"
TEAM_PATHS = ("/reseller", "/console")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DEVICE_COOKIE = "bh_device"


class Unauthenticated(ServiceError):
    status = 401
    slug = "unauthenticated"
    title = "Sign-in required"


class Forbidden(ServiceError):
    status = 403
    slug = "forbidden"
    title = "Forbidden"


# token prefix -> resolver(session, token) -> Principal | None; OAuth and API keys register theirs
RESOLVERS: dict[str, Callable[[Session, str], Principal | None]] = {}


def register_resolver(prefix: str, resolver: Callable[[Session, str], Principal | None]) -> None:
    RESOLVERS[prefix] = resolver


def _session_principal(db: Session, token: str) -> Principal | None:
    staff = sessions.token_tenant(token) == 0
    row = sessions.lookup(db, StaffSession if staff else AuthSession, token)
    if row is None:
        return None
    if not staff and view_as.is_view_as(row):  # staff viewing as the reseller, read-only
        return view_as.principal_for(db, row)
    realm = STAFF if staff else BY_KIND[row.principal_kind]
    account = db.get(realm.account, row.principal_id)
    if account is None or not account.is_active:
        return None
    return accounts.principal_for(db, realm, account, session_id=row.id, impersonator=row.impersonator)


register_resolver("bhs", _session_principal)
register_resolver("bhk", api_keys.resolve)


def _view_is_public() -> bool:
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    return bool(getattr(view, "backhaul_access", {}).get("public"))


def _credential() -> tuple[str | None, bool]:
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip(), True
        if not _view_is_public():
            raise Unauthenticated("use 'Authorization: Bearer <token>'")
        # a public endpoint may take other schemes for itself: OAuth clients authenticate with HTTP Basic
    if _on_customer_paths() and request.cookies.get(SUPPORT_COOKIE):
        g.session_cookie = SUPPORT_COOKIE
        return request.cookies[SUPPORT_COOKIE], False
    return request.cookies.get(SESSION_COOKIE), False


def _on_customer_paths() -> bool:
    return not any(request.path == p or request.path.startswith(p + "/") for p in TEAM_PATHS)


def _token_tenant(token: str) -> tuple[str, int] | None:
    prefix, _, rest = token.partition(".")
    tenant, _, secret = rest.partition(".")
    if prefix not in RESOLVERS or not crypto.is_number(tenant) or len(secret) < 20:
        return None
    return prefix, int(tenant)


def authenticate() -> None:
    g.principal = None
    if g.get("realm") is None:  # host-free paths (health)
        return
    token, explicit = _credential()
    if not token:
        return
    parsed = _token_tenant(token)
    if parsed is None:
        if explicit:
            raise Unauthenticated("the token is not valid")
        g.clear_session_cookie = True
        return
    prefix, tenant_id = parsed
    if g.tenant is not None and tenant_id != g.tenant.id:
        raise Unauthenticated("this credential belongs to another portal")
    if g.tenant is None and tenant_id != 0:  # a reseller's token used on the master ISP's host
        try:
            tenant = directory().by_id(tenant_id)
        except UnknownTenant:
            tenant = None
        if tenant is None or directory().blocking(tenant) is not None:
            raise Unauthenticated("this credential's reseller is unknown or suspended")
        g.tenant = tenant
        g._tenant_token = context.enter(tenant)
    principal = RESOLVERS[prefix](db_session(), token)
    if principal is None:
        if explicit:
            raise Unauthenticated("the token is invalid, expired or revoked")
        g.clear_session_cookie = True
        return
    # a view-as session (read_only) is no team member, so no member's address allow-list applies to it
    if principal.kind == USER and not principal.read_only and not _address_allowed(principal):
        raise Forbidden("requests from this address are not allowed for this user")
    g.principal = principal


def _address_allowed(principal: Principal) -> bool:
    from app.models import User

    account = db_session().get(User, principal.id)
    return account is not None and accounts.address_allowed(account, request.remote_addr)


def current_principal() -> Principal | None:
    return g.get("principal")


def requires(permission: str | None = None, *, kinds: tuple[str, ...] | None = None,
             public: bool = False) -> Callable:
    """Declare and enforce what a view needs: a signed-in principal of `kinds`, holding `permission`.

    `public=True` declares a view open to anyone (sign-in pages, health): the declaration is still
    required, so that no endpoint is open by omission.
    """

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def guarded(*args, **kwargs):
            if not public:
                principal = current_principal()
                if principal is None:
                    raise Unauthenticated("sign in first")
                if kinds and principal.kind not in kinds:
                    raise Forbidden(f"this needs a {' or '.join(kinds)} sign-in")
                if principal.read_only and request.method not in SAFE_METHODS:
                    raise Forbidden("this is a read-only session")
                if permission and not principal.can(permission):
                    raise Forbidden(f"this needs the '{permission}' permission")
            return view(*args, **kwargs)

        guarded.backhaul_access = {"permission": permission, "kinds": kinds, "public": public}
        return guarded

    return decorate


def set_session_cookies(response, token: str | None, device: str | None, max_age: int | None = None, *,
                        support: bool = False) -> None:
    """Set the session's cookie (`support`: an impersonation session's), or with no token delete the one this
    request was signed in with."""
    secure = request.is_secure
    if token is None:
        response.delete_cookie(g.get("session_cookie", SESSION_COOKIE))
    else:
        name = SUPPORT_COOKIE if support else SESSION_COOKIE
        response.set_cookie(name, token, httponly=True, secure=secure, samesite="Lax", max_age=max_age)
        if not support and _on_customer_paths():  # a customer's own sign-in ends a support session here
            response.delete_cookie(SUPPORT_COOKIE)
    if device:
        response.set_cookie(DEVICE_COOKIE, device, httponly=True, secure=secure, samesite="Lax",
                            max_age=400 * 24 * 3600)


def _after(response):
    if g.get("clear_session_cookie"):
        response.delete_cookie(g.get("session_cookie", SESSION_COOKIE))
    principal = g.get("principal")
    if principal is not None and principal.read_only:
        view_as.record_request(state().db, principal, request.method, request.path, response.status_code)
    elif principal is not None and principal.impersonator:
        _log_impersonated(principal, response.status_code)
    return response


def _log_impersonated(principal: Principal, status: int) -> None:
    """Every request of an impersonation session goes to the customer's activity log, failed or not,
    in its own transaction (the request's may be rolled back)."""
    from app.services import activity

    with state().db.session() as session:
        activity.record(session, principal, principal.id, f"{request.method} {request.path}", status=status)


def init_app(app: Flask) -> None:
    app.before_request(authenticate)
    app.after_request(_after)
