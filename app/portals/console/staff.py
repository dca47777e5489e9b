"""The console's Staff pages, `/console/staff`: the master ISP's staff accounts with a search; adding one (invited
by e-mail to choose their password, or with a generated password shown once in the answer and kept nowhere); one
member's page, where their name and whether they may impersonate are changed, a new password link is sent, and
they are deactivated, reactivated or have their two-step verification reset through the kit's confirmation, with
a reason for the audit log.

Every view calls what the staff API calls (app/services/staff.py, as app/api/staff/routes.py does), so the rules
are the same at both doors: nobody deactivates themself or the last active account, and every change is audited.
The signed-in member's own row says "you", and their page offers none of what the service would refuse them.
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, request, url_for

from app.portals import tables
from app.portals.console.shell import STAFF_KINDS, guard, page
from app.portals.console.staff_forms import GENERATED, ActionForm, CreateForm, FilterForm, MemberForm, ReasonForm
from app.portals.forms import FORM_EXPIRED, expired
from app.portals.tables import Column, TableSpec
from app.services import staff
from app.services.errors import Conflict, Invalid
from app.web import db_session
from app.web.auth import requires

bp = Blueprint("console_staff", __name__, url_prefix="/console/staff")
guard(bp)

MEMBERS = TableSpec("staff", "Staff", (
    Column("name", "Name"), Column("email", "E-mail address"), Column("two_step", "Two-step verification"),
    Column("can_impersonate", "May impersonate"), Column("is_active", "Status"),
    Column("last_login_at", "Last signed in")), exportable=False)
SECRETS = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _row(member) -> dict:
    return {"id": member.id, "name": member.name, "email": member.email,
            "two_step": member.totp_enabled_at is not None, "can_impersonate": member.can_impersonate,
            "is_active": member.is_active, "last_login_at": member.last_login_at,
            "password_set": member.password_hash is not None, "created_at": member.created_at,
            "you": member.id == g.principal.id}


def _field_error(form, exc: Invalid | Conflict) -> None:
    """A service's refusal next to the field it names (its own words), else above the form."""
    field = getattr(form, str(exc.extra.get("field") or ""), None)
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, exc.detail] if isinstance(field.errors, list) else [exc.detail]
    else:
        form.form_errors.append(exc.detail)


def _refused(form) -> bool:
    if form.validate_on_submit():
        return False
    if expired(form):
        form.form_errors.append(FORM_EXPIRED)
    return True


# -- the list ------------------------------------------------------------------------------------------------

@requires(kinds=STAFF_KINDS)
def index():
    form = FilterForm(formdata=request.args)
    if not form.validate():
        form = FilterForm(formdata=None)
    wanted = (form.q.data or "").strip()
    shown = tables.state(MEMBERS)
    found, total = staff.search(db_session(), wanted, offset=shown.offset, limit=shown.per_page)
    return page("staff/index", form=form, searched=bool(wanted),
                table=tables.view(MEMBERS, shown, [_row(r) for r in found], total))


# -- adding --------------------------------------------------------------------------------------------------

@requires(kinds=STAFF_KINDS)
def create():
    form = CreateForm()
    if request.method == "GET":
        return page("staff/create", form=form)
    if _refused(form):
        return page("staff/create", form=form, status=422)
    try:
        made = staff.create(db_session(), name=form.name.data, email=form.email.data,
                            can_impersonate=bool(form.can_impersonate.data),
                            invite=form.first_password.data != GENERATED, actor=g.principal.actor)
    except (Invalid, Conflict) as exc:
        _field_error(form, exc)
        return page("staff/create", form=form, status=422)
    if made.invited:
        flash("The invitation is sent: they choose their password from the link in it, within an hour.", "success")
        return redirect(url_for(".show", staff_id=made.member.id))
    # The generated password is drawn in this answer only (as the API gives it), never kept anywhere.
    html, status, headers = page("staff/created", member=_row(made.member), password=made.password, status=201)
    return html, status, {**headers, **SECRETS}


# -- one member ----------------------------------------------------------------------------------------------

def _member_page(member, form: MemberForm | None = None, *, status: int = 200):
    session = db_session()
    if form is None:
        form = MemberForm(formdata=None, data={"name": member.name, "can_impersonate": member.can_impersonate})
    return page("staff/show", status=status, member=_row(member), form=form, action_form=ActionForm(),
                two_step=staff.two_step(session, member), live_sessions=staff.live_sessions(session, member))


@requires(kinds=STAFF_KINDS)
def show(staff_id: int):
    return _member_page(staff.get(db_session(), staff_id))


@requires(kinds=STAFF_KINDS)
def change(staff_id: int):
    session = db_session()
    member = staff.get(session, staff_id)
    form = MemberForm()
    if _refused(form):
        return _member_page(member, form, status=422)
    try:
        staff.update(session, member.id, actor=g.principal.actor, name=form.name.data,
                     can_impersonate=bool(form.can_impersonate.data))
    except Invalid as exc:
        session.expire(member)
        _field_error(form, exc)
        return _member_page(member, form, status=422)
    flash("The changes are saved.", "success")
    return redirect(url_for(".show", staff_id=member.id))


@requires(kinds=STAFF_KINDS)
def send_link(staff_id: int):
    session = db_session()
    member = staff.get(session, staff_id)
    if not ActionForm().validate_on_submit():
        flash(FORM_EXPIRED, "error")
        return redirect(url_for(".show", staff_id=member.id))
    try:
        staff.send_password_link(session, member.id, actor=g.principal.actor)
    except Conflict as exc:
        flash(exc.detail, "error")
    else:
        flash("A link to choose a password is on its way to them; it works once, within an hour.", "success")
    return redirect(url_for(".show", staff_id=member.id))


# -- deactivating, reactivating, resetting two-step verification ---------------------------------------------

def _confirmed(staff_id: int, name: str, act, done: str):
    """A confirmation page (GET) and its answer (POST): the service's refusal is shown above the form."""
    session = db_session()
    member = staff.get(session, staff_id)
    form = ReasonForm()
    context = {"member": _row(member), "form": form, "two_step": staff.two_step(session, member)}
    if request.method == "GET":
        return page(name, **context)
    if _refused(form):
        return page(name, status=422, **context)
    try:
        act(session, member.id, (form.reason.data or "").strip() or None)
    except (Invalid, Conflict) as exc:
        _field_error(form, exc)
        return page(name, status=409 if isinstance(exc, Conflict) else 422, **context)
    flash(done, "success")
    return redirect(url_for(".show", staff_id=member.id))


@requires(kinds=STAFF_KINDS)
def deactivate(staff_id: int):
    return _confirmed(staff_id, "staff/deactivate", lambda s, i, reason: staff.deactivate(
        s, i, actor=g.principal.actor, actor_id=g.principal.id, reason=reason),
        "They are deactivated and signed out everywhere.")


@requires(kinds=STAFF_KINDS)
def reactivate(staff_id: int):
    return _confirmed(staff_id, "staff/reactivate", lambda s, i, reason: staff.reactivate(
        s, i, actor=g.principal.actor, reason=reason), "They can sign in again.")


@requires(kinds=STAFF_KINDS)
def reset_two_step(staff_id: int):
    return _confirmed(staff_id, "staff/reset_two_step", lambda s, i, reason: staff.reset_two_step(
        s, i, actor=g.principal.actor, actor_id=g.principal.id, reason=reason),
        "Their two-step verification is reset: they sign in with their password and set it up again.")


bp.add_url_rule("", "index", index)
bp.add_url_rule("/new", "create", create, methods=["GET", "POST"])
bp.add_url_rule("/<int:staff_id>", "show", show)
bp.add_url_rule("/<int:staff_id>", "change", change, methods=["POST"])
bp.add_url_rule("/<int:staff_id>/password-link", "send_link", send_link, methods=["POST"])
bp.add_url_rule("/<int:staff_id>/deactivate", "deactivate", deactivate, methods=["GET", "POST"])
bp.add_url_rule("/<int:staff_id>/reactivate", "reactivate", reactivate, methods=["GET", "POST"])
bp.add_url_rule("/<int:staff_id>/reset-two-step", "reset_two_step", reset_two_step, methods=["GET", "POST"])
