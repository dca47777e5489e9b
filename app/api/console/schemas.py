"""Shapes of the master ISP's console API (tenants, Portal ID search, view as reseller)."""

from marshmallow import Schema, fields, validate

from app.api.resellers.schemas import (
    BIGINT,
    CODE,
    FirstAdminIn,
    FirstAdminOut,
    ResellerOut,
    ResellerTermsIn,
    ResellerTermsPatch,
)
from app.models.public import TENANT_STATUSES


class ConsoleTenantsQuery(Schema):
    status = fields.String(validate=validate.OneOf(TENANT_STATUSES))
    parent = fields.String(validate=CODE, metadata={"description": "only the direct sub-resellers of this code"})


class ConsoleTenantIn(ResellerTermsIn):
    code = fields.String(required=True, validate=CODE, metadata={"example": "ACME_NET"})
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    parent_code = fields.String(load_default=None, allow_none=True, validate=CODE,
                                metadata={"description": "makes a sub-reseller of that tenant"})
    parent_reseller_id = fields.Integer(strict=True, load_default=None, allow_none=True,
                                        validate=validate.Range(min=1, max=BIGINT),
                                        metadata={"description": "the same as parent_code, by id (001's spelling)"})
    hosts = fields.List(fields.String(validate=validate.Length(min=1, max=253)), load_default=list,
                        validate=validate.Length(max=10))
    admin = fields.Nested(FirstAdminIn, load_default=None, allow_none=True,
                          metadata={"description": "the reseller's first Admin (optional here)"})


class ConsoleTenantPatch(ResellerTermsPatch):
    pass


class ConsoleTenantOut(ResellerOut):
    status_reason = fields.String(allow_none=True, required=True)
    schema = fields.String(required=True)
    children = fields.List(fields.String(), required=True)


class ConsoleTenantCreatedOut(ConsoleTenantOut):
    admin = fields.Nested(FirstAdminOut, allow_none=True, required=True)
    authorised_plans = fields.List(fields.Integer(), required=True,
                                   metadata={"description": "the parent's plans copied to the new tenant"})


class SuspendIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class ReactivateIn(Schema):
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class PortalIdSearchQuery(Schema):
    portal_id = fields.String(required=True, validate=validate.Length(min=1, max=40))
    match = fields.String(load_default="exact", validate=validate.OneOf(("exact", "prefix")),
                          metadata={"description": "prefix: every Portal ID starting so (at most 20)"})


class PortalIdTenant(Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    status = fields.String(required=True)


class PortalIdCustomer(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    status = fields.String(required=True)
    email = fields.String(allow_none=True, required=True)


class PortalIdHit(Schema):
    portal_id = fields.String(required=True)
    tenant = fields.Nested(PortalIdTenant, required=True)
    customer = fields.Nested(PortalIdCustomer, allow_none=True, required=True,
                             metadata={"description": "null when the registry names a customer its tenant no "
                                                      "longer has"})


class ViewAsIn(Schema):
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000),
                           metadata={"example": "ticket 4711: reseller reports wrong MRR"})


class ViewAsOut(Schema):
    tenant_code = fields.String(required=True)
    token = fields.String(required=True, metadata={"description": "Bearer token, read-only; shown once"})
    expires_at = fields.DateTime(required=True)
    hosts = fields.List(fields.String(), required=True, metadata={"description": "where the token works (and on "
                                                                                 "this console host)"})
    permissions = fields.List(fields.String(), required=True)
