"""Backhaul's side of the RADIUS benchmark's data: tenants whose customers each have an Active internet service
with network credentials, and the same users as plain rows for FreeRADIUS.

The rows are those `customers.create` + `services.activate` make (customer, Portal ID in the public registry
and the tenant's counter moved on, status history of both, the price snapshot, the network username = the
Portal ID, the network password encrypted at rest with the server's SECRET_KEY, a static address from the
tenant's IP pool for every fifth service, written both to `ip_assignments` and `services.static_ip`), written
set-based for speed: the per-row service calls would take minutes for 20,000 customers and measure nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from common import log
from sqlalchemy import text

from app.services import catalogue, ip_pools
from app.services import tenants as tenant_service
from app.services.auth import crypto
from app.services.network_credentials import generate_password
from app.services.settings import get_setting
from tenants import Tenant, tenant_context

PLAN = {"code": "BENCH-RADIUS-20", "name": "Home Fibre 20 Mbps", "download_kbps": 20000, "upload_kbps": 5000,
        "limited_download_kbps": 1000, "limited_upload_kbps": 512}
STATIC_EVERY = 5  # every fifth service has a static Framed-IP-Address

CUSTOMERS = """
INSERT INTO customers (id, portal_id, first_name, last_name, email, status, billing_day, address, city)
SELECT n, :prefix || lpad(n::text, :digits, '0'), 'Radius', 'Customer ' || n, 'r' || n || '@example.com', 'Active',
       1 + (n * 7) % 28, n || ' Moi Avenue', 'Nairobi'
FROM generate_series(1, :count) AS n
"""
SERVICES = """
INSERT INTO services (customer_id, plan_id, kind, status, price, wholesale_price, currency, billing_period,
                      activated_at, network_username, network_password_encrypted, credentials_set_at)
SELECT c.id, :plan, 'internet', 'Active', 2500.00, 1000.00, 'KES', 'monthly', now() - interval '1 day',
       c.portal_id, p.secret, now() - interval '1 day'
FROM customers c JOIN unnest(CAST(:ids AS bigint[]), CAST(:secrets AS text[])) AS p(id, secret) ON p.id = c.id
"""
HISTORY = """
INSERT INTO customer_status_history (customer_id, from_status, to_status, at, actor, actor_kind, reason)
SELECT id, 'New', 'Active', now() - interval '1 day', 'system', 'system', 'first service activated' FROM customers;
INSERT INTO service_status_history (service_id, at, from_status, to_status, reason, actor)
SELECT id, now() - interval '1 day', 'Pending', 'Active', NULL, 'bench' FROM services;
INSERT INTO public.portal_ids (portal_id, tenant_id, customer_id) SELECT portal_id, :tenant, id FROM customers;
"""
STATIC_IPS = """
WITH chosen AS (
    SELECT s.id, row_number() OVER (ORDER BY s.id) AS k FROM services s WHERE s.id % :every = 0
), placed AS (
    INSERT INTO ip_assignments (pool_id, service_id, address)
    SELECT :pool, id, (:base)::inet + k FROM chosen RETURNING service_id, address
)
UPDATE services s SET static_ip = placed.address FROM placed WHERE placed.service_id = s.id
"""


@dataclass
class Seeded:
    tenants: list[Tenant]
    users: list[dict]  # username, password, framed_ip (or None), tenant
    plan: dict
    seconds: float


def rate_limit(plan: dict) -> str:
    """The MikroTik rate the plan asks for, as FreeRADIUS's radreply carries it: rx/tx from the router's side
    (upload/download of the customer), in kbit/s."""
    return f"{plan['upload_kbps']}k/{plan['download_kbps']}k"


def seed(db, customers: int, tenant_count: int) -> Seeded:
    """`customers` in all over `tenant_count` tenants (one plan, authorised to each)."""
    started = time.perf_counter()
    with db.session() as s:
        plan = catalogue.create_plan(s, code=PLAN["code"], kind="internet", name=PLAN["name"], currency="KES",
                                     billing_period="monthly", wholesale_price=1000,
                                     download_kbps=PLAN["download_kbps"], upload_kbps=PLAN["upload_kbps"],
                                     limited_download_kbps=PLAN["limited_download_kbps"],
                                     limited_upload_kbps=PLAN["limited_upload_kbps"])
        plan_id = plan.id
    made, users = [], []
    per_tenant = customers // tenant_count
    for n in range(tenant_count):
        code = f"BENCH_RAD_{chr(65 + n)}"
        with db.session() as s:
            tenant = tenant_service.provision(s, code=code, name=f"Bench RADIUS {chr(65 + n)}",
                                              base_domain="bench.test",
                                              settings={"portal_id_format": {"prefix": f"R{chr(65 + n)}",
                                                                             "digits": 6}})
            catalogue.authorise(s, plan_id, tenant.id)
        passwords = [generate_password() for _ in range(per_tenant)]
        secrets_ = [crypto.encrypt(p) for p in passwords]
        with db.session() as s, tenant_context(tenant):
            fmt = get_setting(s, "portal_id_format")
            s.execute(text(CUSTOMERS), {"prefix": fmt["prefix"], "digits": int(fmt["digits"]), "count": per_tenant})
            s.execute(text("SELECT setval(pg_get_serial_sequence('customers', 'id'), :c)"), {"c": per_tenant})
            s.execute(text("INSERT INTO counters (name, value) VALUES ('portal_id', :c) ON CONFLICT (name) "
                           "DO UPDATE SET value = excluded.value"), {"c": per_tenant})
            s.execute(text(SERVICES), {"plan": plan_id, "ids": list(range(1, per_tenant + 1)), "secrets": secrets_})
            for statement in HISTORY.strip().split(";\n"):
                s.execute(text(statement), {"tenant": tenant.id})
            base = f"10.{100 + n}.0.0"
            pool = ip_pools.create_pool(s, name="bench", cidr=f"{base}/16", gateway=f"10.{100 + n}.0.1")
            s.execute(text(STATIC_IPS), {"every": STATIC_EVERY, "pool": pool.id, "base": f"10.{100 + n}.0.1"})
            rows = s.execute(text("SELECT c.id, s.network_username, host(s.static_ip) FROM services s "
                                  "JOIN customers c ON c.id = s.customer_id ORDER BY c.id")).all()
        for customer_id, username, framed_ip in rows:
            users.append({"username": username, "password": passwords[customer_id - 1], "framed_ip": framed_ip,
                          "tenant": code})
        made.append(tenant)
        log(f"seeded {code}: {per_tenant:,} customers with active internet services")
    return Seeded(made, users, {"id": plan_id, **PLAN}, time.perf_counter() - started)
