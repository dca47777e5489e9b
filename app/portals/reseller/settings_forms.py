"""The Settings pages' forms (settings.py), one per group of settings. Every value is taken as typed (text
fields, even for numbers): what it may be is `app.services.tenant_settings`' to say, as it says it to the
settings API, so a bad value gets the same message here as there and stays in its field. Each field's
`PATHS` entry names the setting it holds. Messages are msgids."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectChoice, SelectField, SelectMultipleField, StringField
from wtforms.validators import Length
from wtforms.widgets import CheckboxInput, ListWidget

from app.services.selfcare.portal_rules import EDITABLE_CHOICES

LONG = "That is too long."
LANGUAGE_NAMES = {"en": "English", "sw": "Kiswahili"}
EDITABLE_WORDS = {"phone": "Phone number", "alternate_phone": "Other phone number", "address": "Address",
                  "city": "Town or city", "county": "County", "sub_county": "Sub-county",
                  "postal_code": "Postal code", "latitude": "Latitude", "longitude": "Longitude",
                  "mpesa_number": "M-PESA number", "communication": "How they are reached"}


def _text(limit: int = 200) -> StringField:
    return StringField(validators=[Length(max=limit, message=LONG)])


class ChecksField(SelectMultipleField):
    """Several choices as checkboxes (the page draws them in a fieldset)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class GeneralForm(FlaskForm):
    title = _text()
    support_email = _text(254)
    support_phone = _text(40)
    language = SelectField(validate_choice=False)  # the view lists the catalogues there are
    timezone = _text(80)
    currency = _text(10)
    prefix = _text(20)
    digits = _text(10)


class CustomersForm(FlaskForm):
    require_approval = BooleanField()
    login_with_email = BooleanField()
    editable_fields = ChecksField(choices=[SelectChoice(c, EDITABLE_WORDS[c]) for c in EDITABLE_CHOICES],
                                  validate_choice=False)
    contacts_editable = BooleanField()


class BillingForm(FlaskForm):
    invoice_format = _text(60)
    proforma_format = _text(60)
    credit_note_format = _text(60)
    receipt_format = _text(60)
    payment_terms_days = _text(10)
    prices_include_tax = BooleanField()
    mode = RadioField(choices=[SelectChoice("prepaid", "Prepaid: bill the period about to start"),
                               SelectChoice("postpaid", "Postpaid: bill the period that ended")],
                      validate_choice=False)
    retry_days = _text(80)


class RadiusForm(FlaskForm):
    session_timeout = _text(12)
    interim_interval = _text(12)
    stale_after_intervals = _text(12)
    session_retention_days = _text(12)
    suspended_action = RadioField(choices=[SelectChoice("reject", "Refuse the connection"),
                                           SelectChoice("payment_page", "Connect them to the payment page only")],
                                  validate_choice=False)
    payment_page_address_list = _text()
    payment_page_pool = _text()


# the setting each field holds, by form
PATHS = {
    GeneralForm: {"title": "portal.title", "support_email": "portal.support_email",
                  "support_phone": "portal.support_phone", "language": "language", "timezone": "timezone",
                  "currency": "currency", "prefix": "portal_id_format.prefix",
                  "digits": "portal_id_format.digits"},
    CustomersForm: {"require_approval": "customers.require_approval",
                    "login_with_email": "customers.login_with_email",
                    "editable_fields": "portal.editable_fields", "contacts_editable": "portal.contacts_editable"},
    BillingForm: {name: f"billing.{name}" for name in ("invoice_format", "proforma_format", "credit_note_format",
                                                        "receipt_format", "payment_terms_days",
                                                        "prices_include_tax", "mode")}
    | {"retry_days": "payments.retry_days"},
    RadiusForm: {name: f"radius.{name}" for name in ("session_timeout", "interim_interval", "stale_after_intervals",
                                                      "session_retention_days", "suspended_action",
                                                      "payment_page_address_list", "payment_page_pool")},
}
