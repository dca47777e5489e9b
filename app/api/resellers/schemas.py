"""Shapes of the sub-reseller API, shared with the master ISP's console.

Money and percentages go out as strings ("8.00"): a JSON number would make clients parse them as
floats. They come in as numbers or strings, as the 001 JSON writes them (`"commission_percent": 8.00`).
"""

from marshmallow import Schema, fields, validate

from app.models.catalogue import PLAN_KINDS
from app.services.resellers import MAX_DEPTH

BIGINT = 2**63 - 1
_amount = {"type": "string", "pattern": r"^-?\d+\.\d{2}$"}
_kind = fields.String(validate=validate.OneOf(PLAN_KINDS))
CODE = validate.Regexp(r"^[A-Z][A-Z0-9_]{1,39}$",
                       error="2-40 upper-case letters, digits or '_', starting with a letter")


def _percent(**kwargs):
    # minimum/maximum restated as numbers: apispec renders a Decimal field's Range bounds as strings ("0")
    metadata = {"minimum": 0, "maximum": 100, **kwargs.pop("metadata", {})}
    return fields.Decimal(allow_nan=False, validate=validate.Range(min=0, max=100), metadata=metadata, **kwargs)


class FirstAdminIn(Schema):
    """The sub-reseller's first Admin; without a password one is generated and returned once."""

    username = fields.String(required=True, validate=validate.Length(min=1, max=254))
    email = fields.Email(required=True)
    password = fields.String(load_default=None, load_only=True, validate=validate.Length(max=1024))


class ResellerTermsIn(Schema):
    commission_percent = _percent(allow_none=True, load_default=None, metadata={"example": 8.00})
    inherited_branding = fields.Boolean(load_default=True)
    customer_limit = fields.Integer(strict=True, allow_none=True, load_default=None,
                                    validate=validate.Range(min=0, max=10_000_000), metadata={"example": 500})
    allowed_services = fields.List(_kind, allow_none=True, load_default=None,
                                   metadata={"example": ["internet", "voice"],
                                             "description": "null: the parent's (every kind at the top level)"})


class SubResellerIn(ResellerTermsIn):
    """"Sub-Reseller Creation" of the reseller journey, plus the tenant's code, hosts and first Admin."""

    parent_reseller_id = fields.Integer(strict=True, load_default=None, validate=validate.Range(min=1, max=BIGINT),
                                        metadata={"description": "your reseller or one of its sub-resellers "
                                                                 "(default: yours)"})
    name = fields.String(required=True, validate=validate.Length(min=1, max=200),
                         metadata={"example": "Regional ABC Partner"})
    level = fields.Integer(strict=True, load_default=None, validate=validate.Range(min=1, max=MAX_DEPTH),
                           metadata={"description": "checked against the tree: the parent's level + 1"})
    code = fields.String(required=True, validate=CODE, metadata={"example": "ABC_REGIONAL"})
    hosts = fields.List(fields.String(validate=validate.Length(min=1, max=253)), load_default=list,
                        validate=validate.Length(max=10),
                        metadata={"description": "its own domains; they work once DNS verification is done"})
    admin = fields.Nested(FirstAdminIn, required=True)


class ResellerTermsPatch(Schema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    commission_percent = _percent(allow_none=True)
    inherited_branding = fields.Boolean()
    customer_limit = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=0, max=10_000_000))
    allowed_services = fields.List(_kind, allow_none=True)


class KeyFiguresOut(Schema):
    customers = fields.Integer(required=True)
    active_customers = fields.Integer(required=True)
    active_services = fields.Integer(required=True)
    mrr = fields.Dict(keys=fields.String(), values=fields.String(metadata=_amount), required=True,
                      metadata={"description": "monthly recurring revenue per currency (Active and Limited "
                                               "services; quarterly / 3, yearly / 12; rounded half-up at the end)",
                                "example": {"KES": "12500.00"}})


class ResellerOut(Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    parent_id = fields.Integer(allow_none=True, required=True)
    parent_code = fields.String(allow_none=True, required=True)
    level = fields.Integer(required=True, metadata={"description": "0: a reseller of the master ISP"})
    status = fields.String(required=True)
    commission_percent = fields.String(allow_none=True, required=True, metadata=_amount)
    customer_limit = fields.Integer(allow_none=True, required=True)
    allowed_services = fields.List(fields.String(), allow_none=True, required=True)
    inherited_branding = fields.Boolean(required=True)
    hosts = fields.List(fields.String(), required=True, metadata={"description": "verified: they lead here"})
    pending_hosts = fields.List(fields.String(), required=True,
                                metadata={"description": "the reseller's own domains awaiting DNS verification"})
    created_at = fields.DateTime(required=True)
    figures = fields.Nested(KeyFiguresOut, required=True)


class SubResellerDetail(ResellerOut):
    children = fields.List(fields.String(), required=True, metadata={"description": "codes of direct sub-resellers"})
    consolidated = fields.Nested(KeyFiguresOut, required=True,
                                 metadata={"description": "this sub-reseller with all of its descendants"})


class FirstAdminOut(Schema):
    id = fields.Integer(required=True)
    username = fields.String(required=True)
    generated_password = fields.String(allow_none=True, required=True, metadata={"description": "shown once"})


class SubResellerCreatedOut(ResellerOut):
    admin = fields.Nested(FirstAdminOut, allow_none=True, required=True)
    authorised_plans = fields.List(fields.Integer(), required=True,
                                   metadata={"description": "the parent's plans copied to the new tenant"})


class SubResellerSummaryOut(Schema):
    own = fields.Nested(KeyFiguresOut, required=True)
    sub_resellers = fields.Integer(required=True)
    consolidated = fields.Nested(KeyFiguresOut, required=True, metadata={"description": "yours and every descendant's"})


class SubResellerCustomersQuery(Schema):
    status = fields.String(validate=validate.OneOf(("New", "Active", "Suspended", "Inactive", "Pending")))


class DescendantCustomerOut(Schema):
    id = fields.Integer(required=True)
    portal_id = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    email = fields.String(allow_none=True, required=True)
    status = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class DescendantServiceOut(Schema):
    plan = fields.String(allow_none=True, required=True)
    kind = fields.String(required=True)
    price = fields.Decimal(as_string=True, allow_none=True, required=True)
    currency = fields.String(allow_none=True, required=True)
    billing_period = fields.String(allow_none=True, required=True)
    status = fields.String(required=True)


class DescendantBalanceOut(Schema):
    currency = fields.String(required=True)
    balance = fields.Decimal(as_string=True, required=True)
    credit = fields.Decimal(as_string=True, required=True)
    total_due = fields.Decimal(as_string=True, required=True)
    overdue = fields.Decimal(as_string=True, required=True)
    next_due_on = fields.Date(allow_none=True, required=True)


class DescendantInvoiceOut(Schema):
    number = fields.String(allow_none=True, required=True)
    kind = fields.String(required=True)
    issued_at = fields.DateTime(allow_none=True, required=True)
    due_on = fields.Date(allow_none=True, required=True)
    total = fields.Decimal(as_string=True, required=True)
    balance_due = fields.Decimal(as_string=True, required=True)
    status = fields.String(required=True)
    currency = fields.String(required=True)


class DescendantCustomerDetailOut(Schema):
    id = fields.Integer(required=True)
    portal_id = fields.String(required=True)
    display_name = fields.String(required=True)
    kind = fields.String(required=True)
    status = fields.String(required=True)
    email = fields.String(allow_none=True, required=True)
    phone = fields.String(allow_none=True, required=True)
    created_at = fields.DateTime(required=True)
    services = fields.List(fields.Nested(DescendantServiceOut), required=True)
    balance = fields.Nested(DescendantBalanceOut, required=True)
    invoices = fields.List(fields.Nested(DescendantInvoiceOut), required=True)
