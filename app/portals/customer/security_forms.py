"""The Security pages' forms (security.py). Messages are msgids, translated by the templates (kit/forms.html);
what a value must be beyond its shape (the password policy, a valid code, an expiry in the future) is the
services' to decide, and the view puts their answer next to the field."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, PasswordField, RadioField, SelectChoice, StringField
from wtforms.validators import EqualTo, InputRequired, Length, Optional


class PasswordForm(FlaskForm):
    current_password = PasswordField(validators=[InputRequired("Enter your current password."), Length(max=1024)])
    new_password = PasswordField(validators=[InputRequired("Choose a new password."), Length(max=1024)])
    confirm = PasswordField(validators=[InputRequired("Type the new password again."),
                                        EqualTo("new_password", "The two passwords are not the same.")])


class CodeForm(FlaskForm):
    code = StringField(validators=[InputRequired("Enter the 6-digit code that your authenticator app shows."),
                                   Length(max=40)])


class ApiKeyForm(FlaskForm):
    name = StringField(validators=[InputRequired("Give the key a name, so that you can tell your keys apart."),
                                   Length(max=100, message="At most 100 characters.")])
    access = RadioField(choices=[SelectChoice("read", "Read only"), SelectChoice("read_write", "Read and write")],
                        default="read",
                        validators=[InputRequired("Choose what the key may do.")])
    expires_on = DateField(validators=[Optional()])


class ActionForm(FlaskForm):
    """No fields: starting enrolment, turning two-step verification off, ending a session, revoking a key. The
    CSRF token is what makes each a deliberate act of this browser."""
