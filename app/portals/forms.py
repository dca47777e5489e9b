"""The sign-in pages' forms. Messages are msgids: templates translate them (`_(error)`) into the page's
language, so they are listed in the catalogues (themes/base/translations)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length

FORM_EXPIRED = "This form has expired or was not sent from this page. Please try again."


class SignInForm(FlaskForm):
    identifier = StringField(validators=[InputRequired("Enter your sign-in name."), Length(max=254)])
    password = PasswordField(validators=[InputRequired("Enter your password."), Length(max=1024)])


class TwoFactorForm(FlaskForm):
    code = StringField(validators=[InputRequired("Enter the code from your authenticator app, or a backup code."),
                                   Length(max=40)])


class ForgotForm(FlaskForm):
    identifier = StringField(validators=[InputRequired("Enter your sign-in name."), Length(max=254)])


class ResetForm(FlaskForm):
    token = HiddenField(validators=[InputRequired(), Length(max=200)])
    password = PasswordField(validators=[InputRequired("Choose a new password."), Length(max=1024)])
    confirm = PasswordField(validators=[InputRequired("Type the new password again."),
                                        EqualTo("password", "The two passwords are not the same.")])


class SignOutForm(FlaskForm):
    """No fields: the CSRF token is what makes signing out a deliberate act of this browser."""


def expired(form: FlaskForm) -> bool:
    """Whether the form failed only for its CSRF token (an old tab, or a post from another site)."""
    return bool(form.errors.get("csrf_token"))
