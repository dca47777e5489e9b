"""The onboarding wizard's forms, one per step. Messages are msgids: the templates translate them (`_(error)`), so
they are listed in the catalogue (themes/base/translations/sw/LC_MESSAGES/reseller-onboarding.po).

Each step checks what the onboarding service would refuse at the end, with the services' own rules where they
have one (`normalise_msisdn` for M-PESA numbers, `money` for amounts, the API's billing-day range), so that the
message comes next to its field on the step that asked for it, not on the review page. The service checks all
of it again when the customer is created.
"""

from __future__ import annotations

from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, Regexp, ValidationError

from app.services.customers import PAYMENT_METHODS, normalise_msisdn
from app.services.errors import Invalid
from app.services.money import money

FIRST_NAME = "Enter the customer's first name."
LAST_NAME = "Enter the customer's last name."
COMPANY_NAME = "Enter the company's name."
EMAIL_WRONG = "Enter an e-mail address like name@example.com."
PHONE_WRONG = "Enter a phone number of 7 to 15 digits, like +254712345678."
MPESA_WRONG = "Enter a Kenyan mobile number, like 0712 345 678 or 254712345678."
CHOOSE_KIND = "Choose a person or a company."
CHOOSE_PLAN = "Choose a plan, or no service for now."
ADDRESS_MISSING = "Enter where the service is installed."
DAY_WRONG = "Enter a day of the month from 1 to 28."
AMOUNT_WRONG = "Enter an amount like 1500 or 1500.50."
AMOUNT_NEGATIVE = "Enter an amount of zero or more."
CHOOSE_METHOD = "Choose how the customer pays."
TOO_LONG = "This is too long."
NO_SERVICE = "none"

PAYMENT_WORDS = {"mpesa": "M-PESA", "card": "Card", "bank_transfer": "Bank transfer", "wire": "Wire transfer",
                 "cheque": "Cheque", "digital_wallet": "Digital wallet", "cash": "Cash"}


def _text(limit: int):
    return [Optional(), Length(max=limit, message=TOO_LONG)]


class BasicForm(FlaskForm):
    """Step 1, basic information: who the customer is and how to reach them."""

    customer_type = RadioField(choices=[SelectChoice("person", "A person"), SelectChoice("company", "A company")],
                               default="person", validators=[InputRequired(CHOOSE_KIND)])
    first_name = StringField(validators=_text(100))
    last_name = StringField(validators=_text(100))
    company_name = StringField(validators=_text(200))
    email = StringField(validators=[Optional(), Length(max=254, message=TOO_LONG),
                                    Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=EMAIL_WRONG)])
    phone = StringField(validators=[Optional(), Regexp(r"^\+?[\d\s()-]{7,20}$", message=PHONE_WRONG)])
    national_id = StringField(validators=_text(40))
    address = StringField(validators=_text(300))
    city = StringField(validators=_text(100))
    county = StringField(validators=_text(100))

    def validate(self, extra_validators=None) -> bool:
        good = super().validate(extra_validators)
        if self.customer_type.data == "company":
            if not (self.company_name.data or "").strip():
                self.company_name.errors = [*self.company_name.errors, COMPANY_NAME]
                good = False
        else:
            for f, message in ((self.first_name, FIRST_NAME), (self.last_name, LAST_NAME)):
                if not (f.data or "").strip():
                    f.errors = [*f.errors, message]
                    good = False
        return good

    def values(self) -> dict:
        return {name: (getattr(self, name).data or "").strip() for name in (
            "customer_type", "first_name", "last_name", "company_name", "email", "phone", "national_id", "address",
            "city", "county")}


class ServiceForm(FlaskForm):
    """Step 2, the service: a plan of the reseller's catalogue (the view offers them, with today's price)."""

    plan_id = RadioField(validators=[InputRequired(CHOOSE_PLAN)], validate_choice=True)

    def offer(self, plan_ids: list[int]) -> ServiceForm:
        self.plan_id.choices = [SelectChoice(str(i), str(i)) for i in plan_ids] + [
            SelectChoice(NO_SERVICE, NO_SERVICE)]
        return self


class InstallationForm(FlaskForm):
    """Step 3, installation and network: where the service goes, and whether it goes live now."""

    installation_address = TextAreaField(validators=[InputRequired(ADDRESS_MISSING),
                                                     Length(max=1000, message=TOO_LONG)])
    region = StringField(validators=_text(100))
    activate = BooleanField(default=False)
    static_ip = BooleanField(default=False)

    def values(self) -> dict:
        return {"installation_address": self.installation_address.data.strip(),
                "region": (self.region.data or "").strip(), "activate": bool(self.activate.data),
                "static_ip": bool(self.static_ip.data)}


def _day(form, field):
    text = (field.data or "").strip()
    if text and (not text.isdigit() or not 1 <= int(text) <= 28):
        raise ValidationError(DAY_WRONG)


def _amount(form, field):
    text = (field.data or "").strip()
    if not text:
        return
    try:
        value = money(text.replace(",", ""), field.name)
    except Invalid:
        raise ValidationError(AMOUNT_WRONG) from None
    if value < Decimal("0"):
        raise ValidationError(AMOUNT_NEGATIVE)


def _mpesa(form, field):
    if (field.data or "").strip():
        try:
            normalise_msisdn(field.data)
        except ValueError:
            raise ValidationError(MPESA_WRONG) from None


class BillingForm(FlaskForm):
    """Step 4, billing and access: the billing day, how the customer pays, deposit and credit limit, and
    whether the welcome e-mail goes out with the portal's sign-in details."""

    billing_day = StringField(validators=[Optional(), _day])
    payment_method = SelectField(choices=[SelectChoice("", "Not chosen yet"),
                                          *(SelectChoice(m, PAYMENT_WORDS[m]) for m in PAYMENT_METHODS)],
                                 default="", validators=[Optional()])
    mpesa_number = StringField(validators=[Optional(), _mpesa])
    deposit = StringField(validators=[Optional(), _amount])
    credit_limit = StringField(validators=[Optional(), _amount])
    send_welcome = BooleanField(default=True)

    def values(self) -> dict:
        return {"billing_day": (self.billing_day.data or "").strip(), "payment_method": self.payment_method.data or "",
                "mpesa_number": (self.mpesa_number.data or "").strip(), "deposit": (self.deposit.data or "").strip(),
                "credit_limit": (self.credit_limit.data or "").strip(), "send_welcome": bool(self.send_welcome.data)}


class ConfirmForm(FlaskForm):
    """The review page's "Create the customer": no fields, the CSRF token makes it this page's."""
