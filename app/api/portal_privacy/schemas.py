"""Shapes of the customer's privacy API: consents, cookies, the data export and the deletion request. Types
and lengths are checked here; the rules (who may, one at a time, the password) by app.services.privacy."""

from marshmallow import Schema, ValidationError, fields, validate

from app.api.catalogue.fields import Text
from app.models.privacy import CONSENT_PURPOSES, DELETION_STATUSES, EXPORT_STATUSES


class PrivacyConsentOut(Schema):
    purpose = Text(required=True, metadata={"enum": list(CONSENT_PURPOSES)})
    label = Text(required=True)
    wording = Text(required=True, metadata={"description": "what the customer agrees to, as the portal shows it"})
    wording_version = Text(required=True, metadata={"description": "the version of the wording shown now"})
    granted = fields.Boolean(required=True)
    changed_at = fields.DateTime(allow_none=True, metadata={"description": "null: never given (off by default)"})
    door = Text(allow_none=True, metadata={"enum": ["portal", "api", None]})
    via = Text(allow_none=True, metadata={"enum": ["session", "api_key", "oauth", None]})
    actor = Text(allow_none=True)
    agreed_version = Text(allow_none=True, metadata={"description": "the wording the current choice was made to"})


class ConsentEventOut(Schema):
    id = fields.Integer(required=True)
    purpose = Text(required=True)
    granted = fields.Boolean(required=True)
    at = fields.DateTime(required=True)
    actor = Text(required=True)
    door = Text(required=True)
    via = Text(required=True)
    wording_version = Text(required=True)


class ConsentsOut(Schema):
    consents = fields.List(fields.Nested(PrivacyConsentOut), required=True)
    history = fields.List(fields.Nested(ConsentEventOut), required=True, metadata={"description": "newest first"})


class Choice(fields.Boolean):
    """true or false, and nothing that merely looks like one ("yes", 1): a consent is given in so many words."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise ValidationError("true or false")
        return value


class ConsentsIn(Schema):
    marketing_email = Choice()
    marketing_sms = Choice()
    third_party_sharing = Choice()


class CookieOut(Schema):
    name = Text(required=True)
    purpose = Text(required=True)
    lifetime = Text(required=True)
    necessary = fields.Boolean(required=True)


class CookiesOut(Schema):
    cookies = fields.List(fields.Nested(CookieOut), required=True)
    storage = fields.List(fields.Nested(CookieOut), required=True, metadata={
        "description": "what the pages keep in the browser's session storage"})
    optional = fields.Integer(required=True, metadata={"description": "cookies that would need consent: none"})


class MyExportOut(Schema):
    id = fields.Integer(required=True)
    status = Text(required=True, metadata={"enum": list(EXPORT_STATUSES)})
    requested_at = fields.DateTime(required=True)
    finished_at = fields.DateTime(allow_none=True)
    expires_at = fields.DateTime(allow_none=True, metadata={"description": "when a ready export is removed"})
    size = fields.Integer(allow_none=True, metadata={"description": "bytes of the ZIP"})
    sha256 = Text(allow_none=True)
    ready = fields.Boolean(required=True)
    download_url = Text(allow_none=True)


class DeletionIn(Schema):
    password = Text(required=True, validate=validate.Length(min=1, max=1024),
                    metadata={"description": "your portal password, again"})
    reason = Text(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class MyDeletionEventOut(Schema):
    at = fields.DateTime(required=True)
    from_status = Text(allow_none=True)
    to_status = Text(required=True)
    note = Text(allow_none=True)


class KeptOut(Schema):
    key = Text(required=True)
    what = Text(required=True)
    why = Text(required=True)


class MyDeletionOut(Schema):
    id = fields.Integer(required=True)
    status = Text(required=True, metadata={"enum": list(DELETION_STATUSES)})
    reason = Text(allow_none=True)
    requested_at = fields.DateTime(required=True)
    decided_at = fields.DateTime(allow_none=True)
    decision_note = Text(allow_none=True, metadata={"description": "why it was declined"})
    live_services = fields.List(fields.Dict(), required=True, metadata={
        "description": "services not terminated yet: they must end before the request can be approved"})
    kept = fields.List(fields.Nested(KeptOut), required=True, metadata={
        "description": "what an approval keeps, and why"})
    history = fields.List(fields.Nested(MyDeletionEventOut), required=True)
