"""Shapes of the custom-domain API."""

from marshmallow import Schema, fields, validate

from app.models.public import DOMAIN_KINDS


class DnsRecordOut(Schema):
    type = fields.String(required=True, validate=validate.OneOf(("TXT", "CNAME")), metadata={"example": "TXT"})
    name = fields.String(required=True, metadata={"example": "_backhaul-challenge.portal.acme-net.com"})
    value = fields.String(required=True, metadata={"example": "backhaul-verify=3kq9…"})
    purpose = fields.String(required=True)


class DomainIn(Schema):
    host = fields.String(required=True, validate=validate.Length(min=1, max=253),
                         metadata={"example": "portal.acme-net.com",
                                   "description": "the host name only: no scheme, port or path"})


class DomainOut(Schema):
    id = fields.Integer(required=True)
    host = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(DOMAIN_KINDS),
                         metadata={"description": "platform: the sub-domain every reseller has; custom: your own"})
    primary = fields.Boolean(required=True, metadata={"description": "the host links and e-mails point at"})
    verified = fields.Boolean(required=True, metadata={"description": "only verified hosts reach your portal"})
    verified_at = fields.DateTime(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)
    dns_records = fields.List(fields.Nested(DnsRecordOut), required=True,
                              metadata={"description": "what to create at your DNS provider before verifying "
                                                       "(empty once verified)"})


class DnsCheckOut(Schema):
    result = fields.String(required=True, metadata={"example": "verified"})
    record = fields.String(required=True)
    found = fields.List(fields.String(), required=True)
    checked_at = fields.DateTime(required=True)


class DomainVerifiedOut(DomainOut):
    check = fields.Nested(DnsCheckOut, required=True, allow_none=True,
                          metadata={"description": "the DNS check just made; null when the domain was already "
                                                   "verified (no check is made then)"})
