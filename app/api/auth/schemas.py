from marshmallow import Schema, fields, validate


class LoginIn(Schema):
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=1024))
    two_factor_code = fields.String(load_default=None, validate=validate.Length(max=40))


class StaffLoginIn(LoginIn):
    email = fields.String(required=True, validate=validate.Length(min=1, max=254))


class ResellerLoginIn(LoginIn):
    username = fields.String(required=True, validate=validate.Length(min=1, max=254))
    reseller_code = fields.String(load_default=None, validate=validate.Length(max=40))


class CustomerLoginIn(LoginIn):
    portal_id = fields.String(required=True, metadata={"description": "Portal ID (or e-mail where enabled)"},
                              validate=validate.Length(min=1, max=254))


class PrincipalOut(Schema):
    kind = fields.String(required=True)
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    tenant_id = fields.Integer(allow_none=True)
    permissions = fields.List(fields.String(), required=True)
    impersonator = fields.String(allow_none=True)


class LoginOut(Schema):
    token = fields.String(required=True, metadata={"description": "Bearer token; also set as a cookie"})
    expires_at = fields.DateTime(required=True)
    principal = fields.Nested(PrincipalOut, required=True)


class SessionOut(Schema):
    id = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    last_seen_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(required=True)
    ip = fields.String(allow_none=True)
    user_agent = fields.String(allow_none=True)
    current = fields.Boolean(required=True)
    impersonator = fields.String(allow_none=True)


class LoginEventOut(Schema):
    at = fields.DateTime(required=True)
    success = fields.Boolean(required=True)
    reason = fields.String(required=True)
    ip = fields.String(allow_none=True)
    user_agent = fields.String(allow_none=True)


class PasswordChangeIn(Schema):
    current_password = fields.String(required=True, load_only=True, validate=validate.Length(max=1024))
    new_password = fields.String(required=True, load_only=True, validate=validate.Length(max=1024))


class ResetRequestIn(Schema):
    identifier = fields.String(required=True, validate=validate.Length(min=1, max=254),
                               metadata={"description": "e-mail, username or Portal ID"})
    reseller_code = fields.String(load_default=None, validate=validate.Length(max=40))


class ResetConfirmIn(Schema):
    token = fields.String(required=True, load_only=True, validate=validate.Length(max=200))
    new_password = fields.String(required=True, load_only=True, validate=validate.Length(max=1024))


class TwoFactorStatus(Schema):
    enabled = fields.Boolean(required=True)
    pending = fields.Boolean(required=True)
    backup_codes_left = fields.Integer(required=True)


class EnrolmentOut(Schema):
    secret = fields.String(required=True)
    otpauth_uri = fields.String(required=True)
    qr_svg = fields.String(required=True)


class CodeIn(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=40))


class BackupCodesOut(Schema):
    backup_codes = fields.List(fields.String(), required=True)


class Message(Schema):
    message = fields.String(required=True)
