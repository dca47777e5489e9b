"""OAuth apps and API keys, `/reseller/team/api` (part of team.py's blueprint), through the OAuth client
service as the OAuth clients' API (`/reseller/api/oauth-clients`) uses it, with its permission: `users.admin`,
to read as well (a client's name and scopes say what integrations can reach).

An API key of the team is an OAuth client of the client-credentials grant, the README's "reseller's own
integration": its client ID and secret get tokens at `/oauth/token`, and it is revoked like any client.
The secret is drawn once, in the answer to the form that made it (`Cache-Control: no-store`); only its
digest is kept. A client, or key, may be given only permissions its creator holds: the service refuses more.
"""

from __future__ import annotations

from flask import flash, g, redirect, url_for

from app.models.oauth import AUTH_METHODS
from app.portals.forms import FORM_EXPIRED
from app.portals.reseller.shell import TEAM_KINDS
from app.portals.reseller.team_common import ADMIN, place, refused, secret_page, team_page
from app.portals.reseller.team_forms import GRANT_WORDS, ActionForm, ApiKeyForm, ClientForm
from app.services.auth.permissions import PERMISSIONS
from app.services.errors import Invalid, NotFound
from app.services.oauth import clients
from app.web import db_session
from app.web.auth import requires

KEY_GRANTS = ["client_credentials"]
BASIC = AUTH_METHODS[0]  # client_secret_basic: the secret in the Authorization header


def is_key(row) -> bool:
    return list(row.grant_types) == KEY_GRANTS


def _rows() -> list:
    return clients.list_for(db_session(), g.principal.tenant_id)


def _page(client_form: ClientForm | None = None, key_form: ApiKeyForm | None = None, *, status: int = 200):
    rows = _rows()
    client_form = client_form or ClientForm(formdata=None, token_endpoint_auth_method=BASIC,
                                            grant_types=["authorization_code", "refresh_token"])
    return team_page("api", status=status, apps=[r for r in rows if not is_key(r)], keys=[r for r in rows if is_key(r)],
                     client_form=client_form, key_form=key_form or ApiKeyForm(formdata=None),
                     permissions=PERMISSIONS, held=g.principal.permissions, grant_words=GRANT_WORDS,
                     current="api")


@requires(ADMIN, kinds=TEAM_KINDS)
def api():
    return _page()


def _create(form, **values):
    principal = g.principal
    row, secret = clients.create(db_session(), tenant_id=principal.tenant_id, actor=principal.actor,
                                 actor_permissions=principal.permissions, **values)
    return secret_page("api_created", client=row, secret=secret, key=is_key(row), current="api")


@requires(ADMIN, kinds=TEAM_KINDS)
def create_client():
    form = ClientForm()
    if refused(form):
        return _page(client_form=form, status=422)
    try:
        return _create(form, name=form.name.data, grant_types=form.grant_types.data or [],
                       scopes=form.scopes.data or [],
                       redirect_uris=[u.strip() for u in (form.redirect_uris.data or "").split() if u.strip()],
                       token_endpoint_auth_method=form.token_endpoint_auth_method.data)
    except Invalid as exc:
        place(form, exc)
        return _page(client_form=form, status=422)


@requires(ADMIN, kinds=TEAM_KINDS)
def create_key():
    form = ApiKeyForm()
    if refused(form):
        return _page(key_form=form, status=422)
    try:
        return _create(form, name=form.name.data, grant_types=KEY_GRANTS, scopes=form.scopes.data or [],
                       token_endpoint_auth_method=BASIC)
    except Invalid as exc:
        place(form, exc)
        return _page(key_form=form, status=422)


def _client(client_id: str):
    found = next((r for r in _rows() if r.client_id == client_id), None)
    if found is None:
        raise NotFound("no such OAuth client")
    return found


@requires(ADMIN, kinds=TEAM_KINDS)
def revoke_page(client_id: str):
    row = _client(client_id)
    return team_page("revoke", client=row, key=is_key(row), form=ActionForm(), current="api")


@requires(ADMIN, kinds=TEAM_KINDS)
def revoke(client_id: str):
    if not ActionForm().validate_on_submit():
        flash(FORM_EXPIRED, "error")
        return redirect(url_for(".revoke_page", client_id=client_id))
    row = clients.revoke(db_session(), tenant_id=g.principal.tenant_id, client_id=client_id, actor=g.principal.actor)
    flash("The key is revoked: it stopped working at once." if is_key(row)
          else "The app is revoked: it and every token it held stopped working at once.", "success")
    return redirect(url_for(".api"))


def register(bp) -> None:
    bp.add_url_rule("/api", "api", api)
    bp.add_url_rule("/api/apps", "create_client", create_client, methods=["POST"])
    bp.add_url_rule("/api/keys", "create_key", create_key, methods=["POST"])
    bp.add_url_rule("/api/<string:client_id>/revoke", "revoke_page", revoke_page)
    bp.add_url_rule("/api/<string:client_id>/revoke", "revoke", revoke, methods=["POST"])
