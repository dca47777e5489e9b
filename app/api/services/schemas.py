from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.api.catalogue.fields import Id, MoneyOut, Text
from app.api.customers.schemas import CustomerFilterArgs
from app.models.provisioning import REQUEST_KINDS
from app.services.customers import BULK_MAX


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


# -- bulk: the services of many customers --------------------------------------------------------------
class BulkServicesIn(Schema):
    ids = fields.List(Id(), validate=validate.Length(min=1, max=BULK_MAX),
                      metadata={"description": "customers, by id"})
    filter = fields.Nested(CustomerFilterArgs, metadata={
        "description": "customers, as the customer list filters them; with `service_type`, only services of "
                       "that kind are acted on"})
    reason = Text(required=True, validate=validate.Length(min=1, max=1000),
                  metadata={"description": "kept in every changed service's history"})

    @validates_schema
    def _one_selection(self, data, **_):
        if ("ids" in data) == ("filter" in data):
            raise ValidationError("give either 'ids' or 'filter'", "ids")


class BulkPlanChangeIn(BulkServicesIn):
    plan_code = Text(required=True, validate=validate.Length(min=1, max=40),
                     metadata={"description": "the plan to move to, from your catalogue; services of its kind move",
                               "example": "HOME-20"})


class BulkServiceResultOut(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    outcome = fields.String(required=True, metadata={"description": "changed, unchanged, refused or failed"})
    from_status = fields.String(required=True)
    to_status = fields.String(required=True)
    from_plan_id = fields.Integer(allow_none=True, metadata={"description": "plan changes only"})
    to_plan_id = fields.Integer(allow_none=True, metadata={"description": "plan changes only"})
    detail = fields.String(allow_none=True, metadata={"description": "why it was not changed"})


class BulkCustomerResultOut(Schema):
    id = fields.Integer(required=True)
    portal_id = fields.String(allow_none=True)
    outcome = fields.String(required=True, metadata={
        "description": "changed, unchanged, failed (a service was refused or failed; the others were still "
                       "done) or not_found"})
    services = fields.List(fields.Nested(BulkServiceResultOut), required=True)


class BulkServicesOut(Schema):
    action = fields.String(required=True)
    customers = fields.Integer(required=True, metadata={"description": "customers asked for"})
    services = fields.Integer(required=True, metadata={"description": "services acted on"})
    changed = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)
    refused = fields.Integer(required=True)
    failed = fields.Integer(required=True)
    not_found = fields.Integer(required=True, metadata={"description": "customers unknown or not yours to see"})
    results = fields.List(fields.Nested(BulkCustomerResultOut), required=True)
