"""Benchmark of the customer portal's pages (issue 14): server time and page weight for a customer with 5 services,
24 months of daily usage and 200 invoices, over real HTTP.

Goals: server time p50 < 30 ms and p99 < 100 ms for the dashboard and the usage pages (the services pages are held
to the same); a page's HTML with every CSS and JS file it links (the brand's stylesheet too) < 100 kB, gzip off,
1 kB = 1,000 bytes. The chart images the pages show are reported on their own: their server time counts, their
weight is an image's and outside the 100 kB.

1. A scratch database `backhaul_bench_<random>_portal` with one tenant (its brand and logo, the demo's plans, a
   retail markup, VAT, a router), the customer and a few hundred others (bench/portal_seed.py says how each row
   is made, and why most of the customer's go through the services); VACUUM ANALYZE; `ledger.audit` must find
   nothing, or the run stops.
2. The app served by gunicorn (one gthread worker of 2 threads, pinned to one core) on loopback, its access log
   writing each request's own time (`%(D)s`, from the request read to the response written, teardown and its
   commit included) beside an id the client sends in `X-Bench-Id`, so every sample has both figures.
3. Signed in through the real form: GET /login for the CSRF token and its cookie, POST the Portal ID and the
   password, then the session cookies, like a browser (one keep-alive connection, one request at a time).
4. For each page: 5 requests of warm-up, then N timed (200, `--quick` 30): the client's time to the last byte and
   the server's own time, p50/p95/p99. Its weight: the HTML plus every stylesheet and script it links, fetched
   as the browser would, without compression. Then each chart image the dashboard and the usage pages show
   (`<img>` and the phone's `<source>`), N times each.

   Pages: the dashboard `/portal`; `/portal/usage`; a service's usage as it opens (this cycle by day) and over
   24 months by month (`?start=&end=&group=month`), its sessions, the voice service's calls; `/portal/services`
   and one service's page.

Run from the repository root:

    .venv/bin/python bench/portal.py                      # full: 200 requests a page
    .venv/bin/python bench/portal.py --quick              # 30 requests a page
    .venv/bin/python bench/portal.py --others 2000 --json bench/results/portal.json

The machine's load average at the start, after each page and at the end is printed with the figures: on a shared
box the tail (p99) moves with it.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import http.cookies
import itertools
import os
import platform
import re
import secrets
import shlex
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import portal_seed
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
    within_budget,
    write_json,
)

P50_GOAL_MS, P99_GOAL_MS, WEIGHT_GOAL_KB = 30.0, 100.0, 100.0
WARM_UP = 5
FULL = {"requests": 200, "others": 400}
QUICK = {"requests": 30, "others": 400}
KB = 1000


# -- HTTP --------------------------------------------------------------------------------------------------

@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    seconds: float  # the client's time to the last byte
    request_id: str


class Browser:
    """One keep-alive connection with a cookie jar: what a browser tab does, minus the rendering."""

    def __init__(self, port: int, host: str):
        self.port, self.host = port, host
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}
        self.ids = itertools.count(1)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> Answer:
        request_id = str(next(self.ids))
        sent = {"Host": self.host, "Accept-Encoding": "identity", "Accept": "text/html,*/*", "X-Bench-Id": request_id,
                "User-Agent": "Mozilla/5.0 (bench/portal.py)", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=sent)
            response = self.conn.getresponse()
            data = response.read()
        except (http.client.HTTPException, OSError):  # the server closed a kept-alive connection: once more
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            started = time.perf_counter()
            self.conn.request(method, path, body=body, headers=sent)
            response = self.conn.getresponse()
            data = response.read()
        seconds = time.perf_counter() - started
        for line in response.headers.get_all("Set-Cookie") or ():
            jar = http.cookies.SimpleCookie()
            jar.load(line)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or (morsel["expires"] and "1970" in morsel["expires"]):
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return Answer(response.status, response.headers, data, seconds, request_id)

    def get(self, path: str, *, expect: int = 200) -> Answer:
        answer = self.request("GET", path)
        if answer.status != expect:
            raise BenchError(f"GET {path} answered {answer.status}: {answer.body[:300]!r}")
        return answer

    def close(self) -> None:
        self.conn.close()


class Links(HTMLParser):
    """What a page makes the browser fetch: stylesheets and scripts (its weight), images (reported apart)."""

    def __init__(self):
        super().__init__()
        self.styles: list[str] = []
        self.scripts: list[str] = []
        self.images: list[str] = []
        self.inputs: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if tag == "link" and "stylesheet" in (found.get("rel") or "").split() and found.get("href"):
            self.styles.append(found["href"])
        elif tag == "script" and found.get("src"):
            self.scripts.append(found["src"])
        elif tag == "img" and found.get("src"):
            self.images.append(found["src"])
        elif tag == "source" and found.get("srcset"):
            self.images.extend(part.strip().split()[0] for part in found["srcset"].split(",") if part.strip())
        elif tag == "input" and found.get("name"):
            self.inputs[found["name"]] = found.get("value") or ""


def links_of(body: bytes) -> Links:
    parser = Links()
    parser.feed(body.decode("utf-8", errors="replace"))
    return parser


def sign_in(browser: Browser, portal_id: str, password: str) -> None:
    """Through the form, as a person does: the CSRF token from GET /login, then the POST; the answer is the
    redirect to the dashboard with the session cookies."""
    form = links_of(browser.get("/login").body).inputs
    if "csrf_token" not in form:
        raise BenchError("GET /login has no csrf_token field")
    body = urllib.parse.urlencode({"csrf_token": form["csrf_token"], "identifier": portal_id,
                                   "password": password}).encode()
    answer = browser.request("POST", "/login", body, {"Content-Type": "application/x-www-form-urlencoded"})
    where = answer.headers.get("Location", "")
    if answer.status != 302 or urllib.parse.urlsplit(where).path != "/portal":
        raise BenchError(f"signing in answered {answer.status} to {where!r}: {answer.body[:300]!r}")


# -- the server's own time ---------------------------------------------------------------------------------

ACCESS_FORMAT = "%({x-bench-id}i)s %(s)s %(D)s"
_LINE = re.compile(r"^(\d+) (\d{3}) (\d+)$")


def server_env(url: str, redis_url: str, work_dir: Path, namespace: str) -> dict:
    env = child_env(url, redis_url, work_dir)
    env.update(BACKHAUL_SMTP_URL=f"smtp://127.0.0.1:{free_port()}",  # nothing listens: nothing is sent
               BACKHAUL_QUEUE_NAMESPACE=namespace,
               # gunicorn reads more arguments from here: each request's own time, by the id the client sent
               GUNICORN_CMD_ARGS=shlex.join(["--access-logfile", str(work_dir / "access.log"),
                                             "--access-logformat", ACCESS_FORMAT]))
    return env


class AccessLog:
    """The access log's times (µs) by request id, read as the server writes them."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0
        self.times: dict[str, float] = {}

    def seconds(self, ids: list[str], timeout: float = 5.0) -> list[float]:
        deadline = time.monotonic() + timeout
        while True:
            self._read()
            missing = [i for i in ids if i not in self.times]
            if not missing:
                return [self.times[i] for i in ids]
            if time.monotonic() > deadline:
                raise BenchError(f"{len(missing)} requests missing from {self.path} (first: {missing[0]})")
            time.sleep(0.05)

    def _read(self) -> None:
        if not self.path.exists():
            return
        with self.path.open("rb") as log_file:
            log_file.seek(self.offset)
            chunk = log_file.read()
        complete = chunk[:chunk.rfind(b"\n") + 1]
        self.offset += len(complete)
        for line in complete.decode(errors="replace").splitlines():
            match = _LINE.match(line.strip())
            if match:
                self.times[match.group(1)] = int(match.group(3)) / 1e6


# -- measuring ---------------------------------------------------------------------------------------------

def percentiles(samples: list[float]) -> dict:
    """p50/p95/p99 by the nearest rank (no interpolation: p99 of 200 samples is the second slowest)."""
    ordered = sorted(samples)

    def rank(p: float) -> float:
        return ordered[max(0, min(len(ordered) - 1, -(-len(ordered) * p // 100) - 1))]

    return {"n": len(ordered), "p50": rank(50), "p95": rank(95), "p99": rank(99), "max": ordered[-1]}


@dataclass
class Case:
    name: str
    path: str
    kind: str = "page"  # page or image
    figures: dict = field(default_factory=dict)


def timed(browser: Browser, access: AccessLog, path: str, requests: int) -> tuple[dict, Answer]:
    for _ in range(WARM_UP):
        browser.get(path)
    answers = [browser.get(path) for _ in range(requests)]
    server = access.seconds([a.request_id for a in answers])
    return {"client": percentiles([a.seconds for a in answers]), "server": percentiles(server),
            "loadavg": os.getloadavg()[0]}, answers[-1]


def weight(browser: Browser, answer: Answer) -> dict:
    """The page's HTML and each stylesheet and script it links, in bytes as sent (no compression asked for)."""
    found = links_of(answer.body)
    assets = {}
    for href in dict.fromkeys(found.styles + found.scripts):
        if urllib.parse.urlsplit(href).netloc:
            raise BenchError(f"the page links {href} on another host")
        assets[href] = len(browser.get(href).body)
    return {"html": len(answer.body), "assets": assets, "total": len(answer.body) + sum(assets.values()),
            "images": list(dict.fromkeys(found.images))}


def pages(seeded) -> list[Case]:
    ids = seeded.service_ids
    start = portal_seed.month_start(seeded.today, 1 - portal_seed.MONTHS)  # 24 bars, this month the last
    months = urllib.parse.urlencode({"start": start.isoformat(), "end": seeded.today.isoformat(), "group": "month"})
    return [Case("dashboard", "/portal"), Case("usage (services)", "/portal/usage"),
            Case("usage, this cycle by day", f"/portal/usage/{ids['timed']}"),
            Case("usage, 24 months by month", f"/portal/usage/{ids['timed']}?{months}"),
            Case("usage, sessions", f"/portal/usage/{ids['timed']}/sessions"),
            Case("usage, calls (voice)", f"/portal/usage/{ids['voice']}/calls"),
            Case("services", "/portal/services"), Case("service", f"/portal/services/{ids['timed']}")]


CHARTED = ("dashboard", "usage, this cycle by day", "usage, 24 months by month")


def measure(browser: Browser, access: AccessLog, seeded, requests: int) -> list[Case]:
    cases = pages(seeded)
    images: list[Case] = []
    for case in cases:
        case.figures, last = timed(browser, access, case.path, requests)
        case.figures["weight"] = weight(browser, last)
        log(f"{case.name}: server p50 {case.figures['server']['p50'] * 1000:.1f} ms, "
            f"p99 {case.figures['server']['p99'] * 1000:.1f} ms; {case.figures['weight']['total'] / KB:.1f} kB")
        if case.name in CHARTED:
            images += _images_of(case)
    for image in images:
        image.figures, last = timed(browser, access, image.path, requests)
        if last.headers.get_content_type() != "image/svg+xml":
            raise BenchError(f"{image.path} is {last.headers.get_content_type()}, not an SVG")
        image.figures["bytes"] = len(last.body)
        log(f"{image.name}: server p50 {image.figures['server']['p50'] * 1000:.1f} ms")
    return cases + images


def _images_of(case: Case) -> list[Case]:
    """The charts of a page: the dashboard's first card (the timed service) and the usage page's chart, each
    as drawn for a wide screen and for a phone. The brand's logo is a file, not a view: left out."""
    charts = [src for src in case.figures["weight"]["images"] if ".svg" in urllib.parse.urlsplit(src).path]
    if not charts:
        raise BenchError(f"{case.path} shows no chart")
    wide = charts[0]
    narrow = next((src for src in charts if "size=narrow" in src and src.startswith(wide.split("?")[0])), None)
    out = [Case(f"{case.name}: chart", wide, "image")]
    if narrow:
        out.append(Case(f"{case.name}: chart (phone)", narrow, "image"))
    case.figures["charts"] = len(charts)
    return out


# -- the run -----------------------------------------------------------------------------------------------

def bench_environment(url: str, redis_url: str, work_dir: Path, namespace: str) -> None:
    """This process seeds through the services, which enqueue jobs (PDFs, commissions) and encrypt secrets: the
    same settings as the server, so its jobs land in this run's namespace and its secrets read back."""
    for key, value in child_env(url, redis_url, work_dir).items():
        if key in ("DATABASE_URL", "REDIS_URL", "BACKHAUL_BASE_DOMAIN", "SECRET_KEY", "BACKHAUL_DATA_DIR"):
            os.environ[key] = value
    os.environ["BACKHAUL_QUEUE_NAMESPACE"] = namespace


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
        "python": platform.python_version(), "cpus": os.cpu_count(), "server_cpu": cpus[0],
        "loadavg_start": " ".join(f"{x:.2f}" for x in os.getloadavg()), "requests": opts.requests,
        "command": " ".join([Path(sys.executable).name, *sys.argv])}}
    namespace = f"backhaul-bench-{secrets.token_hex(4)}"
    with tempfile.TemporaryDirectory(prefix="backhaul-bench-") as tmp, \
            migrated_database(opts.database_url, "portal") as (url, db):
        work = Path(tmp)
        bench_environment(url, opts.redis_url, work, namespace)
        try:
            seeding = time.perf_counter()
            tenant, plan_ids = portal_seed.provision(db, "bench.test")
            seeded = portal_seed.seed_customer(db, tenant, plan_ids)
            others = portal_seed.seed_others(db, tenant, seeded, opts.others)
            settle(url)
            portal_seed.audit(db, tenant)
            results["seed"] = {"seconds": time.perf_counter() - seeding, "portal_id": seeded.portal_id,
                               "services": len(seeded.service_ids), "invoices": seeded.invoices,
                               "usage_days": seeded.usage_days, "sessions": seeded.sessions, "calls": seeded.calls,
                               "months": portal_seed.MONTHS, "others": others, "ledger_audit": "clean"}
            log(f"seeded in {results['seed']['seconds']:.0f} s: {seeded.invoices} invoices, {seeded.usage_days} "
                f"days of usage, {seeded.sessions} sessions, {seeded.calls} calls; {opts.others} other customers")
            env = server_env(url, opts.redis_url, work, namespace)
            with gunicorn(env, work, "portal", threads=2, cpus={cpus[0]}) as server:
                browser = Browser(server.port, platform_host(portal_seed.TENANT_CODE))
                try:
                    sign_in(browser, seeded.portal_id, portal_seed.PASSWORD)
                    cases = measure(browser, AccessLog(work / "access.log"), seeded, opts.requests)
                finally:
                    browser.close()
            results["cases"] = [{"name": c.name, "path": c.path, "kind": c.kind, **c.figures} for c in cases]
            portal_seed.audit(db, tenant)  # the pages read; nothing they did may have moved money
        finally:
            with contextlib.suppress(Exception):
                log(f"removed {clean_redis(opts.redis_url, namespace)} Redis keys of this run")
    results["environment"]["loadavg_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    results["total_s"] = time.perf_counter() - started
    results["goals_met"] = all(_verdict(c) == "ok" for c in results["cases"])
    return results


def _verdict(case: dict) -> str:
    server = case["server"]
    missed = []
    if server["p50"] * 1000 >= P50_GOAL_MS:
        missed.append("p50")
    if server["p99"] * 1000 >= P99_GOAL_MS:
        missed.append("p99")
    if case["kind"] == "page" and case["weight"]["total"] / KB >= WEIGHT_GOAL_KB:
        missed.append("weight")
    return "ok" if not missed else "MISSED " + ", ".join(missed)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def print_summary(results: dict) -> None:
    env, seed = results["environment"], results["seed"]
    print(f"\nCustomer portal, one customer with {seed['services']} services, {seed['months']} months of daily usage, "
          f"{seed['invoices']} invoices, {seed['sessions']} sessions, {seed['calls']} calls; "
          f"{seed['others']['customers']} other customers (PostgreSQL {env['postgres']}, Python {env['python']}, "
          f"{env['cpus']} CPUs, gunicorn on CPU {env['server_cpu']}); {env['requests']} requests each after "
          f"{WARM_UP} of warm-up; ledger audit {seed['ledger_audit']}\n")
    print(f"Pages (goal: server p50 < {P50_GOAL_MS:.0f} ms, p99 < {P99_GOAL_MS:.0f} ms; HTML + CSS + JS "
          f"< {WEIGHT_GOAL_KB:.0f} kB), times in ms, sizes in kB of 1,000 bytes:\n")
    rows = [["page", "server p50", "p95", "p99", "client p50", "p99", "HTML", "CSS+JS", "total", "load", "goal"]]
    for case in results["cases"]:
        if case["kind"] != "page":
            continue
        server, client, size = case["server"], case["client"], case["weight"]
        rows.append([case["name"], _ms(server["p50"]), _ms(server["p95"]), _ms(server["p99"]), _ms(client["p50"]),
                     _ms(client["p99"]), f"{size['html'] / KB:.1f}", f"{(size['total'] - size['html']) / KB:.1f}",
                     f"{size['total'] / KB:.1f}", f"{case['loadavg']:.2f}", _verdict(case)])
    print_table(rows)
    print("\nChart images (SVG; their weight is not the page's), times in ms:\n")
    rows = [["image", "server p50", "p95", "p99", "client p50", "p99", "kB", "load", "goal"]]
    for case in results["cases"]:
        if case["kind"] != "image":
            continue
        server, client = case["server"], case["client"]
        rows.append([case["name"], _ms(server["p50"]), _ms(server["p95"]), _ms(server["p99"]), _ms(client["p50"]),
                     _ms(client["p99"]), f"{case['bytes'] / KB:.1f}", f"{case['loadavg']:.2f}", _verdict(case)])
    print_table(rows)
    print("\nserver: gunicorn's own time for the request (access log %(D)s); client: time to the last byte on one "
          "keep-alive connection over loopback")
    print(f"load average {env['loadavg_start']} → {env['loadavg_end']}; seeded in {seed['seconds']:.0f} s; "
          f"total {results['total_s']:.0f} s")
    print(f"command: {env['command']}")
    print("every goal met" if results["goals_met"] else "SOME GOALS MISSED")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_connection_args(parser)
    parser.add_argument("--quick", action="store_true", help="30 requests a page instead of 200")
    parser.add_argument("--requests", type=int, help="timed requests per page and image (full 200, quick 30)")
    parser.add_argument("--others", type=int, help=f"other customers of the tenant (default {FULL['others']})")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results as JSON")
    opts = parser.parse_args(argv)
    defaults = QUICK if opts.quick else FULL
    for key in ("requests", "others"):
        if getattr(opts, key) is None:
            setattr(opts, key, defaults[key])
    if not (1 <= opts.requests <= 10_000 and 0 <= opts.others <= 100_000):
        parser.error("--requests must be in [1, 10,000] and --others in [0, 100,000]")
    return opts


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    results = within_budget(int(600 + opts.others / 20 + opts.requests * 14 * 0.5), lambda: run(opts))
    print_summary(results)
    if opts.json:
        write_json(opts.json, results)
    return 0 if results["goals_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
