"""The master ISP's staff accounts (console host, staff only): the same service as the console's Staff pages
(app/services/staff.py), so both doors keep the same rules (nobody deactivates themself or the last active
account) and write the same audit entries. Changes commit with the request."""

from __future__ import annotations

from flask import g
from flask_smorest import Blueprint

from app.api.staff import schemas as s
from app.services import staff
from app.web import db_session
from app.web.auth import requires

blp = Blueprint("staff_api", __name__, url_prefix="/console/api/staff", description="Master ISP staff accounts")
STAFF = ("staff",)


def staff_out(member, *, detail: bool = False) -> dict:
    out = {"id": member.id, "email": member.email, "name": member.name, "can_impersonate": member.can_impersonate,
           "is_active": member.is_active, "two_step": member.totp_enabled_at is not None,
           "two_step_pending": member.totp_secret is not None and member.totp_enabled_at is None,
           "password_set": member.password_hash is not None, "last_login_at": member.last_login_at,
           "created_at": member.created_at}
    if detail:
        session = db_session()
        out["backup_codes_left"] = staff.two_step(session, member)["backup_codes_left"]
        out["active_sessions"] = staff.live_sessions(session, member)
    return out


@blp.route("")
@requires(kinds=STAFF)
@blp.arguments(s.StaffQuery, location="query")
@blp.response(200, s.StaffOut(many=True))
@blp.paginate()
def list_staff(query, pagination_parameters):
    """Every staff member, by name; `q` finds part of a name or e-mail address. The total is in X-Pagination."""
    rows, total = staff.search(db_session(), query["q"], offset=pagination_parameters.first_item,
                               limit=pagination_parameters.page_size)
    pagination_parameters.item_count = total
    return [staff_out(r) for r in rows]


@blp.route("", methods=["POST"])
@requires(kinds=STAFF)
@blp.arguments(s.StaffIn)
@blp.response(201, s.StaffCreatedOut)
def create_staff(body):
    """Add a staff member: by default e-mailed a link to choose their password; with `invite: false`, a generated
    password is in this answer only. A taken e-mail address is a 409 naming the field."""
    made = staff.create(db_session(), name=body["name"], email=body["email"], can_impersonate=body["can_impersonate"],
                        invite=body["invite"], actor=g.principal.actor)
    return {**staff_out(made.member, detail=True), "invitation_sent": made.invited,
            "generated_password": made.password}


@blp.route("/<int:staff_id>")
@requires(kinds=STAFF)
@blp.response(200, s.StaffDetailOut)
def get_staff(staff_id):
    """One staff member, with their backup codes left and live sessions."""
    return staff_out(staff.get(db_session(), staff_id), detail=True)


@blp.route("/<int:staff_id>", methods=["PATCH"])
@requires(kinds=STAFF)
@blp.arguments(s.StaffPatch)
@blp.response(200, s.StaffDetailOut)
def update_staff(body, staff_id):
    """Change their name, or whether they may impersonate customers and view as a reseller."""
    return staff_out(staff.update(db_session(), staff_id, actor=g.principal.actor, **body), detail=True)


@blp.route("/<int:staff_id>/deactivate", methods=["POST"])
@requires(kinds=STAFF)
@blp.arguments(s.ReasonIn)
@blp.response(200, s.StaffDetailOut)
def deactivate_staff(body, staff_id):
    """They can no longer sign in and are signed out everywhere. Not yourself, nor the last active account (409)."""
    member = staff.deactivate(db_session(), staff_id, actor=g.principal.actor, actor_id=g.principal.id,
                              reason=body["reason"])
    return staff_out(member, detail=True)


@blp.route("/<int:staff_id>/reactivate", methods=["POST"])
@requires(kinds=STAFF)
@blp.arguments(s.ReasonIn)
@blp.response(200, s.StaffDetailOut)
def reactivate_staff(body, staff_id):
    """They can sign in again."""
    return staff_out(staff.reactivate(db_session(), staff_id, actor=g.principal.actor, reason=body["reason"]),
                     detail=True)


@blp.route("/<int:staff_id>/reset-two-step", methods=["POST"])
@requires(kinds=STAFF)
@blp.arguments(s.ReasonIn)
@blp.response(200, s.StaffDetailOut)
def reset_two_step(body, staff_id):
    """Clear their authenticator and backup codes (a lost phone); they set two-step verification up again."""
    member = staff.reset_two_step(db_session(), staff_id, actor=g.principal.actor, actor_id=g.principal.id,
                                  reason=body["reason"])
    return staff_out(member, detail=True)


@blp.route("/<int:staff_id>/password-link", methods=["POST"])
@requires(kinds=STAFF)
@blp.response(200, s.StaffDetailOut)
def send_password_link(staff_id):
    """E-mail them a new link to choose their password (valid one hour, works once)."""
    return staff_out(staff.send_password_link(db_session(), staff_id, actor=g.principal.actor), detail=True)
