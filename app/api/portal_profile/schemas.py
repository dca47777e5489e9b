"""Shapes of the customer's profile, contacts and sites. Types and lengths are checked here; what a
customer may change, and the values themselves, by `app.services.selfcare.profile` (422 naming each
field)."""

from marshmallow import Schema, fields, validate

from app.api.catalogue.fields import Text
from app.api.customers.schemas import ContactChannel, ContactIn, ContactOut, ContactPatch, ContactTypeOut
from app.services.selfcare.portal_rules import EDITABLE_CHOICES
from app.services.selfcare.profile import CHANNELS

_DECIMAL = {"places": None, "as_string": True, "allow_nan": False}
_DECIMAL_IN = {"type": ["string", "number"], "pattern": r"^-?\d+(\.\d+)?$"}
_DECIMAL_OUT = {"type": "string", "format": "decimal"}

__all__ = ["ContactChannel", "ContactIn", "ContactOut", "ContactPatch", "ContactTypeOut"]


class Communication(Schema):
    preferred_channel = Text(allow_none=True, validate=validate.Length(max=20), metadata={
        "description": "how the customer prefers to be contacted", "enum": [*CHANNELS, None]})
    language = Text(allow_none=True, validate=validate.Length(max=10), metadata={"example": "sw"})
    marketing_opt_in = fields.Boolean()


class CommunicationOut(Schema):
    preferred_channel = Text(allow_none=True)
    language = Text(allow_none=True)
    marketing_opt_in = fields.Boolean(required=True)


class ProfileOut(Schema):
    id = fields.Integer(required=True)
    portal_id = Text(required=True)
    customer_type = Text(required=True, metadata={"enum": ["person", "company"]})
    display_name = Text(required=True)
    status = Text(required=True)
    first_name = Text(allow_none=True)
    last_name = Text(allow_none=True)
    company_name = Text(allow_none=True)
    national_id = Text(allow_none=True)
    email = Text(allow_none=True)
    pending_email = Text(allow_none=True, metadata={
        "description": "a new address a verification link was sent to, not yet confirmed"})
    phone = Text(allow_none=True)
    alternate_phone = Text(allow_none=True)
    address = Text(allow_none=True)
    city = Text(allow_none=True)
    county = Text(allow_none=True)
    sub_county = Text(allow_none=True)
    postal_code = Text(allow_none=True)
    latitude = fields.Decimal(as_string=True, allow_none=True, metadata=_DECIMAL_OUT)
    longitude = fields.Decimal(as_string=True, allow_none=True, metadata=_DECIMAL_OUT)
    mpesa_number = Text(allow_none=True)
    communication = fields.Nested(CommunicationOut, required=True)
    created_at = fields.DateTime(required=True)
    editable_fields = fields.List(Text(metadata={"enum": list(EDITABLE_CHOICES)}), required=True, metadata={
        "description": "the fields your provider lets you change here"})
    contacts_editable = fields.Boolean(required=True)


class ProfilePatch(Schema):
    phone = Text(allow_none=True, validate=validate.Length(max=40), metadata={"example": "+254712345678"})
    alternate_phone = Text(allow_none=True, validate=validate.Length(max=40))
    address = Text(allow_none=True, validate=validate.Length(max=300))
    city = Text(allow_none=True, validate=validate.Length(max=100))
    county = Text(allow_none=True, validate=validate.Length(max=100))
    sub_county = Text(allow_none=True, validate=validate.Length(max=100))
    postal_code = Text(allow_none=True, validate=validate.Length(max=20))
    latitude = fields.Decimal(allow_none=True, **_DECIMAL, metadata={**_DECIMAL_IN, "example": "-1.292066"})
    longitude = fields.Decimal(allow_none=True, **_DECIMAL, metadata={**_DECIMAL_IN, "example": "36.821945"})
    mpesa_number = Text(allow_none=True, validate=validate.Length(max=40))
    communication = fields.Nested(Communication, metadata={"description": "merged with what is stored"})


class EmailChangeIn(Schema):
    email = Text(required=True, validate=validate.Length(min=1, max=254), metadata={"example": "me@example.com"})


class EmailChangeOut(Schema):
    message = Text(required=True)
    pending_email = Text(required=True)


class EmailConfirmIn(Schema):
    token = Text(required=True, validate=validate.Length(min=1, max=200),
                 metadata={"description": "the token of the link in the verification e-mail"})


class EmailConfirmedOut(Schema):
    message = Text(required=True)
    email = Text(required=True)


class SiteOut(Schema):
    address = Text(required=True)
    region = Text(allow_none=True)
    service_ids = fields.List(fields.Integer(), required=True)
