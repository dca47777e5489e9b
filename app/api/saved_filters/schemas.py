"""Shapes of the saved filters of the customer list. `filters` is the list's query string as an object
(`{"status": ["Active"], "county": "Nairobi"}`); the service checks its keys and sizes."""

from marshmallow import Schema, fields, validate

from app.api.customers.schemas import Text
from app.services.customers.saved_filters import NAME_MAX


class SavedFilterIn(Schema):
    name = Text(required=True, validate=validate.Length(min=1, max=NAME_MAX), metadata={"example": "Nairobi, late"})
    filters = fields.Dict(keys=Text(), required=True, metadata={
        "description": "the customer list's query parameters (status a list)",
        "example": {"status": ["Active"], "county": "Nairobi", "payment_status": "overdue"}})
    shared = fields.Boolean(load_default=False, metadata={"description": "the whole team may open it"})


class SavedFilterOut(Schema):
    id = fields.Integer(required=True)
    name = Text(required=True)
    filters = fields.Dict(required=True)
    shared = fields.Boolean(required=True)
    mine = fields.Boolean(required=True, metadata={"description": "saved by the caller (only they may delete it)"})
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
