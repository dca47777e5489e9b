"""Shapes of a reseller's self-service rules for its customers."""

from marshmallow import Schema, fields, validate

from app.api.catalogue.fields import Text
from app.api.portal_topups.schemas import BundleOut, BundlesIn
from app.services.selfcare.portal_rules import EDITABLE_CHOICES

__all__ = ["BundleOut", "BundlesIn"]


class PortalRulesOut(Schema):
    editable_fields = fields.List(Text(metadata={"enum": list(EDITABLE_CHOICES)}), required=True, metadata={
        "description": "the profile fields customers may change in the portal"})
    contacts_editable = fields.Boolean(required=True, metadata={"description": "customers may edit their contacts"})


class PortalRulesIn(Schema):
    editable_fields = fields.List(Text(validate=validate.OneOf(EDITABLE_CHOICES)),
                                  validate=validate.Length(max=len(EDITABLE_CHOICES)))
    contacts_editable = fields.Boolean()
