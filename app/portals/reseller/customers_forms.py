"""The forms of the reseller portal's customer list. Messages are msgids: the templates translate them
(`_(error)`), so they are listed in the catalogue (themes/base/translations/sw/LC_MESSAGES/reseller-customers.po).

The filter form is sent by GET under the API's own names (`status`, `created_from`, `created_to`...), so the
address of a page of the list is the API's query string too: a saved filter, an export link and the set a
bulk change acts on are that query string, read back through this form.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, DateField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from app.services.customers import DEFAULT_SORT, SERVICE_TYPES, STATUSES, CustomerFilter
from app.services.customers.saved_filters import KEYS, NAME_MAX

NOT_A_DATE = "Enter the date as a day, a month and a year."
END_BEFORE_START = "The last day must be on or after the first day."
NAME_MISSING = "Give the filter a name."
NAME_TOO_LONG = "Use at most 100 characters."
REASON_MISSING = "Say why the status is changed: it is kept in each customer's history."
REASON_TOO_LONG = "Use at most 1,000 characters."
CHOOSE_STATUS = "Choose the new status."
TOO_LONG = "That is too long."

SORTS = (("-created_at", "Newest first"), ("created_at", "Oldest first"), ("name", "Name, A to Z"),
         ("-name", "Name, Z to A"), ("portal_id", "Portal ID, lowest first"),
         ("-portal_id", "Portal ID, highest first"))
SERVICE_WORDS = {"internet": "Internet", "voice": "Voice", "recurring": "Other recurring service", "bundle": "Bundle"}
PAYMENT_WORDS = (("paid", "Paid up"), ("unpaid", "Invoices open, none overdue"), ("overdue", "Overdue"))


def _no_nul(form, field):
    values = field.data if isinstance(field.data, list) else [field.data]
    if any(isinstance(v, str) and "\x00" in v for v in values):
        raise ValidationError(TOO_LONG)


def _spaces(value):
    return " ".join(value.split()) if isinstance(value, str) else value


def _text(limit: int) -> StringField:
    return StringField(validators=[Optional(), Length(max=limit, message=TOO_LONG), _no_nul], filters=[_spaces])


class CustomerFilterForm(FlaskForm):
    """The list's filters and order, sent by GET: the address says what is shown."""

    class Meta:
        csrf = False

    portal_id = _text(40)
    q = _text(200)
    name = _text(200)
    status = SelectMultipleField(choices=[SelectChoice(s, s) for s in STATUSES], validators=[Optional()])
    county = _text(100)
    sub_county = _text(100)
    city = _text(100)
    category = _text(40)
    created_from = DateField(validators=[Optional()], invalid_value_message=NOT_A_DATE)
    created_to = DateField(validators=[Optional()], invalid_value_message=NOT_A_DATE)
    service_type = SelectField(choices=[SelectChoice("", "Any service"),
                                        *(SelectChoice(k, SERVICE_WORDS.get(k, k)) for k in SERVICE_TYPES)],
                               default="", validators=[Optional()])
    payment_status = SelectField(choices=[SelectChoice("", "Any"), *(SelectChoice(k, w) for k, w in PAYMENT_WORDS)],
                                 default="", validators=[Optional()])
    sort = SelectField(choices=[SelectChoice(k, w) for k, w in SORTS], default=DEFAULT_SORT, validators=[Optional()])

    def validate_created_to(self, field):
        if self.created_from.data and field.data and field.data < self.created_from.data:
            raise ValidationError(END_BEFORE_START)

    def customer_filter(self) -> CustomerFilter:
        """The service's filter, read as the API reads the same query string (days are UTC, `created_to`
        the whole of its day)."""
        def moment(day: date | None, after: bool = False) -> datetime | None:
            if day is None:
                return None
            return datetime.combine(day + timedelta(days=1) if after else day, time(), UTC)

        return CustomerFilter(
            portal_id=self.portal_id.data or None, q=self.q.data or None, name=self.name.data or None,
            statuses=tuple(dict.fromkeys(self.status.data or ())), county=self.county.data or None,
            sub_county=self.sub_county.data or None, city=self.city.data or None,
            category=self.category.data or None, created_from=moment(self.created_from.data),
            created_before=moment(self.created_to.data, after=True), service_type=self.service_type.data or None,
            payment_status=self.payment_status.data or None)

    @property
    def sort_value(self) -> str:
        return self.sort.data or DEFAULT_SORT

    def query(self, *, with_sort: bool = True) -> dict:
        """The filters as the query string carries them (and a saved filter keeps them): empty ones left out,
        the default order too."""
        found: dict = {}
        for key in KEYS:
            if key == "sort" and (not with_sort or self.sort_value == DEFAULT_SORT):
                continue
            value = getattr(self, key).data
            if isinstance(value, date):
                value = value.isoformat()
            if value:
                found[key] = list(value) if isinstance(value, list) else value
        return found

    def is_filtered(self) -> bool:
        return bool(self.query(with_sort=False))


def filter_form(values) -> CustomerFilterForm:
    """The filter form read from a query string, or from a saved filter's stored values."""
    if isinstance(values, dict):
        pairs = [(k, v) for k, value in values.items() for v in (value if isinstance(value, list) else [value])]
        values = MultiDict(pairs)
    return CustomerFilterForm(formdata=values)


def query_string(query: dict, **more) -> str:
    merged = {**query, **{k: v for k, v in more.items() if v not in (None, "")}}
    return urlencode(merged, doseq=True)


class SaveFilterForm(FlaskForm):
    """Saving the list's current filters (carried by the page's address) under a name."""

    label = StringField(validators=[DataRequired(NAME_MISSING), Length(max=NAME_MAX, message=NAME_TOO_LONG), _no_nul],
                        filters=[_spaces])
    shared = BooleanField(default=False)


class ActionForm(FlaskForm):
    """A button that changes something (delete a saved filter): its CSRF token only."""


class BulkStatusForm(FlaskForm):
    """Changing the status of the chosen customers: which status, and why (every change is in the history).
    Which customers is the page's address (`ids`, or `all` with the filters), as the list sent it."""

    status = SelectField(choices=[SelectChoice("", "Choose a status"), *(SelectChoice(s, s) for s in STATUSES)],
                         validators=[InputRequired(CHOOSE_STATUS)])
    reason = TextAreaField(validators=[DataRequired(REASON_MISSING), Length(max=1000, message=REASON_TOO_LONG),
                                       _no_nul], filters=[lambda v: v.strip() if isinstance(v, str) else v])

    def validate_status(self, field):
        if field.data not in STATUSES:
            raise ValidationError(CHOOSE_STATUS)
