"""Sign-in and account security, the same for the three kinds of principal.

`/console/auth/*` for master ISP staff (console host), `/reseller/auth/*` for reseller users (the
reseller's host, or the console host with `reseller_code`), `/portal/auth/*` for customers (the
reseller's host). One factory builds all three, so each rule exists once.
"""

from __future__ import annotations

from datetime import timedelta

from flask import after_this_request, g, request
from flask_smorest import Blueprint

from app.api.auth import schemas as s
from app.models.base import utcnow
from app.services.auth import accounts, links, login, login_history, reset, sessions, totp
from app.services.auth.principal import Principal
from app.services.auth.realms import CUSTOMER, STAFF, USER, Realm
from app.services.auth.sessions import RequestMeta
from app.services.errors import Conflict, Invalid, NotFound
from app.web import db_session, state
from app.web.auth import DEVICE_COOKIE, Forbidden, requires, set_session_cookies
from app.web.tenancy import switch_tenant
from tenants.context import UnknownTenant
from tenants.registry import directory

FRESH = timedelta(minutes=5)


def principal_out(principal: Principal) -> dict:
    return {"kind": principal.kind, "id": principal.id, "name": principal.name, "tenant_id": principal.tenant_id,
            "permissions": sorted(principal.permissions), "impersonator": principal.impersonator}


def request_meta() -> RequestMeta:
    return RequestMeta(ip=request.remote_addr, user_agent=request.user_agent.string or None,
                       device=request.cookies.get(DEVICE_COOKIE))


def _place(realm: Realm, reseller_code: str | None = None) -> None:
    """Check (or, for resellers on the console host, choose) the tenant a sign-in belongs to."""
    if realm is STAFF:
        if g.realm != "console" or g.tenant is not None:
            raise NotFound("staff sign in on the console host")
        return
    if g.tenant is not None and g.realm == "tenant":
        if reseller_code and reseller_code.strip().upper() != g.tenant.code:
            raise login.InvalidCredentials("the sign-in name or password is not correct")
        return
    if realm is CUSTOMER or g.realm != "console":
        raise NotFound("customers sign in on their provider's portal")
    if not reseller_code:
        raise login.InvalidCredentials("reseller_code is required on this host")
    try:
        tenant = directory().by_code(reseller_code.strip().upper())
    except (UnknownTenant, ValueError):
        raise login.InvalidCredentials("the sign-in name or password is not correct") from None
    if directory().blocking(tenant) is not None:
        raise login.InvalidCredentials("this reseller account is not active")
    switch_tenant(tenant)


def _place_by_token(realm: Realm, token: str) -> None:
    """A reset token names its tenant (`bhr.<tenant id>.…`): it is only good there."""
    tenant_id = sessions.token_tenant(token, prefix="bhr")
    invalid = Invalid("this reset link is invalid, already used or expired; ask for a new one", field="token")
    if tenant_id is None or (realm is STAFF) != (tenant_id == 0):
        raise invalid
    if realm is STAFF:
        _place(realm)
    elif g.tenant is not None and g.realm == "tenant":
        if g.tenant.id != tenant_id:
            raise invalid
    elif realm is USER and g.realm == "console":
        try:
            switch_tenant(directory().by_id(tenant_id))
        except UnknownTenant:
            raise invalid from None
    else:
        raise NotFound("customers reset their password on their provider's portal")


def _account(realm: Realm, principal: Principal):
    account = db_session().get(realm.account, principal.id)
    if account is None:
        raise NotFound("account not found")
    return account


def _own_session(realm: Realm, principal: Principal):
    if principal.via != "session" or not principal.session_id:
        raise Forbidden("this needs a signed-in session, not an API token")
    return db_session().get(realm.session, principal.session_id)


def _not_impersonating(principal: Principal) -> None:
    if principal.impersonator:
        raise Forbidden("not while impersonating: the customer's own password and 2FA are theirs to change")


def require_fresh_sign_in(realm: Realm, principal: Principal) -> None:
    """Turning two-factor authentication off, or replacing its backup codes, needs a sign-in within the last
    5 minutes: a session left open on a shared computer must not be enough (the portal's pages call this too)."""
    row = _own_session(realm, principal)
    if row is None or utcnow() - row.authenticated_at > FRESH:
        raise Forbidden("sign in again (within the last 5 minutes) to change two-factor settings")


def build(realm: Realm, prefix: str, login_schema, identifier: str, title: str) -> Blueprint:
    blp = Blueprint(f"auth_{realm.kind}", __name__, url_prefix=prefix, description=title)
    kinds = (realm.kind,)

    @blp.route("/login", methods=["POST"])
    @requires(public=True)
    @blp.arguments(login_schema)
    @blp.response(200, s.LoginOut)
    def sign_in(body):
        """Sign in with password (and a 2FA code when enabled); returns a bearer token and sets a cookie."""
        _place(realm, body.get("reseller_code"))
        session = db_session()
        signed = login.sign_in(session, state().redis, realm, body[identifier], body["password"],
                               body.get("two_factor_code"), request_meta())
        principal = accounts.principal_for(session, realm, signed.account, session_id=signed.session.id)

        @after_this_request
        def cookies(response):
            set_session_cookies(response, signed.token, signed.device)
            return response

        return {"token": signed.token, "expires_at": signed.session.expires_at, "principal": principal_out(principal)}

    @blp.route("/logout", methods=["POST"])
    @requires(kinds=kinds)
    @blp.response(200, s.Message)
    def sign_out():
        """End this session (server-side: the token stops working at once)."""
        principal = g.principal
        row = _own_session(realm, principal)
        sessions.revoke(db_session(), realm, principal.id, row.id, "logout")

        @after_this_request
        def cookies(response):
            set_session_cookies(response, None, None)
            return response

        return {"message": "signed out"}

    @blp.route("/me")
    @requires(kinds=kinds)
    @blp.response(200, s.PrincipalOut)
    def me():
        """Who is signed in, and with which permissions."""
        return principal_out(g.principal)

    @blp.route("/sessions")
    @requires(kinds=kinds)
    @blp.response(200, s.SessionOut(many=True))
    def list_sessions():
        """Active sessions of this account."""
        current = g.principal.session_id
        return [{"id": r.id, "created_at": r.created_at, "last_seen_at": r.last_seen_at, "expires_at": r.expires_at,
                 "ip": str(r.ip) if r.ip else None, "user_agent": r.user_agent, "current": r.id == current,
                 "impersonator": r.impersonator}
                for r in sessions.active(db_session(), realm, g.principal.id)]

    @blp.route("/sessions/<string:session_id>", methods=["DELETE"])
    @requires(kinds=kinds)
    @blp.response(200, s.Message)
    def revoke_session(session_id):
        """End one of this account's sessions (e.g. a lost phone)."""
        if not sessions.revoke(db_session(), realm, g.principal.id, session_id, "revoked by user"):
            raise NotFound("no such active session")
        return {"message": "session ended"}

    @blp.route("/login-history")
    @requires(kinds=kinds)
    @blp.response(200, s.LoginEventOut(many=True))
    def history():
        """The last 50 sign-in attempts on this account."""
        rows = login_history.attempts(db_session(), realm, g.principal.id, limit=50)
        return [{"at": r.at, "success": r.success, "reason": r.reason, "ip": str(r.ip) if r.ip else None,
                 "user_agent": r.user_agent} for r in rows]

    @blp.route("/password", methods=["PUT"])
    @requires(kinds=kinds)
    @blp.arguments(s.PasswordChangeIn)
    @blp.response(200, s.Message)
    def change_password(body):
        """Change the password (the current one is required); other sessions end."""
        _not_impersonating(g.principal)
        reset.change_password(db_session(), realm, _account(realm, g.principal), body["current_password"],
                              body["new_password"], keep_session=g.principal.session_id)
        return {"message": "password changed; other sessions were signed out"}

    @blp.route("/password-reset", methods=["POST"])
    @requires(public=True)
    @blp.arguments(s.ResetRequestIn)
    @blp.response(202, s.Message)
    def request_password_reset(body):
        """E-mail a reset link if the account exists (the answer is the same either way)."""
        try:
            _place(realm, body.get("reseller_code"))
        except (login.InvalidCredentials, NotFound):
            return {"message": "if the account exists, a reset link is on its way"}
        # the link opens the reset page of this kind of account on the host its e-mails belong to
        reset_url = links.page_url(db_session(), realm, "password/reset", default_base=request.host_url)
        reset.request_reset(db_session(), realm, body["identifier"], reset_url)
        return {"message": "if the account exists, a reset link is on its way"}

    @blp.route("/password-reset/confirm", methods=["POST"])
    @requires(public=True)
    @blp.arguments(s.ResetConfirmIn)
    @blp.response(200, s.Message)
    def confirm_password_reset(body):
        """Set a new password with the e-mailed token (single use, one hour); unlocks the account."""
        _place_by_token(realm, body["token"])
        reset.confirm_reset(db_session(), realm, body["token"], body["new_password"])
        return {"message": "password set; sign in with the new password"}

    @blp.route("/2fa")
    @requires(kinds=kinds)
    @blp.response(200, s.TwoFactorStatus)
    def two_factor_status():
        """Whether two-factor authentication is on, and how many backup codes are left."""
        return totp.status(db_session(), realm, _account(realm, g.principal))

    @blp.route("/2fa/enrol", methods=["POST"])
    @requires(kinds=kinds)
    @blp.response(200, s.EnrolmentOut)
    def enrol():
        """Start enrolment: a new secret and its QR code (2FA turns on once a code is confirmed)."""
        _not_impersonating(g.principal)
        issuer = g.tenant.name if g.tenant is not None else "Backhaul"
        return totp.begin_enrolment(_account(realm, g.principal), g.principal.name, issuer)

    @blp.route("/2fa/confirm", methods=["POST"])
    @requires(kinds=kinds)
    @blp.arguments(s.CodeIn)
    @blp.response(200, s.BackupCodesOut)
    def confirm(body):
        """Confirm enrolment with a code; returns 10 single-use backup codes (shown this once)."""
        _not_impersonating(g.principal)
        codes = totp.confirm_enrolment(db_session(), realm, _account(realm, g.principal), body["code"])
        return {"backup_codes": codes}

    @blp.route("/2fa", methods=["DELETE"])
    @requires(kinds=kinds)
    @blp.response(200, s.Message)
    def disable():
        """Turn two-factor authentication off (needs a sign-in within the last 5 minutes)."""
        _not_impersonating(g.principal)
        require_fresh_sign_in(realm, g.principal)
        account = _account(realm, g.principal)
        if not account.totp_enabled_at and not account.totp_secret:
            raise Conflict("two-factor authentication is not on")
        totp.disable(db_session(), realm, account)
        return {"message": "two-factor authentication is off"}

    @blp.route("/2fa/backup-codes", methods=["POST"])
    @requires(kinds=kinds)
    @blp.response(200, s.BackupCodesOut)
    def regenerate():
        """Replace the backup codes (needs a fresh sign-in); the old ones stop working."""
        _not_impersonating(g.principal)
        require_fresh_sign_in(realm, g.principal)
        account = _account(realm, g.principal)
        if not account.totp_enabled_at:
            raise Conflict("two-factor authentication is not on")
        return {"backup_codes": totp.new_backup_codes(db_session(), realm, account.id)}

    return blp


staff = build(STAFF, "/console/auth", s.StaffLoginIn, "email", "Master ISP staff sign-in and account security")
reseller = build(USER, "/reseller/auth", s.ResellerLoginIn, "username", "Reseller users' sign-in and account security")
customer = build(CUSTOMER, "/portal/auth", s.CustomerLoginIn, "portal_id", "Customers' portal sign-in and security")

BLUEPRINTS = [staff, reseller, customer]
