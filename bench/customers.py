"""Benchmark of the customer list: latency on a tenant with 100,000 customers (goal: median < 50 ms).

It seeds one tenant of a scratch database with N customers (default 100,000) in a few set-based SQL
statements (names, counties, statuses, M-PESA numbers... drawn deterministically from the row number;
every Portal ID registered in `public.portal_ids`, the Portal ID counter and the id sequence moved on; one
service per customer, internet/voice/recurring, some Terminated; one invoice for ~40 % of the customers,
Paid, Issued and not yet due, or past due),
runs VACUUM ANALYZE, serves the app with gunicorn (one gthread worker, pinned to one core) and times
`GET /reseller/api/customers` over real HTTP, one request at a time, for:

- `filter`:     page 1 of status=Active & county=Nairobi (newest first);
- `search`:     page 1 of a full-text query matching a common surname (`q=mwangi`, ~3.7 % of the customers);
- `search_2_words`: page 1 of `q=wanjiru kam` (two prefixes, every word must match);
- `deep`:       the page at position ~90 % of the list (newest first), from a cursor;
- `deep_name`:  the same depth in name order;
- `all`:        page 1 with no filter (so the total counts every customer);
- `service_voice`: page 1 of service_type=voice (an active voice service, ~9 % of the customers);
- `overdue`:    page 1 of payment_status=overdue (an open invoice past due, ~5 %);
- `unpaid`:     page 1 of payment_status=unpaid (open invoices, none past due, ~10 %).

Each answer carries the exact total of its filter, so every figure includes that count (the design choice
this benchmark checks: an exact `count(*)`, served by index-only scans, rather than an estimate or a capped
count). For each case the same query is also timed in-process, split into the count and the page, to show
where the time goes. A full run also walks the whole list (newest first, 200 a page) from cursor to cursor
and checks that no customer is skipped or repeated.

Everything runs in a scratch database `backhaul_bench_<random>_cust` dropped at the end, even on error or
Ctrl-C; the server listens on loopback only; e-mail jobs go to a Redis namespace of this run, removed.

Run from the repository root:

    .venv/bin/python bench/customers.py            # full run: 100,000 customers, 200 requests a case
    .venv/bin/python bench/customers.py --quick    # smoke run: 100,000 customers, 30 requests a case
    .venv/bin/python bench/customers.py --customers 20000 --json bench/results/customers.json
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import secrets
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

from common import (
    BenchError,
    add_connection_args,
    child_env,
    free_port,
    gunicorn,
    log,
    migrated_database,
    platform_host,
    print_table,
    server_version,
    settle,
    stats,
    within_budget,
    write_json,
)
from sqlalchemy import text

from app.services import customers
from app.services import tenants as tenant_service
from app.services.auth import users
from app.services.settings import get_setting
from tenants import Tenant, tenant_context

TENANT_CODE = "BENCH_CUSTOMERS"
USERNAME, PASSWORD = "bench@example.com", "Bench#Pass2026"
PATH = "/reseller/api/customers"
GOAL_MS = 50.0
DEEP_FRACTION = 0.9
FULL = {"customers": 100_000, "requests": 200, "walk": True}
QUICK = {"customers": 100_000, "requests": 30, "walk": False}

FIRST = ["Wanjiru", "Kamau", "Otieno", "Achieng", "Mwangi", "Njeri", "Kiprono", "Chebet", "Omondi", "Atieno",
         "Mutua", "Mwende", "Kibet", "Jepkosgei", "Ochieng", "Akinyi", "Njoroge", "Wambui", "Kiptoo", "Nyambura",
         "Hassan", "Amina", "Baraka", "Faith", "Brian", "Mercy", "Kevin", "Grace", "Dennis", "Joy", "Peter",
         "Esther", "John", "Mary", "James", "Ann", "David", "Lucy", "Daniel", "Ruth", "Samuel", "Irene",
         "Joseph", "Naomi", "Paul", "Sharon", "Moses", "Caroline", "Victor", "Diana"]
LAST = ["Mwangi", "Otieno", "Kamau", "Odhiambo", "Kariuki", "Njoroge", "Ochieng", "Wanjiku", "Kiprop", "Mutua",
        "Onyango", "Korir", "Mohamed", "Ali", "Wafula", "Barasa", "Cheruiyot", "Kimani", "Macharia", "Owino",
        "Langat", "Kipkemboi", "Nyaga", "Muriuki", "Gitau", "Ndungu", "Omollo", "Auma", "Wekesa", "Simiyu",
        "Rotich", "Koech", "Mugo", "Waweru", "Chege", "Kiplagat", "Mbugua", "Okoth", "Juma", "Said",
        "Keter", "Bett", "Kilonzo", "Musyoka", "Nzioka", "Ngugi", "Githinji", "Maina", "Oduya", "Were",
        "Kiprotich", "Sang", "Ruto", "Tanui", "Kosgei", "Wairimu", "Njuguna", "Gachanja", "Mburu", "Irungu"]
COUNTIES = ["Kiambu", "Mombasa", "Nakuru", "Kisumu", "Machakos", "Kajiado", "Uasin Gishu", "Kakamega", "Nyeri",
            "Meru", "Kilifi", "Bungoma", "Kericho", "Embu", "Murang'a", "Kisii", "Laikipia", "Narok", "Nyandarua",
            "Kirinyaga", "Makueni", "Kitui", "Siaya", "Homa Bay", "Migori", "Busia", "Vihiga", "Nandi", "Bomet",
            "Trans Nzoia", "Kwale", "Taita-Taveta", "Lamu", "Garissa", "Isiolo", "Baringo", "Elgeyo-Marakwet",
            "Nyamira", "Tharaka-Nithi", "West Pokot", "Samburu", "Turkana", "Marsabit", "Mandera", "Wajir",
            "Tana River"]
SUB_COUNTIES = ["Westlands", "Langata", "Kasarani", "Embakasi East", "Dagoretti North", "Kibra", "Ruaraka",
                "Starehe", "Makadara", "Roysambu"]
CATEGORIES = ["residential", "business", "enterprise", "student"]
METHODS = ["mpesa", "mpesa", "mpesa", "bank_transfer", "card", "cash"]


def _pick(values: list[str], salt: int) -> str:
    """SQL for a deterministic pseudo-random element of `values` for row n."""
    array = "ARRAY[" + ",".join("'" + v.replace("'", "''") + "'" for v in values) + "]"
    return f"({array})[1 + (hashint8(n::bigint * 7919 + {salt}) & 2147483647) % {len(values)}]"


def seed_sql(digits: int) -> str:
    h = "(hashint8(n::bigint * 104729 + {}) & 2147483647)"
    return f"""
INSERT INTO customers (id, portal_id, kind, first_name, last_name, company_name, email, phone, status,
    national_id, address, city, county, sub_county, postal_code, latitude, longitude, mpesa_number, category,
    billing_day, payment_method, deposit, credit_limit, created_at, updated_at, extra)
SELECT n, :prefix || lpad(n::text, greatest({digits}, length(n::text)), '0'),
    CASE WHEN n % 12 = 0 THEN 'company' ELSE 'person' END,
    {_pick(FIRST, 1)}, {_pick(LAST, 2)},
    CASE WHEN n % 12 = 0 THEN {_pick(LAST, 3)} || ' ' || {_pick(["Traders", "Enterprises", "Ltd", "Hardware",
                                                                   "Agencies"], 4)} END,
    'customer' || n || '@example.com',
    '+2547' || lpad(({h.format(5)} % 100000000)::text, 8, '0'),
    CASE WHEN {h.format(6)} % 100 < 70 THEN 'Active' WHEN {h.format(6)} % 100 < 80 THEN 'Suspended'
         WHEN {h.format(6)} % 100 < 88 THEN 'New' WHEN {h.format(6)} % 100 < 92 THEN 'Pending' ELSE 'Inactive' END,
    (10000000 + {h.format(7)} % 30000000)::text,
    ({h.format(8)} % 900 + 1)::text || ' ' || {_pick(["Moi Avenue", "Kenyatta Road", "Ngong Road", "Mombasa Road",
                                                      "Thika Road", "Waiyaki Way"], 9)},
    CASE WHEN {h.format(10)} % 100 < 30 THEN 'Nairobi' ELSE {_pick(COUNTIES, 11)} END,
    CASE WHEN {h.format(10)} % 100 < 30 THEN 'Nairobi' ELSE {_pick(COUNTIES, 11)} END,
    CASE WHEN {h.format(10)} % 100 < 30 THEN {_pick(SUB_COUNTIES, 12)} END,
    lpad(({h.format(13)} % 99999)::text, 5, '0'),
    round((-4.5 + ({h.format(14)} % 9000000) / 1000000.0)::numeric, 6),
    round((34.0 + ({h.format(15)} % 7000000) / 1000000.0)::numeric, 6),
    '2547' || lpad(({h.format(5)} % 100000000)::text, 8, '0'),
    {_pick(CATEGORIES, 16)}, 1 + {h.format(17)} % 28, {_pick(METHODS, 18)},
    (({h.format(19)} % 5) * 500)::numeric(12, 2), CASE WHEN n % 3 = 0 THEN 5000.00 END,
    now() - interval '1 minute' * (:count - n) * 15, now() - interval '1 minute' * (:count - n) * 15, '{{}}'::jsonb
FROM generate_series(1, :count) AS n
"""


def services_sql() -> str:
    """One service per customer: internet ~85 %, voice ~10 %, recurring ~5 %; ~8 % of them Terminated."""
    h = "(hashint8(n::bigint * 104729 + {}) & 2147483647)"
    return f"""
INSERT INTO services (customer_id, plan_id, kind, status, price, currency, billing_period, activated_at,
    terminated_at, network_username)
SELECT n, 1,
    CASE WHEN {h.format(20)} % 100 < 85 THEN 'internet' WHEN {h.format(20)} % 100 < 95 THEN 'voice'
         ELSE 'recurring' END,
    CASE WHEN {h.format(21)} % 100 < 8 THEN 'Terminated' ELSE 'Active' END,
    1500.00, 'KES', 'monthly', now() - interval '1 minute' * (:count - n) * 15,
    CASE WHEN {h.format(21)} % 100 < 8 THEN now() END,
    CASE WHEN {h.format(20)} % 100 < 85 THEN 'bench' || n END
FROM generate_series(1, :count) AS n
"""


def invoices_sql() -> str:
    """One invoice for ~40 % of the customers: ~25 % of them Paid, ~10 % Issued and not yet due, ~5 % late
    (half marked Overdue by dunning, half still Issued but past due). The rest were never invoiced."""
    h = "(hashint8(n::bigint * 104729 + 22) & 2147483647) % 100"
    return f"""
INSERT INTO invoices (kind, series, number, status, customer_id, currency, period_start, period_end,
    issued_at, due_on, subtotal, total, amount_paid)
SELECT 'invoice', 'B', 'B-' || n,
    CASE WHEN r < 25 THEN 'Paid' WHEN r < 35 THEN 'Issued' WHEN r < 38 THEN 'Overdue' ELSE 'Issued' END,
    n, 'KES', current_date - 30, current_date - 1, now() - interval '20 days',
    CASE WHEN r < 25 THEN current_date - 10 WHEN r < 35 THEN current_date + 10 ELSE current_date - 5 END,
    1500.00, 1500.00, CASE WHEN r < 25 THEN 1500.00 ELSE 0 END
FROM (SELECT n, {h} AS r FROM generate_series(1, :count) AS n) AS s
WHERE r < 40
"""


def seed(db, tenant: Tenant, count: int) -> float:
    """N customers in one transaction, with one service each and invoices for ~40 % of them; the GIN index
    is built after the rows, as a restore would."""
    started = time.perf_counter()
    with db.session() as s, tenant_context(tenant):
        fmt = get_setting(s, "portal_id_format")  # as `next_portal_id` writes them
        s.execute(text("DROP INDEX ix_customers_search"))
        s.execute(text(seed_sql(int(fmt["digits"]))), {"prefix": fmt["prefix"], "count": count})
        s.execute(text("CREATE INDEX ix_customers_search ON customers USING gin (search)"))
        s.execute(text("SELECT setval(pg_get_serial_sequence('customers', 'id'), :c)"), {"c": count})
        s.execute(text("INSERT INTO counters (name, value) VALUES ('portal_id', :c) ON CONFLICT (name) DO UPDATE "
                       "SET value = excluded.value"), {"c": count})
        s.execute(text("INSERT INTO customer_status_history (customer_id, from_status, to_status, at, actor, "
                       "actor_kind, reason) SELECT id, NULL, status, created_at, 'system', 'system', 'seeded' "
                       "FROM customers"))
        s.execute(text("INSERT INTO public.portal_ids (portal_id, tenant_id, customer_id) "
                       "SELECT portal_id, :t, id FROM customers"), {"t": tenant.id})
        s.execute(text(services_sql()), {"count": count})
        s.execute(text(invoices_sql()), {"count": count})
        users.create_user(s, username=USERNAME, email=USERNAME, role="Admin", password=PASSWORD)
    return time.perf_counter() - started


# -- HTTP ------------------------------------------------------------------------------------------
class Client:
    """One keep-alive connection to the server, as a browser tab would use."""

    def __init__(self, port: int, host: str):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.host = host
        self.token: str | None = None

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        headers = {"Host": self.host, "Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        self.conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = self.conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")

    def list(self, params: dict) -> dict:
        status, data = self.request("GET", PATH + "?" + urllib.parse.urlencode(params, doseq=True))
        if status != 200:
            raise BenchError(f"GET {PATH} {params} answered {status}: {data}")
        return data

    def close(self) -> None:
        self.conn.close()


def deep_cursor(db, tenant: Tenant, sort: str, position: int) -> str:
    """The cursor that `next_cursor` would be after `position` rows in `sort` order (same encoding)."""
    spec = customers.SORTS[sort.lstrip("-")]
    direction = "DESC" if sort.startswith("-") else "ASC"
    column = spec.column.key
    with db.session() as s, tenant_context(tenant):
        key, customer_id = s.execute(text(
            f"SELECT {column}, id FROM customers ORDER BY {column} {direction}, id {direction} OFFSET :o LIMIT 1"
        ), {"o": position - 1}).one()
    return customers._encode_cursor(sort, key, customer_id)


def cases(db, tenant: Tenant, count: int) -> dict[str, dict]:
    deep = int(count * DEEP_FRACTION)
    return {
        "filter": {"status": "Active", "county": "Nairobi"},
        "search": {"q": "mwangi"},
        "search_2_words": {"q": "wanjiru kam"},
        "deep": {"cursor": deep_cursor(db, tenant, "-created_at", deep)},
        "deep_name": {"sort": "name", "cursor": deep_cursor(db, tenant, "name", deep)},
        "all": {},
        "service_voice": {"service_type": "voice"},
        "overdue": {"payment_status": "overdue"},
        "unpaid": {"payment_status": "unpaid"},
    }


def time_http(client: Client, params: dict, requests: int) -> tuple[dict, dict]:
    for _ in range(5):  # warm-up: connection, caches, plans
        client.list(params)
    samples, last = [], None
    for _ in range(requests):
        started = time.perf_counter()
        last = client.list(params)
        samples.append(time.perf_counter() - started)
    return stats(samples), last


def time_parts(db, tenant: Tenant, params: dict, requests: int) -> dict:
    """The same query in-process: the count alone and the page alone (no HTTP, no JSON)."""
    from sqlalchemy import func, select

    from app.models import Customer

    args = {k: v for k, v in params.items() if k not in ("sort", "cursor")}
    if "status" in args:
        args["statuses"] = (args.pop("status"),)
    filters = customers.CustomerFilter(**args)
    count_samples, page_samples = [], []
    with db.session() as s, tenant_context(tenant):
        for i in range(requests + 3):
            started = time.perf_counter()
            s.execute(select(func.count()).select_from(Customer).where(*filters.conditions())).scalar_one()
            middle = time.perf_counter()
            customers.list_page(s, filters, sort=params.get("sort", customers.DEFAULT_SORT),
                                cursor=params.get("cursor"))
            ended = time.perf_counter()
            if i >= 3:
                count_samples.append(middle - started)
                page_samples.append((ended - middle) - (middle - started))  # list_page counts too
    return {"count": stats(count_samples), "page": stats([max(x, 0.0) for x in page_samples])}


def walk(client: Client, count: int) -> dict:
    """Every page, newest first, 200 a page: each customer exactly once, and the total right."""
    seen: set[int] = set()
    pages, cursor, started = 0, None, time.perf_counter()
    while True:
        params = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        data = client.list(params)
        pages += 1
        ids = [item["id"] for item in data["items"]]
        if seen.intersection(ids):
            raise BenchError(f"page {pages} repeats customers")
        seen.update(ids)
        cursor = data["next_cursor"]
        if not cursor:
            break
    if len(seen) != count or data["total"] != count:
        raise BenchError(f"the walk saw {len(seen)} customers, total {data['total']}, expected {count}")
    return {"pages": pages, "seconds": time.perf_counter() - started, "customers": len(seen)}


def server_env(url: str, redis_url: str, work_dir: Path, namespace: str) -> dict:
    env = child_env(url, redis_url, work_dir)
    env.update(BACKHAUL_SMTP_URL=f"smtp://127.0.0.1:{free_port()}",  # nothing listens: nothing is sent
               BACKHAUL_QUEUE_NAMESPACE=namespace)
    return env


def clean_redis(redis_url: str, namespace: str) -> int:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{namespace}:*", count=500))
        return client.delete(*keys) if keys else 0
    finally:
        client.close()


def run(opts: argparse.Namespace) -> dict:
    started = time.perf_counter()
    cpus = sorted(os.sched_getaffinity(0))
    results: dict = {"environment": {
        "mode": "quick" if opts.quick else "full", "postgres": server_version(opts.database_url),
        "python": platform.python_version(), "cpus": os.cpu_count(),
        "loadavg_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "customers": opts.customers, "requests": opts.requests}}
    namespace = f"backhaul-bench-{secrets.token_hex(4)}"
    with tempfile.TemporaryDirectory(prefix="backhaul-bench-") as tmp, \
            migrated_database(opts.database_url, "cust") as (url, db):
        try:
            with db.session() as s:
                tenant = tenant_service.provision(s, code=TENANT_CODE, name="Bench customers",
                                                  base_domain="bench.test")
            log(f"seeding {opts.customers} customers…")
            results["seed_s"] = seed(db, tenant, opts.customers)
            log(f"seeded in {results['seed_s']:.1f} s; VACUUM ANALYZE")
            settle(url)
            plan = cases(db, tenant, opts.customers)
            results["in_process"] = {name: time_parts(db, tenant, params, max(10, opts.requests // 4))
                                     for name, params in plan.items()}
            env = server_env(url, opts.redis_url, Path(tmp), namespace)
            with gunicorn(env, Path(tmp), "customers", threads=2, cpus={cpus[0]}) as server:
                client = Client(server.port, platform_host(TENANT_CODE))
                try:
                    status, login = client.request("POST", "/reseller/auth/login",
                                                   {"username": USERNAME, "password": PASSWORD})
                    if status != 200:
                        raise BenchError(f"login answered {status}: {login}")
                    client.token = login["token"]
                    results["http"] = {}
                    for name, params in plan.items():
                        figures, last = time_http(client, params, opts.requests)
                        figures["total"], figures["items"] = last["total"], len(last["items"])
                        results["http"][name] = figures
                        log(f"{name}: median {figures['median'] * 1000:.1f} ms, total {last['total']}")
                    if opts.walk:
                        results["walk"] = walk(client, opts.customers)
                finally:
                    client.close()
        finally:
            with contextlib.suppress(Exception):
                log(f"removed {clean_redis(opts.redis_url, namespace)} Redis keys of this run")
    results["environment"]["loadavg_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    results["total_s"] = time.perf_counter() - started
    return results


def print_summary(results: dict) -> None:
    env = results["environment"]
    print(f"\nCustomer list, {env['customers']:,} customers, {env['requests']} requests a case "
          f"(PostgreSQL {env['postgres']}, Python {env['python']}, {env['cpus']} CPUs; seeded in "
          f"{results['seed_s']:.1f} s)\n")
    rows = [["case", "matches", "median", "p90", "p99", "goal", "count (in-process)", "page (in-process)"]]
    for name, figures in results["http"].items():
        parts = results["in_process"][name]
        rows.append([name, f"{figures['total']:,}", f"{figures['median'] * 1000:.1f} ms",
                     f"{figures['p90'] * 1000:.1f} ms", f"{figures['p99'] * 1000:.1f} ms",
                     "ok" if figures["median"] * 1000 < GOAL_MS else "MISSED",
                     f"{parts['count']['median'] * 1000:.1f} ms", f"{parts['page']['median'] * 1000:.1f} ms"])
    print_table(rows)
    if "walk" in results:
        w = results["walk"]
        print(f"\nwalk: {w['customers']:,} customers in {w['pages']} pages of 200, none skipped or repeated "
              f"({w['seconds']:.1f} s)")
    print(f"\nload average {env['loadavg_start']} → {env['loadavg_end']}; total {results['total_s']:.0f} s")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_connection_args(parser)
    parser.add_argument("--quick", action="store_true", help="fewer requests, no walk")
    parser.add_argument("--customers", type=int, help=f"customers to seed (default {FULL['customers']:,})")
    parser.add_argument("--requests", type=int, help="timed requests per case (full 200, quick 30)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results as JSON")
    opts = parser.parse_args(argv)
    defaults = QUICK if opts.quick else FULL
    for key in ("customers", "requests"):
        if getattr(opts, key) is None:
            setattr(opts, key, defaults[key])
    opts.walk = defaults["walk"]
    if not (100 <= opts.customers <= 2_000_000 and 1 <= opts.requests <= 10_000):
        parser.error("--customers must be in [100, 2,000,000] and --requests in [1, 10,000]")
    return opts


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    results = within_budget(int(300 + opts.customers / 1000 + opts.requests * 5 * 0.5), lambda: run(opts))
    print_summary(results)
    if opts.json:
        write_json(opts.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
