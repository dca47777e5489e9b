"""Benchmark of the reseller portal's customer list and dashboard: server time over real HTTP on a tenant with
100,000 customers.

Goals: server time p50 < 50 ms for the list's pages (first page, a status filter, a full-text search, a page
~50 pages deep), p50 < 100 ms for the dashboard `/reseller/`; p99 is reported beside them.

1. A scratch database `backhaul_bench_<random>_reseller` with one tenant, seeded as bench/customers.py seeds
   (set-based SQL: 100,000 customers with their Portal IDs registered in `public.portal_ids` and the counter
   moved on, one service each, invoices for ~40 %; a team Admin); VACUUM ANALYZE.
2. The app served by gunicorn (one gthread worker of 2 threads, pinned to one core) on loopback, its access log
   writing each request's own time beside the id the client sends (bench/portal.py's `AccessLog`).
3. Signed in as the team's Admin through the team's form (GET /reseller/login for the CSRF token, POST), then
   the session cookies, like a browser: one keep-alive connection, one request at a time.
4. For each page: 5 requests of warm-up, then N timed (200, `--quick` 30); the deep page is reached by following
   the list's own "Next page" links 50 times from the first page, and that address is the one timed. Each
   list page's query is also timed through the JSON API (`GET /reseller/api/customers`, the same filters, sort
   and cursor, signed in for a token), so the page's own share is the difference; the page and the API must
   show the same exact total, or the run stops.

Run from the repository root (not part of the test suite):

    .venv/bin/python bench/reseller_portal.py            # 100,000 customers, 200 requests a page
    .venv/bin/python bench/reseller_portal.py --quick    # 30 requests a page
    .venv/bin/python bench/reseller_portal.py --customers 20000 --json bench/results/reseller_portal.json
"""

from __future__ import annotations

import argparse
import contextlib
import html
import json
import os
import platform
import re
import secrets
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import customers as customer_bench
from common import (
    BenchError,
    add_connection_args,
    gunicorn,
    log,
    migrated_database,
    platform_host,
    print_table,
    server_version,
    settle,
    within_budget,
    write_json,
)
from portal import AccessLog, Browser, clean_redis, links_of, server_env, timed

from app.services import tenants as tenant_service

TENANT_CODE = "BENCH_RESELLER"
LIST_GOAL_MS, DASHBOARD_GOAL_MS = 50.0, 100.0
DEEP_PAGES = 50
FULL = {"customers": 100_000, "requests": 200}
QUICK = {"customers": 100_000, "requests": 30}
_NEXT = re.compile(r'<a [^>]*href="([^"]+)" rel="next"')
_TOTAL = re.compile(r'class="list-total"[^>]*><strong>([\d,]+) customers?</strong>')


def sign_in(browser: Browser, username: str, password: str) -> None:
    """The team's form, as a person uses it: the CSRF token from the page, then the POST; the answer is the
    redirect to the dashboard, with the session cookies."""
    form = links_of(browser.get("/reseller/login").body).inputs
    if "csrf_token" not in form:
        raise BenchError("GET /reseller/login has no csrf_token field")
    body = urllib.parse.urlencode({"csrf_token": form["csrf_token"], "identifier": username,
                                   "password": password}).encode()
    answer = browser.request("POST", "/reseller/login", body, {"Content-Type": "application/x-www-form-urlencoded"})
    where = answer.headers.get("Location", "")
    if answer.status != 302 or urllib.parse.urlsplit(where).path != "/reseller/":
        raise BenchError(f"signing in answered {answer.status} to {where!r}: {answer.body[:300]!r}")


class ApiClient(Browser):
    """The same keep-alive client calling the JSON API with a bearer token: the service's own cost, for the
    page's figures to be read against."""

    token = ""

    def get(self, path: str, *, expect: int = 200):
        answer = self.request("GET", path, headers={"Authorization": f"Bearer {self.token}",
                                                    "Accept": "application/json"})
        if answer.status != expect:
            raise BenchError(f"GET {path} answered {answer.status}: {answer.body[:300]!r}")
        return answer


def api_sign_in(client: ApiClient, username: str, password: str) -> None:
    answer = client.request("POST", "/reseller/auth/login", json.dumps({"username": username,
                                                                         "password": password}).encode(),
                            {"Content-Type": "application/json"})
    if answer.status != 200:
        raise BenchError(f"the API's sign-in answered {answer.status}: {answer.body[:300]!r}")
    client.token = json.loads(answer.body)["token"]


def api_path(path: str) -> str | None:
    """The API's address for a list page's (same filters, sort and cursor), or None for another page."""
    parts = urllib.parse.urlsplit(path)
    return f"/reseller/api/customers?{parts.query}" if parts.path == "/reseller/customers" else None


def total_of(body: bytes) -> int:
    found = _TOTAL.search(body.decode("utf-8", errors="replace"))
    if not found:
        raise BenchError("the list page shows no total")
    return int(found.group(1).replace(",", ""))


def next_of(body: bytes) -> str | None:
    found = _NEXT.search(body.decode("utf-8", errors="replace"))
    return html.unescape(found.group(1)) if found else None


def deep_path(browser: Browser, pages: int) -> str:
    """The address `pages` pages deep, reached by following the list's own "Next page" links."""
    path = "/reseller/customers"
    for depth in range(pages):
        found = next_of(browser.get(path).body)
        if found is None:
            raise BenchError(f"the list ends after {depth + 1} pages")
        path = found
    return path


def cases(browser: Browser) -> list[tuple[str, str, str]]:
    """(name, path, kind): the list's pages, then the dashboard."""
    return [("list, first page", "/reseller/customers", "list"),
            ("list, status=Suspended", "/reseller/customers?status=Suspended", "list"),
            ("list, search q=mwangi", "/reseller/customers?q=mwangi", "list"),
            (f"list, {DEEP_PAGES} pages deep", deep_path(browser, DEEP_PAGES), "list"),
            ("dashboard /reseller/", "/reseller/", "dashboard")]


def measure(browser: Browser, api: ApiClient, access: AccessLog, requests: int) -> list[dict]:
    found = []
    for name, path, kind in cases(browser):
        figures, last = timed(browser, access, path, requests)
        figures.update(name=name, path=path, kind=kind, bytes=len(last.body))
        if kind == "list":
            figures["total"] = total_of(last.body)
            api_figures, answer = timed(api, access, api_path(path), requests)
            if json.loads(answer.body)["total"] != figures["total"]:
                raise BenchError(f"{name}: the API counts {json.loads(answer.body)['total']:,}, the page "
                                 f"{figures['total']:,}")
            figures["api_server"] = api_figures["server"]
        found.append(figures)
        server = figures["server"]
        log(f"{name}: server p50 {server['p50'] * 1000:.1f} ms, p99 {server['p99'] * 1000:.1f} ms"
            + (f", total {figures['total']:,}; the API's same call p50 {figures['api_server']['p50'] * 1000:.1f} ms"
               if kind == "list" else ""))
    return found


def run(opts: argparse.Namespace) -> dict:
    started = time.perf_counter()
    cpus = sorted(os.sched_getaffinity(0))
    results: dict = {"environment": {
        "mode": "quick" if opts.quick else "full", "postgres": server_version(opts.database_url),
        "python": platform.python_version(), "cpus": os.cpu_count(), "server_cpu": cpus[0],
        "loadavg_start": " ".join(f"{x:.2f}" for x in os.getloadavg()), "customers": opts.customers,
        "requests": opts.requests, "command": " ".join([Path(sys.executable).name, *sys.argv])}}
    namespace = f"backhaul-bench-{secrets.token_hex(4)}"
    with tempfile.TemporaryDirectory(prefix="backhaul-bench-") as tmp, \
            migrated_database(opts.database_url, "reseller") as (url, db):
        work = Path(tmp)
        try:
            with db.session() as s:
                tenant = tenant_service.provision(s, code=TENANT_CODE, name="Bench reseller",
                                                  base_domain="bench.test")
            log(f"seeding {opts.customers:,} customers…")
            results["seed_s"] = customer_bench.seed(db, tenant, opts.customers)
            log(f"seeded in {results['seed_s']:.1f} s; VACUUM ANALYZE")
            settle(url)
            env = server_env(url, opts.redis_url, work, namespace)
            with gunicorn(env, work, "reseller", threads=2, cpus={cpus[0]}) as server:
                browser = Browser(server.port, platform_host(TENANT_CODE))
                api = ApiClient(server.port, platform_host(TENANT_CODE))
                try:
                    sign_in(browser, customer_bench.USERNAME, customer_bench.PASSWORD)
                    api_sign_in(api, customer_bench.USERNAME, customer_bench.PASSWORD)
                    results["cases"] = measure(browser, api, AccessLog(work / "access.log"), opts.requests)
                finally:
                    browser.close()
                    api.close()
        finally:
            with contextlib.suppress(Exception):
                log(f"removed {clean_redis(opts.redis_url, namespace)} Redis keys of this run")
    first = next(c for c in results["cases"] if c["path"] == "/reseller/customers")
    if first["total"] != opts.customers:
        raise BenchError(f"the list counts {first['total']:,} customers, {opts.customers:,} were seeded")
    results["environment"]["loadavg_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    results["total_s"] = time.perf_counter() - started
    results["goals_met"] = all(_verdict(c) == "ok" for c in results["cases"])
    return results


def _verdict(case: dict) -> str:
    goal = LIST_GOAL_MS if case["kind"] == "list" else DASHBOARD_GOAL_MS
    return "ok" if case["server"]["p50"] * 1000 < goal else "MISSED p50"


def print_summary(results: dict) -> None:
    env = results["environment"]
    print(f"\nReseller portal, {env['customers']:,} customers in one tenant (PostgreSQL {env['postgres']}, Python "
          f"{env['python']}, {env['cpus']} CPUs, gunicorn on CPU {env['server_cpu']}); {env['requests']} requests "
          f"a page; seeded in {results['seed_s']:.1f} s\n")
    print(f"Goals: server p50 < {LIST_GOAL_MS:.0f} ms for the list's pages, < {DASHBOARD_GOAL_MS:.0f} ms for the "
          "dashboard; times in ms\n")
    rows = [["page", "matches", "server p50", "p95", "p99", "client p50", "p99", "API p50", "API p99", "HTML kB",
             "load", "goal"]]
    for case in results["cases"]:
        server, client, api = case["server"], case["client"], case.get("api_server")
        rows.append([case["name"], f"{case['total']:,}" if "total" in case else "", f"{server['p50'] * 1000:.1f}",
                     f"{server['p95'] * 1000:.1f}", f"{server['p99'] * 1000:.1f}", f"{client['p50'] * 1000:.1f}",
                     f"{client['p99'] * 1000:.1f}", f"{api['p50'] * 1000:.1f}" if api else "",
                     f"{api['p99'] * 1000:.1f}" if api else "", f"{case['bytes'] / 1000:.1f}",
                     f"{case['loadavg']:.2f}", _verdict(case)])
    print_table(rows)
    print("\nserver: gunicorn's own time for the request (access log %(D)s); client: time to the last byte on one "
          "keep-alive connection over loopback; API: the server's time for GET /reseller/api/customers with the "
          "same filters, sort and cursor (the service's share of the page)")
    print(f"load average {env['loadavg_start']} → {env['loadavg_end']}; total {results['total_s']:.0f} s")
    print(f"command: {env['command']}")
    print("every goal met" if results["goals_met"] else "SOME GOALS MISSED")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_connection_args(parser)
    parser.add_argument("--quick", action="store_true", help="30 requests a page instead of 200")
    parser.add_argument("--customers", type=int, help=f"customers to seed (default {FULL['customers']:,})")
    parser.add_argument("--requests", type=int, help="timed requests per page (full 200, quick 30)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results as JSON")
    opts = parser.parse_args(argv)
    defaults = QUICK if opts.quick else FULL
    for key in ("customers", "requests"):
        if getattr(opts, key) is None:
            setattr(opts, key, defaults[key])
    if not (DEEP_PAGES * 50 + 50 <= opts.customers <= 2_000_000 and 1 <= opts.requests <= 10_000):
        parser.error(f"--customers must be in [{DEEP_PAGES * 50 + 50:,}, 2,000,000] and --requests in [1, 10,000]")
    return opts


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    results = within_budget(int(600 + opts.customers / 1000 + opts.requests * 5 * 0.5), lambda: run(opts))
    print_summary(results)
    if opts.json:
        write_json(opts.json, results)
    return 0 if results["goals_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
