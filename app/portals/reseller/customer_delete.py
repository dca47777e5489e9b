"""Deleting a customer from their page (`/reseller/customers/<id>/delete`, registered by customer.py), as the
API's `DELETE /reseller/api/customers/<id>` does, with its permission `customers.delete`.

The GET page says beforehand which of the service's two outcomes it will be: deleted outright when nothing
financial refers to the customer, or kept as Inactive when services, invoices, payments or the ledger do
(those records must keep pointing at someone), and which services are still running, since making the
customer Inactive does not end them. The POST calls the service and says on the customer list what it did:
the outcome is the service's, read from its answer, not guessed from what the page showed.
"""

from __future__ import annotations

from flask import flash, g, redirect, url_for

from app.portals.forms import FORM_EXPIRED, expired
from app.portals.reseller.customer_actions import refused
from app.portals.reseller.customer_common import frame, service_rows, the_customer
from app.portals.reseller.privacy_forms import DeleteForm
from app.portals.reseller.shell import TEAM_KINDS
from app.services import customers
from app.services.errors import ServiceError
from app.web import db_session
from app.web.auth import requires

DELETED = "The customer is deleted."
INACTIVATED = "The customer is kept as Inactive: financial records refer to them."
UNCHANGED = "The customer was Inactive already and is kept: financial records refer to them."
# What the service names as keeping the customer (its FINANCIAL_TABLES, or another table's name), as words.
REFERENCES = {"services": "services", "invoices": "invoices", "payments": "payments",
              "ledger_entries": "ledger entries"}


def _page(customer, form: DeleteForm, *, status: int = 200):
    references = customers.financial_references(db_session(), customer.id)
    running = [row for row in service_rows(customer.id) if row["service"].status != "Terminated"]
    return frame("delete", customer, form=form, references=references, reference_words=REFERENCES,
                 running=running, current="profile", status=status)


@requires("customers.delete", kinds=TEAM_KINDS)
def delete(customer_id: int):
    return _page(the_customer(customer_id), DeleteForm(formdata=None))


@requires("customers.delete", kinds=TEAM_KINDS)
def delete_post(customer_id: int):
    customer = the_customer(customer_id)
    form = DeleteForm()
    status = 422
    if form.validate_on_submit():
        try:
            removal = customers.delete(db_session(), customer.id, actor=g.principal,
                                       reason=(form.reason.data or "").strip() or None)
        except ServiceError as exc:
            status = refused(form, exc)
        else:
            if removal.outcome == "deleted":
                flash(DELETED, "success")
            else:
                flash(INACTIVATED if removal.changed else UNCHANGED, "success" if removal.changed else "info")
            return redirect(url_for("reseller_customers.index"))
    elif expired(form):
        form.form_errors.append(FORM_EXPIRED)
    return _page(customer, form, status=status)
