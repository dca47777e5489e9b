"""A customer's page in the reseller portal, `/reseller/customers/<id>`: who they are (the profile), and tabs for
their contacts, services (with their status and why), invoices, payments, ledger, usage chart, RADIUS sessions,
CoA history, status history and activity; and what a team member does to them: edit the profile, add or remove a
contact, approve, suspend or restore with a reason, suspend, limit, restore or terminate one service
(service_actions.py), disconnect a service's live sessions, and sign in to the
customer's portal as them (with `customers.impersonate`).

Each tab is a page of its own (a GET link), so the tabs work without JavaScript, by keyboard, and by address;
the menu shows the tabs and actions the member's permissions open (customer_common.py). The views are in
customer_tabs.py (what is read) and customer_actions.py (what is done); this module holds the blueprint, the
profile and the addresses.
"""

from __future__ import annotations

from flask import Blueprint

from app.portals.reseller import customer_actions as act
from app.portals.reseller import customer_delete as dele
from app.portals.reseller import customer_tabs as tab
from app.portals.reseller import service_actions
from app.portals.reseller.customer_common import frame, service_rows, the_customer
from app.portals.reseller.shell import TEAM_KINDS, guard
from app.services import contacts
from app.web import db_session
from app.web.auth import requires

bp = Blueprint("reseller_customer", __name__, url_prefix="/reseller/customers/<int:customer_id>")
guard(bp)


@requires("customers.view", kinds=TEAM_KINDS)
def profile(customer_id: int):
    customer = the_customer(customer_id)
    primary = next(iter(contacts.list_for_customer(db_session(), customer.id)), None)
    return frame("profile", customer, primary_contact=primary, services=service_rows(customer.id))


_RULES = (
    ("", "profile", profile, ("GET",)),
    ("/contacts", "contacts", tab.contacts_tab, ("GET",)),
    ("/contacts/new", "new_contact", act.new_contact, ("GET",)),
    ("/contacts", "add_contact", act.add_contact, ("POST",)),
    ("/contacts/<int:contact_id>/remove", "remove_contact", act.remove_contact, ("GET",)),
    ("/contacts/<int:contact_id>/remove", "remove_contact_post", act.remove_contact_post, ("POST",)),
    ("/services", "services", tab.services_tab, ("GET",)),
    ("/invoices", "invoices", tab.invoices_tab, ("GET",)),
    ("/payments", "payments", tab.payments_tab, ("GET",)),
    ("/ledger", "ledger", tab.ledger_tab, ("GET",)),
    ("/usage", "usage", tab.usage_tab, ("GET",)),
    ("/usage/<int:service_id>.svg", "usage_chart", tab.usage_chart_svg, ("GET",)),
    ("/sessions", "sessions", tab.sessions_tab, ("GET",)),
    ("/coa", "coa", tab.coa_tab, ("GET",)),
    ("/status-history", "history", tab.history_tab, ("GET",)),
    ("/activity", "activity", tab.activity_tab, ("GET",)),
    ("/edit", "edit", act.edit, ("GET",)),
    ("/edit", "save", act.save, ("POST",)),
    ("/approve", "approve", act.approve, ("GET",)),
    ("/approve", "approve_post", act.approve_post, ("POST",)),
    ("/suspend", "suspend", act.suspend, ("GET",)),
    ("/suspend", "suspend_post", act.suspend_post, ("POST",)),
    ("/restore", "restore", act.restore, ("GET",)),
    ("/restore", "restore_post", act.restore_post, ("POST",)),
    ("/services/<int:service_id>/disconnect", "disconnect", act.disconnect, ("GET",)),
    ("/services/<int:service_id>/disconnect", "disconnect_post", act.disconnect_post, ("POST",)),
    ("/impersonate", "impersonate", act.impersonate, ("GET",)),
    ("/impersonate", "impersonate_post", act.impersonate_post, ("POST",)),
    ("/delete", "delete", dele.delete, ("GET",)),
    ("/delete", "delete_post", dele.delete_post, ("POST",)),
)
for rule, endpoint, view, methods in (*_RULES, *service_actions.rules()):
    bp.add_url_rule(rule, endpoint, view, methods=list(methods))
