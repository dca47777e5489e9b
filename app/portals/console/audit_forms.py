"""The filters of the console's audit log, sent by GET (the address says what is shown). Messages are msgids."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError

NOT_A_DATE = "Enter the date as a day, a month and a year."


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    reseller = SelectField(validate_choice=True, default="")
    action = StringField(validators=[Optional(), Length(max=100, message="At most 100 characters.")])
    actor = StringField(validators=[Optional(), Length(max=200, message="At most 200 characters.")])
    start = DateField(validators=[Optional()], invalid_value_message=NOT_A_DATE)
    end = DateField(validators=[Optional()], invalid_value_message=NOT_A_DATE)

    def offer(self, resellers: list[tuple[str, str]]) -> AuditFilterForm:
        self.reseller.choices = [SelectChoice("", "Every reseller and the platform"),
                                 *(SelectChoice(value, label) for value, label in resellers)]
        return self

    def validate_end(self, field):
        if field.data and self.start.data and field.data < self.start.data:
            raise ValidationError("The last day must be on or after the first day.")
