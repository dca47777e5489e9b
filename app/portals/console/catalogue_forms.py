"""The forms of the console's Master catalogue pages, checking what the API's schemas check
(app/api/catalogue/schemas.py); the catalogue's own rules (a plan's code, a kind the reseller may sell) are
the service's, shown next to the field they name. Messages are msgids."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, DecimalField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp

from app.models.catalogue import BILLING_PERIODS, PLAN_KINDS

NOT_A_NUMBER = "Enter a whole number, or leave it empty."
NOT_AN_AMOUNT = "Enter an amount, like 1500 or 1500.50."
CURRENCY_WRONG = "Enter a three-letter currency code, like KES."
KIND_WORDS = {"internet": "Internet", "voice": "Voice", "recurring": "Recurring", "bundle": "Bundle"}
PERIOD_WORDS = {"monthly": "Monthly", "quarterly": "Quarterly", "yearly": "Yearly"}
NUMBERS = ("download_kbps", "upload_kbps", "data_allowance_mb", "voice_minutes")


def _count():
    return IntegerField(validators=[Optional(), NumberRange(0, None, NOT_A_NUMBER)],
                        render_kw={"inputmode": "numeric"})


class PlanForm(FlaskForm):
    code = StringField(validators=[InputRequired("Enter the plan's code."),
                                   Regexp(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$",
                                          message="1-40 letters, digits, '_', '.' or '-', starting with a letter or "
                                                  "digit.")])
    name = StringField(validators=[InputRequired("Enter the plan's name."), Length(max=200)])
    kind = SelectField(choices=[SelectChoice(k, KIND_WORDS[k]) for k in PLAN_KINDS])
    description = TextAreaField(validators=[Optional(), Length(max=2000, message="At most 2,000 characters.")])
    download_kbps = _count()
    upload_kbps = _count()
    data_allowance_mb = _count()
    voice_minutes = _count()
    wholesale_price = DecimalField(places=None, validators=[InputRequired(NOT_AN_AMOUNT),
                                                            NumberRange(0, None, NOT_AN_AMOUNT)],
                                   render_kw={"inputmode": "decimal"})
    setup_fee = DecimalField(places=None, validators=[Optional(), NumberRange(0, None, NOT_AN_AMOUNT)],
                             render_kw={"inputmode": "decimal"})
    currency = StringField(validators=[InputRequired(CURRENCY_WRONG), Regexp(r"^[A-Za-z]{3}$", message=CURRENCY_WRONG)])
    billing_period = SelectField(choices=[SelectChoice(p, PERIOD_WORDS[p]) for p in BILLING_PERIODS])
    is_active = BooleanField(default=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in NUMBERS:
            getattr(self, name).gettext = lambda s: NOT_A_NUMBER
        for name in ("wholesale_price", "setup_fee"):
            getattr(self, name).gettext = lambda s: NOT_AN_AMOUNT

    def editing(self) -> PlanForm:
        """A plan's code and kind are what it is: they are not changed."""
        del self.code
        del self.kind
        return self

    def fields(self) -> dict:
        values = {name: getattr(self, name).data for name in (
            "name", "description", *NUMBERS, "wholesale_price", "currency", "billing_period", "is_active")}
        values["currency"] = values["currency"].upper()
        values["description"] = (values["description"] or "").strip() or None
        values["setup_fee"] = self.setup_fee.data if self.setup_fee.data is not None else 0
        if self.code is not None:  # a new plan (editing() removes them)
            values.update(code=self.code.data.strip(), kind=self.kind.data)
        return values


class AuthoriseForm(FlaskForm):
    tenant_id = SelectField(validators=[InputRequired("Choose the reseller.")], validate_choice=True)
    regions = TextAreaField(validators=[Optional(), Length(max=2000, message="At most 2,000 characters.")])

    def offer(self, resellers: list[tuple[int, str]]) -> AuthoriseForm:
        self.tenant_id.choices = [SelectChoice(str(i), label) for i, label in resellers]
        return self

    def region_list(self) -> list[str] | None:
        found = [r.strip() for r in (self.regions.data or "").replace(",", "\n").splitlines() if r.strip()]
        return found or None


class ActionForm(FlaskForm):
    """A button that changes something: its CSRF token is the whole form."""
