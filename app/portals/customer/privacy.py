"""The customer's Privacy pages, `/portal/privacy`: what they agree to (consents), the cookies the portal sets,
a copy of everything held about them ("Download my data") and the request to delete the account.

Each view calls the service the customer's API calls (app.services.privacy) and shows its answer. The
services refuse support staff signed in as the customer a consent, an export or a deletion request (each is
the customer's own choice): the pages say so where those forms would be, and a post made anyway is refused
with the same words. The export page refreshes itself (`<meta http-equiv="refresh">`, no script) while the
export is being built, and offers the download once it is ready. Deleting the account is the kit's
confirmation of a destructive act, with the portal password typed again; the page says what is erased and
what is kept, and why, before anything is asked.
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, request, send_file, url_for

from app.api.selfcare.access import me, own_session_only
from app.portals.customer.gate import CUSTOMER, guard
from app.portals.customer.privacy_forms import ActionForm, ConsentsForm, DeletionForm
from app.portals.customer.shell import page
from app.portals.forms import FORM_EXPIRED, expired
from app.services.auth import lockout
from app.services.errors import Invalid
from app.services.privacy import CustomerOnly, consents, cookies, deletion, erasure, exports, subjects
from app.services.privacy.deletion import AlreadyRequested
from app.web import db_session, state
from app.web.auth import Forbidden, requires

bp = Blueprint("customer_privacy", __name__, url_prefix="/portal/privacy")
guard(bp)

REFRESH_SECONDS = 5
NOT_FOR_SUPPORT = ("Only the customer can do this, in their own session. Support staff signed in as the customer "
                   "cannot.")
WRONG_PASSWORD = "That password is not correct."  # noqa: S105  (a message, not a password)
TOO_MANY = "Too many wrong passwords. Try again in 30 minutes."
PRIVATE = {"Cache-Control": "private, no-store"}


def _own() -> bool:
    return not g.principal.impersonator


def _refused(form) -> bool:
    if form.validate_on_submit():
        return False
    if expired(form):
        form.form_errors.append(FORM_EXPIRED)
    return True


# -- consents ----------------------------------------------------------------------------------------------

def _index(form: ConsentsForm | None = None, *, status: int = 200):
    found = consents.current(db_session(), me())
    if form is None:
        form = ConsentsForm(data={c.purpose: c.granted for c in found})
    return page("privacy/index", status=status, own=_own(), form=form, consents=found)


@requires("self.view", kinds=CUSTOMER)
def index():
    return _index()


@requires("self.edit", kinds=CUSTOMER)
def save_consents():
    form = ConsentsForm()
    if _refused(form):
        return _index(form, status=422)
    try:
        consents.change(db_session(), me(), {key: bool(form[key].data) for key in consents.PURPOSES},
                        actor=g.principal, door="portal")
    except CustomerOnly:
        form.form_errors.append(NOT_FOR_SUPPORT)
        return _index(form, status=403)
    flash("Your choices are saved.", "success")
    return redirect(url_for(".index"))


@requires("self.view", kinds=CUSTOMER)
def consent_history():
    return page("privacy/history", history=consents.history(db_session(), me()),
                labels={key: p.label for key, p in consents.PURPOSES.items()})


@requires("self.view", kinds=CUSTOMER)
def cookie_list():
    return page("privacy/cookies", cookies=cookies.cookies(), storage=cookies.STORAGE)


# -- download my data --------------------------------------------------------------------------------------

def _export_page(*, status: int = 200, refusal: str | None = None):
    row = exports.latest(db_session(), me())
    shown = exports.status_of(row)
    building = bool(shown and shown["status"] in exports.OPEN)
    html, status, headers = page("privacy/export", status=status, own=_own(), export=shown, form=ActionForm(),
                                 refresh=REFRESH_SECONDS if building else None, subjects=subjects.SUBJECTS,
                                 keep_days=exports.KEEP_FOR.days, refusal=refusal)
    return html, status, {**headers, **PRIVATE}


@requires("self.view", kinds=CUSTOMER)
def export():
    return _export_page()


@requires("self.edit", kinds=CUSTOMER)
def request_export():
    form = ActionForm()
    if not form.validate_on_submit():
        flash(FORM_EXPIRED, "error")
        return redirect(url_for(".export"))
    try:
        _, made = exports.request_export(db_session(), me(), actor=g.principal)
    except CustomerOnly:
        return _export_page(status=403, refusal=NOT_FOR_SUPPORT)
    if made:
        flash("We are preparing a copy of your data. This page shows when it is ready, and we e-mail you too.",
              "success")
    return redirect(url_for(".export"))


@requires("self.view", kinds=CUSTOMER)
def download_export():
    try:
        found = exports.download(db_session(), me(), actor=g.principal)
    except CustomerOnly:
        return _export_page(status=403, refusal=NOT_FOR_SUPPORT)
    except exports.ExportExpired:
        return _export_page(status=410, refusal="That copy has been removed after %(days)s days. Ask for a new one.")
    response = send_file(found.path, mimetype="application/zip", as_attachment=True, download_name=found.filename,
                         max_age=0)
    response.headers["Cache-Control"] = PRIVATE["Cache-Control"]
    return response


# -- delete my account -------------------------------------------------------------------------------------

def _kept() -> list[dict]:
    return [{"what": k.what, "why": k.why, "args": k.args} for k in erasure.kept(db_session())]


def _delete_page(form: DeletionForm | None = None, *, status: int = 200, refusal: str | None = None):
    session = db_session()
    latest = deletion.latest(session, me())
    return page("privacy/delete", status=status, own=_own(), form=form or DeletionForm(), action_form=ActionForm(),
                request=latest, history=deletion.history(session, latest.id) if latest else [],
                live=deletion.live_services(session, me()), kept=_kept(), refusal=refusal)


@requires("self.view", kinds=CUSTOMER)
def delete():
    return _delete_page()


@requires("self.edit", kinds=CUSTOMER)
def request_deletion():
    form = DeletionForm()
    if _refused(form):
        return _delete_page(form, status=422)
    try:
        own_session_only("asking for the account to be deleted")
        deletion.request_deletion(db_session(), state().redis, me(), form.password.data, form.reason.data,
                                  actor=g.principal, ip=request.remote_addr)
    except (Forbidden, CustomerOnly):
        return _delete_page(form, status=403, refusal=NOT_FOR_SUPPORT)
    except lockout.TooManyAttempts:
        return _delete_page(form, status=429, refusal=TOO_MANY)
    except AlreadyRequested:
        return redirect(url_for(".delete"))  # sent twice: the first one is waiting, and the page says so
    except Invalid as exc:
        if exc.extra.get("field") == "reason":
            form.reason.errors = ["The reason can be at most 2000 characters."]
        else:
            form.password.errors = [WRONG_PASSWORD]
        return _delete_page(form, status=422)
    flash("Your request is sent. Your provider reviews it and we e-mail you when it is decided.", "success")
    return redirect(url_for(".delete"))


@requires("self.edit", kinds=CUSTOMER)
def withdraw_deletion():
    form = ActionForm()
    if not form.validate_on_submit():
        flash(FORM_EXPIRED, "error")
        return redirect(url_for(".delete"))
    try:
        own_session_only("withdrawing the request to delete the account")
        deletion.withdraw(db_session(), me(), actor=g.principal)
    except (Forbidden, CustomerOnly):
        return _delete_page(status=403, refusal=NOT_FOR_SUPPORT)
    flash("Your request is withdrawn: your account stays as it is.", "success")
    return redirect(url_for(".delete"))


bp.add_url_rule("", "index", index)
bp.add_url_rule("/consents", "save_consents", save_consents, methods=["POST"])
bp.add_url_rule("/consents/history", "consent_history", consent_history)
bp.add_url_rule("/cookies", "cookies", cookie_list)
bp.add_url_rule("/export", "export", export)
bp.add_url_rule("/export", "request_export", request_export, methods=["POST"])
bp.add_url_rule("/export/download", "download_export", download_export)
bp.add_url_rule("/delete", "delete", delete)
bp.add_url_rule("/delete", "request_deletion", request_deletion, methods=["POST"])
bp.add_url_rule("/delete/withdraw", "withdraw_deletion", withdraw_deletion, methods=["POST"])
