"""Changing one of a customer's services from the customer's Services tab: suspend, limit (reduced speeds),
restore, terminate; each a confirmation page saying what will happen, and its POST.

Each calls `services.apply` as the API's `POST /reseller/api/services/<id>/<action>` does, with the API's
permission: `services.suspend` for suspend, limit and restore, `services.provision` for terminate. Which of
them a service offers is the lifecycle's own table (`services.TRANSITIONS`), so the tab never offers a change
the service would refuse; one refused anyway (the status moved meanwhile) gives the page back with why.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import flash, g, redirect, url_for

from app.models.provisioning import Service
from app.portals.forms import FORM_EXPIRED, expired
from app.portals.nav import may_open
from app.portals.reseller.customer_actions import refused
from app.portals.reseller.customer_common import frame, plan_names, service_of, the_customer
from app.portals.reseller.customer_forms import ServiceReasonForm
from app.portals.reseller.shell import TEAM_KINDS
from app.services import services
from app.services.branding import i18n
from app.services.errors import ServiceError
from app.web import db_session
from app.web.auth import requires
from app.web.branding import current_locale

MOVED = "The service is %(status)s now, so this change no longer applies to it."


@dataclass(frozen=True)
class Change:
    action: str
    permission: str
    label: str  # the button, a msgid
    done: str  # the message after it, a msgid
    kind: str  # the button's style


CHANGES = (
    Change("limit", "services.suspend", "Limit", "The service is limited to reduced speeds.", "secondary"),
    Change("suspend", "services.suspend", "Suspend", "The service is suspended.", "warning"),
    Change("restore", "services.suspend", "Restore", "The service is active again.", "secondary"),
    Change("terminate", "services.provision", "Terminate", "The service is terminated.", "warning"),
)
BY_ACTION = {c.action: c for c in CHANGES}


def offers(customer_id: int, service: Service) -> list[dict]:
    """The changes `service` allows in its status that the signed-in member may make, as buttons."""
    found = []
    for change in CHANGES:
        allowed_from, _ = services.TRANSITIONS[change.action]
        endpoint = f"reseller_customer.service_{change.action}"
        if service.status in allowed_from and may_open(endpoint):
            found.append({"label": change.label, "kind": change.kind,
                          "href": url_for(endpoint, customer_id=customer_id, service_id=service.id)})
    return found


def _page(change: Change, customer_id: int, service_id: int, form: ServiceReasonForm, status: int = 200):
    customer = the_customer(customer_id)
    service = service_of(customer, service_id)
    plan = plan_names([service.plan_id]).get(service.plan_id)
    return frame("service_action", customer, form=form, service=service, plan=plan, change=change,
                 current="services", status=status)


def _confirm(change: Change):
    def view(customer_id: int, service_id: int):
        return _page(change, customer_id, service_id, ServiceReasonForm(formdata=None))

    return view


def _apply(change: Change):
    def view(customer_id: int, service_id: int):
        customer = the_customer(customer_id)
        service = service_of(customer, service_id)
        form = ServiceReasonForm()
        status = 422
        if form.validate_on_submit():
            try:
                services.apply(db_session(), service.id, change.action, reason=form.reason.data or None,
                               principal=g.principal)
            except ServiceError as exc:
                status = refused(form, exc)
                if "current_status" in exc.extra:  # the service's own words are English: say it in the page's
                    words = i18n.translations(current_locale().language)
                    form.form_errors[-1] = words.gettext(MOVED) % {"status": words.gettext(exc.extra["current_status"])}
            else:
                flash(change.done, "success")
                return redirect(url_for("reseller_customer.services", customer_id=customer.id))
        elif expired(form):
            form.form_errors.append(FORM_EXPIRED)
        return _page(change, customer.id, service.id, form, status)

    return view


def rules() -> list[tuple[str, str, object, tuple[str, ...]]]:
    """The addresses of the changes, for the customer blueprint: a GET and a POST each, with its permission."""
    found = []
    for change in CHANGES:
        guarded = requires(change.permission, kinds=TEAM_KINDS)
        rule = f"/services/<int:service_id>/{change.action}"
        found.append((rule, f"service_{change.action}", guarded(_confirm(change)), ("GET",)))
        found.append((rule, f"service_{change.action}_post", guarded(_apply(change)), ("POST",)))
    return found
