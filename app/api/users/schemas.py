from marshmallow import Schema, fields, validate

from app.api.auth.schemas import SessionOut
from app.services.auth.permissions import PERMISSIONS

_permission = fields.String(validate=validate.OneOf(sorted(PERMISSIONS)))


class UserIn(Schema):
    """The shape of "User Creation Process" in the reseller journey."""

    username = fields.String(required=True, validate=validate.Length(min=1, max=254))
    email = fields.Email(required=True)
    first_name = fields.String(load_default=None, validate=validate.Length(max=100))
    last_name = fields.String(load_default=None, validate=validate.Length(max=100))
    role = fields.String(required=True, metadata={"example": "Manager"})
    permissions = fields.List(_permission, load_default=list, metadata={"description": "granted on top of the role"})
    allowed_customer_ids = fields.List(fields.Integer(strict=True), load_default=list,
                                       metadata={"description": "empty: every customer"})
    ip_whitelist = fields.List(fields.String(), load_default=list, metadata={"example": ["192.168.1.0/24"]})
    department = fields.String(load_default=None, validate=validate.Length(max=100))
    max_sessions = fields.Integer(load_default=None, validate=validate.Range(min=1, max=100))
    password = fields.String(load_default=None, load_only=True, validate=validate.Length(max=1024),
                             metadata={"description": "omit to have one generated (returned once)"})


class UserPatch(Schema):
    email = fields.Email()
    first_name = fields.String(allow_none=True, validate=validate.Length(max=100))
    last_name = fields.String(allow_none=True, validate=validate.Length(max=100))
    role = fields.String()
    permissions = fields.List(_permission)
    allowed_customer_ids = fields.List(fields.Integer(strict=True))
    ip_whitelist = fields.List(fields.String())
    department = fields.String(allow_none=True, validate=validate.Length(max=100))
    max_sessions = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=100))
    is_active = fields.Boolean()


class UserOut(Schema):
    id = fields.Integer(required=True)
    username = fields.String(required=True)
    email = fields.String(required=True)
    first_name = fields.String(allow_none=True)
    last_name = fields.String(allow_none=True)
    role = fields.String(required=True)
    permissions = fields.List(fields.String(), required=True)
    effective_permissions = fields.List(fields.String(), required=True)
    allowed_customer_ids = fields.List(fields.Integer(), required=True)
    ip_whitelist = fields.List(fields.String(), required=True)
    department = fields.String(allow_none=True)
    max_sessions = fields.Integer(allow_none=True)
    is_active = fields.Boolean(required=True)
    two_factor = fields.Boolean(required=True)
    last_login_at = fields.DateTime(allow_none=True)


class CreatedUserOut(UserOut):
    generated_password = fields.String(allow_none=True, metadata={"description": "shown once"})


class RoleIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=60))
    permissions = fields.List(_permission, required=True)
    description = fields.String(load_default=None)


class RolePatch(Schema):
    permissions = fields.List(_permission)
    description = fields.String(allow_none=True)


class RoleOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    builtin = fields.Boolean(required=True)
    description = fields.String(allow_none=True)
    permissions = fields.List(fields.String(), required=True)


class PermissionOut(Schema):
    name = fields.String(required=True)
    description = fields.String(required=True)


class TeamSessionOut(SessionOut):
    user_id = fields.Integer(required=True)
    username = fields.String(required=True)
