"""The forms of the console's NAS pages (network.py): the search, sent by GET, and the shared NAS form
(app/portals/nas_forms.py) with what the console adds: the owner, chosen when the NAS is registered (the API
cannot move a NAS to another owner), and a secret typed twice, or generated and shown once. Messages are msgids
(console-network.po)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError

from app.portals.nas_forms import NasForm

PLATFORM_OWNER = "The platform: serves every reseller's customers"
TYPE_IT_OR_GENERATE = "Type the shared secret, 8 to 128 characters, or tick “Generate a secret”."
BOTH = "Either type a secret or tick “Generate a secret”, not both."
AGAIN = "Type the shared secret again."
NOT_THE_SAME = "The two secrets are not the same."


class FilterForm(FlaskForm):
    """Which NAS the list shows: the address says what is shown."""

    class Meta:
        csrf = False

    q = StringField(validators=[Optional(), Length(max=100, message="At most 100 characters.")])


class ConfirmForm(FlaskForm):
    """No fields: the CSRF token makes the confirmation's POST a deliberate act of this page."""


class ConsoleNasForm(NasForm):
    """Changing a NAS: an empty secret keeps the one set; a new one is typed twice or generated."""

    secret_again = PasswordField()
    generate = BooleanField(default=False)
    creating = False

    def validate_secret(self, field):
        if self.generate.data:
            if field.data:
                raise ValidationError(BOTH)
            return
        if self.creating and not field.data:
            raise ValidationError(TYPE_IT_OR_GENERATE)
        super().validate_secret(field)

    def validate_secret_again(self, field):
        if self.generate.data or not self.secret.data:
            return
        if not field.data:
            raise ValidationError(AGAIN)
        if field.data != self.secret.data:
            raise ValidationError(NOT_THE_SAME)


class NewNasForm(ConsoleNasForm):
    """Registering a NAS, for the platform or for one reseller (its code)."""

    owner = SelectField(validate_choice=True, default="")
    creating = True

    def offer_owners(self, owners: list[tuple[str, str]]) -> NewNasForm:
        self.owner.choices = [SelectChoice("", PLATFORM_OWNER),
                              *(SelectChoice(code, label) for code, label in owners)]
        return self
