"""Onboarding a customer in one go: basic information → services → billing set-up → access → welcome.

The four steps of "Customer Creation Process" (reseller journey) and "Client Onboarding" (support
operations) in one transaction: either the customer exists with everything asked for, or nothing does.
Each step can also be done on its own through the customer and service endpoints; this is the door a
sign-up form or a field agent's app uses.

Where the reseller requires approval the customer is created Pending, their services stay Pending (with
network credentials already made, so the installer can configure the router) and are activated once the
customer is approved. Portal and network credentials are separate: the portal password is the
customer's to change; each service's network password is the ISP's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from app.models import Customer
from app.services import customers, network_credentials
from app.services import services as service_ops
from app.services.auth import users
from app.services.auth.principal import Principal
from app.services.errors import Invalid
from app.services.notifications.outbox import queue_email

BILLING_FIELDS = ("billing_day", "payment_method", "deposit", "credit_limit", "mpesa_number")


@dataclass
class OnboardedService:
    service: object
    network_password: str | None


@dataclass
class Onboarded:
    customer: Customer
    portal_password: str | None
    services: list[OnboardedService] = field(default_factory=list)
    welcome_queued: bool = False


def onboard(session: Session, *, basic: dict, services: list[dict], billing: dict, access: dict,
            portal_url: str, actor: Principal | None) -> Onboarded:
    overlap = set(basic) & set(billing)
    if overlap:
        raise Invalid(f"give {', '.join(sorted(overlap))} once, in billing")
    basic = {k: v for k, v in basic.items() if k not in ("reseller_id", "portal_id", "generate_credentials")}
    customer = customers.create(session, actor=actor, **basic, **{k: billing[k] for k in BILLING_FIELDS
                                                                   if k in billing})
    made = [_service(session, customer, spec, actor) for spec in services]

    portal_password = access.get("portal_password")
    generated = None
    if portal_password is None and access.get("generate_portal_password", True):
        portal_password = generated = users.generated_password()
    if portal_password is not None:
        users.set_portal_password(session, customer.id, portal_password)

    welcome = bool(access.get("send_welcome", True) and customer.email)
    if welcome:
        queue_email(session, to=customer.email, template="welcome", context={
            "name": customer.display_name, "portal_id": customer.portal_id, "portal_url": portal_url})
    return Onboarded(customer=customer, portal_password=generated, services=made, welcome_queued=welcome)


def _service(session: Session, customer: Customer, spec: dict, actor: Principal | None) -> OnboardedService:
    service = service_ops.create(session, customer.id, spec["plan_id"],
                                 installation_address=spec.get("installation_address"), region=spec.get("region"),
                                 principal=actor)
    if spec.get("activate") and customer.status != "Pending":
        service, password = service_ops.activate(session, service.id, principal=actor, reason="onboarding",
                                                 static_ip=bool(spec.get("static_ip")),
                                                 ip_pool_id=spec.get("ip_pool_id"))
        return OnboardedService(service, password)
    password = None
    if service.kind in service_ops.WITH_CREDENTIALS:  # ready for the installer, whatever the status
        password = network_credentials.set_credentials(session, service)
    return OnboardedService(service, password)
