from marshmallow import Schema, fields, validate

from app.api.catalogue.fields import Text


class IpPoolIn(Schema):
    name = Text(required=True, validate=validate.Length(min=1, max=100))
    cidr = Text(required=True, validate=validate.Length(max=50), metadata={"example": "100.64.0.0/24"})
    gateway = Text(load_default=None, allow_none=True, validate=validate.Length(max=50))
    excluded = fields.List(Text(validate=validate.Length(max=50)), load_default=list)


class IpAssignmentOut(Schema):
    address = fields.String()
    service_id = fields.Integer()
    assigned_at = fields.DateTime()


class IpPoolOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    cidr = fields.String(required=True)
    gateway = fields.String(allow_none=True)
    excluded = fields.List(fields.String())
    size = fields.Integer(metadata={"description": "addresses it can hand out"})
    used = fields.Integer()
    created_at = fields.DateTime()


class IpPoolDetailOut(IpPoolOut):
    assignments = fields.List(fields.Nested(IpAssignmentOut))
