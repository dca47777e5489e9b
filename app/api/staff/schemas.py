"""Shapes of the staff API: a member as the console shows them (never a password or a second-factor secret),
what creating one takes and gives back once, and the reasons kept in the audit log."""

from marshmallow import Schema, fields, validate

from app.services.staff import MAX_NAME, MAX_REASON


class StaffQuery(Schema):
    q = fields.String(load_default=None, validate=validate.Length(max=200),
                      metadata={"description": "part of the name or e-mail address, any case"})


class StaffIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=MAX_NAME))
    email = fields.Email(required=True, validate=validate.Length(max=254))
    can_impersonate = fields.Boolean(load_default=False)
    invite = fields.Boolean(load_default=True, metadata={
        "description": "true: e-mail them a link to choose their password (valid one hour); false: a generated "
                       "password is returned in this answer only"})


class StaffPatch(Schema):
    name = fields.String(validate=validate.Length(min=1, max=MAX_NAME))
    can_impersonate = fields.Boolean()


class ReasonIn(Schema):
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=MAX_REASON),
                           metadata={"description": "kept in the audit log"})


class StaffOut(Schema):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    name = fields.String(required=True)
    can_impersonate = fields.Boolean(required=True)
    is_active = fields.Boolean(required=True)
    two_step = fields.Boolean(required=True, metadata={"description": "two-step verification is on"})
    two_step_pending = fields.Boolean(required=True, metadata={"description": "set-up begun, not yet confirmed"})
    password_set = fields.Boolean(required=True, metadata={"description": "false: invited, no password chosen yet"})
    last_login_at = fields.DateTime(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)


class StaffDetailOut(StaffOut):
    backup_codes_left = fields.Integer(required=True)
    active_sessions = fields.Integer(required=True)


class StaffCreatedOut(StaffDetailOut):
    invitation_sent = fields.Boolean(required=True)
    generated_password = fields.String(required=True, allow_none=True,
                                       metadata={"description": "shown this once, kept nowhere; null when invited"})
