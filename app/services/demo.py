"""The demo platform: two resellers on their own host names, a sub-reseller, a few customers each.

Idempotent: whatever exists already (by tenant code, by customer e-mail) is left as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from sqlalchemy import select

from app import clock
from app.models import PortalAccount, StaffUser, User
from app.models import Tenant as TenantRow
from app.models.catalogue import Plan
from app.services import catalogue, customers, network_credentials, price_rules, services, tenants
from app.services.auth import users
from app.services.selfcare import portal_rules
from tenants import tenant_context
from tenants.schema import subdomain_for_code

# One password for every demo login, so that the README can name it; it meets the password policy.
DEMO_PASSWORD = "Demo#Pass2026"  # noqa: S105  (a demo credential, published on purpose)
STAFF = {"email": "admin@backhaul.example", "name": "Platform Admin"}
# Every demo service's network (PPPoE) password: what a router, or radclient, signs in with.
DEMO_NETWORK_PASSWORD = "NetPass2026"  # noqa: S105  (a demo credential, published on purpose)

PLANS = [
    {"code": "HOME-10", "name": "Home 10 Mbps", "kind": "internet", "wholesale_price": Decimal("1500.00"),
     "setup_fee": Decimal("1000.00"), "download_kbps": 10_000, "upload_kbps": 2_000, "data_allowance_mb": 200_000,
     "fup_policy": "home", "limited_download_kbps": 1_000, "limited_upload_kbps": 512},
    {"code": "HOME-20", "name": "Home 20 Mbps", "kind": "internet", "wholesale_price": Decimal("2500.00"),
     "setup_fee": Decimal("1000.00"), "download_kbps": 20_000, "upload_kbps": 5_000, "data_allowance_mb": 500_000,
     "fup_policy": "home", "limited_download_kbps": 2_000, "limited_upload_kbps": 1_000},
    {"code": "BIZ-50", "name": "Business 50 Mbps", "kind": "internet", "wholesale_price": Decimal("7500.00"),
     "setup_fee": Decimal("2500.00"), "download_kbps": 50_000, "upload_kbps": 20_000},
    {"code": "VOICE-300", "name": "Voice 300 minutes", "kind": "voice", "wholesale_price": Decimal("500.00"),
     "voice_minutes": 300},
]
# the 001 "Pricing Configuration", as ABC Internet would set it
ABC_PRICING = {"service_type": "internet", "markup_type": "percent", "markup_value": "25.00", "min_price": "1500.00",
               "max_price": "12000.00", "effective_from": "2026-01-01",
               "promotional_pricing": {"enabled": True, "discount_percent": 10, "valid_until": "2027-03-31"}}

# The top-up bundles each demo reseller offers its customers in the portal (app/services/selfcare/portal_rules.py)
DEMO_BUNDLES = [
    {"code": "DATA-5GB", "name": "5 GB data, 30 days", "kind": "data", "amount": "5120", "price": "500.00",
     "validity_days": 30},
    {"code": "DATA-20GB", "name": "20 GB data, 30 days", "kind": "data", "amount": "20480", "price": "1500.00",
     "validity_days": 30},
    {"code": "VOICE-100", "name": "100 minutes, 30 days", "kind": "voice", "amount": "100", "price": "200.00",
     "validity_days": 30},
    {"code": "SMS-200", "name": "200 SMS, 30 days", "kind": "sms", "amount": "200", "price": "100.00",
     "validity_days": 30},
    {"code": "CREDIT-500", "name": "KES 500 prepaid credit", "kind": "money", "amount": "500.00", "price": "500.00"},
]

# White-label brands ("Branding Configuration" in 001); ABC East inherits ABC's and changes one colour.
BRANDS = {
    None: {"terms": "Services are provided under the platform's standard terms of service and fair use policy."},
    "ABC_ISP": {"brand_name": "ABC Internet Services", "primary_color": "#0066CC", "secondary_color": "#FF6600",
                "support_email": "support@abc-internet.example", "support_phone": "+254 700 000 100",
                "address": "Moi Avenue 12, Nairobi", "tax_number": "P051234567X",
                "email_sender_name": "ABC Internet Services"},
    "XYZ_NET": {"brand_name": "XYZ Networks", "primary_color": "#6B21A8", "secondary_color": "#10B981",
                "font_family": "Georgia, serif", "support_email": "help@xyz-networks.example",
                "support_phone": "+254 700 000 200", "address": "Kenyatta Avenue 3, Nakuru", "theme": "savanna"},
    "ABC_EAST": {"primary_color": "#0F766E"},
}
LOGOS = {"ABC_ISP": ("#0066CC", "#FF6600"), "XYZ_NET": ("#6B21A8", "#10B981")}

RESELLERS = [
    {
        "code": "ABC_ISP",
        "name": "ABC Internet",
        "plans": ["HOME-10", "HOME-20", "BIZ-50", "VOICE-300"],
        "host": "abc",
        "parent": None,
        "limit": 500,
        "users": [("admin@abc-internet.example", "Admin"), ("support@abc-internet.example", "User"),
                  ("viewer@abc-internet.example", "Readonly")],
        "settings": {"portal_id_format": {"prefix": "ABC", "digits": 6}, "timezone": "Africa/Nairobi",
                     "currency": "KES",
                     "portal": {"title": "ABC Internet", "support_email": "support@abc-internet.example",
                                "support_phone": "+254 700 000 100"}},
        "customers": [
            ("person", "Wanjiku", "Kamau", None, "wanjiku.kamau@example.com", "+254712000001", "Active"),
            ("person", "Otieno", "Odhiambo", None, "otieno.odhiambo@example.com", "+254712000002", "Active"),
            ("company", None, None, "Mama Mboga Traders Ltd", "accounts@mamamboga.example", "+254712000003",
             "Active"),
            ("person", "Achieng", "Wafula", None, "achieng.wafula@example.com", "+254712000004", "Pending"),
        ],
    },
    {
        "code": "XYZ_NET",
        "name": "XYZ Networks",
        "plans": ["HOME-20", "BIZ-50"],
        "host": "xyz",
        "parent": None,
        "limit": 500,
        "users": [("admin@xyz-networks.example", "Admin")],
        "settings": {"portal_id_format": {"prefix": "XYZ", "digits": 6}, "timezone": "Africa/Nairobi",
                     "currency": "KES",
                     "portal": {"title": "XYZ Networks", "support_email": "help@xyz-networks.example",
                                "support_phone": "+254 700 000 200"}},
        "customers": [
            ("person", "Kipchoge", "Keino", None, "kipchoge.keino@example.com", "+254722000001", "Active"),
            ("person", "Nyambura", "Njoroge", None, "nyambura.njoroge@example.com", "+254722000002", "Suspended"),
            ("company", None, None, "Rift Valley Cyber Cafe", "owner@riftcyber.example", "+254722000003", "Active"),
        ],
    },
    {
        "code": "ABC_EAST",
        "name": "ABC East Connect",
        "plans": ["HOME-10", "HOME-20"],
        "host": "east.abc",
        "parent": "ABC_ISP",
        "limit": 100,
        "users": [("admin@abc-east.example", "Admin")],
        "settings": {"portal_id_format": {"prefix": "ABE", "digits": 6}, "timezone": "Africa/Nairobi",
                     "currency": "KES",
                     "portal": {"title": "ABC East Connect", "support_email": "east@abc-internet.example",
                                "support_phone": "+254 700 000 300"}},
        "customers": [
            ("person", "Mutua", "Musyoka", None, "mutua.musyoka@example.com", "+254733000001", "Active"),
            ("person", "Halima", "Abdi", None, "halima.abdi@example.com", "+254733000002", "New"),
        ],
    },
]


def _demo_service(session, customer, plan_id: int) -> None:
    """One internet service per customer, in step with the customer's status, signing in with the demo password."""
    if services.list_for_customer(session, customer.id) or customer.status == "Inactive":
        return
    service = services.create(session, customer.id, plan_id, installation_address="Nairobi")
    network_credentials.set_credentials(session, service, password=DEMO_NETWORK_PASSWORD)
    if customer.status in ("Active", "Suspended"):
        services.activate(session, service.id, reason="demo")
    if customer.status == "Suspended":
        services.suspend(session, service.id, reason="demo: unpaid invoice")


def seed_staff(session_factory: Callable) -> dict:
    with session_factory() as session:
        exists = session.execute(select(StaffUser).where(StaffUser.email == STAFF["email"])).scalar_one_or_none()
        if exists is None:
            users.create_staff(session, email=STAFF["email"], name=STAFF["name"], password=DEMO_PASSWORD,
                               can_impersonate=True)
    return {**STAFF, "password": DEMO_PASSWORD}


def seed_catalogue(session_factory: Callable) -> dict[str, int]:
    """The master ISP's wholesale plans (by code); authorisations follow each reseller."""
    ids = {}
    with session_factory() as session:
        for spec in PLANS:
            plan = session.execute(select(Plan).where(Plan.code == spec["code"])).scalar_one_or_none()
            if plan is None:
                plan = catalogue.create_plan(session, currency="KES", **spec)
            ids[plan.code] = plan.id
    return ids


def _logo(colours: tuple[str, str]) -> bytes:
    """A small two-colour PNG mark, drawn here so that the demo needs no image files."""
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (160, 48), "white")
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((4, 4, 44, 44), radius=8, fill=colours[0])
    draw.ellipse((52, 12, 76, 36), fill=colours[1])
    draw.rectangle((84, 18, 156, 30), fill=colours[0])
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def seed_brand(session_factory: Callable, tenant_id: int | None, code: str | None) -> None:
    """A brand for the platform (`code` None) or a demo reseller: the demo's fields that are not set yet, so
    that a brand someone changed keeps their changes and one that lacks a field (the platform's terms, say,
    when only its logo was set) gets it."""
    from app.services import branding

    with session_factory() as session:
        owner = branding.Owner.of(session, tenant_id)
        already = branding.own(session, owner)[0]
        missing = {name: value for name, value in BRANDS[code].items() if name not in already}
        if missing:
            branding.update(session, owner, missing, actor="demo")
        if code in LOGOS and "logo" not in already:
            branding.upload(session, owner, "logo", _logo(LOGOS[code]), actor="demo")


def seed(session_factory: Callable, base_domain: str) -> list[dict]:
    """Create whatever of the demo is missing; one transaction per tenant. Returns a summary."""
    summary = []
    plan_ids = seed_catalogue(session_factory)
    seed_brand(session_factory, None, None)
    for spec in RESELLERS:
        with session_factory() as session:
            exists = session.execute(select(TenantRow).where(TenantRow.code == spec["code"])).scalar_one_or_none()
            if exists is None:
                tenant = tenants.provision(
                    session, code=spec["code"], name=spec["name"], base_domain=base_domain,
                    parent_code=spec["parent"], hosts=[f"{spec['host']}.{base_domain}"],
                    customer_limit=spec["limit"], settings=spec["settings"], actor="demo",
                )
            else:
                tenant = tenants.ref(exists)
            for code in spec["plans"]:
                if catalogue.authorisation_of(session, plan_ids[code], tenant.id) is None:
                    catalogue.authorise(session, plan_ids[code], tenant.id)
        seed_brand(session_factory, tenant.id, spec["code"])
        with session_factory() as session, tenant_context(tenant):
            if spec["code"] == "ABC_ISP" and not price_rules.list_rules(session):
                price_rules.create_rule(session, dict(ABC_PRICING), actor="demo")
            if not portal_rules.bundles(session):
                portal_rules.set_bundles(session, DEMO_BUNDLES, actor="demo")
            portal_ids = []
            for kind, first, last, company, email, phone, status in spec["customers"]:
                customer = customers.find_by_email(session, email)
                if customer is None:
                    customer = customers.create(session, kind=kind, first_name=first, last_name=last,
                                                company_name=company, email=email, phone=phone, status=status)
                if session.get(PortalAccount, customer.id) is None:
                    users.set_portal_password(session, customer.id, DEMO_PASSWORD)
                _demo_service(session, customer, plan_ids[spec["plans"][0]])
                portal_ids.append((customer.portal_id, customer.display_name, customer.status))
            team = []
            for username, role in spec["users"]:
                if session.execute(select(User.id).where(User.username == username)).first() is None:
                    users.create_user(session, username=username, email=username, role=role, password=DEMO_PASSWORD)
                team.append((username, role))
        summary.append({"code": spec["code"], "name": spec["name"], "parent": spec["parent"], "users": team,
                        "network_password": DEMO_NETWORK_PASSWORD,
                        "hosts": [f"{spec['host']}.{base_domain}", f"{subdomain_for_code(spec['code'])}.{base_domain}"],
                        "customers": portal_ids})
    return summary


# The demo's money: this month billed for every demo reseller, the first customer of each paid by M-PESA
# (so the portal shows an invoice, a receipt and a balance of zero), the others left to pay.
DEMO_MPESA_RECEIPT = "DEMO{code}{n:04d}"


def seed_billing(db, today=None) -> list[dict]:
    """Bill the current month for each demo reseller and record a payment for its first customer.
    Idempotent: a billing run bills a customer once per period, a payment is keyed by its receipt."""
    from app.models.billing import Payment
    from app.services.billing import ledger, payments, runs
    from tenants.registry import directory

    today = today or clock.today()
    period = f"{today:%Y-%m}"
    done = []
    for spec in RESELLERS:
        tenant = directory().by_code(spec["code"])
        with tenant_context(tenant):
            with db.session() as session:
                run_id = runs.start(session, period, requested_by="demo", enqueue=False).id
            runs.run(db, run_id)
            with db.session() as session:
                first = customers.find_by_email(session, spec["customers"][0][4])
                reference = DEMO_MPESA_RECEIPT.format(code=spec["code"].replace("_", "")[:6], n=first.id)
                known = session.execute(select(Payment.id).where(Payment.provider == "mpesa",
                                                                 Payment.provider_ref == reference)).first()
                owed = ledger.balance(session, first.id) if known is None else None
                if owed and owed > 0:
                    payments.record(session, customer_id=first.id, amount=owed, method="mpesa", provider="mpesa",
                                    provider_ref=reference, reference=first.portal_id, actor="demo")
                done.append({"code": spec["code"], "period": period})
    return done


def seed_finance(db) -> None:
    """The demo's commissions (rules, and the lines its payments earn), payout schedules, the resellers'
    accounts with the master ISP, and a month of usage for each demo service's chart. Each part is
    idempotent on its own."""
    from app.models.provisioning import Service
    from app.services.commissions import demo as commission_demo
    from app.services.commissions import payout_demo
    from app.services.reseller_accounts import demo as account_demo
    from app.services.usage import fup
    from app.services.usage.demo import seed_usage
    from tenants.registry import directory

    commission_demo.seed_demo(db)
    payout_demo.seed_demo(db)
    account_demo.seed_demo(db)
    for spec in RESELLERS:
        with tenant_context(directory().by_code(spec["code"])), db.session() as session:
            active = list(session.execute(select(Service.id).where(Service.status == "Active")).scalars())
            for service_id in active:
                seed_usage(session, service_id)
            fup.check(session, active)  # drawn from the buckets as accounting would, so the cycle adds up
