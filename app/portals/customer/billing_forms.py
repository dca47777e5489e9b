"""The forms of the customer's Billing pages. Messages are msgids: the templates translate them (`_(error)`), so
they are listed in the catalogues (themes/base/translations).

The payment forms check what the services would refuse, with the services' own functions (the M-PESA number
as `normalise_msisdn` reads it, money as `money` reads it, M-PESA's whole shillings and limits), so that the
customer sees the message next to the field before anything is sent to a gateway. Each payment form carries a
token made when it is drawn: it is the payment's idempotency key, so the same form sent twice (a double click,
a reload of the answer) starts one payment.
"""

from __future__ import annotations

import secrets

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, Regexp, ValidationError

from app.services.billing.gateways import checkout, stk_push
from app.services.billing.payment_methods import normalise_msisdn
from app.services.errors import Invalid
from app.services.money import money
from app.services.selfcare.finance import SHOWN_STATUSES

NOT_A_DATE = "Enter the date as a day, a month and a year."
CHOOSE_WAY = "Choose how to pay."
PHONE_MISSING = "Enter the M-PESA number to send the prompt to."
PHONE_WRONG = "Enter a Kenyan mobile number, like 0712 345 678 or 254712345678."
AMOUNT_MISSING = "Enter the amount to pay."
AMOUNT_WRONG = "Enter an amount like 500 or 500.50."
AMOUNT_ZERO = "Enter an amount of more than zero."
WHOLE_SHILLINGS = "M-PESA takes whole shillings: enter the amount without cents."
MPESA_LIMITS = "M-PESA takes 1 to 250,000 shillings at a time."
KEY_PREFIX = "portal-form:"  # a page's idempotency keys, apart from those API clients choose

WAYS = {stk_push.PROVIDER: "M-PESA", checkout.PROVIDER: "Card"}


def new_token() -> str:
    return secrets.token_urlsafe(18)


class InvoiceFilterForm(FlaskForm):
    """Which invoices the list shows, sent by GET: the address says what is shown."""

    class Meta:
        csrf = False

    status = SelectField(choices=[SelectChoice("", "Every status"), *(SelectChoice(s, s) for s in SHOWN_STATUSES)],
                         default="", validators=[Optional()])


def _end_after_start(form, field):
    if form.start.data and field.data and field.data < form.start.data:
        raise ValidationError("The last day must be on or after the first day.")


class StatementForm(FlaskForm):
    """The statement's dates, sent by GET (from, to)."""

    class Meta:
        csrf = False

    start = DateField(validators=[InputRequired("Enter the first day.")], invalid_value_message=NOT_A_DATE)
    end = DateField(validators=[InputRequired("Enter the last day."), _end_after_start],
                    invalid_value_message=NOT_A_DATE)


class PayForm(FlaskForm):
    """Paying an invoice: how (`way`, among those the reseller takes) and, for M-PESA, the number to prompt."""

    token = HiddenField(validators=[InputRequired(), Regexp(r"^[A-Za-z0-9_-]{16,64}$")])
    way = RadioField(validators=[InputRequired(CHOOSE_WAY)], validate_choice=False)
    phone = StringField(validators=[Length(max=20, message=PHONE_WRONG)])

    def offer(self, ways: tuple[str, ...]) -> PayForm:
        """Offer these ways (chosen already when there is only one)."""
        self.way.choices = [SelectChoice(w, WAYS[w]) for w in ways]
        if len(ways) == 1 and not self.way.data:
            self.way.data = ways[0]
        return self

    def fresh(self) -> PayForm:
        """A new token: the form is drawn for a payment not yet started."""
        self.token.data = new_token()
        return self

    @property
    def key(self) -> str:
        return KEY_PREFIX + self.token.data

    def validate_way(self, field):
        if field.data not in [c.value for c in field.choices or ()]:
            raise ValidationError(CHOOSE_WAY)

    def validate_phone(self, field):
        if self.way.data != stk_push.PROVIDER:
            return
        if not (field.data or "").strip():
            raise ValidationError(PHONE_MISSING)
        try:
            field.data = normalise_msisdn(field.data)
        except Invalid:
            raise ValidationError(PHONE_WRONG) from None


class TopUpForm(PayForm):
    """Topping up the balance: an amount, and how to pay it."""

    amount = StringField(validators=[InputRequired(AMOUNT_MISSING), Length(max=20, message=AMOUNT_WRONG)])

    @property
    def value(self):
        return money(self.amount.data.strip().replace(",", ""))

    def validate_amount(self, field):
        try:
            value = self.value
        except Invalid:
            raise ValidationError(AMOUNT_WRONG) from None
        if value <= 0:
            raise ValidationError(AMOUNT_ZERO)
        if self.way.data == stk_push.PROVIDER:
            try:
                stk_push.whole_shillings(value, typed=True)
            except Invalid:
                raise ValidationError(WHOLE_SHILLINGS) from None
            if not stk_push.MIN_AMOUNT <= value <= stk_push.MAX_AMOUNT:
                raise ValidationError(MPESA_LIMITS)


class ActionForm(FlaskForm):
    """A button that changes something (make a payment method the default, remove one): its CSRF token only."""
