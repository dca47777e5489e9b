from marshmallow import Schema, fields, validate

from app.api.catalogue.fields import Id, MoneyOut, Text
from app.models.provisioning import REQUEST_KINDS


class ServiceIn(Schema):
    plan_id = Id(required=True)
    installation_address = Text(load_default=None, validate=validate.Length(max=1000))
    region = Text(load_default=None, validate=validate.Length(max=100))


class ServiceStatusChangeOut(Schema):
    at = fields.DateTime()
    from_status = fields.String(allow_none=True)
    to_status = fields.String()
    reason = fields.String(allow_none=True)
    actor = fields.String()


class ServiceOut(Schema):
    id = fields.Integer(required=True)
    customer_id = fields.Integer(required=True)
    plan_id = fields.Integer(required=True)
    plan_code = fields.String(allow_none=True)
    plan_name = fields.String(allow_none=True)
    kind = fields.String(required=True)
    status = fields.String(required=True)
    status_reason = fields.String(allow_none=True)
    price = MoneyOut(allow_none=True, metadata={"description": "per billing period, fixed at activation"})
    setup_fee = MoneyOut(allow_none=True)
    currency = fields.String()
    billing_period = fields.String()
    activated_at = fields.DateTime(allow_none=True)
    suspended_at = fields.DateTime(allow_none=True)
    terminated_at = fields.DateTime(allow_none=True)
    vacation_from = fields.Date(allow_none=True)
    vacation_until = fields.Date(allow_none=True)
    installation_address = fields.String(allow_none=True)
    region = fields.String(allow_none=True)
    network_username = fields.String(allow_none=True)
    credentials_set_at = fields.DateTime(allow_none=True)
    static_ip = fields.String(allow_none=True)
    equipment_ids = fields.List(fields.Integer())
    history = fields.List(fields.Nested(ServiceStatusChangeOut))


class ServiceActivatedOut(ServiceOut):
    network_password = fields.String(allow_none=True, metadata={"description": "shown once, when set now"})


class ServiceReasonIn(Schema):
    reason = Text(load_default=None, validate=validate.Length(max=1000))


class ServiceActivateIn(ServiceReasonIn):
    static_ip = fields.Boolean(load_default=False)
    ip_pool_id = Id(load_default=None, allow_none=True)
    network_username = Text(load_default=None, allow_none=True, validate=validate.Length(max=64))
    network_password = Text(load_default=None, allow_none=True, load_only=True, validate=validate.Length(max=64))


class NetworkCredentialsIn(Schema):
    username = Text(load_default=None, allow_none=True, validate=validate.Length(max=64),
                    metadata={"description": "default: keep it"})
    password = Text(load_default=None, allow_none=True, load_only=True, validate=validate.Length(max=64),
                             metadata={"description": "omit to have one generated"})


class NetworkCredentialsOut(Schema):
    service_id = fields.Integer()
    username = fields.String()
    password = fields.String(metadata={"description": "shown once"})
    set_at = fields.DateTime()


class ServiceRequestIn(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(REQUEST_KINDS))
    payload = fields.Dict(load_default=dict, metadata={"example": {"plan_id": 7}})
    effective = fields.String(load_default="immediate", validate=validate.OneOf(("immediate", "next_cycle")))


class ServiceRequestDecisionIn(Schema):
    note = Text(load_default=None, validate=validate.Length(max=1000))


class ServiceRequestOut(Schema):
    id = fields.Integer()
    service_id = fields.Integer()
    kind = fields.String()
    status = fields.String()
    payload = fields.Dict()
    effective = fields.String()
    effective_on = fields.Date(allow_none=True)
    requested_by = fields.String()
    requested_at = fields.DateTime()
    decided_by = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    note = fields.String(allow_none=True)
    completed_at = fields.DateTime(allow_none=True)
