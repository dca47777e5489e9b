"""The NAS form both staff portals draw: a reseller's own routers (app/portals/reseller/catalogue_network.py) and
every NAS of the platform in the console (app/portals/console/network.py), which adds its owner and a secret
typed twice or generated. Messages are msgids (reseller-catalogue.po, console-network.po).

It checks the shape of what is typed (an address, a port, a secret's length, as app/api/nas/schemas.py does);
the rules (no address another owner's NAS covers, no network too broad) stay app/services/nas.py's, and a
refusal from it is shown next to the field it names. The secret is write-only: never drawn back.
"""

from __future__ import annotations

import ipaddress

from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, ValidationError
from wtforms.widgets import TextInput

NOT_A_NUMBER = "Enter a whole number, like 10."
NOT_AN_ADDRESS = "Enter an IP address like 192.0.2.1, or a network like 192.0.2.0/29."
HOST_BITS = "Write a network by its first address, like 192.0.2.0/29 (not 192.0.2.5/29)."
VENDORS = {"mikrotik": "MikroTik", "cisco": "Cisco", "generic": "Another make"}


class PortField(IntegerField):
    """A port typed as text (a number input would let the browser, not us, refuse it), told once when it is not
    a number rather than again by the range check that then finds none."""

    widget = TextInput()

    def process_formdata(self, valuelist):
        self.data = None
        if valuelist and valuelist[0].strip():
            try:
                self.data = int(valuelist[0].strip())
            except ValueError:
                raise ValueError(NOT_A_NUMBER) from None

    def validate(self, form, extra_validators=()):
        if self.process_errors:  # not a number: the range has nothing to check
            self.errors = list(dict.fromkeys(self.process_errors))
            return False
        return super().validate(form, extra_validators)


class NasForm(FlaskForm):
    """A NAS's own fields; its secret is write-only: never drawn back into the form."""

    name = StringField(validators=[InputRequired("Enter a name for the router."), Length(max=100)])
    network = StringField(validators=[InputRequired("Enter its address or network, like 192.0.2.1."),
                                      Length(max=50)])
    secret = PasswordField()
    vendor = SelectField(choices=[SelectChoice(v, label) for v, label in VENDORS.items()], default="generic")
    require_message_authenticator = BooleanField(default=True)
    coa_port = PortField(default=3799, validators=[InputRequired(NOT_A_NUMBER), NumberRange(
        min=1, max=65535, message="Enter a port from 1 to 65535.")], render_kw={"inputmode": "numeric"})
    creating = True  # the view says False on the edit page, where an empty secret keeps the current one

    def validate_network(self, field):
        typed = (field.data or "").strip()
        try:
            ipaddress.ip_network(typed, strict=True)
        except ValueError:
            try:
                ipaddress.ip_network(typed, strict=False)
            except ValueError:
                raise ValidationError(NOT_AN_ADDRESS) from None
            raise ValidationError(HOST_BITS) from None

    def validate_secret(self, field):
        if not field.data and not self.creating:
            return
        if not field.data:
            raise ValidationError("Enter the shared secret, 8 to 128 characters.")
        if not 8 <= len(field.data) <= 128:
            raise ValidationError("The secret is 8 to 128 characters.")

    def values(self) -> dict:
        """What the service's create/update take; no secret when none was typed (a change keeps the one set)."""
        out = {"name": self.name.data.strip(), "network": self.network.data.strip(), "vendor": self.vendor.data,
               "require_message_authenticator": bool(self.require_message_authenticator.data),
               "coa_port": self.coa_port.data}
        if self.secret.data:
            out["secret"] = self.secret.data
        return out
