"""The forms of the customer's Services pages. Messages are msgids: the templates translate them (`_(error)`),
so they are listed in the catalogues (themes/base/translations).

Each form checks only what a form can (a field is there, is a date, is not too long); the rules of a request
(a hold starts today or later, a plan is sold where the service is) are the services', and their refusals are
put next to the field they are about by the view."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, PasswordField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

WHEN = (SelectChoice("immediate", "Now"), SelectChoice("next_cycle", "At the start of the next billing cycle"))
ENDS = (SelectChoice("next_cycle", "At the end of this billing cycle"), SelectChoice("immediate", "Now"))


class RevealForm(FlaskForm):
    password = PasswordField(validators=[InputRequired("Enter your portal password."), Length(max=1024)])


class PlanChoiceForm(FlaskForm):
    """The first step of a plan change, sent by GET: choosing changes nothing, so it needs no CSRF token and
    its review page has an address of its own (back and forward work)."""

    class Meta:
        csrf = False

    plan_id = StringField(validators=[InputRequired("Choose the plan to change to."), Length(max=18)])
    effective = RadioField(choices=WHEN, default="immediate",
                           validators=[InputRequired("Choose when the change is made.")])

    def validate_plan_id(self, field):
        if not field.data.isdigit():
            raise ValidationError("Choose the plan to change to.")


class PlanConfirmForm(FlaskForm):
    """The review's confirmation: the plan, when, and the kind of change the review showed (an upgrade or a
    downgrade), so that what is asked for is what the customer saw."""

    plan_id = HiddenField(validators=[InputRequired(), Length(max=18)])
    effective = HiddenField(validators=[InputRequired(), Length(max=20)])
    kind = HiddenField(validators=[InputRequired(), Length(max=20)])


def _until_after_start(form, field):
    if form.start.data and field.data and field.data < form.start.data:
        raise ValidationError("The last day of the hold must be on or after its first day.")


NOT_A_DATE = "Enter the date as a day, a month and a year."


class HoldForm(FlaskForm):
    start = DateField(validators=[InputRequired("Enter the first day of the hold.")],
                      invalid_value_message=NOT_A_DATE)
    until = DateField(validators=[InputRequired("Enter the last day of the hold."), _until_after_start],
                      invalid_value_message=NOT_A_DATE)


class RelocationForm(FlaskForm):
    address = TextAreaField(validators=[InputRequired("Enter the new address."),
                                        Length(max=1000, message="The address can be at most 1000 characters.")])
    region = StringField(validators=[Optional(), Length(max=100, message="The region can be at most 100 "
                                                                         "characters.")])


class CancelForm(FlaskForm):
    reason = TextAreaField(validators=[Optional(), Length(max=1000, message="The reason can be at most 1000 "
                                                                            "characters.")])
    effective = RadioField(choices=ENDS, default="next_cycle",
                           validators=[InputRequired("Choose when the service ends.")])


class WithdrawForm(FlaskForm):
    """No fields: the CSRF token is what makes withdrawing a deliberate act of this browser."""
