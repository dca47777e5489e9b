"""Shapes of the reseller's privacy API: customers' deletion requests and their review, and a customer's
consents."""

from marshmallow import Schema, fields, validate

from app.api.catalogue.fields import Text
from app.api.portal_privacy.schemas import ConsentEventOut, KeptOut, PrivacyConsentOut
from app.models.privacy import DELETION_STATUSES
from app.services.privacy.deletion import PAGE_MAX

__all__ = ["ConsentEventOut", "KeptOut", "PrivacyConsentOut"]


class DeletionListArgs(Schema):
    status = Text(load_default=None, validate=validate.OneOf(DELETION_STATUSES))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=PAGE_MAX))


class LiveServiceOut(Schema):
    id = fields.Integer(required=True)
    status = Text(required=True)
    plan = Text(allow_none=True)


class DeletionEventOut(Schema):
    at = fields.DateTime(required=True)
    from_status = Text(allow_none=True)
    to_status = Text(required=True)
    actor = Text(required=True)
    note = Text(allow_none=True)


class DeletionRequestOut(Schema):
    id = fields.Integer(required=True)
    customer_id = fields.Integer(required=True)
    portal_id = Text(required=True)
    status = Text(required=True, metadata={"enum": list(DELETION_STATUSES)})
    reason = Text(allow_none=True, metadata={"description": "the customer's words (erased once carried out)"})
    requested_at = fields.DateTime(required=True)
    requested_by = Text(required=True)
    decided_at = fields.DateTime(allow_none=True)
    decided_by = Text(allow_none=True)
    decision_note = Text(allow_none=True)
    outcome = Text(allow_none=True, metadata={"enum": ["anonymised", "deleted", None]})
    live_services = fields.List(fields.Nested(LiveServiceOut), required=True, metadata={
        "description": "services still to be terminated before the request can be approved"})
    kept = fields.List(fields.Nested(KeptOut), required=True, metadata={"description": "what an approval keeps"})
    history = fields.List(fields.Nested(DeletionEventOut), required=True)


class DeletionRequestPage(Schema):
    items = fields.List(fields.Nested(DeletionRequestOut), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class ApproveIn(Schema):
    note = Text(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class DeclineIn(Schema):
    reason = Text(required=True, validate=validate.Length(min=1, max=2000),
                  metadata={"description": "why, as the customer is told it"})


class CustomerConsentsOut(Schema):
    customer_id = fields.Integer(required=True)
    consents = fields.List(fields.Nested(PrivacyConsentOut), required=True)
    history = fields.List(fields.Nested(ConsentEventOut), required=True)
