from marshmallow import Schema, fields


class TenantRef(Schema):
    code = fields.String(required=True, metadata={"example": "ABC_ISP"})
    name = fields.String(required=True, metadata={"example": "ABC Internet"})


class PortalInfo(Schema):
    tenant = fields.Nested(TenantRef, required=True)
    title = fields.String(required=True)
    support_email = fields.String(allow_none=True)
    support_phone = fields.String(allow_none=True)
    timezone = fields.String(required=True, metadata={"example": "Africa/Nairobi"})
    currency = fields.String(required=True, metadata={"example": "KES"})
    language = fields.String(required=True, metadata={"example": "en"})
