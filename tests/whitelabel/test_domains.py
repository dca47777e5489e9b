"""Custom domains: a reseller adds one, proves it with a DNS TXT record, and only then does it lead to
its portal; nobody else can see, verify, take or remove it.

DNS answers come from a real name server on 127.0.0.1 (tests/whitelabel/dns_stub.py) that the app is
pointed at; the database is the test run's PostgreSQL.
"""

from __future__ import annotations

import time

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from app.models import AuditEvent
from app.services import tenants as tenant_svc
from tenants import registry
from tests.conftest import host_of

DOMAINS = "/reseller/api/domains"


def _add(client, reseller, host: str):
    return client.post(DOMAINS, json={"host": host}, headers=reseller.headers)


def _list(client, reseller) -> dict[str, dict]:
    response = client.get(DOMAINS, headers=reseller.headers)
    assert response.status_code == 200, response.get_json()
    return {d["host"]: d for d in response.get_json()}


def _verify(client, reseller, domain_id: int):
    return client.post(f"{DOMAINS}/{domain_id}/verify", headers=reseller.headers)


def _portal(client, host: str):
    return client.get("/api/v1/portal", headers={"Host": host})


def _txt(body: dict) -> dict:
    return next(r for r in body["dns_records"] if r["type"] == "TXT")


def _audit(db, action: str, tenant_id: int) -> list[AuditEvent]:
    with db.session() as s:
        return s.execute(select(AuditEvent).where(AuditEvent.action == action, AuditEvent.tenant_id == tenant_id)
                         .order_by(AuditEvent.id)).scalars().all()


def _eventually(check, timeout: float = 5.0) -> None:
    """A change committed outside the app reaches its cache by NOTIFY: allow for the delivery."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.05)


def test_an_added_domain_lists_its_records_and_leads_nowhere_yet(client, db, reseller):
    r = reseller()
    host = f"portal.{r.slug}.example"
    created = _add(client, r, f"  Portal.{r.slug.upper()}.Example. ")
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["host"] == host and body["kind"] == "custom"
    assert body["verified"] is False and body["verified_at"] is None and body["primary"] is False
    txt = _txt(body)
    assert txt["name"] == f"_backhaul-challenge.{host}"
    token = txt["value"].removeprefix("backhaul-verify=")
    assert txt["value"].startswith("backhaul-verify=") and len(token) >= 24
    cname = next(rec for rec in body["dns_records"] if rec["type"] == "CNAME")
    assert cname["name"] == host and cname["value"] == r.host  # traffic goes to the platform's ingress

    unknown = _portal(client, host)
    assert unknown.status_code == 404 and unknown.get_json()["type"] == "/problems/unknown-host"

    listed = _list(client, r)
    assert listed[host]["dns_records"] == body["dns_records"]  # the same token every time it is shown
    assert listed[r.host]["kind"] == "platform" and listed[r.host]["verified"] is True
    assert listed[r.host]["primary"] is True and listed[r.host]["dns_records"] == []
    assert [e.detail["host"] for e in _audit(db, "domain.add", r.tenant.id)] == [host]


def test_a_missing_or_wrong_txt_record_is_a_clear_error_and_changes_nothing(client, reseller, dns_stub):
    r = reseller()
    host = f"www.{r.slug}.example"
    body = _add(client, r, host).get_json()
    record, expected = _txt(body)["name"], _txt(body)["value"]

    missing = _verify(client, r, body["id"])
    assert missing.status_code == 409
    problem = missing.get_json()
    assert missing.content_type == "application/problem+json"
    assert problem["type"] == "/problems/domain-not-verified" and problem["result"] == "missing"
    assert problem["record"] == record and problem["expected"] == expected and problem["found"] == []
    assert record in problem["detail"] and expected in problem["detail"]
    assert problem["checked_at"]
    assert (record, "TXT") in dns_stub.questions  # the answer really came from DNS

    dns_stub.set_txt(record, "backhaul-verify=someone-elses-token", "v=spf1 -all")
    wrong = _verify(client, r, body["id"])
    assert wrong.status_code == 409
    problem = wrong.get_json()
    assert problem["result"] == "mismatch"
    assert problem["found"] == ["backhaul-verify=someone-elses-token", "v=spf1 -all"]
    assert "'backhaul-verify=someone-elses-token'" in problem["detail"]
    assert f"expected '{expected}'" in problem["detail"]

    assert _list(client, r)[host]["verified"] is False
    assert _portal(client, host).status_code == 404


def test_the_right_txt_record_makes_the_domain_lead_to_the_reseller(client, db, reseller, dns_stub):
    r = reseller()
    host = f"portal.{r.slug}.example"
    body = _add(client, r, host).get_json()
    assert _portal(client, host).status_code == 404  # and the registry now caches that answer
    dns_stub.set_txt(_txt(body)["name"], "v=spf1 -all", _txt(body)["value"])

    verified = _verify(client, r, body["id"])
    assert verified.status_code == 200, verified.get_json()
    out = verified.get_json()
    assert out["verified"] is True and out["verified_at"] and out["dns_records"] == []
    assert out["check"]["result"] == "verified" and _txt(body)["value"] in out["check"]["found"]

    portal = _portal(client, host)  # at once: no stale "unknown host" from before
    assert portal.status_code == 200 and portal.get_json()["tenant"]["code"] == r.tenant.code
    assert client.get("/", headers={"Host": host}).status_code == 200

    asked = len(dns_stub.questions)
    again = _verify(client, r, body["id"])
    assert again.status_code == 200 and again.get_json()["check"] is None and len(dns_stub.questions) == asked
    assert [e.detail["host"] for e in _audit(db, "domain.verify", r.tenant.id)] == [host]


def test_a_verified_domain_can_be_primary_and_removed(client, db, reseller, dns_stub):
    r = reseller()
    live, pending = f"portal.{r.slug}.example", f"pending.{r.slug}.example"
    live_id = _add(client, r, live).get_json()["id"]
    pending_id = _add(client, r, pending).get_json()["id"]
    dns_stub.set_txt(f"_backhaul-challenge.{live}", _list(client, r)[live]["dns_records"][0]["value"])
    assert _verify(client, r, live_id).status_code == 200

    refused = client.post(f"{DOMAINS}/{pending_id}/primary", headers=r.headers)
    assert refused.status_code == 409 and "verify it" in refused.get_json()["detail"]
    made = client.post(f"{DOMAINS}/{live_id}/primary", headers=r.headers)
    assert made.status_code == 200 and made.get_json()["primary"] is True
    listed = _list(client, r)
    assert [h for h, d in listed.items() if d["primary"]] == [live]

    platform_id = listed[r.host]["id"]
    kept = client.delete(f"{DOMAINS}/{platform_id}", headers=r.headers)
    assert kept.status_code == 409 and "platform address" in kept.get_json()["detail"]

    assert client.delete(f"{DOMAINS}/{live_id}", headers=r.headers).status_code == 204
    assert _portal(client, live).status_code == 404  # gone at once
    listed = _list(client, r)
    assert live not in listed and listed[r.host]["primary"] is True  # the platform address takes over
    assert client.delete(f"{DOMAINS}/{pending_id}", headers=r.headers).status_code == 204
    assert client.delete(f"{DOMAINS}/{pending_id}", headers=r.headers).status_code == 404
    assert [e.detail["host"] for e in _audit(db, "domain.primary", r.tenant.id)] == [live]
    assert [e.detail["host"] for e in _audit(db, "domain.remove", r.tenant.id)] == [live, pending]


def test_another_reseller_can_neither_see_nor_touch_nor_take_it(client, reseller, dns_stub):
    owner, other = reseller("OWN"), reseller("OTHER")
    host = f"portal.{owner.slug}.example"
    body = _add(client, owner, host).get_json()
    dns_stub.set_txt(_txt(body)["name"], _txt(body)["value"])  # even with the right record in place

    assert host not in _list(client, other)
    for method, path in (("POST", f"{body['id']}/verify"), ("POST", f"{body['id']}/primary"),
                         ("DELETE", str(body["id"]))):
        response = client.open(f"{DOMAINS}/{path}", method=method, headers=other.headers)
        assert response.status_code == 404, (method, path)
        assert response.get_json()["type"] == "/problems/not-found"
    taken = _add(client, other, host)
    assert taken.status_code == 409 and taken.get_json()["type"] == "/problems/conflict"

    assert _list(client, owner)[host]["verified"] is False  # the other's verify did nothing
    assert _portal(client, host).status_code == 404
    # the owner's token is no key to the other's portal either
    assert client.get(DOMAINS, headers={**owner.headers, "Host": other.host}).status_code == 401


def test_a_host_already_in_use_is_refused(client, reseller):
    first, second = reseller(), reseller()
    host = f"shop.{first.slug}.example"
    assert _add(client, first, host).status_code == 201
    for owner, spelling in ((first, host), (first, host.upper() + "."), (second, host)):
        refused = _add(client, owner, spelling)
        assert refused.status_code == 409, spelling
        assert refused.get_json()["field"] == "host" and host in refused.get_json()["detail"]
    assert _add(client, second, first.host).status_code == 422  # a platform host is never anyone's to add


@pytest.mark.parametrize("host", [
    "anything.test.example", "test.example", "console.test.example", "a.console.test.example",
    "192.0.2.10", "[2001:db8::1]", "https://portal.acme.example/", "portal.acme.example:8443",
    "not a host", "localhost", "*.acme.example", "-bad.acme.example", "",
])
def test_platform_hosts_addresses_and_bad_names_are_refused(client, reseller, host):
    refused = _add(client, reseller(), host)
    assert refused.status_code == 422, refused.get_json()
    problem = refused.get_json()
    assert problem["type"] in ("/problems/invalid", "/problems/validation")
    if problem["type"] == "/problems/invalid":
        assert problem["field"] == "host" and problem["detail"]


def test_international_names_are_stored_in_their_dns_form(client, reseller):
    r = reseller()
    created = _add(client, r, f"bücher.{r.slug}.example")
    assert created.status_code == 201 and created.get_json()["host"] == f"xn--bcher-kva.{r.slug}.example"


def test_a_name_server_that_does_not_answer_is_a_clear_error_not_a_500(client, reseller, silent_dns):
    r = reseller()
    host = f"portal.{r.slug}.example"
    body = _add(client, r, host).get_json()
    started = time.monotonic()
    response = _verify(client, r, body["id"])
    assert time.monotonic() - started < 5
    assert response.status_code == 409
    problem = response.get_json()
    assert problem["result"] == "timeout" and "no DNS answer" in problem["detail"] and "0.5 s" in problem["detail"]
    assert _list(client, r)[host]["verified"] is False


def test_only_team_members_who_manage_settings_handle_domains(client, reseller):
    viewer = reseller(role="Readonly")
    assert client.get(DOMAINS, headers=viewer.headers).status_code == 403
    assert _add(client, viewer, f"portal.{viewer.slug}.example").status_code == 403


def test_operators_still_add_domains_that_work_at_once(client, db, make_tenant):
    """`backhaul tenants add-domain` (the master ISP's CLI) needs no DNS proof."""
    from app.cli import main

    tenant = make_tenant("OPS")
    host = f"portal.{tenant.code.lower().replace('_', '-')}.example"
    assert _portal(client, host).status_code == 404
    try:
        result = CliRunner().invoke(main, ["tenants", "add-domain", tenant.code, host, "--primary"],
                                    catch_exceptions=False)
    finally:
        registry.bind(db.engine)  # the CLI binds its own engine: give the suite's back
    assert result.exit_code == 0, result.output
    _eventually(lambda: _portal(client, host).status_code == 200)
    with db.session() as s:
        row = tenant_svc.get(s, tenant.code)
        assert [d.host for d in row.domains if d.is_primary] == [host]


def test_hosts_given_unverified_by_a_parent_get_a_token_to_verify_with(client, db, reseller, dns_stub):
    """Sub-reseller creation adds its hosts unverified (app/services/resellers.py): they are verifiable."""
    r = reseller()
    host = f"east.{r.slug}.example"
    with db.session() as s:
        tenant_svc.add_domain(s, r.tenant.code, host, verified=False, actor="test")
    pending = _list(client, r)[host]
    assert pending["verified"] is False and _txt(pending)["value"].startswith("backhaul-verify=")
    dns_stub.set_txt(_txt(pending)["name"], _txt(pending)["value"])
    assert _verify(client, r, pending["id"]).status_code == 200
    assert _portal(client, host).status_code == 200
    assert host_of(r.tenant) == r.host
