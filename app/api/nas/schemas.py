from marshmallow import Schema, fields, validate

from app.api.catalogue.fields import Id, Text

VENDORS = ("mikrotik", "cisco", "generic")


class NasIn(Schema):
    name = Text(required=True, validate=validate.Length(min=1, max=100))
    network = Text(required=True, validate=validate.Length(min=1, max=50),
                   metadata={"description": "an address or a CIDR network", "example": "192.0.2.1"})
    secret = Text(required=True, load_only=True, validate=validate.Length(min=8, max=128),
                  metadata={"description": "the shared secret (write-only: never returned)"})
    vendor = fields.String(load_default="generic", validate=validate.OneOf(VENDORS))
    require_message_authenticator = fields.Boolean(
        load_default=True, metadata={"description": "false only for legacy routers (BlastRADIUS, CVE-2024-3596)"})
    coa_port = fields.Integer(strict=True, load_default=3799, validate=validate.Range(min=1, max=65535))


class ConsoleNasIn(NasIn):
    tenant_id = Id(load_default=None, allow_none=True,
                   metadata={"description": "owner tenant; null for a platform NAS (serves every tenant)"})


class NasQuery(Schema):
    q = Text(validate=validate.Length(max=100), metadata={
        "description": "only the NAS whose name, network or owner's code holds this, or whose network holds this "
                       "address"})


class NasPatch(Schema):
    name = Text(validate=validate.Length(min=1, max=100))
    network = Text(validate=validate.Length(min=1, max=50))
    secret = Text(load_only=True, validate=validate.Length(min=8, max=128))
    vendor = fields.String(validate=validate.OneOf(VENDORS))
    require_message_authenticator = fields.Boolean()
    coa_port = fields.Integer(strict=True, validate=validate.Range(min=1, max=65535))


class NasOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    network = fields.String(required=True)
    vendor = fields.String(required=True)
    tenant_id = fields.Integer(allow_none=True, metadata={"description": "null: a platform NAS"})
    require_message_authenticator = fields.Boolean(required=True)
    coa_port = fields.Integer(required=True)
    created_at = fields.DateTime()
    created_by = fields.String(allow_none=True)
    last_heard_at = fields.DateTime(allow_none=True, metadata={
        "description": "when the RADIUS service last answered it, to the minute; null: never"})
