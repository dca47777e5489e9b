"""The forms of the reseller's Services and pricing pages (catalogue.py, catalogue_network.py). Messages are
msgids: the templates translate them (`_(error)`), and they are in reseller-catalogue.po.

They check the shape of what is typed (a number, a date, a length the API's schema allows); the rules (a plan
the reseller may sell, a CIDR that overlaps no pool, a secret's strength…) stay the services' own, and a
refusal from a service is shown next to the field it names.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import TextInput

from app.models.catalogue import PLAN_KINDS
from app.portals.nas_forms import VENDORS, NasForm  # noqa: F401 - the reseller's NAS form, shared with the console
from app.services.equipment import TRANSITIONS
from app.services.price_rules import MARKUP_TYPES

NOT_A_DATE = "Enter the date as a day, a month and a year."
NOT_A_NUMBER = "Enter a whole number, like 10."
NOT_AN_AMOUNT = "Enter an amount like 500 or 500.50."
CHOOSE_PLAN = "Choose a plan."
MARKUP_WORDS = {"percent": "A percentage over wholesale", "fixed": "A fixed amount over wholesale",
                "price": "A fixed retail price"}
ACTION_WORDS = {"assign": "Assign to a service", "unassign": "Take back into stock (assigned by mistake)",
                "recovered": "Recovered from the customer", "faulty": "Faulty",
                "in_stock": "Back in stock (inspected or repaired)"}
KIND_WORDS = {"internet": "Internet", "voice": "Voice", "recurring": "Recurring", "bundle": "Bundle"}


class _Once:
    """A mistyped value is told once, not again by the range check that finds no number."""

    def validate(self, form, extra_validators=()):
        valid = super().validate(form, extra_validators)
        self.errors = list(dict.fromkeys(self.errors))
        return valid


class AmountField(_Once, DecimalField):
    """An amount typed as text (a number input would let the browser, not us, reject "1,500"): an exact
    Decimal, or the message of a mistyped amount next to the field."""

    widget = TextInput()

    def process_formdata(self, valuelist):
        if valuelist and valuelist[0].strip():
            try:
                self.data = Decimal(valuelist[0].strip().replace(",", ""))
            except InvalidOperation:
                self.data = None
                raise ValueError(NOT_AN_AMOUNT) from None
            if not self.data.is_finite():
                self.data = None
                raise ValueError(NOT_AN_AMOUNT)
        else:
            self.data = None


class WholeField(_Once, IntegerField):
    """A whole number typed as text, with our message when it is not one."""

    widget = TextInput()

    def process_formdata(self, valuelist):
        if valuelist and valuelist[0].strip():
            try:
                self.data = int(valuelist[0].strip())
            except ValueError:
                self.data = None
                raise ValueError(NOT_A_NUMBER) from None
        else:
            self.data = None


def _amount(label_required: str | None = None, places: int = 2):
    validators = [InputRequired(label_required)] if label_required else [Optional()]
    return AmountField(places=places, validators=[*validators, NumberRange(min=0, message=NOT_AN_AMOUNT)],
                       render_kw={"inputmode": "decimal"})


class ActionForm(FlaskForm):
    """No fields: the CSRF token makes a button's POST a deliberate act of this page."""


class PreviewForm(FlaskForm):
    """A price preview, sent by GET: the address says what was asked, and it can be shared."""

    class Meta:
        csrf = False

    plan = SelectField(coerce=int, validators=[InputRequired(CHOOSE_PLAN)], validate_choice=False)
    customer = StringField(validators=[Optional(), Length(max=40)])
    category = StringField(validators=[Optional(), Length(max=40)])
    volume = WholeField(validators=[Optional(), NumberRange(min=0, max=2**31 - 1, message=NOT_A_NUMBER)],
                          render_kw={"inputmode": "numeric"})
    day = DateField(validators=[Optional()])

    def offer(self, plans) -> PreviewForm:
        self.plan.choices = [SelectChoice(p.id, f"{p.name} ({p.code})") for p in plans]
        return self


class PriceRuleForm(FlaskForm):
    """A price rule, as the API's POST /prices takes it (the journey's "Pricing Configuration")."""

    service_type = SelectField(choices=[SelectChoice(k, KIND_WORDS.get(k, k)) for k in PLAN_KINDS],
                               validators=[InputRequired()])
    plan = SelectField(coerce=lambda v: int(v) if v not in (None, "", "None") else None, validate_choice=False,
                       validators=[Optional()])
    markup_type = RadioField(choices=[SelectChoice(k, MARKUP_WORDS[k]) for k in MARKUP_TYPES],
                             validators=[InputRequired("Choose how the price is made.")])
    markup_value = _amount("Enter the markup or the price.")
    min_price = _amount()
    max_price = _amount()
    setup_fee = _amount()
    customer_category = StringField(validators=[Optional(), Length(max=40)])
    min_volume = WholeField(validators=[Optional(), NumberRange(min=0, max=2**31 - 1, message=NOT_A_NUMBER)],
                              render_kw={"inputmode": "numeric"})
    effective_from = DateField(validators=[InputRequired(NOT_A_DATE)], invalid_value_message=NOT_A_DATE)
    promo_enabled = BooleanField()
    promo_discount_percent = AmountField(places=2, validators=[
        Optional(), NumberRange(min=0, max=100, message="Enter a percentage from 0 to 100.")],
        render_kw={"inputmode": "decimal"})
    promo_valid_from = DateField(validators=[Optional()], invalid_value_message=NOT_A_DATE)
    promo_valid_until = DateField(validators=[Optional()], invalid_value_message=NOT_A_DATE)

    def offer(self, plans) -> PriceRuleForm:
        self.plan.choices = [SelectChoice("", "Every plan of this kind"),
                             *(SelectChoice(p.id, f"{p.name} ({p.code})") for p in plans)]
        return self

    def values(self) -> dict:
        """The API's JSON for create_rule."""
        promo = None
        if self.promo_enabled.data or self.promo_discount_percent.data is not None:
            promo = {"enabled": bool(self.promo_enabled.data), "discount_percent": self.promo_discount_percent.data,
                     "valid_from": self.promo_valid_from.data, "valid_until": self.promo_valid_until.data}
        return {"service_type": self.service_type.data, "tariff_id": self.plan.data,
                "markup_type": self.markup_type.data, "markup_value": self.markup_value.data,
                "min_price": self.min_price.data, "max_price": self.max_price.data, "setup_fee": self.setup_fee.data,
                "customer_category": self.customer_category.data or None, "min_volume": self.min_volume.data,
                "effective_from": self.effective_from.data, "promotional_pricing": promo}


# the services' field names → the form's
RULE_FIELDS = {"service_type": "service_type", "tariff_id": "plan", "plan_id": "plan", "markup_type": "markup_type",
               "markup_value": "markup_value", "min_price": "min_price", "max_price": "max_price",
               "setup_fee": "setup_fee", "customer_category": "customer_category", "min_volume": "min_volume",
               "effective_from": "effective_from", "promotional_pricing": "promo_discount_percent",
               "discount_percent": "promo_discount_percent", "valid_from": "promo_valid_from",
               "valid_until": "promo_valid_until"}


class DecisionForm(FlaskForm):
    """Approving or declining a change request; declining needs the reason the customer will read."""

    note = TextAreaField(validators=[Optional(), Length(max=1000)])


class PoolForm(FlaskForm):
    name = StringField(validators=[InputRequired("Enter a name for the pool."), Length(max=100)])
    cidr = StringField(validators=[InputRequired("Enter the range, like 100.64.0.0/24."), Length(max=50)])
    gateway = StringField(validators=[Optional(), Length(max=50)])
    excluded = TextAreaField(validators=[Optional(), Length(max=5000)])

    def values(self) -> dict:
        excluded = [a.strip() for a in (self.excluded.data or "").replace(",", "\n").splitlines() if a.strip()]
        return {"name": self.name.data.strip(), "cidr": self.cidr.data.strip(),
                "gateway": (self.gateway.data or "").strip() or None, "excluded": excluded}


class EquipmentModelForm(FlaskForm):
    vendor = StringField(validators=[InputRequired("Enter the vendor."), Length(max=100)])
    name = StringField(validators=[InputRequired("Enter the model's name."), Length(max=100)])
    device_type = StringField(validators=[Optional(), Length(max=40)])
    description = TextAreaField(validators=[Optional(), Length(max=2000)])


class EquipmentItemForm(FlaskForm):
    model_id = SelectField(coerce=int, validators=[InputRequired("Choose the model.")], validate_choice=False)
    serial = StringField(validators=[InputRequired("Enter the serial number."), Length(max=100)])
    mac = StringField(validators=[Optional(), Length(max=17)])
    notes = TextAreaField(validators=[Optional(), Length(max=2000)])

    def offer(self, models) -> EquipmentItemForm:
        self.model_id.choices = [SelectChoice(m.id, f"{m.vendor} {m.name}") for m in models]
        return self


class EquipmentChangeForm(FlaskForm):
    action = SelectField(choices=[SelectChoice(a, ACTION_WORDS[a]) for a in TRANSITIONS],
                         validators=[InputRequired()])
    service_id = WholeField(validators=[Optional(), NumberRange(min=1, max=2**63 - 1, message=NOT_A_NUMBER)],
                              render_kw={"inputmode": "numeric"})
    notes = TextAreaField(validators=[Optional(), Length(max=2000)])
