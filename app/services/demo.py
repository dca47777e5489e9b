"""The demo platform: two resellers on their own host names, a sub-reseller, a few customers each.

Idempotent: whatever exists already (by tenant code, by customer e-mail) is left as it is.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from app.models import PortalAccount, StaffUser, User
from app.models import Tenant as TenantRow
from app.services import customers, tenants
from app.services.auth import users
from tenants import tenant_context
from tenants.schema import subdomain_for_code

# One password for every demo login, so that the README can name it; it meets the password policy.
DEMO_PASSWORD = "Demo#Pass2026"  # noqa: S105  (a demo credential, published on purpose)
STAFF = {"email": "admin@backhaul.example", "name": "Platform Admin"}

RESELLERS = [
    {
        "code": "ABC_ISP",
        "name": "ABC Internet",
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


def seed_staff(session_factory: Callable) -> dict:
    with session_factory() as session:
        exists = session.execute(select(StaffUser).where(StaffUser.email == STAFF["email"])).scalar_one_or_none()
        if exists is None:
            users.create_staff(session, email=STAFF["email"], name=STAFF["name"], password=DEMO_PASSWORD,
                               can_impersonate=True)
    return {**STAFF, "password": DEMO_PASSWORD}


def seed(session_factory: Callable, base_domain: str) -> list[dict]:
    """Create whatever of the demo is missing; one transaction per tenant. Returns a summary."""
    summary = []
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
        with session_factory() as session, tenant_context(tenant):
            portal_ids = []
            for kind, first, last, company, email, phone, status in spec["customers"]:
                customer = customers.find_by_email(session, email)
                if customer is None:
                    customer = customers.create(session, kind=kind, first_name=first, last_name=last,
                                                company_name=company, email=email, phone=phone, status=status)
                if session.get(PortalAccount, customer.id) is None:
                    users.set_portal_password(session, customer.id, DEMO_PASSWORD)
                portal_ids.append((customer.portal_id, customer.display_name, customer.status))
            team = []
            for username, role in spec["users"]:
                if session.execute(select(User.id).where(User.username == username)).first() is None:
                    users.create_user(session, username=username, email=username, role=role, password=DEMO_PASSWORD)
                team.append((username, role))
        summary.append({"code": spec["code"], "name": spec["name"], "parent": spec["parent"], "users": team,
                        "hosts": [f"{spec['host']}.{base_domain}", f"{subdomain_for_code(spec['code'])}.{base_domain}"],
                        "customers": portal_ids})
    return summary
