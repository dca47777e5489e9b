"""Onboarding a customer in one request (the four steps of the reseller journey, all or nothing)."""

from __future__ import annotations

from flask import g, request
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.api.customers.schemas import PAYMENT_METHODS, CustomerIn
from app.api.services.routes import service_out
from app.api.services.schemas import ServiceActivatedOut
from app.services import onboarding
from app.services.auth import links
from app.services.auth.realms import CUSTOMER
from app.web import db_session
from app.web.auth import Forbidden, requires

blp = Blueprint("onboarding", __name__, url_prefix="/reseller/api/onboarding",
                description="Customer onboarding: basic information, services, billing set-up, access")
_money = {"places": None, "as_string": True, "allow_nan": False}


class ServiceStep(Schema):
    plan_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    activate = fields.Boolean(load_default=False, metadata={"description": "activate now (not while Pending)"})
    static_ip = fields.Boolean(load_default=False)
    ip_pool_id = fields.Integer(load_default=None, strict=True, validate=validate.Range(min=1))
    installation_address = fields.String(load_default=None, validate=validate.Length(max=1000))
    region = fields.String(load_default=None, validate=validate.Length(max=100))


class BillingStep(Schema):
    billing_day = fields.Integer(strict=True, validate=validate.Range(min=1, max=28), metadata={"example": 1})
    payment_method = fields.String(validate=validate.OneOf(PAYMENT_METHODS))
    deposit = fields.Decimal(**_money, metadata={"example": "1500.00"})
    credit_limit = fields.Decimal(allow_none=True, **_money)
    mpesa_number = fields.String(validate=validate.Length(max=40), metadata={"example": "0712345678"})


class AccessStep(Schema):
    generate_portal_password = fields.Boolean(load_default=True)
    portal_password = fields.String(load_default=None, load_only=True, validate=validate.Length(max=1024),
                                    metadata={"description": "instead of a generated one"})
    send_welcome = fields.Boolean(load_default=True, metadata={"description": "queue the welcome e-mail"})


class OnboardingIn(Schema):
    customer = fields.Nested(CustomerIn, required=True, metadata={"description": "step 1: basic information"})
    services = fields.List(fields.Nested(ServiceStep), load_default=list, validate=validate.Length(max=20),
                           metadata={"description": "step 2"})
    billing = fields.Nested(BillingStep, load_default=dict, metadata={"description": "step 3"})
    access = fields.Nested(AccessStep, load_default=dict, metadata={"description": "step 4"})


class OnboardedCustomer(Schema):
    id = fields.Integer(required=True)
    portal_id = fields.String(required=True)
    name = fields.String(required=True)
    status = fields.String(required=True)


class OnboardingOut(Schema):
    customer = fields.Nested(OnboardedCustomer, required=True)
    portal_password = fields.String(allow_none=True, metadata={"description": "generated: shown this once"})
    services = fields.List(fields.Nested(ServiceActivatedOut), required=True)
    welcome_email_queued = fields.Boolean(required=True)


def _portal_url() -> str:
    """Where the welcome e-mail sends the customer: their sign-in page on the reseller's primary host, even
    when the reseller onboards them through the console host (whose front page is the master ISP's)."""
    return links.page_url(db_session(), CUSTOMER, "login", default_base=request.host_url)


@blp.route("", methods=["POST"])
@requires("customers.create", kinds=("user",))
@blp.arguments(OnboardingIn)
@blp.response(201, OnboardingOut)
def onboard(body):
    """Create a customer with services, billing set-up and access in one step; Pending where approval is needed."""
    if body["services"] and not g.principal.can("services.provision"):
        raise Forbidden("adding services needs the 'services.provision' permission")
    body["customer"].pop("generate_credentials", None)
    access = body["access"]
    done = onboarding.onboard(db_session(), basic=body["customer"], services=body["services"],
                              billing=body["billing"], access=access, actor=g.principal,
                              portal_url=_portal_url())
    customer = done.customer
    return {"customer": {"id": customer.id, "portal_id": customer.portal_id, "name": customer.display_name,
                         "status": customer.status},
            "portal_password": done.portal_password,
            "services": [service_out(s.service, password=s.network_password) for s in done.services],
            "welcome_email_queued": done.welcome_queued}
