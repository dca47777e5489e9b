"""The customer portal benchmark's data (bench/portal.py): one tenant, one customer with a long history, and a
few hundred others so that no table is trivially small.

The customer (`seed_customer`) is made the way the reseller's work makes one, through the services, with the
one clock moved to when each thing happened (`clock.travel`), so every row is stamped with its own day:

- five services activated 24 months ago: Home 20 (the one whose pages are timed), Home 10 (Limited by fair
  use: its cycle has used more than the plan's allowance), Business 50 (no allowance), a second Home 10 and
  Voice 300;
- 24 months of daily usage for each data service (`usage_daily`, set-based: it is what accounting leaves,
  and the rule that reads it does not care how it got there), RADIUS sessions for the last 3 months (one a
  day, and the one open now), and 24 months of calls for the voice service through `records.apply`, which
  draws each from the voice buckets of its own cycle; then `fup.check` draws this cycle's data from the
  data buckets and limits the service that went past its allowance, as accounting would;
- 200 invoices over the 24 months (a monthly bill with a line per service, and one-off bills: top-ups,
  installations, equipment), each drafted, issued and paid through `invoices` and `payments` on its own
  days, so that numbers, ledger entries, allocations and statuses are the services' own; the last three
  are left to pay (one overdue, one part-paid, one not yet due).

The others (`seed_others`) are written set-based: customers with their Portal IDs in the registry, one to
three services each, 24 months of daily usage, 3 months of sessions, and a monthly invoice each with its
ledger charge, and for all but the newest, the payment that paid it with its allocation and ledger entry:
the rows the services would write, so `ledger.audit` holds for them too (bench/portal.py runs it and stops
if it does not).
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from common import BenchError, log
from sqlalchemy import text

from app import clock
from app.models.provisioning import Service
from app.services import catalogue, customers, demo, nas, price_rules, services
from app.services import tenants as tenant_service
from app.services.auth import users
from app.services.billing import cycles, invoices, ledger, payments, tax
from app.services.settings import get_setting
from app.services.usage import fup, records, views
from app.services.usage.allowance import OCTETS_PER_MB
from tenants import Tenant, tenant_context

TENANT_CODE = "BENCH_PORTAL"
ZONE = "Africa/Nairobi"
PASSWORD = "Bench#Pass2026"  # noqa: S105  (a scratch database's customer)
MONTHS = 24
INVOICES = 200
OPEN_INVOICES = 3
EXTRAS_UNTIL = 25  # days before today: the newest bills are monthly ones
SESSION_DAYS = 92
CALLS_A_DAY = 3
BILLING_DAY = 5
GB = 1 << 30
PRICING = {"markup_type": "percent", "markup_value": "25.00", "effective_from": "2020-01-01"}
BRAND = {"brand_name": "Bench Fibre", "primary_color": "#0B5CAB", "secondary_color": "#F28C28",
         "support_email": "help@bench-fibre.example", "support_phone": "+254 700 000 900",
         "address": "Ngong Road 1, Nairobi", "tax_number": "P000000000B"}
# (plan code, typical GB a day, what the service is for in the bench)
SERVICES = (("HOME-20", 2.0, "timed"), ("HOME-10", 3.0, "limited"), ("BIZ-50", 6.0, "unlimited"),
            ("HOME-10", 1.2, "second home"), ("VOICE-300", 0.0, "voice"))
EXTRAS = (("Data top-up 5 GB", "500.00"), ("Data top-up 20 GB", "1500.00"), ("Voice bundle 100 minutes", "300.00"),
          ("Static IP address", "1000.00"), ("Router replacement", "3500.00"), ("Relocation visit", "2000.00"),
          ("Installation, second site", "2500.00"), ("Wi-Fi extender", "4200.00"))
METHODS = (("mpesa", "mpesa"), ("mpesa", "mpesa"), ("mpesa", "mpesa"), ("card", "card"),
           ("bank_transfer", "manual"))


@dataclass(frozen=True)
class Seeded:
    tenant: Tenant
    customer_id: int
    portal_id: str
    service_ids: dict[str, int]  # by role: timed, limited, unlimited, second home, voice
    today: date
    start: date  # the first day of the 24 months
    invoices: int
    calls: int
    sessions: int
    usage_days: int


def month_start(day: date, months: int) -> date:
    return cycles.add_months(day.replace(day=1), months)


def provision(db, base_domain: str) -> tuple[Tenant, dict[str, int]]:
    """The tenant, its brand, the demo's wholesale plans authorised, a retail markup, VAT and a router."""
    from app.services import branding

    plan_ids = demo.seed_catalogue(db.session)
    with db.session() as s:
        tenant = tenant_service.provision(s, code=TENANT_CODE, name="Bench Fibre", base_domain=base_domain,
                                          settings={"timezone": ZONE, "currency": "KES",
                                                    "portal_id_format": {"prefix": "BPT", "digits": 6}})
        for plan_id in plan_ids.values():
            catalogue.authorise(s, plan_id, tenant.id)
        nas.create(s, name="Bench BNG Westlands", network="10.99.0.1/32", secret="bench-nas-secret-2026",
                   tenant_id=tenant.id, actor="bench")
    with db.session() as s:
        owner = branding.Owner.of(s, tenant.id)
        branding.update(s, owner, BRAND, actor="bench")
        branding.upload(s, owner, "logo", _logo(), actor="bench")
    with db.session() as s, tenant_context(tenant):
        for kind in ("internet", "voice"):
            price_rules.create_rule(s, {"service_type": kind, **PRICING}, actor="bench")
        tax.create_rate(s, name="VAT", rate="16")
    return tenant, plan_ids


def _logo() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (160, 48), "white")
    ImageDraw.Draw(image).rounded_rectangle((4, 4, 44, 44), radius=8, fill="#0B5CAB")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _at(day: date, hour: int = 9) -> datetime:
    """A moment of a day in the tenant's zone, as UTC."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo(ZONE)).astimezone(UTC)


# -- the customer ----------------------------------------------------------------------------------------

def seed_customer(db, tenant: Tenant, plan_ids: dict[str, int]) -> Seeded:
    today = clock.today(ZoneInfo(ZONE))
    start = month_start(today, -MONTHS)
    with clock.travel(_at(start - timedelta(days=1))), db.session() as s, tenant_context(tenant):
        person = customers.create(s, first_name="Wanjiru", last_name="Kamau", email="wanjiru.kamau@example.com",
                                  phone="+254712345678", billing_day=BILLING_DAY, address="Ngong Road 12",
                                  city="Nairobi", county="Nairobi", mpesa_number="254712345678")
        users.set_portal_password(s, person.id, PASSWORD)
        customer_id, portal_id = person.id, person.portal_id
    ids: dict[str, int] = {}
    with clock.travel(_at(start)), db.session() as s, tenant_context(tenant):
        for code, _gb, role in SERVICES:
            made = services.create(s, customer_id, plan_ids[code], installation_address="Ngong Road 12, Nairobi")
            services.activate(s, made.id, reason="bench")
            ids[role] = made.id
    days = _usage(db, tenant, ids, start, today)
    sessions = _sessions(db, tenant, customer_id, ids, today)
    calls = _calls(db, tenant, customer_id, ids["voice"], start, today)
    with db.session() as s, tenant_context(tenant):
        fup.check(s, [ids[role] for _code, _gb, role in SERVICES if role != "voice"])
    with db.session() as s, tenant_context(tenant):
        limited = s.get(Service, ids["limited"])
        if limited.status != "Limited":
            raise BenchError(f"the service past its allowance is {limited.status}, not Limited by fair use")
    made = _invoices(db, tenant, customer_id, portal_id, ids, start, today)
    return Seeded(tenant, customer_id, portal_id, ids, today, start, made, calls, sessions, days)


def _usage(db, tenant: Tenant, ids: dict[str, int], start: date, today: date) -> int:
    """Daily usage of each data service to today (today so far); the Limited one's cycle past its allowance."""
    written = 0
    with db.session() as s, tenant_context(tenant):
        for _code, gb, role in SERVICES:
            if role == "voice":
                continue
            written += s.execute(text("""
                INSERT INTO usage_daily (service_id, day, download, upload)
                SELECT :service, d::date, dl, (dl * (0.06 + (hashint8(:service * 1000 + n) & 15) / 160.0))::bigint
                FROM (SELECT d, n, (:gb * :unit * (0.5 + (hashint8(:service * 7919 + n) & 1023) / 1023.0)
                                    * CASE WHEN extract(isodow FROM d) >= 6 THEN 1.4 ELSE 1 END)::bigint AS dl
                      FROM generate_series(CAST(:start AS date), CAST(:today AS date), interval '1 day')
                           WITH ORDINALITY AS g(d, n)) AS days
            """), {"service": ids[role], "gb": gb, "unit": GB, "start": start, "today": today}).rowcount
        limited = s.get(Service, ids["limited"])
        cycle = views.cycle(s, limited)  # this cycle's days, and what they used so far
        past = max(0, cycle["allowance_mb"] * OCTETS_PER_MB + GB - cycle["used_octets"])
        s.execute(text("UPDATE usage_daily SET download = download + :more WHERE service_id = :id AND day = :today"),
                  {"more": past, "id": limited.id, "today": today})
    return written


def _sessions(db, tenant: Tenant, customer_id: int, ids: dict[str, int], today: date) -> int:
    """A session a day per data service for the last months, closed at midnight, and today's still open."""
    with db.session() as s, tenant_context(tenant):
        nas_id = s.execute(text("SELECT id FROM public.nas_clients WHERE tenant_id = :t"),
                           {"t": tenant.id}).scalar_one()
        return s.execute(text("""
            INSERT INTO radius_sessions (session_key, nas_id, nas_ip, acct_session_id, username, customer_id,
                service_id, framed_ip, calling_station_id, status, started_at, updated_at, stopped_at, session_time,
                input_octets, output_octets, terminate_cause)
            SELECT gen_random_uuid(), :nas, '10.99.0.1', 'bench-' || s.id || '-' || u.day, s.network_username,
                   :customer, s.id, ('100.64.' || s.id % 250 || '.' || 1 + extract(doy FROM u.day)::int % 250)::inet,
                   '00:1A:2B:' || lpad(to_hex(s.id % 256), 2, '0') || ':3C:4D',
                   CASE WHEN u.day = :today THEN 'Open' ELSE 'Closed' END, b.began, now(),
                   CASE WHEN u.day = :today THEN NULL ELSE b.began + interval '86100 seconds' END,
                   CASE WHEN u.day = :today THEN extract(epoch FROM now() - b.began)::bigint ELSE 86100 END,
                   u.upload, u.download, CASE WHEN u.day = :today THEN NULL ELSE 'Session-Timeout' END
            FROM usage_daily u JOIN services s ON s.id = u.service_id
            CROSS JOIN LATERAL (SELECT (u.day + time '00:05') AT TIME ZONE :zone AS began) AS b
            WHERE u.service_id = ANY(:ids) AND u.day > CAST(:today AS date) - :days
        """), {"nas": nas_id, "customer": customer_id, "today": today, "days": SESSION_DAYS, "zone": ZONE,
               "ids": [v for k, v in ids.items() if k != "voice"]}).rowcount


def _calls(db, tenant: Tenant, customer_id: int, service_id: int, start: date, today: date) -> int:
    """The voice service's calls, a few a day, each drawn from the minutes of its own cycle (a month at a time)."""
    made = 0
    month = start
    while month <= today:
        end = min(month_start(month, 1) - timedelta(days=1), today - timedelta(days=1))
        usages = []
        day = month
        while day <= end:
            for k in range(CALLS_A_DAY):
                n = (day - start).days * CALLS_A_DAY + k
                at = _at(day, 8 + (n * 5) % 13) + timedelta(minutes=(n * 17) % 60)
                seconds = 20 + (n * 7919) % 900
                usages.append(records.Usage(
                    service_id, customer_id, "voice", records.minutes(seconds), f"call-{n}", at,
                    {"destination": f"+2547{(n * 104729) % 100000000:08d}",
                     "category": records.CATEGORIES[(n * 31) % 10 // 7]},
                    at + timedelta(seconds=seconds)))
            day += timedelta(days=1)
        if usages:
            with db.session() as s, tenant_context(tenant):
                records.apply(s, "api:bench-switch", usages)
            made += len(usages)
        month = month_start(month, 1)
    return made


def _invoice_plan(prices: dict[str, tuple[int, Decimal]], start: date, today: date) -> list[tuple[date, list[dict]]]:
    """(issue day, lines) of each invoice, oldest first: a monthly bill with a line per service, and one-off
    bills spread over the months up to EXTRAS_UNTIL days ago, INVOICES in all."""
    bills = []
    month = start
    while month <= today:
        day = month.replace(day=BILLING_DAY) if month.replace(day=BILLING_DAY) <= today else month
        end = month_start(day, 1) - timedelta(days=1)
        bills.append((day, [{"description": f"{role.title()} service, {day:%B %Y}", "service_id": service_id,
                             "kind": "recurring", "unit_price": price, "period_start": day, "period_end": end}
                            for role, (service_id, price) in prices.items()]))
        month = month_start(month, 1)
    extras = INVOICES - len(bills)
    span = (today - timedelta(days=EXTRAS_UNTIL) - start).days
    for k in range(extras):
        first = EXTRAS[k % len(EXTRAS)]
        lines = [{"description": first[0], "unit_price": Decimal(first[1])}]
        if k % 3 == 0:
            second = EXTRAS[(k * 5 + 3) % len(EXTRAS)]
            lines.append({"description": second[0], "unit_price": Decimal(second[1]), "quantity": 1 + k % 2})
        bills.append((start + timedelta(days=1 + k * span // extras), lines))
    return sorted(bills, key=lambda bill: bill[0])


def _invoices(db, tenant: Tenant, customer_id: int, portal_id: str, ids: dict[str, int], start: date,
              today: date) -> int:
    """Each invoice drafted and issued on its day, and paid a few days later, except the newest OPEN_INVOICES
    (payments are allocated oldest first, so what is left open is always the newest); the oldest of those is
    part-paid, and dunning's overdue check runs today."""
    with db.session() as s, tenant_context(tenant):
        prices = {role: (service_id, s.get(Service, service_id).price) for role, service_id in ids.items()}
    plan = _invoice_plan(prices, start, today)
    if len(plan) != INVOICES:
        raise BenchError(f"planned {len(plan)} invoices, not {INVOICES}")
    paid_until = len(plan) - OPEN_INVOICES
    events: list[tuple[datetime, int, int]] = []  # (when, 0 issue / 1 pay, invoice's place in the plan)
    for number, (day, _lines) in enumerate(plan):
        events.append((_at(day, 7), 0, number))
        if number < paid_until:
            events.append((_at(min(day + timedelta(days=2 + number % 9), today - timedelta(days=1)), 17), 1, number))
    issued: dict[int, int] = {}
    started = time.perf_counter()
    for moment, action, number in sorted(events):
        with clock.travel(moment), db.session() as s, tenant_context(tenant):
            if action == 0:
                draft = invoices.create_draft(s, customer_id, plan[number][1])
                invoices.issue(s, draft.id, actor="bench")
                issued[number] = draft.id
                continue
            method, provider = METHODS[number % len(METHODS)]
            payments.record(s, customer_id=customer_id, amount=invoices.get(s, issued[number]).total, method=method,
                            provider=provider, provider_ref=None if provider == "manual" else f"BENCH{number:05d}",
                            reference=portal_id, actor="bench")
    with clock.travel(_at(today, 6)), db.session() as s, tenant_context(tenant):
        oldest_open = invoices.get(s, issued[paid_until])
        payments.record(s, customer_id=customer_id, amount=(oldest_open.total / 2).quantize(Decimal("0.01")),
                        method="mpesa", provider="mpesa", provider_ref="BENCHPART", reference=portal_id, actor="bench")
        invoices.mark_overdue(s, today)
    log(f"{len(issued)} invoices issued and {paid_until + 1} payments recorded through the services "
        f"({time.perf_counter() - started:.1f} s)")
    return len(issued)


# -- the others ------------------------------------------------------------------------------------------

OTHER_CUSTOMERS = """
INSERT INTO customers (portal_id, kind, first_name, last_name, email, phone, status, city, county, billing_day,
                       created_at, updated_at)
SELECT :prefix || lpad(n::text, :digits, '0'), 'person', 'Customer', 'Number ' || n, 'other' || n || '@example.com',
       '+2547' || lpad(((n * 7919) % 100000000)::text, 8, '0'), 'Active', 'Nairobi', 'Nairobi', 1 + (n * 7) % 28,
       CAST(:start AS timestamptz) - interval '1 day', CAST(:start AS timestamptz) - interval '1 day'
FROM generate_series(CAST(:first AS int), CAST(:last AS int)) AS n
"""
OTHER_SERVICES = """
INSERT INTO services (customer_id, plan_id, kind, status, price, wholesale_price, currency, billing_period,
                      activated_at, network_username)
SELECT c.id, p.id, p.kind, 'Active', round(p.wholesale_price * 1.25, 2), p.wholesale_price, 'KES', 'monthly',
       CAST(:start AS timestamptz), c.portal_id || '-' || k
FROM customers c CROSS JOIN generate_series(1, 3) AS k
JOIN plans p ON p.code = (ARRAY['HOME-20', 'HOME-10', 'BIZ-50'])[1 + (c.id + k) % 3]
WHERE c.id <> :customer AND (k = 1 OR (k = 2 AND c.id % 2 = 0) OR (k = 3 AND c.id % 5 = 0))
"""
OTHER_USAGE = """
INSERT INTO usage_daily (service_id, day, download, upload)
SELECT s.id, d::date, dl, dl / 10
FROM services s CROSS JOIN LATERAL (
    SELECT d, ((0.3 + (hashint8(s.id * 7919 + n) & 1023) / 512.0) * 1073741824)::bigint AS dl
    FROM generate_series(CAST(:start AS date), CAST(:today AS date), interval '1 day') WITH ORDINALITY AS g(d, n)
) AS days
WHERE s.customer_id <> :customer
"""
OTHER_SESSIONS = """
INSERT INTO radius_sessions (session_key, nas_id, acct_session_id, username, customer_id, service_id, status,
                             started_at, updated_at, stopped_at, session_time, input_octets, output_octets)
SELECT gen_random_uuid(), :nas, 'other-' || s.id || '-' || u.day, s.network_username, s.customer_id, s.id, 'Closed',
       u.day - interval '3 hours', u.day + 1 - interval '3 hours', u.day + 1 - interval '3 hours', 86400,
       u.upload, u.download
FROM usage_daily u JOIN services s ON s.id = u.service_id
WHERE s.customer_id <> :customer AND u.day > CAST(:today AS date) - :days AND u.day < :today
"""
# One invoice a month per customer for its services, numbered in a series of its own (H-…) so the tenant's
# counter is untouched; its ledger charge; and, for all but the newest month, a payment that paid it in full
# a few days later with its receipt, allocation and ledger entry.
OTHER_INVOICES = """
WITH months AS (
    SELECT m, (date_trunc('month', CAST(:start AS date)) + interval '1 month' * m)::date AS first
    FROM generate_series(0, CAST(:months AS int) - 1) AS m
), bills AS (
    SELECT c.id AS customer_id, m.m, m.first, make_date(extract(year FROM m.first)::int,
           extract(month FROM m.first)::int, c.billing_day) AS issued_on,
           t.subtotal, t.tax, t.subtotal + t.tax AS total
    FROM customers c CROSS JOIN months m
    CROSS JOIN LATERAL (SELECT sum(s.price) AS subtotal, sum(round(s.price * 0.16, 2)) AS tax
                        FROM services s WHERE s.customer_id = c.id) AS t
    WHERE c.id <> :customer
)
INSERT INTO invoices (kind, series, number, status, customer_id, currency, period_start, period_end, issued_at,
                      due_on, subtotal, tax_total, total, amount_paid, created_by, created_at, updated_at)
SELECT 'invoice', 'invoice', 'H-' || customer_id || '-' || m,
       CASE WHEN m = :months - 1 THEN 'Issued' ELSE 'Paid' END, customer_id, 'KES', issued_on,
       (issued_on + interval '1 month' - interval '1 day')::date, issued_on + time '07:00' - interval '3 hours',
       issued_on + 14, subtotal, tax, total, CASE WHEN m = :months - 1 THEN 0 ELSE total END,
       'bench', issued_on + time '07:00' - interval '3 hours', issued_on + time '07:00' - interval '3 hours'
FROM bills WHERE issued_on <= :today
"""
OTHER_LINES = """
INSERT INTO invoice_lines (invoice_id, position, service_id, kind, description, quantity, unit_price, amount,
                           tax_amount, period_start, period_end)
SELECT i.id, row_number() OVER (PARTITION BY i.id ORDER BY s.id), s.id, 'recurring', 'Internet service', 1, s.price,
       s.price, round(s.price * 0.16, 2), i.period_start, i.period_end
FROM invoices i JOIN services s ON s.customer_id = i.customer_id
WHERE i.number LIKE 'H-%'
"""
OTHER_TAXES = """
INSERT INTO invoice_taxes (invoice_id, tax_rate_id, name, rate, base, amount)
SELECT i.id, (SELECT id FROM tax_rates LIMIT 1), 'VAT', 16, i.subtotal, i.tax_total
FROM invoices i WHERE i.number LIKE 'H-%'
"""
OTHER_CHARGES = """
INSERT INTO ledger_entries (customer_id, at, kind, amount, currency, invoice_id, description, actor)
SELECT customer_id, issued_at, 'charge', total, 'KES', id, 'Invoice ' || number, 'bench'
FROM invoices WHERE number LIKE 'H-%'
"""
OTHER_PAYMENTS = """
INSERT INTO payments (customer_id, method, amount, currency, status, provider, provider_ref, reference, received_at,
                      receipt_number, created_by)
SELECT customer_id, 'mpesa', total, 'KES', 'succeeded', 'mpesa', 'HIST' || id, number,
       issued_at + interval '3 days', 'HR-' || id, 'bench'
FROM invoices WHERE number LIKE 'H-%' AND status = 'Paid'
"""
OTHER_ALLOCATIONS = """
INSERT INTO payment_allocations (payment_id, invoice_id, amount, at)
SELECT p.id, i.id, p.amount, p.received_at
FROM payments p JOIN invoices i ON p.provider_ref = 'HIST' || i.id
"""
OTHER_PAYMENT_ENTRIES = """
INSERT INTO ledger_entries (customer_id, at, kind, amount, currency, payment_id, description, actor)
SELECT customer_id, received_at, 'payment', -amount, 'KES', id, 'Payment ' || receipt_number || ' (mpesa)', 'bench'
FROM payments WHERE provider_ref LIKE 'HIST%'
"""


def seed_others(db, tenant: Tenant, seeded: Seeded, count: int) -> dict[str, int]:
    """`count` more customers, in one transaction, after the customer (so their Portal IDs follow theirs)."""
    params = {"customer": seeded.customer_id, "start": seeded.start, "today": seeded.today, "months": MONTHS,
              "days": SESSION_DAYS}
    out = {}
    with db.session() as s, tenant_context(tenant):
        fmt = get_setting(s, "portal_id_format")
        first = int(s.execute(text("SELECT value FROM counters WHERE name = 'portal_id'")).scalar_one()) + 1
        last = first + count - 1
        s.execute(text(OTHER_CUSTOMERS), {**params, "prefix": fmt["prefix"], "digits": int(fmt["digits"]),
                                          "first": first, "last": last})
        s.execute(text("UPDATE counters SET value = :v WHERE name = 'portal_id'"), {"v": last})
        s.execute(text("INSERT INTO customer_status_history (customer_id, from_status, to_status, at, actor, "
                       "actor_kind, reason) SELECT id, NULL, status, created_at, 'system', 'system', 'seeded' "
                       "FROM customers WHERE id <> :customer"), params)
        s.execute(text("INSERT INTO public.portal_ids (portal_id, tenant_id, customer_id) SELECT portal_id, :t, id "
                       "FROM customers WHERE id <> :customer"), {**params, "t": tenant.id})
        out["services"] = s.execute(text(OTHER_SERVICES), params).rowcount
        out["usage_days"] = s.execute(text(OTHER_USAGE), params).rowcount
        nas_id = s.execute(text("SELECT id FROM public.nas_clients WHERE tenant_id = :t"),
                           {"t": tenant.id}).scalar_one()
        out["sessions"] = s.execute(text(OTHER_SESSIONS), {**params, "nas": nas_id}).rowcount
        out["invoices"] = s.execute(text(OTHER_INVOICES), params).rowcount
        for statement in (OTHER_LINES, OTHER_TAXES, OTHER_CHARGES, OTHER_PAYMENTS, OTHER_ALLOCATIONS,
                          OTHER_PAYMENT_ENTRIES):
            s.execute(text(statement), params)
    out["customers"] = count
    return out


def audit(db, tenant: Tenant) -> None:
    """The ledger agrees with the documents, or the bench stops: figures over inconsistent data mean nothing."""
    with db.session() as s, tenant_context(tenant):
        problems = ledger.audit(s)
    if problems:
        raise BenchError("the ledger disagrees with the documents:\n  " + "\n  ".join(problems[:20]))
