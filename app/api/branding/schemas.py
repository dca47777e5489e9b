"""The branding API's shapes. Field values are checked by app/services/branding/fields.py (one place for
the API, the console and previews); here, only their types and lengths."""

from marshmallow import Schema, fields, validate

from app.api.catalogue.fields import Text

_COLOUR = {"example": "#0066CC"}


def _text(maximum: int, **metadata) -> Text:
    return Text(allow_none=True, validate=validate.Length(max=maximum), metadata=metadata)


class BrandFieldsIn(Schema):
    """Any subset; `null` unsets a field, which is then inherited again."""

    brand_name = _text(120, example="ABC Internet Services")
    logo_url = _text(500, description="an external https:// logo; an uploaded logo wins over it")
    primary_color = _text(7, **_COLOUR)
    secondary_color = _text(7, example="#FF6600")
    font_family = _text(200, example="Inter, sans-serif")
    heading_font_family = _text(200)
    support_email = _text(254, example="support@abc-internet.com")
    support_phone = _text(40, example="+1-555-ABC-HELP")
    address = _text(500)
    tax_number = _text(60)
    terms = _text(20_000, description="terms and conditions shown on sign-in pages and documents")
    email_sender_name = _text(120)
    email_sender_address = _text(254)
    sms_sender_id = _text(11)
    custom_css = _text(50_000, description="sanitised: no @import, scripts or external URLs except https images")
    theme = _text(40, description="a theme folder shipped with the platform or uploaded by this reseller")
    logo = fields.Raw(allow_none=True, metadata={"description": "only null (remove the uploaded logo)"})
    favicon = fields.Raw(allow_none=True, metadata={"description": "only null (remove the uploaded favicon)"})
    domain = _text(253, example="portal.abc-internet.com",
                   description="a verified custom domain of yours, made the primary one")


class BrandingIn(Schema):
    """The JSON of "Branding Configuration": `{"reseller_id", "white_label_enabled", "branding": {...}}`."""

    reseller_id = fields.Integer(metadata={"description": "optional; must be your own id"})
    white_label_enabled = fields.Boolean()
    branding = fields.Nested(BrandFieldsIn, load_default=dict)


class PreviewIn(BrandingIn):
    page = fields.String(load_default="login", validate=validate.OneOf(["login", "invoice"]))
    format = fields.String(load_default="html", validate=validate.OneOf(["html", "pdf"]),
                           metadata={"description": "pdf: the sample invoice as its PDF"})


class AssetOut(Schema):
    file = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    url = fields.String()


class BrandingOut(Schema):
    reseller_id = fields.Integer(allow_none=True)
    white_label_enabled = fields.Boolean()
    inherited_branding = fields.Boolean(allow_none=True)
    version = fields.Integer()
    branding = fields.Dict(metadata={"description": "the fields set here; the rest are inherited"})
    effective = fields.Dict(metadata={"description": "every field as customers see it"})
    sources = fields.Dict(metadata={"description": "field → the reseller code it comes from, or 'platform'"})
    domain = fields.String(allow_none=True)
    stylesheet_url = fields.String()
    themes = fields.List(fields.String(), metadata={"description": "themes uploaded by this reseller"})


class FileIn(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class ThemeNameIn(Schema):
    name = Text(required=True, validate=validate.Length(min=1, max=40), metadata={"example": "my-theme"})


class ThemesOut(Schema):
    themes = fields.List(fields.String())
