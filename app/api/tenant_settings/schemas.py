"""Shapes of the settings API. What each value may be is `app.services.tenant_settings`'s to say, not these
schemas': the PATCH fields take any JSON value, so that a bad one is refused by the service with the very
message the portal's Settings page shows (`errors`, by the setting's dotted path)."""

from marshmallow import Schema, fields


def _any(description: str, **kwargs):
    return fields.Raw(allow_none=True, metadata={"description": description, **kwargs})


class PortalIdFormatPatch(Schema):
    prefix = _any("1 to 6 letters; Portal IDs are the prefix and a zero-padded number", example="ABC")
    digits = _any("4 to 12", example=6)


class PortalPatch(Schema):
    title = _any("the portal's title, 1 to 200 characters")
    support_email = _any("shown to customers; null: none")
    support_phone = _any("shown to customers; null: none")
    editable_fields = _any("the profile fields customers may change themselves", example=["phone", "address"])
    contacts_editable = _any("whether customers may edit their contacts", example=False)


class CustomersPatch(Schema):
    require_approval = _any("new customers wait for approval before their services start", example=False)
    login_with_email = _any("customers may sign in with their e-mail address as well as their Portal ID")


class BillingPatch(Schema):
    invoice_format = _any("{YYYY}, {YY}, {MM} and one counter such as {000000}", example="INV-{YYYY}-{000000}")
    proforma_format = _any("as invoice_format")
    credit_note_format = _any("as invoice_format")
    receipt_format = _any("as invoice_format")
    payment_terms_days = _any("days from issue to due date, 0 to 365", example=14)
    prices_include_tax = _any("whether catalogue prices include tax", example=False)
    mode = _any("prepaid or postpaid", example="prepaid")


class DunningPatch(Schema):
    enabled = _any("whether overdue invoices are chased at all", example=True)
    reminder_days = _any("days after the due date a reminder is sent, ascending, 1 to 365", example=[1, 3, 7])
    channels = _any("email and/or sms", example=["email"])
    grace_days = _any("days after the due date before the action, 0 to 365", example=7)
    action = _any("limit (reduced speed) or suspend", example="limit")
    late_fee = _any("a fixed late fee, a decimal string; null: none", example="50.00")
    late_fee_percent = _any("a late fee as a percent of what is owed, a decimal string; null: none", example="2.5")


class PaymentsPatch(Schema):
    retry_days = _any("days after the due date a saved payment method is charged again (1 to 365, up to 10)",
                      example=[1, 3, 7, 14])


class RadiusPatch(Schema):
    session_timeout = _any("seconds; 0: no Session-Timeout", example=0)
    interim_interval = _any("seconds between Interim-Updates, 60 to 86400", example=900)
    stale_after_intervals = _any("missed interims before a session is closed as stale, 1 to 100", example=3)
    session_retention_days = _any("closed sessions kept this long, 1 to 3650", example=180)
    suspended_action = _any("reject or payment_page", example="reject")
    payment_page_address_list = _any("MikroTik address list of the payment page; null: none")
    payment_page_pool = _any("Framed-Pool of the payment page for other vendors; null: none")


class SettingsPatch(Schema):
    """Only what changes; the rest stays. One bad value and nothing is stored."""

    portal_id_format = fields.Nested(PortalIdFormatPatch)
    timezone = _any("an IANA time zone", example="Africa/Nairobi")
    currency = _any("an ISO 4217 code", example="KES")
    language = _any("a language the portals are translated into", example="sw")
    portal = fields.Nested(PortalPatch)
    customers = fields.Nested(CustomersPatch)
    billing = fields.Nested(BillingPatch)
    dunning = fields.Nested(DunningPatch)
    payments = fields.Nested(PaymentsPatch)
    radius = fields.Nested(RadiusPatch)


class PortalIdFormatOut(Schema):
    prefix = fields.String(required=True)
    digits = fields.Integer(required=True)


class PortalOut(Schema):
    title = fields.String(required=True)
    support_email = fields.String(allow_none=True)
    support_phone = fields.String(allow_none=True)
    editable_fields = fields.List(fields.String(), required=True)
    contacts_editable = fields.Boolean(required=True)


class CustomersOut(Schema):
    require_approval = fields.Boolean(required=True)
    login_with_email = fields.Boolean(required=True)


class BillingOut(Schema):
    invoice_format = fields.String(required=True)
    proforma_format = fields.String(required=True)
    credit_note_format = fields.String(required=True)
    receipt_format = fields.String(required=True)
    payment_terms_days = fields.Integer(required=True)
    prices_include_tax = fields.Boolean(required=True)
    mode = fields.String(required=True)


class DunningOut(Schema):
    enabled = fields.Boolean(required=True)
    reminder_days = fields.List(fields.Integer(), required=True)
    channels = fields.List(fields.String(), required=True)
    grace_days = fields.Integer(required=True)
    action = fields.String(required=True)
    late_fee = fields.String(allow_none=True, metadata={"description": "a decimal string"})
    late_fee_percent = fields.String(allow_none=True, metadata={"description": "a decimal string"})


class PaymentsOut(Schema):
    retry_days = fields.List(fields.Integer(), required=True)


class RadiusOut(Schema):
    session_timeout = fields.Integer(required=True)
    interim_interval = fields.Integer(required=True)
    stale_after_intervals = fields.Integer(required=True)
    session_retention_days = fields.Integer(required=True)
    suspended_action = fields.String(required=True)
    payment_page_address_list = fields.String(allow_none=True)
    payment_page_pool = fields.String(allow_none=True)


class SettingsOut(Schema):
    portal_id_format = fields.Nested(PortalIdFormatOut, required=True)
    timezone = fields.String(required=True)
    currency = fields.String(required=True)
    language = fields.String(required=True)
    portal = fields.Nested(PortalOut, required=True)
    customers = fields.Nested(CustomersOut, required=True)
    billing = fields.Nested(BillingOut, required=True)
    dunning = fields.Nested(DunningOut, required=True)
    payments = fields.Nested(PaymentsOut, required=True)
    radius = fields.Nested(RadiusOut, required=True)
