"""The form of the console's Portal ID search, sent by GET (the address says what was searched), checked as the
console API's query is (app/api/console/schemas.py `PortalIdSearchQuery`). Messages are msgids."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length


class SearchForm(FlaskForm):
    class Meta:
        csrf = False

    portal_id = StringField(validators=[InputRequired("Enter a Portal ID, or its beginning."),
                                        Length(max=40, message="A Portal ID has at most 40 characters.")])
    match = RadioField(choices=[SelectChoice("exact", "This Portal ID"),
                                SelectChoice("prefix", "Every Portal ID starting so")], default="exact")


class ImpersonateForm(FlaskForm):
    """The button: its CSRF token is the whole form."""
