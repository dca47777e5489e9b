"""A reseller's customers: the list, onboarding step 1, profile, status and approval, bulk status changes,
deletion, contacts and contact types, and a team member's "login as customer".

Reseller users and the reseller's own OAuth clients may call these. A user limited to some customers
(`allowed_customer_ids`) sees only those: any other customer answers 404, as if it did not exist, and
lists and bulk changes leave it out.
"""

from __future__ import annotations

from flask import g, jsonify
from flask_smorest import Blueprint

from app.api.customers import schemas as s
from app.api.visibility import principal, visible_customer
from app.services import contacts, customers
from app.services.auth import impersonation
from app.services.auth.principal import CLIENT, USER
from app.web import db_session, state
from app.web.auth import requires

blp = Blueprint("customers", __name__, url_prefix="/reseller/api",
                description="Customers, their status and approval, contacts and contact types")
KINDS = (USER, CLIENT)


def _visible() -> frozenset[int] | None:
    return principal().allowed_customer_ids


def _status_out(result: customers.StatusResult) -> dict:
    return {"id": result.id, "portal_id": result.portal_id, "outcome": result.outcome,
            "from_status": result.from_status, "to_status": result.to_status, "error": result.error}


# -- customers ----------------------------------------------------------------------------------------
@blp.route("/customers")
@requires("customers.view", kinds=KINDS)
@blp.arguments(s.CustomerListArgs, location="query")
@blp.response(200, s.CustomerPage)
def list_customers(args):
    """The customer list: filters, full-text search (`q`), sort, and keyset pages (`cursor`) with a total."""
    sort, limit, cursor = args.pop("sort"), args.pop("limit"), args.pop("cursor", None)
    page = customers.list_page(db_session(), customers.CustomerFilter(**args), sort=sort, limit=limit, cursor=cursor,
                               visible=_visible())
    # serialised here rather than by the declared schema (see `schemas.summary`); a Response passes through
    return jsonify({"items": [s.summary(row) for row in page.items], "total": page.total, "limit": page.limit,
                    "sort": page.sort, "next_cursor": page.next_cursor})


@blp.route("/customers", methods=["POST"])
@requires("customers.create", kinds=KINDS)
@blp.arguments(s.CustomerIn)
@blp.response(201, s.CustomerProfileOut)
def create_customer(body):
    """Onboarding step 1, basic information: the Portal ID is generated; a reseller that requires approval
    gets a Pending customer. At the reseller's customer limit: 409 `customer-limit-reached`."""
    generate = body.pop("generate_credentials")
    return customers.create(db_session(), actor=principal(), onboarding={"generate_credentials": generate}, **body)


@blp.route("/customers/<int:customer_id>")
@requires("customers.view", kinds=KINDS)
@blp.response(200, s.CustomerProfileOut)
def get_customer(customer_id):
    """One customer."""
    return customers.get(db_session(), visible_customer(customer_id))


@blp.route("/customers/<int:customer_id>", methods=["PATCH"])
@requires("customers.edit", kinds=KINDS)
@blp.arguments(s.CustomerPatch)
@blp.response(200, s.CustomerProfileOut)
def update_customer(body, customer_id):
    """Change a customer's details (the status has its own endpoint; the Portal ID never changes)."""
    return customers.update(db_session(), visible_customer(customer_id), body, actor=principal())


@blp.route("/customers/<int:customer_id>", methods=["DELETE"])
@requires("customers.delete", kinds=KINDS)
@blp.arguments(s.CustomerRemovalIn, location="query")
@blp.response(200, s.CustomerRemovalOut)
def delete_customer(args, customer_id):
    """Delete a customer, or, when financial records (services, invoices, payments, ledger) refer to them,
    make them Inactive and keep them: `outcome` says which."""
    removal = customers.delete(db_session(), visible_customer(customer_id), actor=principal(), reason=args["reason"])
    return {"outcome": removal.outcome, "references": removal.references, "customer": removal.customer}


@blp.route("/customers/<int:customer_id>/status", methods=["POST"])
@requires("customers.edit", kinds=KINDS)
@blp.arguments(s.CustomerStatusIn)
@blp.response(200, s.CustomerStatusChangeOut)
def change_status(body, customer_id):
    """Move a customer to another status, with a reason; a transition the lifecycle does not allow is a
    409 `status-transition-refused` naming the allowed ones."""
    session = db_session()
    result = customers.change_status(session, visible_customer(customer_id), body["status"], body["reason"],
                                     actor=principal())
    return {**_status_out(result), "customer": customers.get(session, customer_id)}


@blp.route("/customers/<int:customer_id>/approve", methods=["POST"])
@requires("customers.edit", kinds=KINDS)
@blp.arguments(s.CustomerApproveIn)
@blp.response(200, s.CustomerStatusChangeOut)
def approve_customer(body, customer_id):
    """Approve a Pending customer: to New (awaiting activation), or to Active with `activate`."""
    session = db_session()
    result = customers.approve(session, visible_customer(customer_id), actor=principal(), reason=body["reason"],
                               activate=body["activate"])
    return {**_status_out(result), "customer": customers.get(session, customer_id)}


@blp.route("/customers/<int:customer_id>/impersonation", methods=["POST"])
@requires("customers.impersonate", kinds=(USER,))
@blp.response(201, s.CustomerImpersonationOut)
def impersonate_customer(customer_id):
    """"Login as customer": a single-use, one-minute link to this customer's portal, signed in as them (audited;
    everything done there is in the customer's activity log). A team member's own sign-in, not an API client's."""
    ticket = impersonation.issue_team_ticket(db_session(), state().redis, g.principal, g.tenant,
                                             visible_customer(customer_id))
    return {"url": f"/portal/auth/impersonate?ticket={ticket}", "ticket": ticket,
            "expires_in": impersonation.TICKET_SECONDS}


@blp.route("/customers/<int:customer_id>/history")
@requires("customers.view", kinds=KINDS)
@blp.response(200, s.CustomerHistoryOut(many=True))
def status_history(customer_id):
    """Every status the customer has had: from, to, when, who and why."""
    return customers.history(db_session(), visible_customer(customer_id))


@blp.route("/customers/bulk/status", methods=["POST"])
@requires("customers.edit", kinds=KINDS)
@blp.arguments(s.CustomerBulkStatusIn)
@blp.response(200, s.CustomerBulkStatusOut)
def bulk_status(body):
    """One status change over listed customers (`ids`) or a filtered set (`filter`, as the list takes it),
    each as far as its own status allows; the answer says, per customer, what happened."""
    session, visible = db_session(), _visible()
    ids = body.get("ids")
    if ids is None:
        ids = customers.matching_ids(session, customers.CustomerFilter(**body["filter"]), visible)
    results = customers.change_statuses(session, ids, body["status"], body["reason"], actor=principal(),
                                        visible=visible)
    counts = {outcome: sum(1 for r in results if r.outcome == outcome)
              for outcome in ("changed", "unchanged", "refused", "not_found")}
    return {"status": body["status"], "requested": len(results), **counts,
            "results": [_status_out(r) for r in results]}


# -- contacts -----------------------------------------------------------------------------------------
def _contact_out(contact, names: dict[int, str] | None = None) -> dict:
    if names is None:
        names = {t.id: t.name for t in contacts.list_types(db_session())}
    return {"id": contact.id, "customer_id": contact.customer_id, "type_id": contact.type_id,
            "type": names.get(contact.type_id), "name": contact.name, "email": contact.email, "phone": contact.phone,
            "channels": contact.channels, "notifications": contact.notifications, "is_primary": contact.is_primary,
            "created_at": contact.created_at, "updated_at": contact.updated_at}


def _contact(contact_id: int):
    contact = contacts.get(db_session(), contact_id)
    visible_customer(contact.customer_id)  # someone else's customer's contact: 404 alike
    return contact


@blp.route("/customers/<int:customer_id>/contacts")
@requires("customers.view", kinds=KINDS)
@blp.response(200, s.ContactOut(many=True))
def list_contacts(customer_id):
    """A customer's contacts, the primary one first."""
    rows = contacts.list_for_customer(db_session(), visible_customer(customer_id))
    names = {t.id: t.name for t in contacts.list_types(db_session())}
    return [_contact_out(c, names) for c in rows]


@blp.route("/customers/<int:customer_id>/contacts", methods=["POST"])
@requires("customers.edit", kinds=KINDS)
@blp.arguments(s.ContactIn)
@blp.response(201, s.ContactOut)
def create_contact(body, customer_id):
    """Add a contact: any type of the reseller's (or none), its channels and what it is notified of."""
    return _contact_out(contacts.create(db_session(), visible_customer(customer_id), body, actor=principal()))


@blp.route("/contacts/<int:contact_id>")
@requires("customers.view", kinds=KINDS)
@blp.response(200, s.ContactOut)
def get_contact(contact_id):
    """One contact."""
    return _contact_out(_contact(contact_id))


@blp.route("/contacts/<int:contact_id>", methods=["PATCH"])
@requires("customers.edit", kinds=KINDS)
@blp.arguments(s.ContactPatch)
@blp.response(200, s.ContactOut)
def update_contact(body, contact_id):
    """Change a contact; `is_primary: true` moves the primary mark to it."""
    contact = _contact(contact_id)
    return _contact_out(contacts.update(db_session(), contact.id, body, actor=principal()))


@blp.route("/contacts/<int:contact_id>", methods=["DELETE"])
@requires("customers.edit", kinds=KINDS)
@blp.response(204)
def delete_contact(contact_id):
    """Remove a contact (a customer may have none)."""
    contacts.delete(db_session(), _contact(contact_id).id, actor=principal())


# -- contact types ------------------------------------------------------------------------------------
@blp.route("/contact-types")
@requires("customers.view", kinds=KINDS)
@blp.response(200, s.ContactTypeOut(many=True))
def list_contact_types():
    """The reseller's contact types."""
    return contacts.list_types(db_session())


@blp.route("/contact-types", methods=["POST"])
@requires("settings.manage", kinds=KINDS)
@blp.arguments(s.ContactTypeIn)
@blp.response(201, s.ContactTypeOut)
def create_contact_type(body):
    """A contact type of the reseller's own (names are unique, whatever their case)."""
    return contacts.create_type(db_session(), actor=principal(), **body)


@blp.route("/contact-types/<int:type_id>", methods=["PATCH"])
@requires("settings.manage", kinds=KINDS)
@blp.arguments(s.ContactTypePatch)
@blp.response(200, s.ContactTypeOut)
def update_contact_type(body, type_id):
    """Rename or describe a contact type."""
    return contacts.update_type(db_session(), type_id, body, actor=principal())


@blp.route("/contact-types/<int:type_id>", methods=["DELETE"])
@requires("settings.manage", kinds=KINDS)
@blp.response(204)
def delete_contact_type(type_id):
    """Delete a contact type no contact has (409 otherwise)."""
    contacts.delete_type(db_session(), type_id, actor=principal())
