"""Shapes of the customer's services, plan changes, change requests and the network-password reveal.
Money travels as decimal strings."""

from marshmallow import Schema, fields, validate

from app.api.catalogue.fields import Id, MoneyOut, Text
from app.models.provisioning import REQUEST_KINDS, REQUEST_STATUSES, SERVICE_STATUSES
from app.services.selfcare.plan_changes import EFFECTIVE


class MyPlanOut(Schema):
    id = fields.Integer(required=True)
    code = Text(required=True)
    name = Text(required=True)
    kind = Text(required=True)
    description = Text(allow_none=True)
    download_kbps = fields.Integer(allow_none=True)
    upload_kbps = fields.Integer(allow_none=True)
    data_allowance_mb = fields.Integer(allow_none=True, metadata={"description": "null: unlimited"})
    voice_minutes = fields.Integer(allow_none=True, metadata={"description": "null: unlimited"})
    billing_period = Text(required=True)


class MyEquipmentOut(Schema):
    id = fields.Integer(required=True)
    serial = Text(required=True)
    mac = Text(allow_none=True)
    vendor = Text(required=True)
    model = Text(required=True)
    device_type = Text(allow_none=True)
    assigned_at = fields.DateTime(allow_none=True)


class MyServiceOut(Schema):
    id = fields.Integer(required=True)
    kind = Text(required=True)
    status = Text(required=True, metadata={"enum": list(SERVICE_STATUSES)})
    status_reason = Text(allow_none=True, metadata={"description": "why the service is in its status"})
    plan = fields.Nested(MyPlanOut, allow_none=True)
    price = MoneyOut(allow_none=True, metadata={"description": "per billing period; fixed at activation"})
    setup_fee = MoneyOut(allow_none=True)
    currency = Text(required=True)
    billing_period = Text(required=True)
    activated_at = fields.DateTime(allow_none=True)
    suspended_at = fields.DateTime(allow_none=True)
    terminated_at = fields.DateTime(allow_none=True)
    vacation_from = fields.Date(allow_none=True)
    vacation_until = fields.Date(allow_none=True)
    installation_address = Text(allow_none=True)
    region = Text(allow_none=True)
    static_ip = Text(allow_none=True)
    network_username = Text(allow_none=True)
    has_network_password = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)


class ServiceDetailOut(MyServiceOut):
    equipment = fields.List(fields.Nested(MyEquipmentOut), required=True)
    next_renewal_on = fields.Date(allow_none=True, metadata={"description": "the first day of the next cycle"})


class PlanOptionOut(Schema):
    plan = fields.Nested(MyPlanOut, required=True)
    price = MoneyOut(required=True, metadata={"description": "per billing period, for you, today"})
    currency = Text(required=True)
    billing_period = Text(required=True)
    kind = Text(required=True, metadata={"enum": ["upgrade", "downgrade"]})
    difference = MoneyOut(allow_none=True, metadata={"description": "new price less the current one"})


class PreviewArgs(Schema):
    plan_id = Id(strict=False, required=True)
    effective = Text(load_default="immediate", validate=validate.OneOf(EFFECTIVE))


class ProrationOut(Schema):
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    days = fields.Integer(required=True)
    cycle_days = fields.Integer(required=True)
    credit = MoneyOut(required=True, metadata={"description": "those days at the current plan, credited"})
    charge = MoneyOut(required=True, metadata={"description": "those days at the new plan, charged"})
    net = MoneyOut(required=True, metadata={"description": "charge less credit: what the change costs now"})


class PreviewOut(Schema):
    service_id = fields.Integer(required=True)
    kind = Text(required=True, metadata={"enum": ["upgrade", "downgrade"]})
    effective = Text(required=True)
    effective_on = fields.Date(required=True)
    needs_approval = fields.Boolean(required=True, metadata={"description": "your provider approves it first"})
    from_plan = fields.Nested(MyPlanOut, allow_none=True)
    to_plan = fields.Nested(MyPlanOut, required=True)
    currency = Text(required=True)
    billing_period = Text(required=True)
    current_price = MoneyOut(required=True)
    new_price = MoneyOut(required=True)
    difference = MoneyOut(allow_none=True, metadata={"description": "per billing period"})
    proration = fields.Nested(ProrationOut, allow_none=True, metadata={
        "description": "a change made now: the rest of this cycle, on the next invoice"})


class RequestIn(Schema):
    kind = Text(required=True, validate=validate.OneOf(REQUEST_KINDS))
    payload = fields.Dict(keys=Text(), load_default=dict, metadata={
        "description": "upgrade/downgrade {plan_id}; suspension {from, until}; relocation "
                       "{installation_address, region}; cancellation {reason}", "example": {"plan_id": 7}})
    effective = Text(load_default="immediate", validate=validate.OneOf(EFFECTIVE))


class RequestOut(Schema):
    id = fields.Integer(required=True)
    service_id = fields.Integer(required=True)
    kind = Text(required=True, metadata={"enum": list(REQUEST_KINDS)})
    status = Text(required=True, metadata={"enum": list(REQUEST_STATUSES)})
    payload = fields.Dict(required=True)
    effective = Text(required=True)
    effective_on = fields.Date(allow_none=True)
    requested_at = fields.DateTime(required=True)
    decided_at = fields.DateTime(allow_none=True)
    note = Text(allow_none=True)
    completed_at = fields.DateTime(allow_none=True)


class RevealIn(Schema):
    password = Text(required=True, load_only=True, validate=validate.Length(min=1, max=1024),
                    metadata={"description": "your portal password, typed again"})


class RevealOut(Schema):
    service_id = fields.Integer(required=True)
    username = Text(allow_none=True)
    password = Text(required=True)
