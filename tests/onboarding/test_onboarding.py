"""Onboarding end to end through the API: basic information → services → billing → access → welcome."""

from decimal import Decimal

from sqlalchemy import select

from app.models import Customer, Outbox, PortalAccount
from app.models.provisioning import Service
from app.services import catalogue
from app.services.auth.crypto import decrypt
from app.services.settings import put_setting
from tenants import tenant_context
from tests.auth.conftest import bearer, reseller_login

STEP1 = {"customer_type": "person", "first_name": "John", "last_name": "Doe", "email": "john@example.com",
         "phone": "+254712345678", "address": "123 Main St", "city": "Lagos", "reseller_id": 1,
         "portal_id": "auto-generated", "generate_credentials": True, "national_id": "12345678",
         "county": "Nairobi", "sub_county": "Westlands", "latitude": "-1.264500", "longitude": "36.803300"}


def _setup(db, accounts, make_plan):
    acc = accounts()
    plan = make_plan(wholesale_price="2000.00", currency="KES")
    with db.session() as s:
        catalogue.authorise(s, plan.id, acc.tenant.id)
    return acc, plan


def _onboard(client, acc, plan, **extra):
    body = {"customer": STEP1, "services": [{"plan_id": plan.id, "activate": True}],
            "billing": {"billing_day": 5, "payment_method": "mpesa", "deposit": "1500.00", "credit_limit": "0.00",
                        "mpesa_number": "0712345678"},
            "access": {"send_welcome": True}, **extra}
    headers = bearer(reseller_login(client, acc).get_json()["token"], acc.host)
    return client.post("/reseller/api/onboarding", json=body, headers=headers)


def test_onboarding_end_to_end(client, db, accounts, make_plan):
    acc, plan = _setup(db, accounts, make_plan)
    response = _onboard(client, acc, plan)
    assert response.status_code == 201, response.get_json()
    out = response.get_json()
    customer, [service] = out["customer"], out["services"]
    assert customer["status"] == "Active" and customer["portal_id"].startswith("AUT")
    assert service["status"] == "Active" and Decimal(service["price"]) == Decimal("2000.00")
    assert service["network_username"] and service["network_password"]
    assert out["portal_password"] and out["portal_password"] != service["network_password"]
    assert out["welcome_email_queued"] is True

    login = client.post("/portal/auth/login", json={"portal_id": customer["portal_id"],
                                                    "password": out["portal_password"]}, headers={"Host": acc.host})
    assert login.status_code == 200  # the portal credentials work; the network ones are the service's
    with db.session() as s, tenant_context(acc.tenant):
        row = s.get(Customer, customer["id"])
        assert (row.billing_day, row.payment_method, row.deposit, row.mpesa_number) == (
            5, "mpesa", Decimal("1500.00"), "254712345678")
        stored = s.get(Service, service["id"])
        assert decrypt(stored.network_password_encrypted) == service["network_password"]
        [mail] = s.execute(select(Outbox).where(Outbox.template == "welcome")).scalars().all()
        assert mail.to_address == "john@example.com" and customer["portal_id"] in mail.body_text


def test_where_approval_is_required_the_customer_and_services_wait(client, db, accounts, make_plan):
    acc, plan = _setup(db, accounts, make_plan)
    with db.session() as s, tenant_context(acc.tenant):
        put_setting(s, "customers", {"require_approval": True, "login_with_email": False})
    out = _onboard(client, acc, plan).get_json()
    assert out["customer"]["status"] == "Pending"
    [service] = out["services"]
    assert service["status"] == "Pending" and service["network_password"]  # ready for the installer


def test_a_failing_step_leaves_nothing_behind(client, db, accounts, make_plan):
    acc, plan = _setup(db, accounts, make_plan)
    refused = _onboard(client, acc, plan, services=[{"plan_id": 999999, "activate": True}])
    assert refused.status_code in (404, 409, 422)
    with db.session() as s, tenant_context(acc.tenant):
        assert s.execute(select(Customer).where(Customer.email == "john@example.com")).first() is None
        assert s.execute(select(PortalAccount)).scalars().all() == [s.get(PortalAccount, acc.customer_id)]


def test_onboarding_needs_both_permissions(client, db, accounts, make_plan):
    acc, plan = _setup(db, accounts, make_plan)
    readonly = accounts(role="Readonly")
    headers = bearer(reseller_login(client, readonly).get_json()["token"], readonly.host)
    refused = client.post("/reseller/api/onboarding", json={"customer": STEP1}, headers=headers)
    assert refused.status_code == 403
