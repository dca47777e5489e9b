"""The customer's Security pages, `/portal/security`: the password, two-step verification (2FA), where the
account is signed in, the sign-in history and personal API keys.

Each view calls the service the customer's API calls (`reset.change_password`, `totp.*`, `sessions.revoke`,
`login_history`, `api_keys`) and the API's own checks: what changes how the account is secured (the password,
2FA, API keys) needs the customer's own signed-in session (`own_session_only`), so support staff signed in as
the customer are refused, and told so on the page, where those forms are not drawn; turning 2FA off needs a
sign-in within the last 5 minutes (`require_fresh_sign_in`). A new password ends every other session of the
account, as the API's does.

What is shown once is drawn in the answer to the POST that made it, never kept to be drawn later: the backup
codes and a new API key (`Cache-Control: no-store`). The 2FA secret is the exception the two requests of one
page need (the page, then its QR image): it is the pending secret stored on the account, read back.
"""

from __future__ import annotations

import io
from datetime import datetime, time, timedelta

import segno
from flask import Blueprint, abort, flash, g, redirect, url_for

from app import clock
from app.api.auth.routes import require_fresh_sign_in
from app.api.selfcare.access import own_session_only
from app.portals import devices, tables
from app.portals.charts import svg_response
from app.portals.customer.gate import CUSTOMER, guard
from app.portals.customer.security_forms import ActionForm, ApiKeyForm, CodeForm, PasswordForm
from app.portals.customer.shell import page
from app.portals.forms import FORM_EXPIRED, expired
from app.services import settings
from app.services.auth import accounts, api_keys, login_history, passwords, reset, sessions, totp
from app.services.auth.realms import CUSTOMER as REALM
from app.services.errors import Conflict, Invalid, NotFound
from app.web import db_session
from app.web.auth import Forbidden, requires
from app.web.branding import current_brand

bp = Blueprint("customer_security", __name__, url_prefix="/portal/security")
guard(bp)

SECRETS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
OWN = {"password": "changing the password", "2fa": "changing two-step verification",
       "keys": "managing API keys"}
# what the service's refusal of a field means, said in the page's words (msgids)
PASSWORD_REFUSALS = {"current_password": ("current_password", "That is not your current password."),
                     "password": ("new_password", "Choose a password that follows every rule below."),
                     "new_password": ("new_password", "Choose a new password, not the one you have now.")}
OUTCOMES = {"ok": "Signed in", "new device": "Signed in, from a new device", "wrong password": "Wrong password",
            "wrong second factor": "Wrong code", "locked": "Refused: the account was locked",
            "address not allowed": "Refused: address not allowed"}
HISTORY = tables.TableSpec("sign_ins", "Sign-in history", (
    tables.Column("at", "When"), tables.Column("outcome", "What happened"), tables.Column("device", "Device"),
    tables.Column("ip", "Address")), per_page=20, exportable=False)


def _own_session() -> bool:
    """Whether the forms that secure the account may be offered: not to support staff signed in as the
    customer, not to an API key."""
    return not g.principal.impersonator and g.principal.via == "session"


def _account():
    return accounts.get(db_session(), REALM, g.principal.id)


def _rules() -> dict:
    return {"min_length": passwords.MIN_LENGTH}


def _sessions() -> list[dict]:
    here = g.principal.session_id
    return [{"id": r.id, "device": devices.describe(r.user_agent), "ip": str(r.ip) if r.ip else None,
             "created_at": r.created_at, "last_seen_at": r.last_seen_at, "current": r.id == here,
             "impersonator": r.impersonator}
            for r in sessions.active(db_session(), REALM, g.principal.id)]


def _overview(form: PasswordForm | None = None, *, status: int = 200):
    return page("security/index", status=status, own=_own_session(), password_form=form or PasswordForm(),
                rules=_rules(), two_factor=totp.status(db_session(), REALM, _account()), sessions=_sessions(),
                end_form=ActionForm())


def _refused_form(form) -> bool:
    """A form that did not validate; one whose token had expired says so above it."""
    if form.validate_on_submit():
        return False
    if expired(form):
        form.form_errors.append(FORM_EXPIRED)
    return True


@requires("self.view", kinds=CUSTOMER)
def index():
    return _overview()


@requires("self.edit", kinds=CUSTOMER)
def change_password():
    own_session_only(OWN["password"])
    form = PasswordForm()
    if _refused_form(form):
        return _overview(form, status=422)
    try:
        reset.change_password(db_session(), REALM, _account(), form.current_password.data, form.new_password.data,
                              keep_session=g.principal.session_id)
    except Invalid as exc:
        name, message = PASSWORD_REFUSALS.get(exc.extra.get("field"), ("new_password", exc.detail))
        form[name].errors = [message]
        return _overview(form, status=422)
    flash("Your password is changed. Every other device signed in to your account is signed out.", "success")
    return redirect(url_for(".index"))


# -- two-step verification ---------------------------------------------------------------------------------

def _enrolment() -> dict | None:
    return totp.pending_enrolment(_account(), g.principal.name, current_brand().values["brand_name"])


def _two_factor_page(form: CodeForm | None = None, *, status: int = 200):
    own = _own_session()
    enrolment = _enrolment() if own else None
    response = page("security/two_factor", status=status, own=own,
                    two_factor=totp.status(db_session(), REALM, _account()), enrolment=enrolment,
                    secret_groups=_groups(enrolment["secret"]) if enrolment else None, code_form=form or CodeForm(),
                    action_form=ActionForm())
    return _with(response, SECRETS) if enrolment else response


def _groups(secret: str) -> list[str]:
    """The secret in groups of four, as authenticator apps show it and as it is easiest to type."""
    return [secret[i:i + 4] for i in range(0, len(secret), 4)]


def _with(response, headers: dict):
    html, status, own = response
    return html, status, {**own, **headers}


@requires("self.view", kinds=CUSTOMER)
def two_factor():
    return _two_factor_page()


@requires("self.edit", kinds=CUSTOMER)
def start_two_factor():
    own_session_only(OWN["2fa"])
    form = ActionForm()
    if not form.validate_on_submit():
        flash(FORM_EXPIRED, "error")
        return redirect(url_for(".two_factor"))
    try:
        totp.begin_enrolment(_account(), g.principal.name, current_brand().values["brand_name"])
    except Conflict:
        flash("Two-step verification is on already.", "success")
    return redirect(url_for(".two_factor"))


@requires("self.view", kinds=CUSTOMER)
def qr_code():
    """The pending secret's QR code, as an image of our own (an SVG with no script), never cached."""
    own_session_only(OWN["2fa"])
    enrolment = _enrolment()
    if enrolment is None:
        abort(404)
    drawn = io.BytesIO()
    segno.make(enrolment["otpauth_uri"], error="m").save(drawn, kind="svg", scale=6, border=2, xmldecl=False,
                                                          svgclass=None, lineclass=None)
    response = svg_response(drawn.getvalue())
    response.headers.update(SECRETS)
    return response


@requires("self.edit", kinds=CUSTOMER)
def confirm_two_factor():
    own_session_only(OWN["2fa"])
    form = CodeForm()
    if _refused_form(form):
        return _two_factor_page(form, status=422)
    try:
        codes = totp.confirm_enrolment(db_session(), REALM, _account(), form.code.data)
    except Invalid:
        form.code.errors = ["That code is not correct. Check the time on your phone, and enter the newest code."]
        return _two_factor_page(form, status=422)
    except Conflict:  # on already (this form sent twice), or no enrolment begun: the page says which
        return redirect(url_for(".two_factor"))
    return _with(page("security/backup_codes", codes=codes), SECRETS)


def _fresh() -> bool:
    try:
        require_fresh_sign_in(REALM, g.principal)
    except Forbidden:
        return False
    return True


@requires("self.view", kinds=CUSTOMER)
def turn_off_two_factor_page():
    if not totp.status(db_session(), REALM, _account())["enabled"]:
        return redirect(url_for(".two_factor"))
    own = _own_session()
    return page("security/two_factor_off", own=own, fresh=own and _fresh(), form=ActionForm())


@requires("self.edit", kinds=CUSTOMER)
def turn_off_two_factor():
    own_session_only(OWN["2fa"])
    form = ActionForm()
    if not form.validate_on_submit():
        flash(FORM_EXPIRED, "error")
        return redirect(url_for(".turn_off_two_factor_page"))
    if not _fresh():
        return page("security/two_factor_off", status=403, own=True, fresh=False, form=form)
    account = _account()
    if totp.status(db_session(), REALM, account)["enabled"]:
        totp.disable(db_session(), REALM, account)
        flash("Two-step verification is off. Signing in needs only your password now.", "success")
    return redirect(url_for(".two_factor"))


# -- sessions and sign-ins ---------------------------------------------------------------------------------

@requires("self.edit", kinds=CUSTOMER)
def end_session(session_id: str):
    form = ActionForm()
    if not form.validate_on_submit():
        flash(FORM_EXPIRED, "error")
        return redirect(url_for(".index"))
    if len(session_id) > 64 or not sessions.revoke(db_session(), REALM, g.principal.id, session_id,
                                                   "revoked by user"):
        raise NotFound("no such session: it has ended already, or it is not yours")
    flash("That session is ended: the device it was on is signed out.", "success")
    return redirect(url_for(".index") + "#sessions")


@requires("self.view", kinds=CUSTOMER)
def history():
    wanted = tables.state(HISTORY)
    total = login_history.count(db_session(), REALM, g.principal.id)
    rows = [{"at": e.at, "success": e.success, "outcome": OUTCOMES.get(e.reason, e.reason),
             "device": devices.describe(e.user_agent), "ip": str(e.ip) if e.ip else None}
            for e in login_history.attempts(db_session(), REALM, g.principal.id, limit=wanted.per_page,
                                            offset=wanted.offset)]
    return page("security/history", sign_ins=tables.view(HISTORY, wanted, rows, total))


# -- personal API keys -------------------------------------------------------------------------------------

def _keys_page(form: ApiKeyForm | None = None, *, status: int = 200):
    return page("security/api_keys", status=status, own=_own_session(), form=form or ApiKeyForm(),
                keys=api_keys.list_keys(db_session(), g.principal.id), now=clock.now())


def _expiry(day) -> datetime | None:
    """A key chosen to expire on a day works to the end of that day, in the reseller's time zone."""
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=settings.zone(db_session()))


@requires("self.view", kinds=CUSTOMER)
def keys():
    return _keys_page()


@requires("self.edit", kinds=CUSTOMER)
def create_key():
    own_session_only(OWN["keys"])
    form = ApiKeyForm()
    if _refused_form(form):
        return _keys_page(form, status=422)
    try:
        raw, key = api_keys.create(db_session(), g.principal.id, name=form.name.data.strip(),
                                   access=form.access.data, expires_at=_expiry(form.expires_on.data),
                                   actor=g.principal)
    except Invalid as exc:
        if exc.extra.get("field") == "expires_at":
            form.expires_on.errors = ["Choose today or a day after it."]
        elif exc.extra.get("field") == "access":
            form.access.errors = ["Choose what the key may do."]
        else:  # the most keys one customer may hold
            form.form_errors.append("You have as many keys as one account may hold. Revoke one you no longer "
                                    "use first.")
        return _keys_page(form, status=422)
    return _with(page("security/api_key_created", key=key, raw=raw), SECRETS)


@requires("self.view", kinds=CUSTOMER)
def revoke_key_page(key_id: int):
    own_session_only(OWN["keys"])
    key = api_keys.own_key(db_session(), g.principal.id, key_id)
    return page("security/api_key_revoke", key=key, form=ActionForm())


@requires("self.edit", kinds=CUSTOMER)
def revoke_key(key_id: int):
    own_session_only(OWN["keys"])
    form = ActionForm()
    if not form.validate_on_submit():
        flash(FORM_EXPIRED, "error")
        return redirect(url_for(".revoke_key_page", key_id=key_id))
    api_keys.revoke(db_session(), g.principal.id, key_id, actor=g.principal)
    flash("The key is revoked: it stopped working at once.", "success")
    return redirect(url_for(".keys"))


bp.add_url_rule("", "index", index)
bp.add_url_rule("/password", "change_password", change_password, methods=["POST"])
bp.add_url_rule("/two-factor", "two_factor", two_factor)
bp.add_url_rule("/two-factor/start", "start_two_factor", start_two_factor, methods=["POST"])
bp.add_url_rule("/two-factor/qr.svg", "qr_code", qr_code)
bp.add_url_rule("/two-factor/confirm", "confirm_two_factor", confirm_two_factor, methods=["POST"])
bp.add_url_rule("/two-factor/off", "turn_off_two_factor_page", turn_off_two_factor_page)
bp.add_url_rule("/two-factor/off", "turn_off_two_factor", turn_off_two_factor, methods=["POST"])
bp.add_url_rule("/sessions/<string:session_id>/end", "end_session", end_session, methods=["POST"])
bp.add_url_rule("/history", "history", history)
bp.add_url_rule("/api-keys", "keys", keys)
bp.add_url_rule("/api-keys", "create_key", create_key, methods=["POST"])
bp.add_url_rule("/api-keys/<int:key_id>/revoke", "revoke_key_page", revoke_key_page)
bp.add_url_rule("/api-keys/<int:key_id>/revoke", "revoke_key", revoke_key, methods=["POST"])
