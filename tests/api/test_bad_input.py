"""Hostile input never answers 5xx: the rule of app/web/limits.py, held against every operation of the API.

The property test reads the app's own OpenAPI document (`/api/openapi.json`) and, for every operation,
throws at it, with Hypothesis drawing the values:

- refused text (NUL, other C0 controls, lone surrogates, U+FFFE/U+FFFF, amid ordinary text) in every
  string field of its JSON or form body and every string parameter (query, path, header);
- JSON nested deeper than the limit, at the top of the body and inside a field;
- wrong JSON types: a body that is not an object, and each field of the body given a type it does not take.

Every answer must be below 500, and every 4xx must be the error format the document declares for it
(`application/problem+json` with a `type`, or OAuth's RFC 6749 JSON where the document says so). Refused
text and too-deep JSON must be refused as such (422 naming the input, 400 invalid-json) on every route.

The calls go through the Flask test client, as the caller each path is for (staff on the console, the
customer on `/portal/`, the reseller's Admin elsewhere), with sessions minted directly. The other tests of
this module pin the cases the issue reported, and what the rule must not refuse.
"""

from __future__ import annotations

import itertools
import json
import os
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from tests.conftest import RUN_ID, host_of, platform_brand_kept

PROBLEM = "application/problem+json"
PASSWORD = "Str0ng#Pass"
EXAMPLES_PER_TARGET = int(os.environ.get("BACKHAUL_BAD_INPUT_EXAMPLES", "2"))  # the simplest value, then drawn
DEPTH_LIMIT = 32  # app/web/limits.py MAX_DEPTH; the test states it so that a change of the limit is a decision
REFUSED = [chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20))] + ["\ufffe", "\uffff"]
SURROGATES = [chr(c) for c in (0xD800, 0xDBFF, 0xDC00, 0xDFFF)]
_n = itertools.count(1)


# -- who calls -----------------------------------------------------------------------------------------
@dataclass
class Hostile:
    app: object
    db: object
    tenant: object
    host: str
    console: str
    user_id: int
    customer_id: int
    staff_id: int
    admin_hash: str
    tokens: dict = field(default_factory=dict)

    def caller(self, path: str) -> dict:
        if path.startswith("/console/"):
            realm, host = "staff", self.console
        elif path.startswith("/portal/"):
            realm, host = "customer", self.host
        else:
            realm, host = "user", self.host
        if realm not in self.tokens:
            self.tokens[realm] = self._mint(realm)
        return {"Authorization": f"Bearer {self.tokens[realm]}", "Host": host}

    def _mint(self, realm_kind: str) -> str:
        from app.services.auth import realms, sessions
        from tenants import tenant_context

        realm, meta = realms.BY_KIND[realm_kind], sessions.RequestMeta(ip="127.0.0.1")
        if realm_kind == "staff":
            with self.db.session() as s:
                return sessions.create(s, realm, self.staff_id, None, meta)[0]
        principal = self.user_id if realm_kind == "user" else self.customer_id
        with self.db.session() as s, tenant_context(self.tenant):
            return sessions.create(s, realm, principal, self.tenant.id, meta)[0]

    def restore(self) -> None:
        """A call that went through may have signed out, suspended or disabled what the next calls need."""
        from app import models as m
        from app.services.auth import users
        from tenants import tenant_context
        from tenants.registry import directory

        self.tokens.clear()
        reset = {"is_active": True, "failed_logins": 0, "locked_until": None}
        with self.db.session() as s:
            s.execute(update(m.Tenant).where(m.Tenant.id == self.tenant.id).values(status="Active",
                                                                                  status_reason=None))
            s.execute(update(m.StaffUser).where(m.StaffUser.id == self.staff_id).values(can_impersonate=True, **reset))
        directory().invalidate()
        with self.db.session() as s, tenant_context(self.tenant):
            admin = s.get(m.User, self.user_id)
            admin.password_hash, admin.role_id = self.admin_hash, users.role_by_name(s, "Admin").id
            admin.ip_allowlist, admin.allowed_customer_ids = [], []
            for key, value in reset.items():
                setattr(admin, key, value)
            s.execute(update(m.PortalAccount).where(m.PortalAccount.customer_id == self.customer_id)
                      .values(failed_logins=0, locked_until=None))


@pytest.fixture(scope="module")
def hostile(app, db, settings) -> Iterator[Hostile]:
    from app import models as m
    from app.services import customers, tenants
    from app.services.auth import users
    from tenants import tenant_context

    code = f"HOSTILE{RUN_ID.upper()}_{next(_n)}"  # one per module that uses the fixture
    with db.session() as s:
        tenant = tenants.provision(s, code=code, name="Hostile Net", base_domain=settings.base_domain, actor="test")
    with db.session() as s, tenant_context(tenant):
        user, _ = users.create_user(s, username=f"admin@{code.lower()}.example", email="admin@hostile.example",
                                    role="Admin", password=PASSWORD)
        customer = customers.create(s, first_name="Achieng", last_name="Odhiambo", email="achieng@hostile.example")
        users.set_portal_password(s, customer.id, PASSWORD)
        s.flush()
        user_id, customer_id, admin_hash = user.id, customer.id, s.get(m.User, user.id).password_hash
    with db.session() as s:
        staff_id = users.create_staff(s, email=f"hostile-{code.lower()}@isp.example", name="Hostile", password=PASSWORD,
                                      can_impersonate=True).id
    with platform_brand_kept(db):  # the console's operations are thrown at too, the platform's brand among them
        yield Hostile(app, db, tenant, host_of(tenant), settings.console_host, user_id, customer_id, staff_id,
                      admin_hash)



# -- the cases the issue reported, and what the rule lets through ---------------------------------------------
API = "/reseller/api"
DEEP = "[" * 5000 + "]" * 5000


def _as_admin(hostile: Hostile) -> dict:
    return hostile.caller(API)


def _problem(response, status: int, type_: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["type"] == type_, body
    return body


def _customer(hostile: Hostile) -> dict:
    client = hostile.app.test_client()
    reply = client.get(f"{API}/customers/{hostile.customer_id}", headers=_as_admin(hostile))
    assert reply.status_code == 200, reply.get_json()
    return reply.get_json()


@pytest.mark.parametrize("method, path", [
    ("POST", f"{API}/customers"),
    ("POST", f"{API}/payments"),  # through @idempotent, which hashes the body before the view
    ("GET", f"{API}/customers"),
    ("POST", "/reseller/auth/login"),
    ("POST", "/console/api/plans"),
    ("POST", "/webhooks/stripe"),
])
def test_json_nested_5000_deep_is_a_400_wherever_it_is_sent(hostile, method, path):
    headers = {**hostile.caller(path), "Idempotency-Key": f"deep-{next(_n)}"}
    reply = hostile.app.test_client().open(path, method=method, data=DEEP, content_type="application/json",
                                           headers=headers)
    body = _problem(reply, 400, "/problems/invalid-json")
    assert body["max_depth"] == DEPTH_LIMIT


def test_webhooks_are_read_as_json_whatever_media_type_they_name(hostile):
    reply = hostile.app.test_client().post("/webhooks/mpesa/not-a-token/c2b", data=DEEP, content_type="text/plain",
                                           headers={"Host": hostile.host})
    _problem(reply, 400, "/problems/invalid-json")


def test_json_as_deep_as_the_limit_is_read(hostile):
    """The limit refuses what no request of ours needs, not what it may: a customer's free-form `extra`
    nested to the limit is stored."""
    nested = "x"
    for _ in range(DEPTH_LIMIT - 2):  # the body object and `extra` itself are two levels
        nested = {"n": nested}
    client = hostile.app.test_client()
    reply = client.patch(f"{API}/customers/{hostile.customer_id}", json={"extra": {"deep": nested}},
                         headers=_as_admin(hostile))
    assert reply.status_code == 200, reply.get_json()
    assert _customer(hostile)["extra"]["deep"] == nested
    too_deep = client.patch(f"{API}/customers/{hostile.customer_id}", json={"extra": {"deep": {"n": nested}}},
                            headers=_as_admin(hostile))
    _problem(too_deep, 400, "/problems/invalid-json")


@pytest.mark.parametrize("method, path, body, field_name", [
    ("PATCH", "/customers/{customer}", {"address": "Plot \ud800 7"}, "address"),
    ("POST", "/tax-rates", {"name": "VAT\udfff", "rate": "16"}, "name"),
    ("POST", "/roles", {"name": "Ops\ud800", "permissions": []}, "name"),
    ("POST", "/customers/{customer}/contacts", {"name": "\udc00"}, "name"),
    ("POST", "/equipment-models", {"name": "\ud800", "kind": "router"}, "name"),
    ("POST", "/account/emergency-credit", {"amount": "10.00", "reason": "outage \ud800"}, "reason"),
    ("PUT", "/radius/policy", {"payment_page_address_list": "\ud800"}, "payment_page_address_list"),
    ("POST", "/payments", {"customer_id": 1, "amount": "10.00", "method": "cash", "reference": "\udbff"},
     "reference"),
])
def test_a_lone_surrogate_is_refused_with_the_field_named(hostile, method, path, body, field_name):
    """The issue's 16 fields answered 500 (UTF-8 cannot encode a lone surrogate); the JSON escapes are sent as
    a client would send them."""
    raw = json.dumps(body)
    assert "\\ud" in raw  # the escape a client's JSON library writes for a lone surrogate
    path = API + path.format(customer=hostile.customer_id)
    reply = hostile.app.test_client().open(path, method=method, data=raw, content_type="application/json",
                                           headers=_as_admin(hostile))
    problem = _problem(reply, 422, "/problems/validation")
    assert list(problem["errors"]["json"]) == [field_name]


def test_a_refused_customer_change_changes_nothing(hostile):
    before = _customer(hostile)
    reply = hostile.app.test_client().patch(f"{API}/customers/{hostile.customer_id}",
                                            json={"city": "Kisumu", "address": "Plot\x007"},
                                            headers=_as_admin(hostile))
    _problem(reply, 422, "/problems/validation")
    assert _customer(hostile) == before


@pytest.mark.parametrize("where, call", [
    ("json", lambda c, h: c.post(f"{API}/roles", json={"name": "Field\x00Ops", "permissions": []}, headers=h)),
    ("query", lambda c, h: c.get(f"{API}/customers", query_string={"q": "Ach\x00"}, headers=h)),
    ("query", lambda c, h: c.get(f"{API}/customers", query_string={"city": "Kis\x1bumu"}, headers=h)),
    ("path", lambda c, h: c.delete(f"{API}/branding/themes/dark%00", headers=h)),
    ("headers", lambda c, h: c.post(f"{API}/payments", json={}, headers={**h, "Idempotency-Key": "k\x01"})),
    ("form", lambda c, h: c.post(f"{API}/branding/themes", data={"name": "dark\x00"}, headers=h)),
    ("files", lambda c, h: c.post(f"{API}/branding/logo", headers=h, content_type="multipart/form-data",
                                  data={"file": (__import__("io").BytesIO(b"x"), "logo\x00.png")})),
])
def test_nul_and_other_controls_are_refused_in_every_part_of_a_request(hostile, where, call):
    reply = call(hostile.app.test_client(), _as_admin(hostile))
    problem = _problem(reply, 422, "/problems/validation")
    assert where in problem["errors"], problem


def test_oauth_form_posts_refuse_controls_as_oauth_clients_expect(hostile):
    """OAuth's token endpoint documents RFC 6749's errors: a malformed request is its `invalid_request`."""
    reply = hostile.app.test_client().post("/oauth/token", data={"grant_type": "client_credentials\x00"},
                                           headers={"Host": hostile.host})
    assert reply.status_code == 400 and reply.mimetype == "application/json"
    assert reply.get_json()["error"] == "invalid_request"


def test_text_people_write_is_kept_as_written(hostile):
    """Tab, newline and carriage return, DEL, accents and characters beyond the BMP (sent as a surrogate pair
    escape, which is one character) are ordinary text."""
    text = "Plot 7\tBlock B\r\nKisumu — Ünïcødé \x7f \U0001F600"
    client = hostile.app.test_client()
    raw = json.dumps({"address": text, "extra": {"directions": text}})
    assert "\\ud83d\\ude00" in raw
    reply = client.patch(f"{API}/customers/{hostile.customer_id}", data=raw, content_type="application/json",
                         headers=_as_admin(hostile))
    assert reply.status_code == 200, reply.get_json()
    assert _customer(hostile)["extra"]["directions"] == text  # the address is tidied by the customer rules
    listed = client.get(f"{API}/customers", query_string={"q": "Achieng\t"}, headers=_as_admin(hostile))
    assert listed.status_code == 200, listed.get_json()


@pytest.mark.parametrize("raw, why", [
    (b'{"amount": NaN}', "NaN"),
    (b'{"amount": Infinity}', "Infinity"),
    (b'{"name": "caf\xe9"}', "UTF-8"),
    (b'{"name": "x"', "JSON"),
    (b'{"n": 1' + b"0" * 5000 + b"}", "JSON"),
])
def test_what_is_not_json_is_a_400(hostile, raw, why):
    reply = hostile.app.test_client().post(f"{API}/customers", data=raw, content_type="application/json",
                                           headers=_as_admin(hostile))
    assert why in _problem(reply, 400, "/problems/invalid-json")["detail"]


def test_an_empty_json_body_is_no_body(hostile):
    """Clients that name JSON and send nothing (a sign-out) are not refused for it."""
    headers = hostile.caller("/reseller/auth/me")
    reply = hostile.app.test_client().post("/reseller/auth/logout", data=b"", content_type="application/json",
                                           headers=headers)
    assert reply.status_code == 200, reply.get_json()
    hostile.restore()


@pytest.mark.parametrize("path", ["/customers/bulk/status", "/customers/bulk/services/suspend",
                                  "/customers/bulk/services/change-plan"])
@pytest.mark.parametrize("selection", [[], ["Active"], "Active", 7, True])
def test_a_bulk_filter_that_is_not_an_object_is_a_422(hostile, path, selection):
    body = {"filter": selection, "status": "Suspended", "reason": "unpaid", "plan_code": "HOME-20"}
    reply = hostile.app.test_client().post(API + path, json=body, headers=_as_admin(hostile))
    problem = _problem(reply, 422, "/problems/validation")
    assert "filter" in problem["errors"]["json"], problem


# -- the document ----------------------------------------------------------------------------------------
@dataclass
class Operation:
    method: str
    path: str
    spec: dict
    parameters: list
    media: str | None  # the request body's media type, if it has one
    body: dict | None  # its schema

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class Target:
    """One place of a request to attack: `where` is json, form, files, query, path or header."""

    where: str
    name: tuple  # the keys down to the value (0 for an array's items) or the parameter's name
    types: frozenset = frozenset()  # the JSON types the document declares there
    kind: str = "text"  # text: refused characters; type: a wrong JSON type; deep: nesting past the limit
    surrogate: bool = False  # text: a lone surrogate among the refused characters (only JSON can carry one)


class Document:
    def __init__(self, spec: dict):
        self.spec, self.schemas = spec, spec["components"]["schemas"]

    def resolve(self, schema: dict, seen: tuple = ()) -> dict:
        while isinstance(schema, dict) and "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name in seen:
                return {}
            seen, schema = (*seen, name), self.schemas[name]
        return schema or {}

    def types(self, schema: dict) -> frozenset:
        schema = self.resolve(schema)
        declared = schema.get("type")
        if declared is None:
            parts = [*schema.get("allOf", ()), *schema.get("anyOf", ()), *schema.get("oneOf", ())]
            return frozenset().union(*(self.types(p) for p in parts)) if parts else frozenset()
        return frozenset(declared if isinstance(declared, list) else [declared])

    def fields(self, schema: dict, prefix: tuple = (), depth: int = 0):
        """(keys, schema) of every property under `schema`, arrays' items as key 0."""
        schema = self.resolve(schema)
        if depth > 6:
            return
        for part in (*schema.get("allOf", ()), *schema.get("anyOf", ()), *schema.get("oneOf", ())):
            yield from self.fields(part, prefix, depth + 1)
        for key, sub in (schema.get("properties") or {}).items():
            yield (*prefix, key), sub
            yield from self.fields(sub, (*prefix, key), depth + 1)
        if isinstance(schema.get("items"), dict) and prefix:
            yield (*prefix, 0), schema["items"]
            yield from self.fields(schema["items"], (*prefix, 0), depth + 1)

    def operations(self) -> list[Operation]:
        found = []
        for path, item in self.spec["paths"].items():
            for method, spec in item.items():
                if method == "parameters":
                    continue
                content = (spec.get("requestBody") or {}).get("content") or {}
                media = next(iter(content), None)
                found.append(Operation(method.upper(), path, spec, [*item.get("parameters", ()),
                                                                    *spec.get("parameters", ())],
                                       media, content[media].get("schema") if media else None))
        return found

    def targets(self, op: Operation) -> list[Target]:
        targets = []
        for parameter in op.parameters:
            where = {"formData": "form"}.get(parameter["in"], parameter["in"])
            schema = self.resolve(parameter.get("schema") or {})
            item = self.resolve(schema.get("items") or {}) if "array" in self.types(schema) else schema
            if "string" in self.types(item) and item.get("format") != "binary":
                targets.append(Target(where, (parameter["name"],)))
        if op.media == "application/json":
            for keys, schema in self.fields(op.body or {}):
                types = self.types(schema)
                if "string" in types:
                    targets += [Target("json", keys), Target("json", keys, surrogate=True)]
                if types and wrong_types(types):
                    targets.append(Target("json", keys, types, "type"))
            targets += [Target("json", (), self.types(op.body or {}) or frozenset({"object"}), "type"),
                        Target("json", (), kind="deep")]
        elif op.media:  # a form or an upload: its fields, a file's name; and a JSON body it does not take
            for keys, schema in self.fields(op.body or {}):
                binary = self.resolve(schema).get("format") == "binary"
                targets.append(Target("files" if binary else "form", keys))
        if op.media != "application/json":
            targets += [Target("json", (), frozenset({"object"}), "type"), Target("json", (), kind="deep")]
        return targets


# -- hostile values ----------------------------------------------------------------------------------------
_plain = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=6)
_ordinary = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=6)


def refused_text(where: str, surrogate: bool):
    """Ordinary text with refused characters in it: a lone surrogate first if `surrogate`, else a control
    character first (NUL is the simplest), then any of them. URLs, forms and headers cannot carry a lone
    surrogate (they travel as UTF-8, or Latin-1); a JSON string can, as an escape."""
    first = st.sampled_from(SURROGATES if surrogate else REFUSED)
    more = st.lists(st.sampled_from(REFUSED + (SURROGATES if where == "json" else [])), max_size=2)
    around = _plain if where in ("header", "files") else _ordinary
    return st.tuples(around, first, more, around).map(lambda p: p[0] + p[1] + "".join(p[2]) + p[3])


def nested(depth: int, shape: str) -> str:
    if shape == "array":
        return "[" * depth + "]" * depth
    if shape == "object":
        return '{"a":' * depth + "1" + "}" * depth
    return '[{"a":' * (depth // 2) + "0" + "}]" * (depth // 2)


deep_json = st.builds(nested, st.integers(DEPTH_LIMIT + 1, 20_000), st.sampled_from(["array", "object", "mixed"]))
_VALUES = {"object": st.just({}) | st.just({"a": 1}), "array": st.just([]) | st.just([1, "x"]),
           "string": st.just("x"), "integer": st.integers(-5, 10**20), "number": st.just(1.5),
           "boolean": st.booleans(), "null": st.none()}


def wrong_types(types: frozenset) -> list[str]:
    """The JSON types a value declared as `types` must not be (an integer is a number, and the reverse may be)."""
    ruled_out = set(types) | ({"integer"} if "number" in types else set()) | ({"number"} if "integer" in types
                                                                              else set())
    return [name for name in _VALUES if name not in ruled_out]


def wrong_type(types: frozenset):
    return st.one_of([_VALUES[name] for name in wrong_types(types)])


PLACEHOLDER = "\x7fPLACEHOLDER\x7f"


def _inside(keys: tuple, value):
    for key in reversed(keys):
        value = [value] if key == 0 else {key: value}
    return value


@dataclass
class Call:
    target: Target
    value: object
    query: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)
    path_values: dict = field(default_factory=dict)
    data: bytes | dict | None = None
    content_type: str | None = None

    def describe(self) -> str:
        return f"{self.target.where}:{'.'.join(map(str, self.target.name)) or '<body>'} = {self.value!r:.120}"


def _path_default(parameter: dict, doc: Document) -> str:
    schema = doc.resolve(parameter.get("schema") or {})
    if schema.get("enum"):
        return str(schema["enum"][0])
    return "1" if doc.types(schema) & {"integer", "number"} else "x"


def build(op: Operation, doc: Document, target: Target, value) -> Call:
    call = Call(target, value)
    for parameter in op.parameters:
        if parameter["in"] == "path":
            call.path_values[parameter["name"]] = _path_default(parameter, doc)
    name = target.name[0] if target.name else None
    if target.where == "path":
        call.path_values[name] = value
    elif target.where == "query":
        call.query[name] = value
    elif target.where == "header":
        call.headers[name] = value
    elif target.where in ("form", "files"):
        call.content_type = op.media
        if target.where == "files":
            import io

            call.data = {name: (io.BytesIO(b"%PDF-1.4 hostile"), value)}
        else:
            call.data = {name: value}
    elif target.kind == "deep":
        call.data, call.content_type = value.encode(), "application/json"
        if target.name:
            raw = json.dumps(_inside(target.name, PLACEHOLDER))
            call.data = raw.replace(json.dumps(PLACEHOLDER), value).encode()
    else:
        call.data, call.content_type = json.dumps(_inside(target.name, value)).encode(), "application/json"
    return call


def strategy(target: Target):
    if target.kind == "deep":
        return deep_json
    if target.kind == "type":
        return wrong_type(target.types)
    return refused_text(target.where, target.surrogate)


# -- what an answer must be ---------------------------------------------------------------------------------
def _declared(op: Operation, doc: Document, status: int) -> set[str]:
    responses = op.spec.get("responses") or {}
    response = responses.get(str(status)) or responses.get("default") or {}
    if "$ref" in response:
        response = doc.spec["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    return set((response.get("content") or {}).keys()) or {PROBLEM}


def judge(op: Operation, doc: Document, call: Call, response) -> str | None:
    """What is wrong with the answer, or None."""
    status, body = response.status_code, response.get_json(silent=True)
    if status >= 500:
        return f"{status}: {response.get_data(as_text=True)[:300]}"
    if status >= 400:
        declared = _declared(op, doc, status)
        if response.mimetype not in declared:
            return f"{status} as {response.mimetype}, the document declares {sorted(declared)}"
        if response.mimetype == PROBLEM and not (isinstance(body, dict) and str(body.get("type", "")).startswith(
                "/problems/")):
            return f"{status}: a problem without a type: {body!r:.200}"
    if status == 400 and response.mimetype == "application/json":  # OAuth's protocol endpoints, as declared
        if (body or {}).get("error") != "invalid_request" and call.target.kind in ("text", "deep"):
            return f"OAuth's endpoint refused malformed input as {body!r:.200}"
        return None
    if call.target.kind == "text":
        if status != 422 or not isinstance(body, dict) or body.get("type") != "/problems/validation":
            return f"refused text answered {status} {body!r:.200}"
        location = {"header": "headers"}.get(call.target.where, call.target.where)
        if location not in (body.get("errors") or {}):
            return f"refused text: the problem does not name {location}: {body!r:.200}"
    if call.target.kind == "deep" and (status != 400 or (body or {}).get("type") != "/problems/invalid-json"):
        return f"too-deep JSON answered {status} {body!r:.200}"
    return None


def send(hostile: Hostile, client, op: Operation, call: Call):
    path = op.path
    for name, value in call.path_values.items():
        path = path.replace("{" + name + "}", urllib.parse.quote(str(value), safe=""))
    headers = {**hostile.caller(op.path), **call.headers}
    return client.open(path, method=op.method, query_string=call.query, headers=headers, data=call.data,
                       content_type=call.content_type)


@pytest.fixture(scope="module")
def document(hostile) -> Document:
    reply = hostile.app.test_client().get("/api/openapi.json", headers={"Host": hostile.host})
    assert reply.status_code == 200
    return Document(reply.get_json())


def _attack(hostile: Hostile, client, document: Document, op: Operation, target: Target, failures: list,
            attacked: set):
    """Hypothesis's run over one target of one operation."""

    @given(value=strategy(target))
    @settings(max_examples=EXAMPLES_PER_TARGET, deadline=None, derandomize=True, database=None,
              phases=(Phase.generate,), suppress_health_check=list(HealthCheck))
    def attack(value):
        call = build(op, document, target, value)
        response = send(hostile, client, op, call)
        attacked.add((op.label, target))
        if op.method != "GET" and response.status_code < 400 or response.status_code == 401:
            hostile.restore()
        wrong = judge(op, document, call, response)
        if wrong:
            failures.append(f"{op.label} [{call.describe()}]: {wrong}")

    return attack


def test_no_operation_answers_5xx_to_hostile_input(hostile, document):
    """Every operation of the document, every string field and parameter with refused text, deep nesting
    and wrong JSON types: never a 5xx, every 4xx in the declared error format, and refused text and too-deep
    JSON refused the same way on every route."""
    client = hostile.app.test_client()
    failures: list[str] = []
    attacked: set[tuple] = set()
    expected: set[tuple] = set()
    for op in document.operations():
        for target in document.targets(op):
            expected.add((op.label, target))
            _attack(hostile, client, document, op, target, failures, attacked)()
    assert attacked == expected, f"never attacked: {sorted(map(str, expected - attacked))[:20]}"
    unique = list(dict.fromkeys(failures))
    assert not unique, f"{len(unique)} bad answers:\n" + "\n".join(unique[:80])
