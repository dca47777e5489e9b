"""Where the team is signed in, and from where it may sign in: `/reseller/team/sessions` (part of team.py's
blueprint). Every member's live sessions, each of which an administrator can end (`app.services.team`,
over the sessions service), and each member's IP allow-list, which is changed on the member's page
(`users.update_user`'s `ip_whitelist`, as the users API changes it)."""

from __future__ import annotations

from flask import flash, redirect, request, url_for

from app.portals import devices
from app.portals.forms import FORM_EXPIRED
from app.portals.reseller.shell import TEAM_KINDS
from app.portals.reseller.team_common import ADMIN, team_page
from app.portals.reseller.team_forms import ActionForm
from app.services import team
from app.web import db_session
from app.web.auth import current_principal, requires


@requires("users.view", kinds=TEAM_KINDS)
def access():
    here = current_principal().session_id
    live = [{"user_id": user.id, "who": user.username, "id": row.id, "device": devices.describe(row.user_agent),
             "ip": str(row.ip) if row.ip else None, "created_at": row.created_at, "last_seen_at": row.last_seen_at,
             "current": row.id == here}
            for user, row in team.live_sessions(db_session())]
    allow = [{"id": u.id, "who": u.username, "networks": [str(n) for n in u.ip_allowlist]}
             for u in team.members(db_session())]
    return team_page("sessions", sessions=live, allow=allow, form=ActionForm(), current="sessions")


@requires(ADMIN, kinds=TEAM_KINDS)
def end_session(user_id: int, session_id: str):
    if not ActionForm().validate_on_submit():
        flash(FORM_EXPIRED, "error")
        return redirect(url_for(".access"))
    team.end_session(db_session(), team.member(db_session(), user_id).id, session_id)
    flash("The session is ended: that device is signed out.", "success")
    if request.form.get("back") == "member":  # ended from the member's own page: back to it
        return redirect(url_for(".member", user_id=user_id) + "#sessions")
    return redirect(url_for(".access"))


def register(bp) -> None:
    bp.add_url_rule("/sessions", "access", access)
    bp.add_url_rule("/members/<int:user_id>/sessions/<string:session_id>/end", "end_session", end_session,
                    methods=["POST"])
