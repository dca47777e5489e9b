"""The forms of the console's Commissions pages, checking what the API's schemas check
(app/api/commissions/schemas.py, app/api/payouts/schemas.py); a kind's terms (which of rate, amount,
currency, months, tiers it takes) are the rules service's to check, and its refusal is shown next to the
field it names. Messages are msgids."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

from app.models.commissions import RULE_KINDS
from app.models.payouts import FREQUENCIES, METHODS

NOT_A_DATE = "Enter the date as a day, a month and a year."
NOT_A_NUMBER = "Enter a number, like 10 or 12.5."
CURRENCY_WRONG = "Enter a three-letter currency code, like KES."
AMOUNT_NEEDED = "Enter what the disputed lines should come to."
KIND_WORDS = {"setup": "Setup", "recurring": "Recurring", "usage": "Usage", "retention": "Retention bonus",
              "performance": "Performance tiers"}
METHOD_WORDS = {"bank_transfer": "Bank transfer", "wire": "Wire", "check": "Cheque", "digital_wallet": "Digital wallet"}
FREQUENCY_WORDS = {"monthly": "Monthly", "quarterly": "Quarterly", "bi-annual": "Twice a year", "annual": "Yearly"}


class ActionForm(FlaskForm):
    """A button that changes something: its CSRF token is the whole form."""


class RuleForm(FlaskForm):
    kind = SelectField(choices=[SelectChoice(k, KIND_WORDS[k]) for k in RULE_KINDS],
                       validators=[InputRequired("Choose the kind of commission.")])
    effective_from = DateField(validators=[InputRequired("Enter the first day.")], invalid_value_message=NOT_A_DATE)
    effective_until = DateField(validators=[Optional()], invalid_value_message=NOT_A_DATE)
    rate = DecimalField(places=None, validators=[Optional(), NumberRange(0, 100, "Enter a percent from 0 to 100.")],
                        render_kw={"inputmode": "decimal"})
    amount = DecimalField(places=None, validators=[Optional(), NumberRange(0, None, "Enter an amount of 0 or more.")],
                          render_kw={"inputmode": "decimal"})
    currency = StringField(validators=[Optional(), Regexp(r"^[A-Za-z]{3}$", message=CURRENCY_WRONG)])
    months = IntegerField(validators=[Optional(), NumberRange(1, 120, "Enter 1 to 120 months.")],
                          render_kw={"inputmode": "numeric"})
    tiers = TextAreaField(validators=[Optional(), Length(max=2000)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("rate", "amount", "months"):
            getattr(self, name).gettext = lambda s: NOT_A_NUMBER

    def validate_effective_until(self, field):
        if field.data and self.effective_from.data and field.data < self.effective_from.data:
            raise ValidationError("The last day must be on or after the first day.")

    def validate_tiers(self, field):
        self.parsed_tiers()

    def parsed_tiers(self) -> list[dict] | None:
        """`from: rate` a line (a volume and its percent), as the API's tiers."""
        lines = [line.strip() for line in (self.tiers.data or "").splitlines() if line.strip()]
        if not lines:
            return None
        found = []
        for line in lines:
            start, _, rate = line.partition(":")
            try:
                found.append({"from": str(Decimal(start.strip())), "rate": str(Decimal(rate.strip()))})
            except (InvalidOperation, ValueError):
                raise ValidationError("Write each tier as a volume and its percent, like 100000: 12.5.") from None
        return found

    def terms(self) -> dict:
        return {"rate": self.rate.data, "amount": self.amount.data,
                "currency": (self.currency.data or "").upper() or None, "months": self.months.data,
                "tiers": self.parsed_tiers(), "effective_until": self.effective_until.data}


class ScheduleForm(FlaskForm):
    frequency = SelectField(choices=[SelectChoice(f, FREQUENCY_WORDS[f]) for f in FREQUENCIES])
    processing_day = IntegerField(validators=[InputRequired("Enter the day of the month, 1 to 28."),
                                              NumberRange(1, 28, "Enter the day of the month, 1 to 28.")],
                                  render_kw={"inputmode": "numeric"})
    minimum_threshold = DecimalField(places=None, validators=[
        InputRequired("Enter the minimum payout, 50 to 1,000."),
        NumberRange(50, 1000, "Enter the minimum payout, 50 to 1,000.")], render_kw={"inputmode": "decimal"})
    method = SelectField(choices=[SelectChoice(m, METHOD_WORDS[m]) for m in METHODS])
    currency = StringField(validators=[InputRequired(CURRENCY_WRONG), Regexp(r"^[A-Za-z]{3}$", message=CURRENCY_WRONG)])
    dispute_window_days = IntegerField(validators=[InputRequired("Enter 1 to 30 days."),
                                                   NumberRange(1, 30, "Enter 1 to 30 days.")],
                                       render_kw={"inputmode": "numeric"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("processing_day", "minimum_threshold", "dispute_window_days"):
            getattr(self, name).gettext = lambda s: NOT_A_NUMBER


class ApproveForm(FlaskForm):
    note = TextAreaField(validators=[Optional(), Length(max=2000, message="At most 2,000 characters.")])


class PayForm(FlaskForm):
    method = SelectField(choices=[SelectChoice(m, METHOD_WORDS[m]) for m in METHODS])
    reference = StringField(validators=[InputRequired("Enter the payment's reference."),
                                        Length(max=120, message="At most 120 characters.")])
    payout_currency = StringField(validators=[Optional(), Regexp(r"^[A-Za-z]{3}$", message=CURRENCY_WRONG)])
    fx_rate = DecimalField(places=None, validators=[Optional(), NumberRange(0, None, NOT_A_NUMBER)],
                           render_kw={"inputmode": "decimal"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fx_rate.gettext = lambda s: NOT_A_NUMBER


class ResolveForm(FlaskForm):
    outcome = RadioField(choices=[SelectChoice("Adjusted", "Adjust the commission"),
                                  SelectChoice("Rejected", "Reject the dispute")],
                         validators=[InputRequired("Choose how the dispute is settled.")])
    adjusted_amount = DecimalField(places=None, validators=[Optional()], render_kw={"inputmode": "decimal"})
    note = TextAreaField(validators=[InputRequired("Say why: the reseller reads it."),
                                     Length(max=4000, message="At most 4,000 characters.")])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.adjusted_amount.gettext = lambda s: NOT_A_NUMBER

    def validate(self, extra_validators=None) -> bool:
        """The amount is needed when adjusting only (Optional() ends the field's own checks when it is empty)."""
        valid = super().validate(extra_validators)
        if self.outcome.data == "Adjusted" and self.adjusted_amount.data is None and not self.adjusted_amount.errors:
            self.adjusted_amount.errors = [*self.adjusted_amount.errors, AMOUNT_NEEDED]
            return False
        return valid
