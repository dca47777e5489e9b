"""The customer's own profile, e-mail address, sites and contacts (the Account pages of the self-care
portal, which call the same services: `app.services.selfcare.profile` and `.email_change`).

Reading needs `self.view`; changing `self.edit`. The e-mail address changes only through the link sent to
the new address, asked for in the customer's own session; the link is opened on the portal's page, which
posts its token to `…/profile/email/confirm` (or a client may). Contacts can be changed only where the
reseller allows it (403 `not-allowed-by-provider` otherwise); sites are read-only.
"""

from __future__ import annotations

from flask import g, request
from flask_smorest import Blueprint

from app.api.portal_profile import schemas as s
from app.api.selfcare.access import CUSTOMER, me, own_session
from app.services import contacts
from app.services.errors import NotFound
from app.services.selfcare import email_change, profile
from app.web import db_session, state
from app.web.auth import requires

blp = Blueprint("portal_profile", __name__, url_prefix="/portal/api",
                description="A customer's own profile, e-mail address, sites and contacts")


def _profile_out() -> dict:
    return {**profile.profile(db_session(), me()), "pending_email": email_change.pending_email(state().redis, me())}


def _contact_out(contact, names: dict[int, str]) -> dict:
    return {**{name: getattr(contact, name) for name in (
        "id", "customer_id", "type_id", "name", "email", "phone", "channels", "notifications", "is_primary",
        "created_at", "updated_at")}, "type": names.get(contact.type_id)}


@blp.route("/profile")
@requires("self.view", kinds=CUSTOMER)
@blp.response(200, s.ProfileOut)
def get_profile():
    """Your details, which of them you may change here, and an e-mail change waiting for its link."""
    return _profile_out()


@blp.route("/profile", methods=["PATCH"])
@requires("self.edit", kinds=CUSTOMER)
@blp.arguments(s.ProfilePatch)
@blp.response(200, s.ProfileOut)
def update_profile(body):
    """Change the fields your provider lets you change (`editable_fields`), checked as your provider's
    team's changes are; a field you may not change is refused by name, and nothing is changed."""
    profile.update_profile(db_session(), me(), body, actor=g.principal)
    return _profile_out()


@blp.route("/profile/email", methods=["POST"])
@requires("self.edit", kinds=CUSTOMER)
@own_session("changing the e-mail address")
@blp.arguments(s.EmailChangeIn)
@blp.response(202, s.EmailChangeOut)
def request_email_change(body):
    """Ask to use a new e-mail address: a link goes to it (valid 24 hours, once), and your current address
    is told; the address changes when the link is opened. In your own session only."""
    sent_to = email_change.request_email_change(db_session(), state().redis, me(), body["email"], actor=g.principal,
                                                default_base=request.host_url)
    return {"message": "a confirmation link is on its way to the new address", "pending_email": sent_to}


@blp.route("/profile/email/confirm", methods=["POST"])
@requires(public=True)
@blp.arguments(s.EmailConfirmIn)
@blp.response(200, s.EmailConfirmedOut)
def confirm_email_change(body):
    """Confirm an e-mail change with the token of its link (no sign-in needed: the link is the proof)."""
    if g.tenant is None or g.realm != "tenant":
        raise NotFound("e-mail changes are confirmed on your provider's portal")
    customer = email_change.confirm_email_change(db_session(), state().redis, body["token"])
    return {"message": "your e-mail address is changed", "email": customer.email}


@blp.route("/sites")
@requires("self.view", kinds=CUSTOMER)
@blp.response(200, s.SiteOut(many=True))
def list_sites():
    """Where you are served: each installation address of your live services (moved by a relocation
    request of the service)."""
    return profile.sites(db_session(), me())


@blp.route("/contact-types")
@requires("self.view", kinds=CUSTOMER)
@blp.response(200, s.ContactTypeOut(many=True))
def list_contact_types():
    """The kinds of contact your provider uses."""
    return contacts.list_types(db_session())


@blp.route("/contacts")
@requires("self.view", kinds=CUSTOMER)
@blp.response(200, s.ContactOut(many=True))
def list_contacts():
    """Your contacts, the primary one first."""
    names = profile.contact_type_names(db_session())
    return [_contact_out(c, names) for c in profile.list_contacts(db_session(), me())]


@blp.route("/contacts", methods=["POST"])
@requires("self.edit", kinds=CUSTOMER)
@blp.arguments(s.ContactIn)
@blp.response(201, s.ContactOut)
def add_contact(body):
    """Add a contact, where your provider lets you."""
    contact = profile.add_contact(db_session(), me(), body, actor=g.principal)
    return _contact_out(contact, profile.contact_type_names(db_session()))


@blp.route("/contacts/<int:contact_id>")
@requires("self.view", kinds=CUSTOMER)
@blp.response(200, s.ContactOut)
def get_contact(contact_id):
    """One of your contacts."""
    return _contact_out(profile.own_contact(db_session(), me(), contact_id), profile.contact_type_names(db_session()))


@blp.route("/contacts/<int:contact_id>", methods=["PATCH"])
@requires("self.edit", kinds=CUSTOMER)
@blp.arguments(s.ContactPatch)
@blp.response(200, s.ContactOut)
def update_contact(body, contact_id):
    """Change one of your contacts, where your provider lets you."""
    contact = profile.update_contact(db_session(), me(), contact_id, body, actor=g.principal)
    return _contact_out(contact, profile.contact_type_names(db_session()))


@blp.route("/contacts/<int:contact_id>", methods=["DELETE"])
@requires("self.edit", kinds=CUSTOMER)
@blp.response(204)
def remove_contact(contact_id):
    """Remove one of your contacts, where your provider lets you."""
    profile.remove_contact(db_session(), me(), contact_id, actor=g.principal)
