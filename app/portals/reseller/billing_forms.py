"""The forms of the reseller portal's Billing pages (billing.py, billing_payments.py, billing_runs.py,
billing_settings.py). Messages are msgids: the templates translate them, so they are in the catalogue
themes/base/translations/sw/LC_MESSAGES/reseller-billing.po.

The forms check what the services would refuse with the services' own readers (`money` for amounts), so the
message is next to the field before anything is done; what only the service can know (the customer is billed
in another currency, the invoice is left to credit) comes back from it and is put next to its field by
`put_refusal`. The forms that move money carry a token made when they are drawn (`fresh`): it is the action's
idempotency key (app/services/billing/keyed_once.py), so a double submit records once.
"""

from __future__ import annotations

import re
import secrets
from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.models.billing import PAYMENT_METHODS
from app.services.billing import buckets, dunning, invoices
from app.services.billing.gateways import daraja_settings, endpoints
from app.services.errors import Invalid, ServiceError
from app.services.money import money
from app.services.selfcare.portal_rules import BUNDLE_SOURCES

NOT_A_DATE = "Enter the date as a day, a month and a year."
AMOUNT_MISSING = "Enter the amount."
AMOUNT_WRONG = "Enter an amount like 500 or 500.50."
AMOUNT_ZERO = "Enter an amount of more than zero."
REASON_MISSING = "Say why."
CUSTOMER_MISSING = "Enter the customer's Portal ID."
CUSTOMER_UNKNOWN = "No customer has this Portal ID."
METHOD_MISSING = "Choose how the money was paid."
DESCRIPTION_MISSING = "Describe what is charged."
PRICE_WRONG = "Enter a price like 1500 or 1500.50."
QUANTITY_WRONG = "Enter a quantity of more than zero."
ONE_LINE = "Enter at least one line."
PERIOD_WRONG = "Enter the month as year and month, like 2026-12."
PERIOD_OUTSIDE = "A billing run bills from your first customer's month up to next month."
CHECK_FORM = "This was not accepted: check what you typed."
CREDIT_TOO_MUCH = "That is more than is left to credit on this invoice."
CREDIT_NOTHING = "Enter an amount to credit on at least one line."
REFUND_TOO_MUCH = "That is more than is left to refund of this payment."
CURRENCY_OTHER = "This customer is billed in another currency."
DAYS_WRONG = "Enter days as whole numbers separated by commas, in ascending order, like 1, 3, 7."
WHOLE_DAYS = "Enter a whole number of days from 0 to 365."
PERCENT_WRONG = "Enter a percentage from 0 to 100."
FEE_WRONG = "Enter a fee of 0 or more, like 200 or 200.50."
NAME_MISSING = "Enter a name."
RATE_WRONG = "Enter a percentage from 0 to 100, with at most four decimal places."
SHORTCODE_WRONG = "Enter 5 to 7 digits."
TILL_MISSING = "A till has a till number: enter it."
TILL_ONLY = "Only a till has a till number: leave it empty for a paybill."
SECRET_WRONG = "Enter 8 to 500 characters, or leave it empty to keep the one set."  # noqa: S105 (a message)
SECRET_FIRST = "Enter it: it is not set yet."  # noqa: S105 (a message)
STRIPE_NOTHING = "Enter the webhook signing secret, the secret API key, or both."
CODE_WRONG = "Use 1 to 40 letters, digits, dots, dashes or underscores."
CODE_TWICE = "Another bundle has this code."
BUNDLE_AMOUNT_WRONG = "Enter what the bundle gives: more than 0 (whole megabytes, minutes or messages)."
VALIDITY_WRONG = "Enter whole days from 1 to 3650, or leave it empty for no expiry."

METHOD_WORDS = {"cash": "Cash", "bank_transfer": "Bank transfer", "mpesa": "M-PESA", "card": "Card",
                "wallet": "Prepaid wallet"}
KIND_WORDS = {"invoice": "Invoice", "proforma": "Pro-forma invoice", "credit_note": "Credit note"}
BUNDLE_KIND_WORDS = {"data": "Data (MB)", "voice": "Voice (minutes)", "sms": "SMS (messages)",
                     "money": "Prepaid credit"}
TOKEN = r"^[A-Za-z0-9_-]{16,64}$"  # noqa: S105 (the form token's shape)


def new_token() -> str:
    return secrets.token_urlsafe(18)


def _amount(value: str | None) -> Decimal:
    return money((value or "").strip().replace(",", ""))


def _positive_amount(form, field):
    if not (field.data or "").strip():
        return
    try:
        value = _amount(field.data)
    except Invalid:
        raise ValidationError(AMOUNT_WRONG) from None
    if value <= 0:
        raise ValidationError(AMOUNT_ZERO)


def put_refusal(form: FlaskForm, exc: ServiceError, fields: dict[str, tuple[str, str]]) -> None:
    """The service's refusal next to the field it names: `fields` maps the service's field name to (the form's
    field, the msgid to show); anything else is a message over the form."""
    found = fields.get(exc.extra.get("field") or "")
    if found and found[0] in form:
        form[found[0]].errors = [*form[found[0]].errors, found[1]] if isinstance(form[found[0]].errors, list) \
            else [found[1]]
    else:
        form.form_errors.append(CHECK_FORM)


class Keyed(FlaskForm):
    """A form that moves money: its token is the action's idempotency key."""

    token = HiddenField(validators=[InputRequired(), Regexp(TOKEN)])

    def fresh(self):
        self.token.data = new_token()
        return self


class ActionForm(FlaskForm):
    """A button that does one thing (issue a draft, convert a pro-forma, remove a bundle): its CSRF token only."""


class InvoiceFilterForm(FlaskForm):
    """Which documents the list shows, sent by GET: the address says what is shown."""

    class Meta:
        csrf = False

    status = SelectField(choices=[SelectChoice("", "Every status"), *(SelectChoice(s, s) for s in invoices.STATUSES)],
                         default="", validators=[Optional()])
    kind = SelectField(choices=[SelectChoice("", "Every document"),
                                *(SelectChoice(k, KIND_WORDS[k]) for k in invoices.KINDS)],
                       default="", validators=[Optional()])


class VoidForm(FlaskForm):
    reason = TextAreaField(validators=[InputRequired(REASON_MISSING), Length(max=1000)])


class CreditNoteForm(Keyed):
    """A credit note: the whole invoice, or an amount on some lines (`line-<id>` fields, read by `line_amounts`)."""

    scope = RadioField(choices=[SelectChoice("whole", "The whole invoice"),
                                SelectChoice("lines", "Part of some lines")],
                       default="whole", validators=[InputRequired()])
    reason = TextAreaField(validators=[InputRequired(REASON_MISSING), Length(max=1000)])

    def line_amounts(self, formdata, lines) -> tuple[list[dict], dict[int, str]]:
        """The lines to credit (`{"line_id", "amount"}`) as typed, and a message per line typed wrong."""
        wanted, wrong = [], {}
        for line in lines:
            typed = (formdata.get(f"line-{line.id}") or "").strip()
            if not typed:
                continue
            try:
                value = _amount(typed)
            except Invalid:
                wrong[line.id] = AMOUNT_WRONG
                continue
            if value <= 0:
                wrong[line.id] = AMOUNT_ZERO
            else:
                wanted.append({"line_id": line.id, "amount": value})
        return wanted, wrong


class LineForm(Form):
    """One line of a hand-made invoice or pro-forma (a sub-form: the outer form carries the CSRF token)."""

    description = StringField(validators=[Length(max=500)])
    quantity = StringField(default="1", validators=[Length(max=20)])
    unit_price = StringField(validators=[Length(max=20)])

    def validate_quantity(self, field):
        if not (self.description.data or "").strip():
            return
        try:
            value = Decimal((field.data or "1").strip())
        except ArithmeticError:
            raise ValidationError(QUANTITY_WRONG) from None
        if not value.is_finite() or value <= 0:
            raise ValidationError(QUANTITY_WRONG)

    def validate_unit_price(self, field):
        if not (self.description.data or "").strip():
            if (field.data or "").strip():
                raise ValidationError(DESCRIPTION_MISSING)
            return
        try:
            money((field.data or "").strip().replace(",", ""), "unit_price")
        except Invalid:
            raise ValidationError(PRICE_WRONG) from None


class DocumentForm(Keyed):
    """A hand-made invoice or pro-forma for a customer, a draft to issue (or issued at once)."""

    customer = StringField(validators=[InputRequired(CUSTOMER_MISSING), Length(max=40)])
    kind = RadioField(choices=[SelectChoice("proforma", "Pro-forma invoice"), SelectChoice("invoice", "Invoice")],
                      default="proforma", validators=[InputRequired()])
    lines = FieldList(FormField(LineForm), min_entries=3, max_entries=3)
    notes = TextAreaField(validators=[Optional(), Length(max=2000)])

    def validate_lines(self, field):
        if not any((entry.form.description.data or "").strip() for entry in field.entries):
            raise ValidationError(ONE_LINE)

    def line_dicts(self) -> list[dict]:
        return [{"description": e.form.description.data.strip(), "quantity": (e.form.quantity.data or "1").strip(),
                 "unit_price": e.form.unit_price.data.strip().replace(",", "")}
                for e in self.lines.entries if (e.form.description.data or "").strip()]


class PaymentForm(Keyed):
    """A payment received: who paid (Portal ID), how much, how, the payer's reference and the day."""

    customer = StringField(validators=[InputRequired(CUSTOMER_MISSING), Length(max=40)])
    amount = StringField(validators=[InputRequired(AMOUNT_MISSING), Length(max=20, message=AMOUNT_WRONG),
                                     _positive_amount])
    method = SelectField(choices=[SelectChoice("", "Choose…"),
                                  *(SelectChoice(m, METHOD_WORDS.get(m, m)) for m in PAYMENT_METHODS)],
                         validators=[InputRequired(METHOD_MISSING)])
    reference = StringField(validators=[Optional(), Length(max=120)])
    received_on = DateField(validators=[Optional()], invalid_value_message=NOT_A_DATE)
    notes = TextAreaField(validators=[Optional(), Length(max=2000)])

    def validate_method(self, field):
        if field.data not in PAYMENT_METHODS:
            raise ValidationError(METHOD_MISSING)

    @property
    def value(self) -> Decimal:
        return _amount(self.amount.data)


class RefundForm(Keyed):
    amount = StringField(validators=[Optional(), Length(max=20, message=AMOUNT_WRONG), _positive_amount])
    reason = TextAreaField(validators=[InputRequired(REASON_MISSING), Length(max=1000)])

    @property
    def value(self) -> Decimal | None:
        return _amount(self.amount.data) if (self.amount.data or "").strip() else None


class RunForm(FlaskForm):
    period = StringField(validators=[InputRequired(PERIOD_WRONG), Regexp(r"^\d{4}-(0[1-9]|1[0-2])$",
                                                                         message=PERIOD_WRONG)])


class MultiCheckbox(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class DunningForm(FlaskForm):
    """The dunning policy; what it means is app/services/billing/dunning.py's `validate`."""

    enabled = BooleanField()
    reminder_days = StringField(validators=[Optional(), Length(max=200)])
    channels = MultiCheckbox(choices=[SelectChoice("email", "E-mail"), SelectChoice("sms", "SMS")],
                             validate_choice=True)
    grace_days = IntegerField(validators=[InputRequired(WHOLE_DAYS), NumberRange(0, dunning.MAX_DAYS, WHOLE_DAYS)])
    action = RadioField(choices=[SelectChoice("limit", "Limit the service (slow it down)"),
                                 SelectChoice("suspend", "Suspend the service")], validators=[InputRequired()])
    late_fee = StringField(validators=[Optional(), Length(max=20)])
    late_fee_percent = StringField(validators=[Optional(), Length(max=20)])

    def validate_reminder_days(self, field):
        try:
            self.days()
        except ValueError:
            raise ValidationError(DAYS_WRONG) from None

    def days(self) -> list[int]:
        text = (self.reminder_days.data or "").replace(";", ",")
        found = [int(part) for part in (p.strip() for p in text.split(",")) if part]
        if any(not 1 <= d <= dunning.MAX_DAYS for d in found) or any(b <= a for a, b in zip(found, found[1:],
                                                                                               strict=False)):
            raise ValueError(text)
        return found

    def validate_late_fee(self, field):
        if (field.data or "").strip():
            try:
                if money(field.data.strip(), "late_fee") < 0:
                    raise ValidationError(FEE_WRONG)
            except Invalid:
                raise ValidationError(FEE_WRONG) from None

    def validate_late_fee_percent(self, field):
        if (field.data or "").strip():
            try:
                value = money(field.data.strip(), "late_fee_percent")
            except Invalid:
                raise ValidationError(PERCENT_WRONG) from None
            if not 0 <= value <= 100:
                raise ValidationError(PERCENT_WRONG)

    def policy(self) -> dict:
        """The policy as the API's PUT takes it."""
        return {"enabled": bool(self.enabled.data), "reminder_days": self.days(),
                "channels": list(self.channels.data or []), "grace_days": self.grace_days.data,
                "action": self.action.data, "late_fee": (self.late_fee.data or "").strip() or None,
                "late_fee_percent": (self.late_fee_percent.data or "").strip() or None}


class TaxRateForm(FlaskForm):
    name = StringField(validators=[InputRequired(NAME_MISSING), Length(max=60, message=NAME_MISSING)])
    rate = StringField(validators=[InputRequired(RATE_WRONG), Length(max=20, message=RATE_WRONG)])
    compound = BooleanField()
    active = BooleanField(default=True)
    position = IntegerField(default=0, validators=[Optional(), NumberRange(0, 1000)])

    def validate_rate(self, field):
        try:
            value = Decimal((field.data or "").strip())
        except ArithmeticError:
            raise ValidationError(RATE_WRONG) from None
        if not value.is_finite() or not 0 <= value <= 100 or value != value.quantize(Decimal("0.0001")):
            raise ValidationError(RATE_WRONG)

    def values(self) -> dict:
        return {"name": self.name.data.strip(), "rate": self.rate.data.strip(), "compound": bool(self.compound.data),
                "active": bool(self.active.data), "position": self.position.data or 0}


class MpesaForm(FlaskForm):
    """Daraja's credentials: secrets left empty keep the ones set (they are never shown back)."""

    shortcode_type = RadioField(choices=[SelectChoice("paybill", "Paybill"), SelectChoice("till", "Till (Buy Goods)")],
                                default="paybill", validators=[InputRequired()])
    shortcode = StringField(validators=[InputRequired(SHORTCODE_WRONG), Regexp(r"^\d{5,7}$", message=SHORTCODE_WRONG)])
    till_number = StringField(validators=[Length(max=20, message=SHORTCODE_WRONG)])
    environment = SelectField(choices=[SelectChoice(e, e.capitalize()) for e in endpoints.ENVIRONMENTS],
                              default="sandbox")
    consumer_key = PasswordField(validators=[Optional(), Length(8, 500, SECRET_WRONG)])
    consumer_secret = PasswordField(validators=[Optional(), Length(8, 500, SECRET_WRONG)])
    passkey = PasswordField(validators=[Optional(), Length(8, 500, SECRET_WRONG)])

    def validate_till_number(self, field):
        typed = (field.data or "").strip()
        if self.shortcode_type.data == "till" and not typed:
            raise ValidationError(TILL_MISSING)
        if self.shortcode_type.data == "paybill" and typed:
            raise ValidationError(TILL_ONLY)
        if typed and not re.match(r"^\d{5,7}$", typed):
            raise ValidationError(SHORTCODE_WRONG)

    def values(self) -> dict:
        out = {"shortcode_type": self.shortcode_type.data, "shortcode": self.shortcode.data.strip(),
               "environment": self.environment.data, "till_number": (self.till_number.data or "").strip() or None}
        for name in daraja_settings.SECRETS:
            typed = (self[name].data or "").strip()
            out[name] = typed or None
        return out


class StripeForm(FlaskForm):
    webhook_secret = PasswordField(validators=[Optional(), Length(8, 500, SECRET_WRONG)])
    api_key = PasswordField(validators=[Optional(), Length(8, 500, SECRET_WRONG)])

    def validate_api_key(self, field):
        if not (field.data or "").strip() and not (self.webhook_secret.data or "").strip():
            raise ValidationError(STRIPE_NOTHING)


class BundleForm(FlaskForm):
    """A top-up bundle customers may buy in the portal (app/services/selfcare/portal_rules.py)."""

    code = StringField(validators=[InputRequired(CODE_WRONG), Regexp(r"^[A-Za-z0-9._-]{1,40}$", message=CODE_WRONG)])
    name = StringField(validators=[InputRequired(NAME_MISSING), Length(max=200)])
    kind = SelectField(choices=[SelectChoice(k, BUNDLE_KIND_WORDS[k]) for k in buckets.KINDS], default="data")
    amount = StringField(validators=[InputRequired(BUNDLE_AMOUNT_WRONG), Length(max=20)])
    price = StringField(validators=[InputRequired(AMOUNT_MISSING), Length(max=20, message=AMOUNT_WRONG),
                                    _positive_amount])
    validity_days = IntegerField(validators=[Optional(), NumberRange(1, 3650, VALIDITY_WRONG)])
    source = SelectField(choices=[SelectChoice(s, {"topup": "Top-up", "addon": "Add-on"}.get(s, s))
                                  for s in BUNDLE_SOURCES], default="topup")

    def validate_amount(self, field):
        try:
            buckets.quantity(field.data.strip(), self.kind.data, "amount")
        except (Invalid, ArithmeticError, AttributeError):
            raise ValidationError(BUNDLE_AMOUNT_WRONG) from None

    def bundle(self) -> dict:
        return {"code": self.code.data.strip(), "name": self.name.data.strip(), "kind": self.kind.data,
                "amount": self.amount.data.strip(), "price": self.price.data.strip().replace(",", ""),
                "validity_days": self.validity_days.data, "source": self.source.data}
