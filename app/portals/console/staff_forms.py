"""The forms of the console's Staff pages. They check what the staff API's schemas check (app/api/staff/schemas.py),
so the message is next to the field before the service is asked; the service's own refusals (a taken e-mail
address, deactivating yourself or the last active account) are shown where they belong. Messages are msgids."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, Regexp

from app.services.staff import MAX_NAME, MAX_REASON

NAME_NEEDED = "Enter their name."
NAME_TOO_LONG = "At most 200 characters."
EMAIL_WRONG = "Enter an e-mail address, like name@example.com."
INVITE = "invite"
GENERATED = "generated"


class FilterForm(FlaskForm):
    """Which members the list shows, sent by GET: the address says what is shown."""

    class Meta:
        csrf = False

    q = StringField(validators=[Optional(), Length(max=200)])


class MemberForm(FlaskForm):
    """What can be changed about a member (StaffPatch)."""

    name = StringField(validators=[InputRequired(NAME_NEEDED), Length(max=MAX_NAME, message=NAME_TOO_LONG)])
    can_impersonate = BooleanField()


class CreateForm(MemberForm):
    """A new member (StaffIn): how they get their first password is the person's choice."""

    email = StringField(validators=[InputRequired("Enter their e-mail address."), Length(max=254),
                                    Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=EMAIL_WRONG)])
    first_password = RadioField(choices=[
        SelectChoice(INVITE, "E-mail them a link to choose their own password"),
        SelectChoice(GENERATED, "Show me a generated password to give them"),
    ], default=INVITE, validators=[InputRequired("Choose how they get their password.")])


class ReasonForm(FlaskForm):
    """A confirmation (deactivate, reactivate, reset two-step): the reason is optional, kept in the audit log."""

    reason = TextAreaField(validators=[Length(max=MAX_REASON, message="At most 1,000 characters.")])


class ActionForm(FlaskForm):
    """No fields: the CSRF token makes a one-button action (sending a password link) a deliberate one."""
