"""Who reaches the customer's API, for every route under /portal/api, read from the app itself so a route
added later is covered too: a read-only key reads and never writes, nobody else's credentials get in,
and staff signed in as the customer are held to what support may do."""

import re

from tests.portal_api.conftest import api_key, impersonate

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
# what needs the customer's own session, each with a body it would otherwise take
OWN_SESSION_ONLY = {("POST", "/portal/api/profile/email"): {"email": "x@example.com"},
                    ("POST", "/portal/api/services/<int:service_id>/network-password"): {"password": "x"},
                    ("POST", "/portal/api/api-keys"): {"name": "x", "access": "read"},
                    ("DELETE", "/portal/api/api-keys/<int:key_id>"): None,
                    ("POST", "/portal/api/privacy/deletion-request"): {"password": "x"},
                    ("POST", "/portal/api/privacy/deletion-request/withdraw"): None}


def _routes(app):
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/portal/api/"):
            continue
        access = app.view_functions[rule.endpoint].backhaul_access
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, rule.rule, access


def _path(rule: str, service_id: int) -> str:
    path = rule.replace("<int:service_id>", str(service_id))
    return re.sub(r"<(?:\w+:)?\w+>", "1", path)


def test_every_route_of_the_customers_api_is_for_customers_only(app):
    routes = list(_routes(app))
    assert len(routes) > 40
    for method, rule, access in routes:
        if access["public"]:
            assert (method, rule) == ("POST", "/portal/api/profile/email/confirm")  # the link is the proof
            continue
        assert access["kinds"] == ("customer",), rule
        assert access["permission"] == ("self.edit" if method in WRITES else "self.view"), (method, rule)


def test_a_read_only_key_reads_everything_and_writes_nothing(app, client, portal):
    p = portal()
    read = api_key(client, p, "read")
    wrong = []
    for method, rule, access in _routes(app):
        if access["public"]:
            continue
        status = client.open(_path(rule, p.service_id), method=method, json={}, headers=read).status_code
        if (method in WRITES) != (status == 403) or status == 401:
            wrong.append(f"{method} {rule}: {status}")
    assert wrong == []


def test_a_read_write_key_writes_but_not_what_needs_the_customers_own_session(app, client, portal):
    p = portal()
    write = api_key(client, p, "read_write")
    wrong = []
    for method, rule, access in _routes(app):
        if access["public"] or method not in WRITES:
            continue
        body = OWN_SESSION_ONLY.get((method, rule), {})
        status = client.open(_path(rule, p.service_id), method=method, json=body, headers=write).status_code
        if ((method, rule) in OWN_SESSION_ONLY) != (status == 403):
            wrong.append(f"{method} {rule}: {status}")
    assert wrong == []


def test_support_staff_may_read_and_ask_but_not_touch_the_customers_credentials(app, client, portal, staff):
    p = portal()
    support = impersonate(app, client, p, staff)
    host = {"Host": p.host}
    assert support.get("/portal/api/profile", headers=host).status_code == 200
    assert support.get("/portal/api/invoices", headers=host).status_code == 200
    assert support.post(f"/portal/api/services/{p.service_id}/requests", headers=host,
                        json={"kind": "suspension", "payload": {"from": "2000-01-01", "until": "2000-01-02"}}
                        ).status_code == 422  # let through to the rules (and refused there for the past dates)
    for (method, rule), body in sorted(OWN_SESSION_ONLY.items()):
        status = support.open(_path(rule, p.service_id), method=method, json=body, headers=host).status_code
        assert status == 403, rule


def test_nobody_elses_credentials_get_in(app, portal):
    p, q = portal(), portal("PAPIB")
    client = app.test_client()  # keeps no cookie of the sign-ins above
    assert client.get("/portal/api/profile", headers={"Host": p.host}).status_code == 401
    assert client.get("/portal/api/profile", headers={**q.headers, "Host": p.host}).status_code == 401
    key = api_key(client, q, "read")
    assert client.get("/portal/api/invoices", headers={**key, "Host": p.host}).status_code == 401
    console = client.get("/portal/api/profile", headers={**p.headers, "Host": "console.test.example"})
    assert console.get_json()["id"] == p.customer_id  # a token enters its own reseller there, and only that one
