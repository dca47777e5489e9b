"""A reseller's team: users, roles and the permissions they are built from."""

from __future__ import annotations

from flask_smorest import Blueprint
from sqlalchemy import select

from app.api.users import schemas as s
from app.models import Role, User
from app.services import team
from app.services.auth import permissions, users
from app.services.errors import NotFound
from app.web import db_session
from app.web.auth import current_principal, requires

blp = Blueprint("users", __name__, url_prefix="/reseller/api", description="Team members, roles and permissions")
USER_KIND = ("user",)


def user_out(user: User, generated: str | None = None) -> dict:
    role = user.role
    effective = permissions.role_permissions(role.name, role.builtin, role.permissions) | set(user.extra_permissions)
    out = {"id": user.id, "username": user.username, "email": user.email, "first_name": user.first_name,
           "last_name": user.last_name, "role": role.name, "permissions": list(user.extra_permissions),
           "effective_permissions": sorted(effective), "allowed_customer_ids": list(user.allowed_customer_ids),
           "ip_whitelist": [str(n) for n in user.ip_allowlist], "department": user.department,
           "max_sessions": user.max_sessions, "is_active": user.is_active,
           "two_factor": user.totp_enabled_at is not None, "last_login_at": user.last_login_at}
    if generated is not None:
        out["generated_password"] = generated
    return out


def role_out(role: Role) -> dict:
    return {"id": role.id, "name": role.name, "builtin": role.builtin, "description": role.description,
            "permissions": sorted(permissions.role_permissions(role.name, role.builtin, role.permissions))}


def _user(user_id: int) -> User:
    user = db_session().get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    return user


@blp.route("/users")
@requires("users.view", kinds=USER_KIND)
@blp.response(200, s.UserOut(many=True))
def list_users():
    """Every team member of this reseller."""
    return [user_out(u) for u in db_session().execute(select(User).order_by(User.id)).scalars()]


@blp.route("/users", methods=["POST"])
@requires("users.admin", kinds=USER_KIND)
@blp.arguments(s.UserIn)
@blp.response(201, s.CreatedUserOut)
def create_user(body):
    """Add a team member (a password is generated when none is given, and shown once)."""
    user, generated = users.create_user(db_session(), permissions_=body.pop("permissions"), **body)
    return user_out(user, generated)


@blp.route("/users/sessions")
@requires("users.view", kinds=USER_KIND)
@blp.response(200, s.TeamSessionOut(many=True))
def list_team_sessions():
    """Every team member's live sessions (where the team is signed in), newest first within each member; `current`
    is the caller's own."""
    here = current_principal().session_id
    return [{"user_id": user.id, "username": user.username, "id": r.id, "created_at": r.created_at,
             "last_seen_at": r.last_seen_at, "expires_at": r.expires_at, "ip": str(r.ip) if r.ip else None,
             "user_agent": r.user_agent, "current": r.id == here, "impersonator": r.impersonator}
            for user, r in team.live_sessions(db_session())]


@blp.route("/users/<int:user_id>/sessions/<string:session_id>", methods=["DELETE"])
@requires("users.admin", kinds=USER_KIND)
@blp.response(204)
def end_team_session(user_id, session_id):
    """End one live session of a team member: that device is signed out at once (a lost phone, a shared computer).
    404 when the member or the session is unknown, or the session has ended already."""
    team.end_session(db_session(), team.member(db_session(), user_id).id, session_id)


@blp.route("/users/<int:user_id>")
@requires("users.view", kinds=USER_KIND)
@blp.response(200, s.UserOut)
def get_user(user_id):
    """One team member."""
    return user_out(_user(user_id))


@blp.route("/users/<int:user_id>", methods=["PATCH"])
@requires("users.admin", kinds=USER_KIND)
@blp.arguments(s.UserPatch)
@blp.response(200, s.UserOut)
def update_user(body, user_id):
    """Change a team member; `is_active: false` disables them and ends their sessions."""
    _user(user_id)
    return user_out(users.update_user(db_session(), user_id, **body))


@blp.route("/roles")
@requires("users.view", kinds=USER_KIND)
@blp.response(200, s.RoleOut(many=True))
def list_roles():
    """The built-in roles and this reseller's custom roles."""
    return [role_out(r) for r in db_session().execute(select(Role).order_by(Role.id)).scalars()]


@blp.route("/roles", methods=["POST"])
@requires("users.admin", kinds=USER_KIND)
@blp.arguments(s.RoleIn)
@blp.response(201, s.RoleOut)
def create_role(body):
    """A custom role built from granular permissions."""
    return role_out(users.create_role(db_session(), name=body["name"], permissions_=body["permissions"],
                                      description=body["description"]))


@blp.route("/roles/<int:role_id>", methods=["PATCH"])
@requires("users.admin", kinds=USER_KIND)
@blp.arguments(s.RolePatch)
@blp.response(200, s.RoleOut)
def update_role(body, role_id):
    """Change a custom role's permissions (built-in roles are fixed)."""
    return role_out(users.update_role(db_session(), role_id, permissions_=body.get("permissions"),
                                      description=body.get("description")))


@blp.route("/roles/<int:role_id>", methods=["DELETE"])
@requires("users.admin", kinds=USER_KIND)
@blp.response(204)
def delete_role(role_id):
    """Delete a custom role that no user has."""
    users.delete_role(db_session(), role_id)


@blp.route("/permissions")
@requires("users.view", kinds=USER_KIND)
@blp.response(200, s.PermissionOut(many=True))
def list_permissions():
    """Every granular permission a role can be built from."""
    return [{"name": k, "description": v} for k, v in permissions.PERMISSIONS.items()]
