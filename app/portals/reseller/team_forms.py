"""The Team pages' forms (team.py and its team_*.py parts). Shapes and lengths only: whether a username is
free, an address is a network, a role may be changed or a client may have a scope is the services' to say
(app/services/auth/users.py, app/services/oauth/clients.py, app/services/team.py), as they say it to the
API; the views put each answer next to its field. Messages are msgids."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from app.models.oauth import AUTH_METHODS, GRANT_TYPES
from app.services.auth.permissions import PERMISSIONS

LONG = "That is too long."
GRANT_WORDS = {"authorization_code": "Authorization code (an app acting for a team member)",
               "refresh_token": "Refresh tokens (with the authorization code)",
               "client_credentials": "Client credentials (your own integration)"}
METHOD_WORDS = {"client_secret_basic": "Secret in the Authorization header (HTTP Basic)",
                "client_secret_post": "Secret in the request body",
                "none": "No secret: a public app (PKCE only)"}


class ChecksField(SelectMultipleField):
    """Several choices as checkboxes (the page draws them)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _permissions() -> ChecksField:
    return ChecksField(choices=[SelectChoice(p, p) for p in PERMISSIONS], validate_choice=False)


class NewUserForm(FlaskForm):
    username = StringField(validators=[InputRequired("Choose the name they sign in with."),
                                       Length(max=254, message=LONG)])
    email = StringField(validators=[InputRequired("Enter their e-mail address."), Length(max=254, message=LONG)])
    first_name = StringField(validators=[Length(max=100, message=LONG)])
    last_name = StringField(validators=[Length(max=100, message=LONG)])
    role = SelectField(validate_choice=False, validators=[InputRequired("Choose a role.")])  # the view lists them
    allowed_customers = StringField(validators=[Length(max=4000, message=LONG)])


class MemberForm(FlaskForm):
    role = SelectField(validate_choice=False, validators=[InputRequired("Choose a role.")])
    allowed_customers = StringField(validators=[Length(max=4000, message=LONG)])
    ip_allowlist = TextAreaField(validators=[Length(max=4000, message=LONG)])
    max_sessions = StringField(validators=[Length(max=6, message=LONG)])


class RoleForm(FlaskForm):
    name = StringField(validators=[InputRequired("Give the role a name."), Length(max=60, message=LONG)])
    description = StringField(validators=[Length(max=300, message=LONG)])
    permissions = _permissions()


class RolePermissionsForm(FlaskForm):
    permissions = _permissions()


class ClientForm(FlaskForm):
    name = StringField(validators=[InputRequired("Give the app a name."), Length(max=200, message=LONG)])
    grant_types = ChecksField(choices=[SelectChoice(g, GRANT_WORDS[g]) for g in GRANT_TYPES], validate_choice=False)
    scopes = _permissions()
    redirect_uris = TextAreaField(validators=[Length(max=20000, message=LONG)])
    token_endpoint_auth_method = SelectField(choices=[SelectChoice(m, METHOD_WORDS[m]) for m in AUTH_METHODS],
                                             validate_choice=False)


class ApiKeyForm(FlaskForm):
    name = StringField(validators=[InputRequired("Give the key a name, so that you can tell your keys apart."),
                                   Length(max=200, message=LONG)])
    scopes = _permissions()


class ActionForm(FlaskForm):
    """No fields: disabling or enabling a member, a reset e-mail, ending a session, revoking. The CSRF token
    makes each a deliberate act of this browser."""
