"""The customer's Profile pages, `/portal/profile`: their details (the fields the reseller lets them change as a
form, the rest as text), their e-mail address (changed only by the link sent to the new one), the sites they
are served at, their contacts, and About: the reseller's company information.

Each view calls `app.services.selfcare` as the customer's API does (`profile`, `email_change`), so a value the
API refuses is refused here, with the same words next to the field. Changing the e-mail address needs the
customer's own session (`own_session_only`), as in the API: support staff signed in as the customer are told
so, and the form is not drawn. The link of the e-mail opens `email_change.CONFIRM_PATH`, a page that asks for a
click before it changes anything (a mail scanner that fetches the link changes nothing); the link is the proof,
so it needs no sign-in. Notification preferences come with the notifications work: until then, no page.
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from wtforms import SelectChoice

from app.api.selfcare.access import own_session_only
from app.portals.customer.gate import CUSTOMER, guard
from app.portals.customer.profile_forms import ConfirmEmailForm, ContactForm, EmailForm, ProfileForm, RemoveForm
from app.portals.customer.shell import page
from app.portals.doors import CUSTOMERS
from app.portals.forms import FORM_EXPIRED, expired
from app.portals.kit import door_context
from app.services import contacts
from app.services.branding.i18n import languages
from app.services.errors import Conflict, Invalid
from app.services.selfcare import email_change, my_services
from app.services.selfcare import profile as selfcare
from app.web import db_session, state
from app.web.auth import requires

bp = Blueprint("customer_profile", __name__, url_prefix="/portal/profile")
guard(bp)

# the editable fields, in the order the form shows them, with their labels (msgids)
FIELDS = {"phone": "Phone", "alternate_phone": "Other phone", "mpesa_number": "M-PESA number", "address": "Address",
          "city": "Town or city", "county": "County", "sub_county": "Sub-county", "postal_code": "Postal code",
          "latitude": "Latitude", "longitude": "Longitude"}
HINTS = {"phone": "Such as 0712 345 678 or +254 712 345 678.",
         "mpesa_number": "The number you pay from: 07…, 01… or 254….",
         "latitude": "Where your installation is, in degrees, such as -1.292066.",
         "longitude": "In degrees, such as 36.821945."}
COMMUNICATION = ("preferred_channel", "language", "marketing_opt_in")
LANGUAGE_NAMES = {"en": "English", "sw": "Kiswahili"}
KINDS = {"person": "Person", "company": "Company"}
CONTACT_FIELDS = ("name", "type_id", "email", "phone", "is_primary")
EMAIL_CHANGE = "changing the e-mail address"
NO_LINK = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _me() -> int:
    return g.principal.id


def _own_session() -> bool:
    return not g.principal.impersonator and g.principal.via == "session"


def _form(found: dict | None = None) -> ProfileForm:
    """The form, filled from the profile on a GET (what was typed, on a POST)."""
    form = ProfileForm(data=_form_data(found) if found is not None else None)
    form.language.choices = [SelectChoice("", "As my provider writes")] + [
        SelectChoice(code, LANGUAGE_NAMES.get(code, code)) for code in languages()]
    return form


def _form_data(found: dict) -> dict:
    data = {name: "" if found.get(name) is None else str(found[name]) for name in FIELDS}
    communication = found["communication"]
    data.update(preferred_channel=communication["preferred_channel"] or "",
                language=communication["language"] or "", marketing_opt_in=communication["marketing_opt_in"])
    return data


def _read_only(found: dict) -> list[tuple[str, str]]:
    """What the customer sees but may not change here: who they are, and the fields the reseller keeps."""
    rows = [("Portal ID", found["portal_id"]), ("Name", found["display_name"])]
    if found["customer_type"] == "company" and found["company_name"]:
        rows.append(("Company", found["company_name"]))
    if found["national_id"]:
        rows.append(("ID number", found["national_id"]))
    rows.append(("Account type", KINDS.get(found["customer_type"], found["customer_type"])))
    editable = set(found["editable_fields"])
    rows += [(label, str(found[name])) for name, label in FIELDS.items()
             if name not in editable and found.get(name) not in (None, "")]
    return rows


def _sites() -> list[dict]:
    named = {s["id"]: s for s in my_services.list_services(db_session(), _me())}
    return [{**site, "services": [named[i] for i in site["service_ids"] if i in named]}
            for site in selfcare.sites(db_session(), _me())]


def _index(form: ProfileForm | None = None, *, status: int = 200):
    session = db_session()
    found = selfcare.profile(session, _me())
    editable = found["editable_fields"]
    return page("profile/index", status=status, profile=found, form=form or _form(found),
                fields=[(name, FIELDS[name], HINTS.get(name)) for name in FIELDS if name in editable],
                communication="communication" in editable, read_only=_read_only(found),
                pending_email=email_change.pending_email(state().redis, _me()), own=_own_session(),
                sites=_sites(), contacts=selfcare.list_contacts(session, _me()),
                type_names=selfcare.contact_type_names(session))


def _refused(form) -> bool:
    if form.validate_on_submit():
        return False
    if expired(form):
        form.form_errors.append(FORM_EXPIRED)
    return True


def _place_errors(form, errors: dict, names) -> None:
    """The service's problems, each next to its field; a problem of a field the form does not show goes above it."""
    for name, problems in errors.items():
        if name in names and name in form:
            form[name].errors = list(problems)
        else:
            form.form_errors.extend(problems)


@requires("self.view", kinds=CUSTOMER)
def index():
    return _index()


@requires("self.edit", kinds=CUSTOMER)
def update():
    form = _form()
    if _refused(form):
        return _index(form, status=422)
    editable = selfcare.profile(db_session(), _me())["editable_fields"]
    changes = {name: (form[name].data or "").strip() or None for name in FIELDS if name in editable}
    if "communication" in editable:
        changes["communication"] = {"preferred_channel": form.preferred_channel.data or None,
                                    "language": form.language.data or None,
                                    "marketing_opt_in": bool(form.marketing_opt_in.data)}
    try:
        selfcare.update_profile(db_session(), _me(), changes, actor=g.principal)
    except Invalid as exc:
        errors = dict(exc.extra.get("errors") or {"": [exc.detail]})
        if "communication" in errors:  # "language: one of en, sw" and the like: about the choices above them
            form.form_errors.extend(errors.pop("communication"))
        _place_errors(form, errors, FIELDS)
        return _index(form, status=422)
    flash("Your details are saved.", "success")
    return redirect(url_for(".index"))


# -- the e-mail address ------------------------------------------------------------------------------------

def _email_page(form: EmailForm | None = None, *, status: int = 200):
    return page("profile/email", status=status, form=form or EmailForm(), own=_own_session(),
                current=selfcare.profile(db_session(), _me())["email"],
                pending_email=email_change.pending_email(state().redis, _me()))


@requires("self.view", kinds=CUSTOMER)
def email():
    return _email_page()


@requires("self.edit", kinds=CUSTOMER)
def request_email_change():
    own_session_only(EMAIL_CHANGE)
    form = EmailForm()
    if _refused(form):
        return _email_page(form, status=422)
    try:
        email_change.request_email_change(db_session(), state().redis, _me(), form.email.data, actor=g.principal,
                                          default_base=request.host_url)
    except (Invalid, Conflict) as exc:
        form.email.errors = list((exc.extra.get("errors") or {}).get("email") or [exc.detail])
        return _email_page(form, status=exc.status)
    return redirect(url_for(".email_sent"))


@requires("self.view", kinds=CUSTOMER)
def email_sent():
    return page("profile/email_sent", pending_email=email_change.pending_email(state().redis, _me()),
                valid_hours=int(email_change.VALID_FOR.total_seconds() // 3600))


def _signed_out_page(name: str, *, status: int = 200, **context):
    """A page of the link, for whoever opens it: in the brand, outside the signed-in shell."""
    html = render_template(f"portal/profile/{name}.html", door=door_context(CUSTOMERS), **context)
    return html, status, {"Content-Type": "text/html; charset=utf-8", **NO_LINK}


@requires(public=True)
def confirm_email():
    form = ConfirmEmailForm()
    if request.method == "GET":
        token = request.args.get("token") or ""
        if not token or len(token) > 200:
            return _signed_out_page("email_invalid", status=410)
        form.token.data = token
        return _signed_out_page("email_confirm", form=form)
    if _refused(form):
        return _signed_out_page("email_confirm", form=form, status=422)
    try:
        email_change.confirm_email_change(db_session(), state().redis, form.token.data)
    except Invalid:
        return _signed_out_page("email_invalid", status=410)
    except Conflict:  # another account of the reseller took the address meanwhile, and signs in with it
        return _signed_out_page("email_invalid", status=409, taken=True)
    flash("Your e-mail address is changed. We will write to the new one from now on.", "success")
    return redirect(url_for(".index"))


# -- contacts ----------------------------------------------------------------------------------------------

def _contact_form(contact=None) -> ContactForm:
    data = None
    if contact is not None:
        data = {"name": contact.name, "type_id": str(contact.type_id or ""), "email": contact.email or "",
                "phone": contact.phone or "", "is_primary": contact.is_primary}
    form = ContactForm(data=data)
    form.type_id.choices = [SelectChoice("", "No type")] + [SelectChoice(str(t.id), t.name)
                                                          for t in contacts.list_types(db_session())]
    return form


def _contact_page(form: ContactForm, contact=None, *, status: int = 200):
    editable = selfcare.profile(db_session(), _me())["contacts_editable"]
    return page("profile/contact", status=status, form=form, contact=contact, editable=editable)


def _contact_values(form: ContactForm) -> dict:
    chosen = form.type_id.data or ""
    return {"name": form.name.data, "type_id": int(chosen) if chosen.isdigit() else (chosen or None),
            "email": (form.email.data or "").strip() or None, "phone": (form.phone.data or "").strip() or None,
            "is_primary": bool(form.is_primary.data)}


def _save_contact(contact_id: int | None):
    contact = selfcare.own_contact(db_session(), _me(), contact_id) if contact_id is not None else None
    form = _contact_form()
    if _refused(form):
        return _contact_page(form, contact, status=422)
    try:
        if contact is None:
            selfcare.add_contact(db_session(), _me(), _contact_values(form), actor=g.principal)
        else:
            selfcare.update_contact(db_session(), _me(), contact.id, _contact_values(form), actor=g.principal)
    except Invalid as exc:
        _place_errors(form, dict(exc.extra.get("errors") or {"": [exc.detail]}), CONTACT_FIELDS)
        return _contact_page(form, contact, status=422)
    flash("The contact is saved.", "success")
    return redirect(url_for(".index") + "#contacts")


@requires("self.view", kinds=CUSTOMER)
def new_contact():
    return _contact_page(_contact_form())


@requires("self.edit", kinds=CUSTOMER)
def add_contact():
    return _save_contact(None)


@requires("self.view", kinds=CUSTOMER)
def edit_contact(contact_id: int):
    contact = selfcare.own_contact(db_session(), _me(), contact_id)
    return _contact_page(_contact_form(contact), contact)


@requires("self.edit", kinds=CUSTOMER)
def update_contact(contact_id: int):
    return _save_contact(contact_id)


@requires("self.view", kinds=CUSTOMER)
def remove_contact_page(contact_id: int):
    contact = selfcare.own_contact(db_session(), _me(), contact_id)
    editable = selfcare.profile(db_session(), _me())["contacts_editable"]
    return page("profile/contact_remove", contact=contact, form=RemoveForm(), editable=editable)


@requires("self.edit", kinds=CUSTOMER)
def remove_contact(contact_id: int):
    form = RemoveForm()
    if not form.validate_on_submit():
        flash(FORM_EXPIRED, "error")
        return redirect(url_for(".remove_contact_page", contact_id=contact_id))
    selfcare.remove_contact(db_session(), _me(), contact_id, actor=g.principal)
    flash("The contact is removed.", "success")
    return redirect(url_for(".index") + "#contacts")


# -- about the provider ------------------------------------------------------------------------------------

@requires("self.view", kinds=CUSTOMER)
def about():
    """The reseller's company information: its brand's fields, as every page and document already shows them."""
    return page("profile/about")


bp.add_url_rule("", "index", index)
bp.add_url_rule("", "update", update, methods=["POST"])
bp.add_url_rule("/email", "email", email)
bp.add_url_rule("/email", "request_email_change", request_email_change, methods=["POST"])
bp.add_url_rule("/email/sent", "email_sent", email_sent)
bp.add_url_rule(email_change.CONFIRM_PATH.removeprefix(bp.url_prefix), "confirm_email", confirm_email,
                methods=["GET", "POST"])
bp.add_url_rule("/contacts/new", "new_contact", new_contact)
bp.add_url_rule("/contacts/new", "add_contact", add_contact, methods=["POST"])
bp.add_url_rule("/contacts/<int:contact_id>/edit", "edit_contact", edit_contact)
bp.add_url_rule("/contacts/<int:contact_id>/edit", "update_contact", update_contact, methods=["POST"])
bp.add_url_rule("/contacts/<int:contact_id>/remove", "remove_contact_page", remove_contact_page)
bp.add_url_rule("/contacts/<int:contact_id>/remove", "remove_contact", remove_contact, methods=["POST"])
bp.add_url_rule("/about", "about", about)
