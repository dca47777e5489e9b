"""Schemathesis against the OpenAPI document, on a live server with a seeded tenant.

A real WSGI server (werkzeug's) runs the test app in a background thread on a free port of 127.0.0.1;
on a database of its own (the run creates whatever its data says; no other test should meet that);
the document is fetched from it (`/api/openapi.json`), and every operation in it is called with
generated data, valid and invalid, bounded (a fixed number of examples per operation and mode,
derandomised, no shrinking, a time budget) so the suite stays fast and the run is the same every time.
Checks: no 5xx, and the status code, content type and body are the ones the document declares.

Who calls: `/console/*` as a staff member (with can_impersonate) on the console host; `/portal/*` as
the seeded tenant's customer; everything else as the tenant's Admin, with the tenant's Host. The run
is hostile to its own accounts (it may log out, change passwords, disable users, suspend the
tenant), so before every call the accounts and the tenant are put back as seeded and, where a token
stopped working, a new session is minted directly (not through the sign-in endpoints, whose failure
counters the run itself drives up).

The server sees this run's own client address (PEER), so the per-address sign-in failure counters the
run fills never slow down other tests, or another test run on the same Redis; they are removed after.

Error responses are held to what the document declares, `application/problem+json` with the Problem
schema (app/web/openapi.py), like every other response.

KNOWN lists what is found in other people's code and not fixed here: each entry is one operation and
one check, says whose it is, and is reported (printed) instead of failing the run. Remove an entry
once it is fixed; an entry that no longer matches anything is named in a warning.
"""

from __future__ import annotations

import copy
import logging
import os
import re
import threading
import time
import warnings
from dataclasses import dataclass, field

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.core.errors import SchemathesisError
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import update

from tests.conftest import RUN_ID, host_of

CONSOLE = "console.test.example"
PASSWORD = "Str0ng#Pass"
MAX_EXAMPLES = int(os.environ.get("BACKHAUL_SCHEMATHESIS_EXAMPLES", "5"))  # per operation and mode
TIME_BUDGET = float(os.environ.get("BACKHAUL_SCHEMATHESIS_SECONDS", "240"))  # then one example per mode
PEER = f"198.18.{int(RUN_ID[:2], 16)}.{int(RUN_ID[2:4], 16)}"  # this run's client address (RFC 2544 range)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
INVALID_DEFINITION = "invalid schema definition"

@dataclass(frozen=True)
class Known:
    operation: str
    check: str  # the beginning of the check's title, or INVALID_DEFINITION
    owner: str
    why: str


KNOWN: list[Known] = []


@dataclass
class Finding:
    operation: str
    mode: str
    check: str
    request: str
    status: int | None
    detail: str

    def known(self) -> Known | None:
        return next((k for k in KNOWN if k.operation == self.operation and self.check.startswith(k.check)), None)

    def __str__(self) -> str:
        return f"{self.operation} [{self.mode}] {self.check}: {self.request} -> {self.status}\n    {self.detail}"


@dataclass
class Seeded:
    base_url: str
    tenant: object
    host: str
    user_id: int
    customer_id: int
    staff_id: int
    admin_hash: str
    tokens: dict = field(default_factory=dict)  # realm -> bearer token
    dirty: set = field(default_factory=set)  # realms whose token the last calls may have ended


@dataclass
class Run:
    operations: list
    calls: list
    findings: list
    seconds: float


def _wsgi_with_peer(app):
    def wsgi(environ, start_response):
        environ["REMOTE_ADDR"] = PEER
        return app(environ, start_response)

    return wsgi


@dataclass
class Isolated:
    app: object
    db: object
    settings: object


@pytest.fixture(scope="module")
def isolated(server_urls, settings, db):
    """The test app on a database of its own, dropped afterwards.

    The run creates whatever the generated data says (plans, tenants, users…, with the document's
    example values such as plan code HOME-20), so it must not share the session's database: other
    tests would meet its rows. Its own database also makes the run the same every time.
    """
    from dataclasses import replace

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from app import create_app
    from app.db import Database
    from migrations.runner import upgrade_public
    from tenants import registry

    server = make_url(server_urls[0])
    name = f"backhaul_test_{RUN_ID}_{os.getpid()}_schemathesis"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit TO off'))  # as tests/conftest.py's
    url = server.set(database=name).render_as_string(hide_password=False)
    database = Database.from_url(url, pool_size=5)
    own_directory = None
    try:
        upgrade_public(database.engine)
        own = replace(settings, database_url=url)
        api_app = create_app(own, database)  # binds the process's tenant registry to this database
        own_directory = registry.directory()
        yield Isolated(api_app, database, own)
    finally:
        if own_directory is not None:
            own_directory.close()
        registry.bind(db.engine)  # the session's database is the registry's again
        database.engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def live_server(isolated):
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    isolated.app.config["TESTING"] = True
    server = make_server("127.0.0.1", 0, _wsgi_with_peer(isolated.app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="schemathesis-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture(scope="module")
def seeded(isolated, live_server, redis_url):
    """A tenant with an Admin and a customer with portal access, and a staff member who may impersonate."""
    from app import models as m
    from app.services import customers, tenants
    from app.services.auth import users
    from tenants import tenant_context

    db = isolated.db
    code = f"ST{RUN_ID.upper()}"
    with db.session() as s:
        tenant = tenants.provision(s, code=code, name="Schemathesis Net", base_domain=isolated.settings.base_domain,
                                   actor="test")
    with db.session() as s, tenant_context(tenant):
        user, _ = users.create_user(s, username=f"admin@{code.lower()}.example", email="admin@st.example",
                                    role="Admin", password=PASSWORD)
        customer = customers.create(s, first_name="Imani", last_name="Njeri", email="imani@st.example")
        users.set_portal_password(s, customer.id, PASSWORD)
        s.flush()
        user_id, customer_id, admin_hash = user.id, customer.id, s.get(m.User, user.id).password_hash
    with db.session() as s:
        staff_id = users.create_staff(s, email=f"schemathesis-{RUN_ID}@isp.example", name="Schemathesis",
                                      password=PASSWORD, can_impersonate=True).id
    yield Seeded(live_server, tenant, host_of(tenant), user_id, customer_id, staff_id, admin_hash)
    import redis

    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"backhaul:*:{PEER}"):
        client.delete(key)


def _mint(db, seeded: Seeded, realm_kind: str) -> str:
    """A fresh session for the seeded account of `realm_kind`, without the sign-in endpoint."""
    from app.services.auth import realms, sessions
    from tenants import tenant_context

    realm = realms.BY_KIND[realm_kind]
    meta = sessions.RequestMeta(ip=PEER)
    if realm_kind == "staff":
        with db.session() as s:
            return sessions.create(s, realm, seeded.staff_id, None, meta)[0]
    principal = seeded.user_id if realm_kind == "user" else seeded.customer_id
    with db.session() as s, tenant_context(seeded.tenant):
        return sessions.create(s, realm, principal, seeded.tenant.id, meta)[0]


def _restore(db, seeded: Seeded) -> None:
    """Put the seeded accounts and tenant back as they were (the run may have changed any of them)."""
    from app import models as m
    from app.services.auth import users
    from tenants import tenant_context
    from tenants.registry import directory

    reset = {"is_active": True, "failed_logins": 0, "locked_until": None, "totp_secret": None,
             "totp_enabled_at": None}
    with db.session() as s:
        tenant = s.get(m.Tenant, seeded.tenant.id)
        changed = tenant.status != "Active"
        tenant.status, tenant.status_reason = "Active", None
        s.execute(update(m.StaffUser).where(m.StaffUser.id == seeded.staff_id).values(can_impersonate=True, **reset))
    if changed:
        directory().invalidate()
    with db.session() as s, tenant_context(seeded.tenant):
        admin = s.get(m.User, seeded.user_id)
        admin.password_hash = seeded.admin_hash
        admin.role_id = users.role_by_name(s, "Admin").id
        admin.extra_permissions, admin.allowed_customer_ids, admin.ip_allowlist = [], [], []
        for key, value in reset.items():
            setattr(admin, key, value)
        s.execute(update(m.PortalAccount).where(m.PortalAccount.customer_id == seeded.customer_id)
                  .values(failed_logins=0, locked_until=None))
        s.flush()


def _caller(db, seeded: Seeded, path: str) -> tuple[str, dict]:
    """The realm a path is for, and headers with a live token of that realm."""
    if path.startswith("/console/"):
        realm, host, probe = "staff", CONSOLE, "/console/auth/me"
    elif path.startswith("/portal/"):
        realm, host, probe = "customer", seeded.host, "/portal/auth/me"
    else:
        realm, host, probe = "user", seeded.host, "/reseller/auth/me"
    token = seeded.tokens.get(realm)
    if token and realm in seeded.dirty:
        alive = requests.get(seeded.base_url + probe, headers={"Authorization": f"Bearer {token}", "Host": host},
                             timeout=10).status_code == 200
        token = token if alive else None
        seeded.dirty.discard(realm)
    if not token:
        token = seeded.tokens[realm] = _mint(db, seeded, realm)
    return realm, {"Authorization": f"Bearer {token}", "Host": host}


def _request_of(case) -> str:
    parts = [getattr(case, "formatted_path", case.path)]
    if case.query:
        parts.append(f"query={case.query}")
    if case.body is not None and case.body is not NOT_SET:
        parts.append(f"body={str(case.body)[:300]}")
    return " ".join(str(p) for p in parts)


def _exercise(operation, mode, db, seeded: Seeded, examples: int, run: Run) -> None:
    """`examples` generated calls of one operation in one generation mode; every kind of failure is kept once."""
    seen: set[str] = set()

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              phases=(Phase.explicit, Phase.generate), suppress_health_check=list(HealthCheck))
    def call(case):
        _restore(db, seeded)
        realm, headers = _caller(db, seeded, case.path)
        response = case.call(base_url=seeded.base_url, headers=headers, timeout=30)
        run.calls.append(operation.label)
        if case.method.upper() != "GET" or response.status_code == 401:
            seeded.dirty.add(realm)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (FailureGroup, Failure) as exc:
            for failure in getattr(exc, "exceptions", None) or [exc]:
                title = getattr(failure, "title", failure.__class__.__name__)
                if title in seen:
                    continue
                seen.add(title)
                detail = " ".join(str(getattr(failure, "message", failure)).split())[:400]
                run.findings.append(Finding(operation.label, mode.value, title, _request_of(case),
                                            response.status_code, detail))

    try:
        call()
    except Unsatisfiable:
        pass  # nothing to make invalid in this mode: the other mode covers the operation
    except SchemathesisError as exc:  # the operation's own definition is broken: nothing can be generated
        run.findings.append(Finding(operation.label, mode.value, INVALID_DEFINITION, "-", None,
                                    " ".join(str(exc).split())[:400]))


@pytest.fixture(scope="module")
def openapi(seeded) -> dict:
    reply = requests.get(seeded.base_url + "/api/openapi.json", headers={"Host": seeded.host}, timeout=30)
    assert reply.status_code == 200 and reply.headers["Content-Type"].startswith("application/json")
    return reply.json()


@pytest.fixture(scope="module")
def run(openapi, isolated, seeded) -> Run:
    """The whole run, once for the module's tests."""
    config = schemathesis.Config.from_dict({"seed": 20261122})
    schema = schemathesis.openapi.from_dict(copy.deepcopy(openapi), config=config)
    started = time.monotonic()
    run = Run([result.ok() for result in schema.get_all_operations()], [], [], 0.0)
    for operation in run.operations:
        examples = MAX_EXAMPLES if time.monotonic() - started < TIME_BUDGET else 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _exercise(operation, mode, isolated.db, seeded, examples, run)
    run.seconds = time.monotonic() - started
    known = [f for f in run.findings if f.known()]
    print(f"\nschemathesis: {len(run.operations)} operations, {len(run.calls)} calls in {run.seconds:.0f}s; "
          f"{len(known)} known findings (KNOWN):")
    for finding in known:
        print(f"  {finding}\n    owner: {finding.known().owner}")
    return run


def test_every_operation(run):
    """Every operation of the document, as the caller its path is for, valid and invalid data: no 5xx,
    and every answer is what the document declares. Findings in KNOWN are reported, not failed."""
    new = [f for f in run.findings if not f.known()]
    assert not new, f"{len(new)} findings:\n" + "\n".join(str(f) for f in new)
    unusable = {k.operation for k in KNOWN if k.check == INVALID_DEFINITION}
    unexercised = sorted({op.label for op in run.operations} - set(run.calls) - unusable)
    assert unexercised == [], f"never called: {unexercised}"


def test_known_findings_still_occur(run):
    """An entry of KNOWN that no longer matches anything has probably been fixed: say so (a warning, not a
    failure, since the owners fix their operations independently of this file), so that it gets removed."""
    stale = [k for k in KNOWN if not any(f.known() == k for f in run.findings)]
    for entry in stale:
        warnings.warn(f"schemathesis KNOWN entry not seen in this run, remove it if fixed: {entry.operation} "
                      f"({entry.check}, {entry.owner})", stacklevel=1)


def test_the_document_covers_the_api(isolated, openapi):
    """Every API route is in the document, so the run exercises every operation there is. Pages (the portals'
    views in app/portals, the docs viewer and the brand's files in app/web) are not API operations."""
    documented = {(m.upper(), p) for p, ops in openapi["paths"].items() for m in ops if m != "parameters"}
    framework = {"static", "api-docs.openapi_json"}
    missing = []
    for rule in isolated.app.url_map.iter_rules():
        view = isolated.app.view_functions[rule.endpoint]
        if rule.endpoint in framework or view.__module__.startswith(("app.portals", "app.web")) \
                or not rule.rule.startswith(("/console/", "/reseller/", "/portal/", "/oauth/", "/api/",
                                             "/.well-known/")):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        missing += [f"{m} {path}" for m in sorted(rule.methods - {"HEAD", "OPTIONS"}) if (m, path) not in documented]
    assert missing == []


def test_error_responses_are_documented_as_problem_details(openapi):
    """Errors go out as problem details (app/web/errors.py) and the document says so (app/web/openapi.py):
    the default error response and the per-status ones (the 422 of request validation) are
    `application/problem+json` with the Problem schema, and flask-smorest's `Error` schema, which nothing
    sends, is gone. The run above then holds every error response to it."""
    responses, schemas = openapi["components"]["responses"], openapi["components"]["schemas"]
    for name in ("DEFAULT_ERROR", "UNPROCESSABLE_ENTITY"):
        assert responses[name]["content"] == {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}, name
    problem = schemas["Problem"]
    assert set(problem["required"]) == {"type", "title", "status"}
    assert {"type", "title", "status", "detail", "instance", "errors"} <= set(problem["properties"])
    assert problem["additionalProperties"] is True  # problem types add members of their own
    assert "Error" not in schemas
    # an error body in plain JSON is one that really is: OAuth's protocol errors (RFC 6749), the readiness probe
    plain = {(path, status, body["schema"]["$ref"].rsplit("/", 1)[-1])
             for path, operations in openapi["paths"].items() for operation in operations.values()
             if isinstance(operation, dict)
             for status, response in operation.get("responses", {}).items() if status[0] in "45"
             for media, body in (response.get("content") or {}).items() if media == "application/json"}
    assert {schema for _, _, schema in plain} <= {"OAuthErrorOut", "Ready"}, plain
