"""The forms of the console's Resellers pages. They check what the console API's schemas check
(app/api/console/schemas.py, app/api/resellers/schemas.py), so that staff see the message next to the field
before anything is provisioned; the tree's own rules (terms within the parent's, the customer limit's room)
are the service's, and its refusal is shown next to the field it names. Messages are msgids."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DecimalField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.models.public import TENANT_STATUSES
from app.services.resellers import SERVICE_KINDS

CODE_WRONG = "2-40 upper-case letters, digits or '_', starting with a letter."
PERCENT_WRONG = "Enter a percentage from 0 to 100, with at most two decimals."
LIMIT_WRONG = "Enter a whole number of customers, 0 or more, or leave it empty for no limit."
MAX_HOSTS = 10


class ChecksField(SelectMultipleField):
    """Several choices as check boxes, a fieldset of them (the kit's wtf_field draws single fields)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class FilterForm(FlaskForm):
    """Which resellers the list shows, sent by GET: the address says what is shown."""

    class Meta:
        csrf = False

    q = StringField(validators=[Optional(), Length(max=200)])
    status = SelectField(choices=[SelectChoice("", "Every status"), *(SelectChoice(s, s) for s in TENANT_STATUSES)],
                         default="", validators=[Optional()])


def _hosts(form, field):
    names = hosts_of(field.data)
    if len(names) > MAX_HOSTS:
        raise ValidationError("At most ten host names.")
    if any(len(n) > 253 for n in names):
        raise ValidationError("A host name has at most 253 characters.")


def hosts_of(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").replace(",", "\n").splitlines() if line.strip()]


def _two_decimals(form, field):
    if field.data is not None and field.data != field.data.quantize(type(field.data)("0.01")):
        raise ValidationError(PERCENT_WRONG)


class TermsForm(FlaskForm):
    """A reseller's terms, as at creation and when configured (ResellerTermsIn)."""

    name = StringField(validators=[InputRequired("Enter the reseller's name."), Length(max=200)])
    commission_percent = DecimalField(places=None, validators=[Optional(), NumberRange(0, 100, PERCENT_WRONG),
                                                               _two_decimals],
                                      render_kw={"inputmode": "decimal"})
    customer_limit = IntegerField(validators=[Optional(), NumberRange(0, 10_000_000, LIMIT_WRONG)],
                                  render_kw={"inputmode": "numeric"})
    allowed_services = ChecksField(choices=[SelectChoice(k, k.capitalize()) for k in SERVICE_KINDS])
    inherited_branding = BooleanField(default=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.commission_percent.gettext = lambda s: PERCENT_WRONG  # a word where a number was wanted
        self.customer_limit.gettext = lambda s: LIMIT_WRONG

    def terms(self) -> dict:
        return {"name": self.name.data.strip(), "commission_percent": self.commission_percent.data,
                "customer_limit": self.customer_limit.data,
                "allowed_services": list(self.allowed_services.data) or None,
                "inherited_branding": bool(self.inherited_branding.data)}


class CreateForm(TermsForm):
    code = StringField(validators=[InputRequired("Enter the reseller's code."), Regexp(r"^[A-Z][A-Z0-9_]{1,39}$",
                                                                                       message=CODE_WRONG)])
    parent_code = SelectField(validate_choice=True, default="")
    hosts = TextAreaField(validators=[Optional(), _hosts])
    admin_username = StringField(validators=[Optional(), Length(max=254)])
    admin_email = StringField(validators=[Optional(), Length(max=254), Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
                                                                                 message="Enter an e-mail address.")])
    admin_password = PasswordField(validators=[Optional(), Length(min=8, max=1024,
                                                                  message="At least 8 characters.")])

    def offer_parents(self, codes: list[tuple[str, str]]) -> CreateForm:
        self.parent_code.choices = [SelectChoice("", "None: a reseller of the master ISP"),
                                    *(SelectChoice(code, f"{name} ({code})") for code, name in codes)]
        return self

    def validate_admin_email(self, field):
        if self.admin_username.data and not field.data:
            raise ValidationError("Enter the first admin's e-mail address.")

    def validate_admin_username(self, field):
        if not field.data and (self.admin_email.data or self.admin_password.data):
            raise ValidationError("Enter the first admin's username.")


class ReasonForm(FlaskForm):
    """Suspending (a reason is required) or reactivating (a reason is optional)."""

    reason = TextAreaField(validators=[Length(max=1000, message="At most 1,000 characters.")])

    def require(self) -> ReasonForm:
        self.reason.validators = [InputRequired("Say why the reseller is suspended."), *self.reason.validators]
        return self
