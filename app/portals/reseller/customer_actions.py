"""What a team member does to a customer from their page (registered by app/portals/reseller/customer.py): edit the
profile, add or remove a contact, approve a Pending customer, suspend or restore with a reason, disconnect a
service's live sessions, sign in to the customer's portal as them ("login as customer", `customers.impersonate`
as the API's `POST …/impersonation`: the single-use ticket the browser takes to /portal on this same host; the
team session stays beside the support one, app/web/auth.py, and ending it comes back to the activity tab).

Each is a GET page (the form, or the kit's confirmation saying what will happen) and its POST, which calls the
service the API's route calls with the API route's permission (`customers.edit` for the profile, contacts and
every status change, as `PATCH /customers/<id>`, `POST …/contacts`, `…/approve` and `…/status` ask;
`services.modify` for a Disconnect), then redirects back with a message. A refusal of the service (a transition
the lifecycle does not allow, a service with no live session) gives the page back with why, and nothing is kept.
"""

from __future__ import annotations

from flask import flash, g, redirect, url_for

from app.portals.forms import FORM_EXPIRED, expired
from app.portals.reseller.customer_common import frame, service_of, the_customer
from app.portals.reseller.customer_forms import (
    ApproveForm,
    ContactForm,
    DisconnectForm,
    ProfileForm,
    ReasonForm,
    RemoveForm,
)
from app.portals.reseller.shell import TEAM_KINDS
from app.services import contacts, customers, disconnects
from app.services.auth import impersonation
from app.services.errors import Invalid, NotFound, ServiceError
from app.web import db_session, state
from app.web.auth import requires

SAVED = "The customer's details are saved."
APPROVED = "The customer is approved."
SUSPENDED = "The customer is suspended."
RESTORED = "The customer is active again."
DISCONNECTED = "The Disconnect was sent to the router. Follow it in the CoA history."
REFUSED = "This could not be done, and nothing was changed."
CONTACT_ADDED = "The contact is added."
CONTACT_REMOVED = "The contact is removed."


def _back(customer_id: int, tab: str = "profile"):
    return redirect(url_for(f"reseller_customer.{tab}", customer_id=customer_id))


def refused(form, exc: ServiceError) -> int:
    db_session().rollback()
    form.form_errors.append(REFUSED)
    form.form_errors.append(exc.detail)
    return exc.status if exc.status >= 400 else 409


# -- the profile ---------------------------------------------------------------------------------------------

def _profile_form(customer) -> ProfileForm:
    return ProfileForm(formdata=None, data={"customer_type": customer.kind, **{
        name: getattr(customer, name) or "" for name in ("first_name", "last_name", "company_name", "email", "phone",
                                                         "national_id", "address", "city", "county", "mpesa_number")}})


@requires("customers.edit", kinds=TEAM_KINDS)
def edit(customer_id: int):
    customer = the_customer(customer_id)
    return frame("edit", customer, form=_profile_form(customer), current="profile")


@requires("customers.edit", kinds=TEAM_KINDS)
def save(customer_id: int):
    customer = the_customer(customer_id)
    form = ProfileForm()
    status = 422
    if form.validate_on_submit():
        try:
            customers.update(db_session(), customer.id, form.changes(), actor=g.principal)
        except Invalid as exc:
            db_session().rollback()
            for name, messages in (exc.extra.get("errors") or {}).items():
                field = form._fields.get("customer_type" if name == "kind" else name)
                if field is not None:
                    field.errors = [*field.errors, *messages]
                else:
                    form.form_errors.append(f"{name}: {', '.join(messages)}")
            if not exc.extra.get("errors"):
                form.form_errors.append(exc.detail)
        except ServiceError as exc:
            status = refused(form, exc)
        else:
            flash(SAVED, "success")
            return _back(customer.id)
    elif expired(form):
        form.form_errors.append(FORM_EXPIRED)
    return frame("edit", customer, form=form, current="profile", status=status)


# -- status ----------------------------------------------------------------------------------------------------

@requires("customers.edit", kinds=TEAM_KINDS)
def approve(customer_id: int):
    customer = the_customer(customer_id)
    return frame("approve", customer, form=ApproveForm(formdata=None), current="profile")


@requires("customers.edit", kinds=TEAM_KINDS)
def approve_post(customer_id: int):
    customer = the_customer(customer_id)
    form = ApproveForm()
    status = 422
    if form.validate_on_submit():
        try:
            customers.approve(db_session(), customer.id, actor=g.principal, reason=form.reason.data or None,
                              activate=bool(form.activate.data))
        except ServiceError as exc:
            status = refused(form, exc)
        else:
            flash(APPROVED, "success")
            return _back(customer.id, "history")
    elif expired(form):
        form.form_errors.append(FORM_EXPIRED)
    return frame("approve", customer, form=form, current="profile", status=status)


def _status_page(customer_id: int, target: str):
    customer = the_customer(customer_id)
    return frame("status", customer, form=ReasonForm(formdata=None), target=target, current="profile")


def _status_post(customer_id: int, target: str, done: str):
    customer = the_customer(customer_id)
    form = ReasonForm()
    status = 422
    if form.validate_on_submit():
        try:
            customers.change_status(db_session(), customer.id, target, form.reason.data, actor=g.principal)
        except ServiceError as exc:
            status = refused(form, exc)
        else:
            flash(done, "success")
            return _back(customer.id, "history")
    elif expired(form):
        form.form_errors.append(FORM_EXPIRED)
    return frame("status", customer, form=form, target=target, current="profile", status=status)


@requires("customers.edit", kinds=TEAM_KINDS)
def suspend(customer_id: int):
    return _status_page(customer_id, "Suspended")


@requires("customers.edit", kinds=TEAM_KINDS)
def suspend_post(customer_id: int):
    return _status_post(customer_id, "Suspended", SUSPENDED)


@requires("customers.edit", kinds=TEAM_KINDS)
def restore(customer_id: int):
    return _status_page(customer_id, "Active")


@requires("customers.edit", kinds=TEAM_KINDS)
def restore_post(customer_id: int):
    return _status_post(customer_id, "Active", RESTORED)


# -- Disconnect --------------------------------------------------------------------------------------------------

@requires("services.modify", kinds=TEAM_KINDS)
def disconnect(customer_id: int, service_id: int):
    customer = the_customer(customer_id)
    service = service_of(customer, service_id)
    return frame("disconnect", customer, form=DisconnectForm(formdata=None), service=service, current="services")


@requires("services.modify", kinds=TEAM_KINDS)
def disconnect_post(customer_id: int, service_id: int):
    """What the API's `POST /services/<id>/disconnect` does (app/services/disconnects.py)."""
    customer = the_customer(customer_id)
    service = service_of(customer, service_id)
    form = DisconnectForm()
    status = 422
    if form.validate_on_submit():
        try:
            disconnects.disconnect(db_session(), service, g.principal, form.reason.data or None)
        except ServiceError as exc:
            status = refused(form, exc)
        else:
            flash(DISCONNECTED, "success")
            return redirect(url_for("reseller_customer.coa", customer_id=customer.id, service=service.id))
    elif expired(form):
        form.form_errors.append(FORM_EXPIRED)
    return frame("disconnect", customer, form=form, service=service, current="services", status=status)


# -- contacts --------------------------------------------------------------------------------------------------

def _types() -> dict[int, str]:
    return {t.id: t.name for t in contacts.list_types(db_session())}


def _contact_of(customer, contact_id: int):
    contact = contacts.get(db_session(), contact_id)
    if contact.customer_id != customer.id:
        raise NotFound("no such contact")
    return contact


@requires("customers.edit", kinds=TEAM_KINDS)
def new_contact(customer_id: int):
    customer = the_customer(customer_id)
    return frame("contact_new", customer, form=ContactForm(formdata=None).offer(_types()), current="contacts")


@requires("customers.edit", kinds=TEAM_KINDS)
def add_contact(customer_id: int):
    customer = the_customer(customer_id)
    form = ContactForm().offer(_types())
    status = 422
    if form.validate_on_submit():
        try:
            contacts.create(db_session(), customer.id, form.values(), actor=g.principal)
        except Invalid as exc:
            db_session().rollback()
            for name, messages in (exc.extra.get("errors") or {"": [exc.detail]}).items():
                field = form._fields.get(name)
                if field is not None:
                    field.errors = [*field.errors, *messages]
                else:
                    form.form_errors.extend(messages)
        except ServiceError as exc:
            status = refused(form, exc)
        else:
            flash(CONTACT_ADDED, "success")
            return _back(customer.id, "contacts")
    elif expired(form):
        form.form_errors.append(FORM_EXPIRED)
    return frame("contact_new", customer, form=form, current="contacts", status=status)


@requires("customers.edit", kinds=TEAM_KINDS)
def remove_contact(customer_id: int, contact_id: int):
    customer = the_customer(customer_id)
    return frame("contact_remove", customer, form=RemoveForm(formdata=None),
                 contact=_contact_of(customer, contact_id), current="contacts")


@requires("customers.edit", kinds=TEAM_KINDS)
def remove_contact_post(customer_id: int, contact_id: int):
    customer = the_customer(customer_id)
    contact = _contact_of(customer, contact_id)
    form = RemoveForm()
    if not form.validate_on_submit():
        form.form_errors.append(FORM_EXPIRED)
        return frame("contact_remove", customer, form=form, contact=contact, current="contacts", status=422)
    contacts.delete(db_session(), contact.id, actor=g.principal)
    flash(CONTACT_REMOVED, "success")
    return _back(customer.id, "contacts")


# -- login as customer -----------------------------------------------------------------------------------------

@requires("customers.impersonate", kinds=TEAM_KINDS)
def impersonate(customer_id: int):
    customer = the_customer(customer_id)
    return frame("impersonate", customer, form=RemoveForm(formdata=None), current="profile")


@requires("customers.impersonate", kinds=TEAM_KINDS)
def impersonate_post(customer_id: int):
    customer = the_customer(customer_id)
    form = RemoveForm()
    if not form.validate_on_submit():
        form.form_errors.append(FORM_EXPIRED)
        return frame("impersonate", customer, form=form, current="profile", status=422)
    ticket = impersonation.issue_team_ticket(db_session(), state().redis, g.principal, g.tenant, customer.id)
    return redirect(f"/portal/auth/impersonate?ticket={ticket}", code=303)
