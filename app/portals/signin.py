"""Signing in, the second factor, a forgotten password, the reset page, signing out: the same pages for the
three doors (doors.py), built by one factory as the JSON API's auth routes are (app/api/auth/routes.py).

Each view reads its form and calls the service the API calls (`login.sign_in`, `reset.request_reset`,
`reset.confirm_reset`, `sessions.revoke`), then redirects or shows the form again with what went wrong;
the rules (lockout, device trust, 2FA, token life) are the services'. Signing in sets the cookies the
API's sign-in sets. What a refusal tells:

- A wrong name or password says only that; the customers' form also says, under every failure whose name
  looks like an e-mail address, where a reseller's team signs in: said from the shape of the name alone,
  never from a look-up, so it reveals nothing about which team accounts exist (and the team's link is
  under the form anyway).
- A locked account is told what to do: wait for the lock to end, or reset the password, which lifts it.
- "Forgot your password?" answers the same whether or not the account exists.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Flask, abort, flash, g, redirect, request, url_for

from app.api.auth.routes import request_meta
from app.portals import pending
from app.portals.doors import DOORS, Door
from app.portals.forms import FORM_EXPIRED, ForgotForm, ResetForm, SignInForm, SignOutForm, TwoFactorForm, expired
from app.portals.kit import next_from_request, page, safe_next, signed_in
from app.services.auth import links, lockout, login, passwords, reset, sessions
from app.services.branding.rendering import primary_host
from app.services.errors import Invalid
from app.web import db_session, state
from app.web.auth import requires, set_session_cookies
from tenants.context import UnknownTenant
from tenants.registry import directory

WRONG = "The sign-in name or password is not correct."


def _refusal(exc: Exception) -> tuple[str, dict, int]:
    """What the form says for a refusal of the service that is not a wrong password: (msgid, values, status)."""
    if isinstance(exc, lockout.TooManyAttempts):
        return ("Too many failed sign-ins from this address. Try again in %(minutes)s minutes.",
                {"minutes": lockout.IP_WINDOW_SECONDS // 60}, 429)
    return "Signing in from this address is not allowed for this account.", {}, 403


def _locked(door: Door):
    return page(door, "locked", status=423, minutes=int(lockout.LOCK_FOR.total_seconds() // 60))


def _welcome(door: Door, signed, next_: str | None):
    response = redirect(safe_next(next_) or door.home)
    set_session_cookies(response, signed.token, signed.device)
    return response


def build(door: Door) -> Blueprint:
    bp = Blueprint(f"{door.name}_pages", __name__, url_prefix=door.prefix or None)
    realm = door.realm

    @bp.before_request
    def on_its_own_host():
        if g.get("realm") != door.host:
            abort(404)

    @requires(public=True)
    def login_page():
        form = SignInForm()
        next_ = next_from_request()
        if request.method == "GET":
            if signed_in(door):
                return redirect(next_ or door.home)
            return page(door, "login", form=form)
        if not form.validate_on_submit():
            if expired(form):
                form.form_errors.append(FORM_EXPIRED)
            return page(door, "login", form=form, status=422)
        identifier, password = form.identifier.data.strip(), form.password.data
        try:
            signed = login.sign_in(db_session(), state().redis, realm, identifier, password, None, request_meta())
        except login.TwoFactorRequired:
            pending.begin(door, identifier, password, next_)
            return redirect(url_for(".two_factor"))
        except login.InvalidCredentials:
            form.form_errors.append(WRONG)
            return page(door, "login", form=form, status=401,
                        team_hint=door.realm.kind == "customer" and "@" in identifier)
        except lockout.AccountLocked:
            return _locked(door)
        except (lockout.TooManyAttempts, login.AddressNotAllowed) as exc:
            message, values, status = _refusal(exc)
            return page(door, "login", form=form, status=status, refusal=message, refusal_values=values)
        return _welcome(door, signed, next_)

    bp.add_url_rule("/login", "login", login_page, methods=["GET", "POST"])

    @requires(public=True)
    def two_factor():
        waiting = pending.load(door)
        if waiting is None:
            flash("Your sign-in was not finished in time. Please sign in again.", "error")
            return redirect(url_for(".login"))
        form = TwoFactorForm()
        if request.method == "GET":
            return page(door, "two_factor", form=form)
        if not form.validate_on_submit():
            if expired(form):
                form.form_errors.append(FORM_EXPIRED)
            return page(door, "two_factor", form=form, status=422)
        try:
            signed = login.sign_in(db_session(), state().redis, realm, waiting.identifier, waiting.password,
                                   form.code.data, request_meta())
        except (login.InvalidCredentials, login.TwoFactorRequired):
            form.code.errors = ["That code is not correct. Check the time on your device, or use a backup code."]
            return page(door, "two_factor", form=form, status=401)
        except lockout.AccountLocked:
            pending.drop(door)
            return _locked(door)
        except (lockout.TooManyAttempts, login.AddressNotAllowed) as exc:
            message, values, status = _refusal(exc)
            return page(door, "two_factor", form=form, status=status, refusal=message, refusal_values=values)
        pending.drop(door)
        return _welcome(door, signed, waiting.next)

    bp.add_url_rule("/login/two-factor", "two_factor", two_factor, methods=["GET", "POST"])

    @requires(public=True)
    def forgot():
        form = ForgotForm()
        if request.method == "GET":
            return page(door, "forgot", form=form)
        if not form.validate_on_submit():
            if expired(form):
                form.form_errors.append(FORM_EXPIRED)
            return page(door, "forgot", form=form, status=422)
        reset_url = links.page_url(db_session(), realm, "password/reset", default_base=request.host_url)
        reset.request_reset(db_session(), realm, form.identifier.data.strip(), reset_url)
        return redirect(url_for(".forgot_sent"))

    bp.add_url_rule("/password/forgot", "forgot", forgot, methods=["GET", "POST"])

    @requires(public=True)
    def forgot_sent():
        return page(door, "forgot_sent", minutes=int(reset.VALID_FOR.total_seconds() // 60))

    bp.add_url_rule("/password/forgot/sent", "forgot_sent", forgot_sent)

    @requires(public=True)
    def reset_page():
        form = ResetForm()
        token = (form.token.data if request.method == "POST" else request.args.get("token")) or ""
        if not _token_of_this_host(door, token) or (request.method == "GET" and not reset.is_live(
                db_session(), realm, token)):
            return _no_reset(door)
        rules = {"min_length": passwords.MIN_LENGTH}
        if request.method == "GET":
            form.token.data = token
            return _no_referrer(page(door, "reset", form=form, rules=rules))
        if not form.validate_on_submit():
            if expired(form):
                form.form_errors.append(FORM_EXPIRED)
            return _no_referrer(page(door, "reset", form=form, rules=rules, status=422))
        try:
            reset.confirm_reset(db_session(), realm, token, form.password.data)
        except Invalid as exc:
            if exc.extra.get("field") == "token":
                return _no_reset(door)
            form.password.errors = ["Choose a password that follows every rule below."]
            return _no_referrer(page(door, "reset", form=form, rules=rules, status=422))
        flash("Your new password is set. Sign in with it.", "success")
        response = redirect(url_for(".login"))
        set_session_cookies(response, None, None)  # every session of the account has just been ended
        return response

    bp.add_url_rule("/password/reset", "reset", reset_page, methods=["GET", "POST"])

    @requires(public=True)
    def logout():
        form = SignOutForm()
        if not form.validate_on_submit():  # not a sign-out this browser asked for: change nothing
            flash(FORM_EXPIRED, "error")
            return redirect(door.home)
        principal = signed_in(door)
        if principal is not None and principal.via == "session" and principal.session_id:
            sessions.revoke(db_session(), realm, principal.id, principal.session_id, "logout")
        if principal is not None and (principal.impersonator or "").startswith("user "):
            # a team member's support session: back to the customer's page, still signed in to the team's portal
            flash("The support session is ended.", "success")
            response = redirect(url_for("reseller_customer.activity", customer_id=principal.id))
        else:
            flash("You are signed out.", "success")
            response = redirect(url_for(".login"))
        set_session_cookies(response, None, None)
        return response

    bp.add_url_rule("/logout", "logout", logout, methods=["POST"])
    return bp


def _token_of_this_host(door: Door, token: str) -> bool:
    """A reset token names its tenant (`bhr.<tenant id>.…`, 0 for staff): it is only good on that tenant's
    hosts (as the API's `_place_by_token` decides)."""
    named = sessions.token_tenant(token, prefix="bhr") if token else None
    here = g.tenant.id if g.get("tenant") is not None else 0
    return named is not None and named == here


def _no_reset(door: Door):
    return _no_referrer(page(door, "reset_invalid", status=410))


def _no_referrer(response):
    """The reset page's address holds the token: no request made from the page may carry it elsewhere."""
    html, status, headers = response
    return html, status, {**headers, "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


# -- reset links of e-mails sent before the pages existed ----------------------------------------------

_OLD_RESET = {"/portal/auth/reset": "customer", "/reseller/auth/reset": "user", "/console/auth/reset": "staff"}


@requires(public=True)
def old_reset_link():
    """`<api prefix>/reset?token=…`, which reset e-mails linked to (and which never had a page): sent on to
    the reset page, on the host of the token's tenant (a reseller user's reset asked for on the console
    host was sent there)."""
    door = next(d for d in DOORS if d.realm.kind == _OLD_RESET[request.path])
    token = request.args.get("token") or ""
    target = door.path("password/reset") + (f"?{urlencode({'token': token})}" if token else "")
    named = sessions.token_tenant(token, prefix="bhr") if token else None
    if door.host == "tenant" and g.get("realm") == "console" and named:
        try:
            tenant = directory().by_id(named)
        except UnknownTenant:
            tenant = None
        host = primary_host(db_session(), tenant.id) if tenant is not None else None
        if host:
            target = state().settings.public_url(host) + target
    return redirect(target, code=301)


def init_app(app: Flask) -> None:
    for door in DOORS:
        app.register_blueprint(build(door))
    for path in _OLD_RESET:
        app.add_url_rule(path, f"old_reset_link{path.replace('/', '_')}", old_reset_link)
