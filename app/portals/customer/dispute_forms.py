"""The forms of the customer's Disputes pages. Messages are msgids: the templates translate them (`_(error)`), so
they are listed in the catalogues (themes/base/translations).

Each form checks only what a form can (something is chosen, a text is not too long); the rules (a line is disputed
once, a file is of an accepted kind, a plan is for a balance above the reseller's threshold) are the services', and
the view puts their refusals next to the field they are about. Choices that depend on the customer (the invoice's
lines, the numbers of instalments the reseller allows) are given by the view."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import RadioField, SelectField, SelectMultipleField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

REASONS = (
    ("usage", "I was charged for more usage than I used"),
    ("price", "The price is not what I agreed"),
    ("duplicate", "I was charged twice for the same thing"),
    ("outage", "The service did not work"),
    ("not_received", "I did not receive this service"),
    ("other", "Something else"),
)
TOO_LONG = "Your message can be at most 5000 characters."


class InvoiceChoiceForm(FlaskForm):
    """Which invoice to dispute, sent by GET: choosing changes nothing, so no CSRF token."""

    class Meta:
        csrf = False

    invoice = SelectField(validators=[InputRequired("Choose the invoice you dispute.")])


class DisputeForm(FlaskForm):
    lines = SelectMultipleField(coerce=int, validators=[InputRequired("Choose the charges you dispute.")],
                                validate_choice=True)
    reason = RadioField(choices=REASONS, validators=[InputRequired("Choose why you dispute them.")])
    message = TextAreaField(validators=[InputRequired("Tell us what is wrong."), Length(max=5000, message=TOO_LONG)])
    files = MultipleFileField(validators=[Optional()])


class DocumentForm(FlaskForm):
    files = MultipleFileField(validators=[InputRequired("Choose a file to send.")])


class AppealForm(FlaskForm):
    message = TextAreaField(validators=[InputRequired("Tell us why the answer should be looked at again."),
                                        Length(max=5000, message=TOO_LONG)])


class PlanForm(FlaskForm):
    instalments = RadioField(coerce=int, validators=[InputRequired("Choose the number of instalments.")])
    message = TextAreaField(validators=[Optional(), Length(max=2000, message="Your message can be at most 2000 "
                                                                             "characters.")])
