"""The permission matrix walked through the reseller portal's pages: every action the API gives a role has its
page, and the pages give it nothing more.

Each section has its own Readonly test; this one walks all of them at once, with the Flask client (no browser):

1. every page of `/reseller/...` × every built-in role, signed in on a tenant of the test's own: a GET of a page
   whose permission the role lacks answers 403, and so does a POST carrying a valid CSRF token, and the tenant's
   data is as it was; a GET of a page the role may open is not refused (an id that does not exist is a 404);
2. a Readonly member walks the portal by its links, as a person clicking through does, over a row of each kind
   made in that tenant: no page it opens holds a form that POSTs (but signing out and the few named below), nor
   a link to a page or route its role would refuse, and every page its role may open is reached (or named below
   with why not);
3. every permission a `/reseller/api` route asks of a team member is asked by some page too, but those named
   below with why; and no page asks for a permission that does not exist.

The declaration read is the view's own `backhaul_access` (app/web/auth.py `requires`), as the API's matrix test
(tests/auth/test_permission_matrix.py) reads it, so a page that is added later is walked without a line here.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections import Counter, deque
from urllib.parse import urljoin, urlsplit

import pytest
from sqlalchemy import select, text
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from app import clock
from app.services.auth import users
from app.services.auth.permissions import BUILTIN_ROLES, PERMISSIONS
from app.services.auth.principal import USER
from tenants import tenant_context
from tests.conftest import RUN_ID, host_of
from tests.url_rules import sample_path
from tests.web.forms import csrf_of, submit

PASSWORD = "Walk#Pass2026"
PAGE_PREFIX, NOT_PAGES = "/reseller/", ("/reseller/api/", "/reseller/auth/")

# Forms that POST which a Readonly member may be shown, each with why it changes nothing of the business's.
READONLY_POSTS = {
    "reseller_pages.logout": "signing out ends the member's own session",
    "reseller_notifications.mark_read": "the moment the member last read their notices, kept for them alone",
}

# Permissions the API asks of team members that no page asks for, each with why: a page the portal does not have
# yet (there is no API-only action by design). Empty: every permission has its page; one added to the API without
# a page goes here, with why, until its page comes (the test says so).
NO_PAGE: dict[str, str] = {}

# Pages a Readonly member may open that its walk cannot reach, each with why (no link of its pages leads there).
UNREACHED: dict[str, str] = {
    "reseller_subreseller_customers.index": "a sub-reseller's customers are linked from its page in Sub-resellers "
                                            "(resellers.manage), and the walk's tenant has no sub-reseller",
    "reseller_subreseller_customers.customer": "linked from the sub-reseller's customers, above",
    "reseller_reports.export": "a report's file becomes a job of the worker only over more than INLINE_TENANTS "
                               "tenants (app/services/reports/export_jobs.py): the walk's tenant has one",
    "reseller_reports.export_file": "linked from the job's page, above",
}

# What reading a page fills in, in the services the API's reads share, each with why it is no change.
READ_FILLS = {
    "invoices": "an invoice's PDF is drawn on its first download and its digest kept, 'what was last handed "
                "out' (app/services/billing/pdfs.py): no version of the invoice changes",
    "usage_buckets": "a service's allowance for this period is opened when its usage is first read",
}

# The tables a request changes whoever makes it (its session's last use, sign-ins): not the business's data.
BOOKKEEPING = frozenset({"sessions", "login_events", "known_devices"})
WALK_LIMIT = 3  # URLs opened per endpoint in the Readonly walk: a list, an export, a row of another kind


# -- the pages --------------------------------------------------------------------------------------------
def _is_page(rule) -> bool:
    return (rule.endpoint.startswith("reseller_") and rule.rule.startswith(PAGE_PREFIX)
            and not rule.rule.startswith(NOT_PAGES))


def _pages(app):
    """(rule, method, access) of every signed-in page of the reseller portal."""
    for rule in app.url_map.iter_rules():
        if not _is_page(rule):
            continue
        access = app.view_functions[rule.endpoint].backhaul_access
        if access["public"]:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method, access


def _may(access, granted) -> bool:
    return access["permission"] is None or access["permission"] in granted


# -- a tenant of the test's own, with a member of each built-in role ---------------------------------------
@pytest.fixture(scope="module")
def walk(app, db, settings):
    """The tenant, and a Flask client per role signed in once through the team's sign-in form."""
    from app.services import tenants

    with db.session() as s:
        tenant = tenants.provision(s, code=f"WALK{RUN_ID.upper()}", name="Permission Walk",
                                   base_domain=settings.base_domain, actor="test")
    host = host_of(tenant)
    clients, ids = {}, {}
    for role in BUILTIN_ROLES:
        username = f"{role.lower()}@walk.example"
        with db.session() as s, tenant_context(tenant):
            ids[role] = users.create_user(s, username=username, email=username, role=role, password=PASSWORD)[0].id
        client = app.test_client()
        signed = submit(client, "/reseller/login", host, identifier=username, password=PASSWORD)
        assert signed.status_code == 302, signed.get_data(as_text=True)[:300]
        clients[role] = client
    return {"tenant": tenant, "host": host, "clients": clients, "user_ids": ids}


@pytest.fixture(scope="module")
def rows(db, walk):
    """A row of each kind a Readonly member's pages show one of, in the walk's tenant, through the services: a
    customer with an active service and its shared saved filter, this month billed (an invoice, a billing run)
    and paid (a payment), an IP pool, and a commission payout with a dispute and its attachment."""
    from app.models.commissions import CommissionLine
    from app.services import customers, ip_pools, network_credentials, services
    from app.services import demo as seed
    from app.services.billing import ledger, payments, runs
    from app.services.catalogue import authorise
    from app.services.commissions import disputes
    from app.services.customers import saved_filters
    from app.services.usage.demo import seed_usage
    from tests.portals.console.console_rig import scheduled_payout

    tenant = walk["tenant"]
    plan_id = seed.seed_catalogue(db.session)["HOME-10"]
    with db.session() as s:
        authorise(s, plan_id, tenant.id)
    with db.session() as s, tenant_context(tenant):
        customer = customers.create(s, first_name="Baraka", last_name="Walker", email="baraka@walk.example",
                                    phone="+254712990001", status="Active")
        service = services.create(s, customer.id, plan_id, installation_address="Nairobi")
        network_credentials.set_credentials(s, service, password="Walk#Net2026")
        services.activate(s, service.id, reason="test")
        seed_usage(s, service.id)  # the usage tab draws its chart
        saved_filters.save(s, walk["user_ids"]["Admin"], "Walkers", {"q": "walker"}, shared=True)
        ip_pools.create_pool(s, name="Walk pool", cidr="100.64.90.0/29")
        customer_id, portal_id = customer.id, customer.portal_id
        run_id = runs.start(s, f"{clock.today():%Y-%m}", requested_by="test", enqueue=False).id
    with tenant_context(tenant):
        runs.run(db, run_id)
    with db.session() as s, tenant_context(tenant):
        payments.record(s, customer_id=customer_id, amount=ledger.balance(s, customer_id), method="mpesa",
                        provider="mpesa", provider_ref=f"WALK{RUN_ID.upper()}", reference=portal_id, actor="test")
    payout_id, _ = scheduled_payout(db, tenant)
    with db.session() as s, tenant_context(tenant):
        line = s.execute(select(CommissionLine.id).where(CommissionLine.payout_id == payout_id)).scalars().first()
        dispute = disputes.open_dispute(s, [line], "The rate is not the one agreed.", actor="admin@walk.example")
        disputes.add_attachment(s, dispute.id, "agreement.txt", b"rate agreed: 12.50%", actor="admin@walk.example")


def _fingerprint(db, tenant) -> dict[str, str]:
    """A digest of every table of the tenant's schema (but bookkeeping) and of its rows in `public`."""
    schema = tenant.schema
    queries = {f"public.{name}": query for name, query in {
        "audit_log": "SELECT a::text FROM public.audit_log a WHERE tenant_id = :id",
        "tenants": "SELECT t::text FROM public.tenants t WHERE id = :id OR parent_id = :id",
        "domains": "SELECT d::text FROM public.domains d WHERE tenant_id = :id",
        "brandings": "SELECT b::text FROM public.brandings b WHERE tenant_id = :id",
    }.items()}
    with db.session() as s:
        tables = s.execute(text("SELECT table_name FROM information_schema.tables WHERE table_schema = :schema "
                                "AND table_type = 'BASE TABLE'"), {"schema": schema}).scalars().all()
        for table in tables:
            if table not in BOOKKEEPING:
                queries[table] = f'SELECT t::text FROM "{schema}"."{table}" t'
        digests = {}
        for name, query in queries.items():
            rows = sorted(s.execute(text(query), {"id": tenant.id}).scalars())
            digests[name] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return digests


def _weakest(access) -> str:
    """The built-in role with the fewest permissions that may open a page: the one that finds an extra check of
    the page's own, if it has one."""
    return min((r for r, granted in BUILTIN_ROLES.items() if _may(access, granted)),
               key=lambda r: len(BUILTIN_ROLES[r]))


@pytest.mark.parametrize("role", list(BUILTIN_ROLES))
def test_a_role_is_refused_every_page_its_permission_lacks_and_changes_nothing(app, db, walk, role):
    """Every page × this role: lacking the page's permission, a GET and a POST with a valid CSRF token are
    403; holding it, the page opens (an id that does not exist is a 404), checked with the weakest role that
    holds it, so that each page is opened once."""
    client, host, granted = walk["clients"][role], walk["host"], BUILTIN_ROLES[role]
    headers = {"Host": host}
    dashboard = client.get("/reseller/", headers=headers)  # a page every member opens: its sign-out form's token
    assert dashboard.status_code == 200
    token = csrf_of(dashboard.get_data(as_text=True))
    before = _fingerprint(db, walk["tenant"])
    wrong = []
    for rule, method, access in _pages(app):
        path, lacks = sample_path(rule), not _may(access, granted)
        if lacks and method == "GET":
            status = client.get(path, headers=headers).status_code
        elif lacks:
            status = client.post(path, headers=headers, data={"csrf_token": token}).status_code
        elif method == "GET" and _weakest(access) == role:
            status = client.get(path, headers=headers).status_code
            if status in (401, 403) or status >= 500:
                wrong.append(f"GET {rule.rule}, which {role} may open: answered {status}")
            continue
        else:
            continue  # a POST it may make might succeed: the section's own tests make it
        if status != 403:
            wrong.append(f"{method} {rule.rule} needs {access['permission']}: answered {status}, not 403")
    assert wrong == [], "\n".join(wrong)
    after = _fingerprint(db, walk["tenant"])
    assert [name for name in before if before[name] != after.get(name)] == []


# -- Readonly, walking the portal by its links --------------------------------------------------------------
TAG = re.compile(r"<(a|form|img|source)\b([^>]*)>", re.IGNORECASE)
WHERE = {"a": "href", "form": "action", "img": "src", "source": "srcset"}  # where each names its URL
ATTRIBUTE = re.compile(r'([\w-]+)\s*=\s*"([^"]*)"')


def _tags(page_html: str):
    """(tag, its attributes) of every link and form."""
    for found in TAG.finditer(page_html):
        yield found.group(1).lower(), {k.lower(): html.unescape(v) for k, v in ATTRIBUTE.findall(found.group(2))}


def _local(url: str, base: str, host: str) -> str | None:
    """The path (and query) of a URL of this host, `base` for an empty one; None for anywhere else."""
    if url.startswith(("#", "mailto:", "tel:", "data:", "javascript:")):
        return None
    parts = urlsplit(urljoin(f"http://{host}{base}", url))
    if parts.hostname != host:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _endpoint(adapter, url: str, method: str) -> str | None:
    try:
        endpoint, _ = adapter.match(urlsplit(url).path, method=method)
    except RequestRedirect as moved:
        return _endpoint(adapter, moved.new_url, method)
    except HTTPException:
        return None
    return endpoint


def _methods(app, endpoint: str) -> set[str]:
    return {m for rule in app.url_map.iter_rules() if rule.endpoint == endpoint for m in rule.methods}


def _refused(app, endpoint: str, granted) -> str | None:
    """Why a team member holding `granted` would be refused `endpoint`, or None."""
    access = getattr(app.view_functions.get(endpoint), "backhaul_access", None)
    if access is None or access["public"]:
        return None
    if access["kinds"] and USER not in access["kinds"]:
        return f"is for {' or '.join(access['kinds'])}"
    if not _may(access, granted):
        return f"needs {access['permission']}"
    return None


def test_readonly_finds_no_button_that_writes_nor_a_link_it_would_be_refused(app, db, walk, rows):
    """From every page without an id, link by link, as a person clicking through the portal does; reading
    changes nothing."""
    granted, client, host = BUILTIN_ROLES["Readonly"], walk["clients"]["Readonly"], walk["host"]
    before = _fingerprint(db, walk["tenant"])
    adapter = app.url_map.bind(host)
    pages = {rule.endpoint: access for rule, method, access in _pages(app) if method == "GET"}
    openable = {e for e, access in pages.items() if _may(access, granted)}
    queue = deque(r.rule for r in app.url_map.iter_rules()
                  if r.endpoint in openable and "GET" in r.methods and not r.arguments)
    seen, visits, wrong, posts = set(queue), Counter(), [], set()
    while queue:
        url = queue.popleft()
        endpoint = _endpoint(adapter, url, "GET")
        if visits[endpoint] >= WALK_LIMIT:
            continue
        visits[endpoint] += 1
        answer = client.get(url, headers={"Host": host})
        if answer.status_code in (401, 403) or answer.status_code >= 500:
            wrong.append(f"GET {url} ({endpoint}), which Readonly may open: answered {answer.status_code}")
        if answer.status_code != 200 or not answer.content_type.startswith("text/html"):
            continue
        for tag, attributes in _tags(answer.get_data(as_text=True)):
            target = _local((attributes.get(WHERE[tag]) or "").split(" ")[0], url, host)
            if target is None:
                continue
            method = attributes.get("method", "get").upper() if tag == "form" else "GET"
            to = _endpoint(adapter, target, method)
            if to is None:
                continue
            if method == "POST":
                posts.add(to)
            if method == "POST" and to not in READONLY_POSTS:
                wrong.append(f"{url} has a form that POSTs to {target} ({to})")
            elif why := _refused(app, to, granted):
                wrong.append(f"{url} links to {target} ({to}), which {why}")
            elif method == "GET" and to in openable and target not in seen:
                seen.add(target)
                queue.append(target)
    assert wrong == [], "\n".join(wrong)
    after = _fingerprint(db, walk["tenant"])
    assert [name for name in before if before[name] != after.get(name) and name not in READ_FILLS] == []
    assert "reseller_pages.logout" in posts  # the forms were read: every page has the sign-out one
    assert [e for e in READONLY_POSTS if "POST" not in _methods(app, e)] == []  # no stale excuse
    unreached = sorted(openable - set(visits) - set(UNREACHED))
    assert unreached == [], f"pages Readonly may open that the walk did not reach: {unreached}"
    assert [e for e in UNREACHED if e not in openable] == []  # no stale excuse


# -- nothing more, nothing less ------------------------------------------------------------------------------
def test_every_api_permission_of_the_team_has_a_page_and_every_page_permission_exists(app):
    asked_by_pages = {access["permission"] for _, _, access in _pages(app)} - {None}
    asked_by_api = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/reseller/api/"):
            continue
        access = getattr(app.view_functions[rule.endpoint], "backhaul_access", {})
        if access.get("permission") and (not access.get("kinds") or USER in access["kinds"]):
            asked_by_api.add(access["permission"])
    assert sorted(asked_by_pages - set(PERMISSIONS)) == []
    assert sorted(asked_by_api - asked_by_pages - set(NO_PAGE)) == []
    assert sorted(set(NO_PAGE) & asked_by_pages) == [], "a page came: take its permission off NO_PAGE"
    assert sorted(set(NO_PAGE) - asked_by_api) == []


def test_every_page_is_for_the_team_alone(app):
    """A page without `kinds` would let a customer's or a staff member's session in by its permission alone."""
    wrong = [f"{m} {r.rule}: {a['kinds']}" for r, m, a in _pages(app) if a["kinds"] != (USER,)]
    assert wrong == []
