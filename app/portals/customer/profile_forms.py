"""The Profile pages' forms (profile.py). Only shapes and lengths are checked here: whether a value is a phone
number, an e-mail address or a place on the map is `app.services.selfcare.profile`'s to say (as it says it to
the API), and the view puts each answer next to its field. Messages are msgids, translated by the templates."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectChoice, SelectField, StringField
from wtforms.validators import InputRequired, Length

from app.services.selfcare.profile import CHANNELS

CHANNEL_WORDS = {"email": "E-mail", "sms": "SMS", "phone": "Phone call"}
LONG = "That is too long."


def _text(limit: int) -> StringField:
    return StringField(validators=[Length(max=limit, message=LONG)])


class ProfileForm(FlaskForm):
    """Every field the reseller may let customers change (`portal_rules.EDITABLE_CHOICES`); the page draws and
    sends only those it lets through."""

    phone = _text(40)
    alternate_phone = _text(40)
    mpesa_number = _text(40)
    address = _text(300)
    city = _text(100)
    county = _text(100)
    sub_county = _text(100)
    postal_code = _text(20)
    latitude = _text(30)
    longitude = _text(30)
    # the choices offered; what may be stored is the service's to say (a field the reseller keeps is not sent)
    preferred_channel = SelectField(choices=[SelectChoice("", "No preference")]
                                    + [SelectChoice(c, CHANNEL_WORDS[c]) for c in CHANNELS], validate_choice=False)
    language = SelectField(choices=[SelectChoice("", "As my provider writes")], validate_choice=False)  # the view adds
    marketing_opt_in = BooleanField()


class EmailForm(FlaskForm):
    email = StringField(validators=[InputRequired("Enter your new e-mail address."), Length(max=254, message=LONG)])


class ConfirmEmailForm(FlaskForm):
    token = HiddenField(validators=[InputRequired(), Length(max=200)])


class ContactForm(FlaskForm):
    name = StringField(validators=[InputRequired("Enter the contact's name."), Length(max=200, message=LONG)])
    # the reseller's own contact types are the view's to add; the service checks the one chosen
    type_id = SelectField(choices=[SelectChoice("", "No type")], validate_choice=False)
    email = _text(254)
    phone = _text(40)
    is_primary = BooleanField()


class RemoveForm(FlaskForm):
    """No fields: the CSRF token makes removing a contact a deliberate act of this browser."""
