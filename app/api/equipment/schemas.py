from marshmallow import Schema, fields, validate

from app.api.catalogue.fields import Id, Text
from app.models.provisioning import EQUIPMENT_STATUSES
from app.services.equipment import TRANSITIONS


class EquipmentModelIn(Schema):
    vendor = Text(required=True, validate=validate.Length(min=1, max=100))
    name = Text(required=True, validate=validate.Length(min=1, max=100))
    device_type = Text(load_default=None, validate=validate.Length(max=40))
    description = Text(load_default=None)


class EquipmentModelOut(Schema):
    id = fields.Integer(required=True)
    vendor = fields.String(required=True)
    name = fields.String(required=True)
    device_type = fields.String(allow_none=True)
    description = fields.String(allow_none=True)


class EquipmentIn(Schema):
    model_id = Id(required=True)
    serial = Text(required=True, validate=validate.Length(min=1, max=100))
    mac = Text(load_default=None, allow_none=True, validate=validate.Length(max=17))
    notes = Text(load_default=None)


class EquipmentPatch(Schema):
    action = fields.String(required=True, validate=validate.OneOf(sorted(TRANSITIONS)),
                           metadata={"description": "assign (needs service_id), unassign, recovered, faulty, in_stock"})
    service_id = Id(load_default=None, allow_none=True)
    notes = Text(load_default=None)


class EquipmentListArgs(Schema):
    status = fields.String(validate=validate.OneOf(EQUIPMENT_STATUSES))
    customer_id = Id(strict=False)
    service_id = Id(strict=False)


class EquipmentOut(Schema):
    id = fields.Integer(required=True)
    model_id = fields.Integer(required=True)
    serial = fields.String(required=True)
    mac = fields.String(allow_none=True)
    status = fields.String(required=True)
    customer_id = fields.Integer(allow_none=True)
    service_id = fields.Integer(allow_none=True)
    assigned_at = fields.DateTime(allow_none=True)
    recovered_at = fields.DateTime(allow_none=True)
    faulty_at = fields.DateTime(allow_none=True)
    notes = fields.String(allow_none=True)
