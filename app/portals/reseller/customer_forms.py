"""The forms of a customer's page (app/portals/reseller/customer.py). Messages are msgids: the templates translate
them, so they are in the catalogue (themes/base/translations/sw/LC_MESSAGES/reseller-customer.po).

The profile form is onboarding's basic-information form (the same fields, the same rules) with the M-PESA number;
a status change takes a reason, as the API's does (the service refuses one without)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, Regexp

from app.portals.reseller.onboarding_forms import EMAIL_WRONG, MPESA_WRONG, PHONE_WRONG, TOO_LONG, BasicForm, _mpesa

REASON_MISSING = "Say why: the reason is kept in the status history."
CONTACT_NAME = "Enter the contact's name."
PROFILE_FIELDS = ("first_name", "last_name", "company_name", "email", "phone", "national_id", "address", "city",
                  "county", "mpesa_number")

__all__ = ["MPESA_WRONG", "ApproveForm", "ContactForm", "DisconnectForm", "ProfileForm", "ReasonForm", "RemoveForm"]


class ProfileForm(BasicForm):
    mpesa_number = StringField(validators=[Optional(), _mpesa])

    def changes(self) -> dict:
        """What the API's PATCH would carry: every field, an emptied one as None (cleared)."""
        out = {"kind": self.customer_type.data}
        for name in PROFILE_FIELDS:
            out[name] = (getattr(self, name).data or "").strip() or None
        if out["kind"] == "company":
            out.pop("first_name")
            out.pop("last_name")
        return out


class ReasonForm(FlaskForm):
    """Suspending or restoring the customer: why."""

    reason = TextAreaField(validators=[InputRequired(REASON_MISSING), Length(max=1000, message=TOO_LONG)])


class ApproveForm(FlaskForm):
    """Approving a Pending customer: to New (awaiting activation), or straight to Active."""

    reason = StringField(validators=[Optional(), Length(max=1000, message=TOO_LONG)])
    activate = BooleanField(default=False)


class ServiceReasonForm(FlaskForm):
    """A change of one service (suspend, limit, restore, terminate): why, optional as in the API, kept in the
    service's status history."""

    reason = StringField(validators=[Optional(), Length(max=1000, message=TOO_LONG)])


class DisconnectForm(ServiceReasonForm):
    """Disconnecting a service's live sessions (the router may sign the customer in again at once)."""


class ContactForm(FlaskForm):
    """A contact of the customer's: a name, a type of the reseller's own (or none), e-mail and phone, primary or
    not (what the API's contact takes without its channels and notification routing)."""

    name = StringField(validators=[InputRequired(CONTACT_NAME), Length(max=200, message=TOO_LONG)])
    type_id = SelectField(default="", validators=[Optional()], validate_choice=True)
    email = StringField(validators=[Optional(), Length(max=254, message=TOO_LONG),
                                    Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=EMAIL_WRONG)])
    phone = StringField(validators=[Optional(), Regexp(r"^\+?[\d\s()-]{7,20}$", message=PHONE_WRONG)])
    is_primary = BooleanField(default=False)

    def offer(self, types: dict[int, str]) -> ContactForm:
        self.type_id.choices = [SelectChoice("", "No type"), *(SelectChoice(str(i), n) for i, n in types.items())]
        return self

    def values(self) -> dict:
        return {"name": self.name.data.strip(), "type_id": int(self.type_id.data) if self.type_id.data else None,
                "email": (self.email.data or "").strip() or None, "phone": (self.phone.data or "").strip() or None,
                "is_primary": bool(self.is_primary.data)}


class RemoveForm(FlaskForm):
    """Removing a contact: no fields, the CSRF token makes it the confirmation page's."""
