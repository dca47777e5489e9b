"""The reseller portal's Team, `/reseller/team`: the members (this module), roles and their permission matrix
(team_roles.py), live sessions and IP allow-lists (team_access.py), OAuth apps and API keys (team_api.py).

Every view calls what the API calls: `app.services.auth.users` as app/api/users/routes.py does, the OAuth
client service as app/api/oauth/routes.py does, and `app.services.team` for what concerns the team as a
whole (its sessions; customers named by Portal ID). Reading needs `users.view` and changing `users.admin`,
as in the users API (and the OAuth clients' API, which needs `users.admin` to read too). A new member gets a
generated password, shown once in the answer to the form that made them; after that an administrator can
send them the password reset e-mail (the same as "Forgot your password?" sends), never see or set it.
Turning off someone else's two-step verification is not offered: no API does it either.
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, request, url_for
from wtforms import SelectChoice

from app.portals import devices
from app.portals.forms import FORM_EXPIRED
from app.portals.reseller import team_access, team_api, team_roles
from app.portals.reseller.shell import TEAM_KINDS, guard
from app.portals.reseller.team_common import ADMIN, place, refused, secret_page, team_page
from app.portals.reseller.team_forms import ActionForm, MemberForm, NewUserForm
from app.services import team
from app.services.auth import links, reset, sessions, users
from app.services.auth.permissions import role_permissions
from app.services.auth.realms import USER
from app.services.errors import Conflict, Invalid
from app.web import db_session
from app.web.auth import requires

bp = Blueprint("reseller_team", __name__, url_prefix="/reseller/team")
guard(bp)

# what the users service calls a field, as the forms call it
FIELDS = {"allowed_customer_ids": "allowed_customers", "ip_whitelist": "ip_allowlist", "role": "role",
          "username": "username", "email": "email", "max_sessions": "max_sessions"}


def _roles() -> list:
    return team_roles.all_roles()


def _role_choices(form) -> None:
    form.role.choices = [SelectChoice(r.name, r.name) for r in _roles()]


def _row(user) -> dict:
    return {"id": user.id, "name": " ".join(p for p in (user.first_name, user.last_name) if p) or user.username,
            "username": user.username, "email": user.email, "role": user.role.name, "is_active": user.is_active,
            "two_factor": user.totp_enabled_at is not None, "last_login_at": user.last_login_at,
            "customers": len(user.allowed_customer_ids or ()), "ip_allowlist": [str(n) for n in user.ip_allowlist]}


@requires("users.view", kinds=TEAM_KINDS)
def index():
    return team_page("index", members=[_row(u) for u in team.members(db_session())], current="members")


def _new_page(form: NewUserForm, *, status: int = 200):
    return team_page("new_member", status=status, form=form, current="members")


@requires(ADMIN, kinds=TEAM_KINDS)
def new_member():
    form = NewUserForm()
    _role_choices(form)
    if request.method == "GET":
        form.role.data = "User"
        return _new_page(form)
    if refused(form):
        return _new_page(form, status=422)
    session = db_session()
    try:
        allowed = team.customer_ids(session, form.allowed_customers.data)
        user, generated = users.create_user(
            session, username=form.username.data, email=form.email.data, role=form.role.data,
            first_name=(form.first_name.data or "").strip() or None,
            last_name=(form.last_name.data or "").strip() or None, allowed_customer_ids=allowed)
    except (Invalid, Conflict) as exc:
        if isinstance(exc, Conflict):  # the username is taken
            form.username.errors = [exc.detail]
        else:
            place(form, exc, FIELDS)
        return _new_page(form, status=422)
    return secret_page("member_created", member=_row(user), password=generated, current="members")


def _member_page(user, form: MemberForm | None = None, *, status: int = 200):
    session = db_session()
    if form is None:
        form = MemberForm(data={"role": user.role.name,
                                "allowed_customers": ", ".join(team.portal_ids(session, user.allowed_customer_ids)),
                                "ip_allowlist": "\n".join(str(n) for n in user.ip_allowlist),
                                "max_sessions": str(user.max_sessions or "")})
    _role_choices(form)
    role = user.role
    live = [{"id": r.id, "device": devices.describe(r.user_agent), "ip": str(r.ip) if r.ip else None,
             "created_at": r.created_at, "last_seen_at": r.last_seen_at,
             "current": r.id == g.principal.session_id}
            for r in sessions.active(session, USER, user.id)]
    return team_page("member", status=status, member=_row(user), form=form, action_form=ActionForm(),
                     sessions=live, permissions=sorted(role_permissions(role.name, role.builtin, role.permissions)
                                                       | set(user.extra_permissions)),
                     customers=team.portal_ids(session, user.allowed_customer_ids), itself=user.id == g.principal.id,
                     current="members")


@requires("users.view", kinds=TEAM_KINDS)
def member(user_id: int):
    return _member_page(team.member(db_session(), user_id))


@requires(ADMIN, kinds=TEAM_KINDS)
def change_member(user_id: int):
    session = db_session()
    user = team.member(session, user_id)
    form = MemberForm()
    _role_choices(form)
    if refused(form):
        return _member_page(user, form, status=422)
    limit = (form.max_sessions.data or "").strip()
    if limit and not limit.isdigit():
        form.max_sessions.errors = ["A whole number from 1 to 100, or leave it empty."]
        return _member_page(user, form, status=422)
    try:
        allowed = team.customer_ids(session, form.allowed_customers.data)
        with session.begin_nested():
            users.update_user(session, user.id, role=form.role.data, allowed_customer_ids=allowed,
                              ip_whitelist=[line.strip() for line in (form.ip_allowlist.data or "").split()
                                            if line.strip()],
                              max_sessions=int(limit) if limit else None)
    except Invalid as exc:
        session.expire(user)
        place(form, exc, FIELDS)
        return _member_page(user, form, status=422)
    flash("The changes are saved.", "success")
    return redirect(url_for(".member", user_id=user.id))


@requires(ADMIN, kinds=TEAM_KINDS)
def disable_page(user_id: int):
    user = team.member(db_session(), user_id)
    return team_page("disable", member=_row(user), form=ActionForm(), current="members")


@requires(ADMIN, kinds=TEAM_KINDS)
def set_active(user_id: int, active: bool):
    session = db_session()
    user = team.member(session, user_id)
    if not ActionForm().validate_on_submit():
        flash(FORM_EXPIRED, "error")
        return redirect(url_for(".member", user_id=user.id))
    users.update_user(session, user.id, is_active=active)
    flash("They are disabled and signed out everywhere." if not active else "They can sign in again.", "success")
    return redirect(url_for(".member", user_id=user.id))


@requires(ADMIN, kinds=TEAM_KINDS)
def disable(user_id: int):
    return set_active(user_id, False)


@requires(ADMIN, kinds=TEAM_KINDS)
def enable(user_id: int):
    return set_active(user_id, True)


@requires(ADMIN, kinds=TEAM_KINDS)
def send_reset(user_id: int):
    session = db_session()
    user = team.member(session, user_id)
    if not ActionForm().validate_on_submit():
        flash(FORM_EXPIRED, "error")
        return redirect(url_for(".member", user_id=user.id))
    reset_url = links.page_url(session, USER, "password/reset", default_base=request.host_url)
    reset.request_reset(session, USER, user.username, reset_url)
    flash("A password reset e-mail is on its way to them, if their account is active.", "success")
    return redirect(url_for(".member", user_id=user.id))


bp.add_url_rule("", "index", index)
bp.add_url_rule("/members/new", "new_member", new_member, methods=["GET", "POST"])
bp.add_url_rule("/members/<int:user_id>", "member", member)
bp.add_url_rule("/members/<int:user_id>", "change_member", change_member, methods=["POST"])
bp.add_url_rule("/members/<int:user_id>/disable", "disable_page", disable_page)
bp.add_url_rule("/members/<int:user_id>/disable", "disable", disable, methods=["POST"])
bp.add_url_rule("/members/<int:user_id>/enable", "enable", enable, methods=["POST"])
bp.add_url_rule("/members/<int:user_id>/password-reset", "send_reset", send_reset, methods=["POST"])
team_roles.register(bp)
team_access.register(bp)
team_api.register(bp)
