"""The Privacy pages' forms (privacy.py). Messages are msgids, translated by the templates; whether the
password is right, and whether a request may be made, is app.services.privacy's to say."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional


class ConsentsForm(FlaskForm):
    """One box per consent (app.services.privacy.consents.PURPOSES): a box left unticked is a consent not
    given, or withdrawn."""

    marketing_email = BooleanField()
    marketing_sms = BooleanField()
    third_party_sharing = BooleanField()


class DeletionForm(FlaskForm):
    reason = TextAreaField(validators=[Optional(), Length(max=2000, message="The reason can be at most 2000 "
                                                                            "characters.")])
    password = PasswordField(validators=[InputRequired("Enter your portal password."), Length(max=1024)])


class ActionForm(FlaskForm):
    """No fields: asking for a copy of the data, withdrawing a request. The CSRF token is what makes each a
    deliberate act of this browser."""
