"""The forms of the console's Reseller accounts pages, checking what the API's schemas check
(app/api/reseller_accounts/schemas.py); the account's own rules (restriction above warning, a currency that
cannot change once posted to) are the service's, shown next to the field they name. Messages are msgids."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DecimalField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp

from app.models.reseller_accounts import NEW_CUSTOMER_ACTIONS, PAYMENT_ACTIONS, PAYMENT_TERMS, SERVICE_ACTIONS

NOT_A_NUMBER = "Enter a number, like 250000."
CURRENCY_WRONG = "Enter a three-letter currency code, like KES."
LIMIT_WRONG = "Enter a limit of more than 0, or leave it empty for none."
ACTION_WORDS = {"suspend": "Stop new customers", "approval": "New customers need approval",
                "continue": "Carry on", "review": "Review by staff", "restrict": "Stop new activations",
                "escalate": "Escalate to staff"}


class AccountForm(FlaskForm):
    currency = StringField(validators=[InputRequired(CURRENCY_WRONG), Regexp(r"^[A-Za-z]{3}$", message=CURRENCY_WRONG)])
    credit_limit = DecimalField(places=None, validators=[Optional(), NumberRange(0.01, None, LIMIT_WRONG)],
                                render_kw={"inputmode": "decimal"})
    warning_percent = IntegerField(validators=[InputRequired("Enter 50 to 95."),
                                               NumberRange(50, 95, "Enter 50 to 95.")],
                                   render_kw={"inputmode": "numeric"})
    restriction_percent = IntegerField(validators=[InputRequired("Enter 75 to 99."),
                                                   NumberRange(75, 99, "Enter 75 to 99.")],
                                       render_kw={"inputmode": "numeric"})
    at_limit_new_customers = SelectField(choices=[SelectChoice(a, ACTION_WORDS[a]) for a in NEW_CUSTOMER_ACTIONS])
    at_limit_services = SelectField(choices=[SelectChoice(a, ACTION_WORDS[a]) for a in SERVICE_ACTIONS])
    at_limit_payments = SelectField(choices=[SelectChoice(a, ACTION_WORDS[a]) for a in PAYMENT_ACTIONS])
    payment_terms_days = SelectField(choices=[SelectChoice(str(d), f"{d} days") for d in PAYMENT_TERMS])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("credit_limit", "warning_percent", "restriction_percent"):
            getattr(self, name).gettext = lambda s: NOT_A_NUMBER

    def values(self) -> dict:
        return {"currency": self.currency.data.upper(), "credit_limit": self.credit_limit.data,
                "warning_percent": self.warning_percent.data, "restriction_percent": self.restriction_percent.data,
                "at_limit_new_customers": self.at_limit_new_customers.data,
                "at_limit_services": self.at_limit_services.data, "at_limit_payments": self.at_limit_payments.data,
                "payment_terms_days": int(self.payment_terms_days.data)}


class DecisionForm(FlaskForm):
    note = TextAreaField(validators=[Optional(), Length(max=2000, message="At most 2,000 characters.")])
