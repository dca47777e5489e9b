"""The forms of deleting a customer (customer_delete.py) and of answering their deletion requests
(privacy_requests.py). Messages are msgids: the templates translate them, so they are in the catalogue
(themes/base/translations/sw/LC_MESSAGES/reseller-privacy.po). The lengths are the API's (app/api/customers and
app/api/privacy schemas): a page must not take what the API would refuse, nor refuse what it takes."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from app.models.privacy import DELETION_STATUSES
from app.services.privacy.deletion import REASON_MAX

TOO_LONG = "This is too long."
SAY_WHY = "Say why: the customer is e-mailed your reason."


class DeleteForm(FlaskForm):
    """Deleting a customer: why, optional as in the API's `?reason=`, kept in the activity log."""

    reason = TextAreaField(validators=[Optional(), Length(max=1000, message=TOO_LONG)])


class ApproveForm(FlaskForm):
    """Approving a deletion request: a note of the reseller's own, optional."""

    note = TextAreaField(validators=[Optional(), Length(max=REASON_MAX, message=TOO_LONG)])


class DeclineForm(FlaskForm):
    """Declining a deletion request: the reason the customer is told."""

    reason = TextAreaField(validators=[InputRequired(SAY_WHY), Length(max=REASON_MAX, message=TOO_LONG)])


class StatusFilterForm(FlaskForm):
    """Which requests are listed, sent by GET: the address says what is shown."""

    class Meta:
        csrf = False

    status = SelectField(default="", validators=[Optional()],
                         choices=[SelectChoice("", "Every status"), *(SelectChoice(s, s) for s in DELETION_STATUSES)])


