"""What every page of a customer (app/portals/reseller/customer.py) shares: finding the customer as the API finds
them, the tabs, and the page's frame (the customer's name and status, the actions the team member may take,
the tabs as links).

A customer is found through the API's rule (app/api/visibility.py `visible_customer`): a team member limited to
some customers gets "not found" for the others, before anything is read, as for an id that does not exist;
another reseller's customer is not in this reseller's schema, so it is not found either.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for

from app.api.visibility import visible_customer
from app.models import Customer
from app.models.catalogue import Plan
from app.models.provisioning import Service
from app.portals.nav import may_open
from app.portals.reseller.onboarding_forms import PAYMENT_WORDS
from app.portals.reseller.shell import page
from app.services import customers, services
from app.services.errors import NotFound
from app.web import db_session

LIVE_KINDS = ("Active", "Limited")  # a service that may have a session to disconnect


@dataclass(frozen=True)
class Tab:
    key: str
    label: str  # a msgid
    endpoint: str


TABS = (
    Tab("profile", "Profile", "reseller_customer.profile"),
    Tab("contacts", "Contacts", "reseller_customer.contacts"),
    Tab("services", "Services", "reseller_customer.services"),
    Tab("invoices", "Invoices", "reseller_customer.invoices"),
    Tab("payments", "Payments", "reseller_customer.payments"),
    Tab("ledger", "Ledger", "reseller_customer.ledger"),
    Tab("usage", "Usage", "reseller_customer.usage"),
    Tab("sessions", "Sessions", "reseller_customer.sessions"),
    Tab("coa", "CoA history", "reseller_customer.coa"),
    Tab("history", "Status history", "reseller_customer.history"),
    Tab("activity", "Activity", "reseller_customer.activity"),
)


def the_customer(customer_id: int) -> Customer:
    return customers.get(db_session(), visible_customer(customer_id))


def service_of(customer: Customer, service_id: int) -> Service:
    """One of this customer's services; another's (or none) is not found."""
    service = services.get(db_session(), service_id)
    if service.customer_id != customer.id:
        raise NotFound("no such service")
    return service


def plan_names(plan_ids) -> dict[int, Plan]:
    session = db_session()
    return {i: session.get(Plan, i) for i in set(plan_ids)}


def service_rows(customer_id: int) -> list[dict]:
    found = services.list_for_customer(db_session(), customer_id)
    plans = plan_names(s.plan_id for s in found)
    return [{"service": s, "plan": plans.get(s.plan_id), "live": s.status in LIVE_KINDS} for s in found]


def actions(customer: Customer) -> list[dict]:
    """The customer's actions the signed-in member may take, by the customer's status (a Readonly member has
    none: each needs a permission their role lacks)."""
    found = []

    def offer(endpoint: str, label: str, kind: str = "secondary"):
        if may_open(endpoint):
            found.append({"href": url_for(endpoint, customer_id=customer.id), "label": label, "kind": kind})

    if customer.status == "Pending":
        offer("reseller_customer.approve", "Approve", "primary")
    if customer.status == "Active":
        offer("reseller_customer.suspend", "Suspend", "warning")
    if customer.status == "Suspended":
        offer("reseller_customer.restore", "Restore")
    if customer.status != "Inactive":
        offer("reseller_customer.edit", "Edit profile")
    offer("reseller_customer.impersonate", "Sign in as the customer")
    offer("reseller_customer.delete", "Delete customer", "warning")
    return found


def frame(tab: str, customer: Customer, *, status: int = 200, **context):
    """A tab of the customer's page, or one of its forms (`tab` the template's name under reseller/customer/)."""
    tabs = [{"key": t.key, "label": t.label, "url": url_for(t.endpoint, customer_id=customer.id),
             "current": t.key == context.get("current", tab)} for t in TABS if may_open(t.endpoint)]
    back = url_for("reseller_customers.index") if may_open("reseller_customers.index") else None
    context.setdefault("current", tab)
    offered = actions(customer) if context["current"] == tab else []  # none over an action's own form
    return page(f"customer/{tab}", status=status, customer=customer, tabs=tabs, actions=offered,
                back_url=back, payment_words=PAYMENT_WORDS, **context)
