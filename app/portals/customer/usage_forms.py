"""The forms of the customer's Usage pages: the period and grouping of the charts (sent by GET: looking changes
nothing, and the address can be kept or shared), and the customer's own usage alerts. Messages are msgids,
translated by the templates."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, ValidationError

from app.services.selfcare.my_usage import MAX_ALERTS

NOT_A_DATE = "Enter the date as a day, a month and a year."
GROUPS = (SelectChoice("day", "Day"), SelectChoice("week", "Week"), SelectChoice("month", "Month"))
PERCENT = "Enter a whole number from 1 to 100, or leave it empty."


def _end_after_start(form, field):
    if form.start.data and field.data and field.data < form.start.data:
        raise ValidationError("The last day must be on or after the first day.")


class PeriodForm(FlaskForm):
    class Meta:
        csrf = False

    start = DateField(validators=[InputRequired("Enter the first day.")], invalid_value_message=NOT_A_DATE)
    end = DateField(validators=[InputRequired("Enter the last day."), _end_after_start],
                    invalid_value_message=NOT_A_DATE)
    group = RadioField(choices=GROUPS, default="day", validators=[InputRequired("Choose how to add up the days.")])


def _percent(form, field):
    value = (field.data or "").strip()
    if value and not (len(value) <= 3 and value.isascii() and value.isdigit() and 1 <= int(value) <= 100):
        raise ValidationError(PERCENT)


class AlertsForm(FlaskForm):
    """As many fields as a customer may have alerts (`MAX_ALERTS`, `alert_1`…); an empty one is no alert."""

    @property
    def alert_fields(self) -> list:
        return [self[f"alert_{n}"] for n in range(1, MAX_ALERTS + 1)]

    @property
    def percents(self) -> list[int]:
        return [int(f.data.strip()) for f in self.alert_fields if (f.data or "").strip()]

    def fill(self, percents: list[int]) -> None:
        for n, f in enumerate(self.alert_fields):
            f.data = str(percents[n]) if n < len(percents) else ""


for _n in range(1, MAX_ALERTS + 1):
    setattr(AlertsForm, f"alert_{_n}", StringField(validators=[_percent]))
