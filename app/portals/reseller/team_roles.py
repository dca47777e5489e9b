"""Roles and the permission matrix, `/reseller/team/roles` (part of team.py's blueprint): every role against
every permission of app/services/auth/permissions.py. Built-in roles are drawn as they are (their
permissions come from code, and `users.update_role` refuses to change them); each custom role's column is
checkboxes of its own form, and the last column is the form of a new role, so a role is made or changed by
ticking the matrix. The checkboxes belong to their forms by the `form` attribute, so it all works without
script. Calls `users.create_role`, `update_role` and `delete_role`, as the roles API does."""

from __future__ import annotations

from flask import flash, redirect, url_for

from app.portals.forms import FORM_EXPIRED
from app.portals.reseller.shell import TEAM_KINDS
from app.portals.reseller.team_common import ADMIN, place, refused, team_page
from app.portals.reseller.team_forms import ActionForm, RoleForm, RolePermissionsForm
from app.services import team
from app.services.auth import users
from app.services.auth.permissions import PERMISSIONS, role_permissions
from app.services.errors import Conflict, Invalid, NotFound
from app.web import db_session
from app.web.auth import requires


def all_roles() -> list:
    return team.roles(db_session())


def _role(role_id: int):
    return team.role(db_session(), role_id)


def _matrix(new: RoleForm | None = None, edited: tuple[int, RolePermissionsForm] | None = None, *,
            status: int = 200):
    roles = []
    for role in all_roles():
        held = role_permissions(role.name, role.builtin, role.permissions)
        if edited and edited[0] == role.id:  # what was ticked, kept when the change was refused
            held = set(edited[1].permissions.data or ())
        roles.append({"id": role.id, "name": role.name, "builtin": role.builtin, "description": role.description,
                      "held": held, "errors": edited[1].form_errors if edited and edited[0] == role.id else []})
    return team_page("roles", status=status, roles=roles, permissions=PERMISSIONS, new=new or RoleForm(),
                     action_form=ActionForm(), current="roles")


@requires("users.view", kinds=TEAM_KINDS)
def roles():
    return _matrix()


@requires(ADMIN, kinds=TEAM_KINDS)
def create_role():
    form = RoleForm()
    if refused(form):
        return _matrix(new=form, status=422)
    try:
        role = users.create_role(db_session(), name=form.name.data, permissions_=form.permissions.data or [],
                                 description=(form.description.data or "").strip() or None)
    except (Invalid, Conflict) as exc:
        if isinstance(exc, Conflict):
            form.name.errors = [exc.detail]
        else:
            place(form, exc)
        return _matrix(new=form, status=422)
    flash("The role is made.", "success")
    return redirect(url_for(".roles") + f"#role-{role.id}")


@requires(ADMIN, kinds=TEAM_KINDS)
def update_role(role_id: int):
    role = _role(role_id)
    form = RolePermissionsForm()
    if refused(form):
        return _matrix(edited=(role.id, form), status=422)
    try:
        users.update_role(db_session(), role.id, permissions_=form.permissions.data or [])
    except (Invalid, Conflict) as exc:
        form.form_errors.append(exc.detail)
        return _matrix(edited=(role.id, form), status=422)
    flash("The role's permissions are saved.", "success")
    return redirect(url_for(".roles") + f"#role-{role.id}")


@requires(ADMIN, kinds=TEAM_KINDS)
def delete_role_page(role_id: int):
    role = _role(role_id)
    if role.builtin:
        raise NotFound("built-in roles cannot be deleted")
    return team_page("delete_role", role=role, form=ActionForm(), current="roles")


@requires(ADMIN, kinds=TEAM_KINDS)
def delete_role(role_id: int):
    role = _role(role_id)
    if not ActionForm().validate_on_submit():
        flash(FORM_EXPIRED, "error")
        return redirect(url_for(".delete_role_page", role_id=role.id))
    try:
        users.delete_role(db_session(), role.id)
    except Conflict as exc:
        flash(exc.detail, "error")
        return redirect(url_for(".roles"))
    flash("The role is deleted.", "success")
    return redirect(url_for(".roles"))


def register(bp) -> None:
    bp.add_url_rule("/roles", "roles", roles)
    bp.add_url_rule("/roles", "create_role", create_role, methods=["POST"])
    bp.add_url_rule("/roles/<int:role_id>", "update_role", update_role, methods=["POST"])
    bp.add_url_rule("/roles/<int:role_id>/delete", "delete_role_page", delete_role_page)
    bp.add_url_rule("/roles/<int:role_id>/delete", "delete_role", delete_role, methods=["POST"])
