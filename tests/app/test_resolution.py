"""Host → tenant resolution through the real app."""

import time

from app.services import tenants as svc
from tests.conftest import host_of

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def test_unknown_host_is_404_problem_json(client):
    response = client.get("/api/v1/portal", headers={"Host": "nobody.test.example"})
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"
    body = response.get_json()
    assert body["type"] == "/problems/unknown-host"
    assert "nobody.test.example" in body["detail"]


def test_unknown_host_is_an_html_404_for_browsers(client):
    response = client.get("/", headers={"Host": "nobody.test.example", **HTML})
    assert response.status_code == 404
    assert response.content_type.startswith("text/html")
    assert b"Unknown host" in response.data


def test_never_a_fallback_tenant(client, make_tenant):
    make_tenant("ONLY")
    for host in ("", "localhost", "127.0.0.1", "test.example", "x.test.example", "bad host"):
        response = client.get("/api/v1/portal", headers={"Host": host})
        assert response.status_code == 404, host


def test_host_with_port_upper_case_and_trailing_dot(client, make_tenant):
    tenant = make_tenant("FORMS")
    host = host_of(tenant)
    for variant in (host, f"{host}:8000", host.upper(), f"{host}.", f"{host.upper()}.:443"):
        response = client.get("/api/v1/portal", headers={"Host": variant})
        assert response.status_code == 200, variant
        assert response.get_json()["tenant"]["code"] == tenant.code


def test_spoofed_forwarded_host_from_untrusted_peer_is_ignored(client, make_tenant):
    mine, victim = make_tenant("SPOOFA"), make_tenant("SPOOFB")
    response = client.get("/api/v1/portal", headers={"Host": host_of(mine), "X-Forwarded-Host": host_of(victim)},
                          environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert response.get_json()["tenant"]["code"] == mine.code


def test_forwarded_host_from_trusted_proxy_is_used(client, make_tenant):
    tenant = make_tenant("PROXIED")
    response = client.get("/api/v1/portal", headers={"Host": "backend:8000", "X-Forwarded-Host": host_of(tenant)},
                          environ_base={"REMOTE_ADDR": "10.20.30.40"})
    assert response.status_code == 200
    assert response.get_json()["tenant"]["code"] == tenant.code


def test_suspended_tenant_gets_a_clear_403(client, db, make_tenant):
    tenant = make_tenant("SUSP")
    with db.session() as s:
        svc.set_status(s, tenant.code, "Suspended", reason="unpaid wholesale invoice")
    _eventually(lambda: client.get("/api/v1/portal", headers={"Host": host_of(tenant)}).status_code == 403)
    body = client.get("/api/v1/portal", headers={"Host": host_of(tenant)}).get_json()
    assert body["type"] == "/problems/tenant-suspended"
    assert body["tenant_status"] == "Suspended"
    page = client.get("/", headers={"Host": host_of(tenant), **HTML})
    assert page.status_code == 403
    assert b"This portal is unavailable" in page.data and tenant.name.encode() in page.data
    with db.session() as s:
        svc.set_status(s, tenant.code, "Active")
    _eventually(lambda: client.get("/api/v1/portal", headers={"Host": host_of(tenant)}).status_code == 200)


def test_a_suspended_reseller_takes_its_sub_resellers_portals_and_api_with_it(client, db, make_tenant):
    parent = make_tenant("SUSPP")
    child = make_tenant("SUSPC", parent_code=parent.code)
    with db.session() as s:
        svc.set_status(s, parent.code, "Suspended", reason="unpaid wholesale invoice")
    _eventually(lambda: client.get("/api/v1/portal", headers={"Host": host_of(child)}).status_code == 403)
    body = client.get("/reseller/api/customers", headers={"Host": host_of(child)}).get_json()
    assert body["type"] == "/problems/tenant-suspended" and body["tenant_status"] == "Suspended"
    for path in ("/login", "/reseller/login"):
        page = client.get(path, headers={"Host": host_of(child), **HTML})
        assert page.status_code == 403
        assert b"This portal is unavailable" in page.data and b"is suspended" in page.data
    with db.session() as s:
        svc.set_status(s, parent.code, "Active")
    _eventually(lambda: client.get("/api/v1/portal", headers={"Host": host_of(child)}).status_code == 200)


def test_domain_changes_invalidate_the_cached_lookup(client, db, make_tenant):
    tenant = make_tenant("MOVING")
    new_host = f"portal.{tenant.code.lower().replace('_', '-')}.example"
    assert client.get("/api/v1/portal", headers={"Host": new_host}).status_code == 404  # cached as unknown
    with db.session() as s:
        svc.add_domain(s, tenant.code, new_host, primary=True)
    _eventually(lambda: client.get("/api/v1/portal", headers={"Host": new_host}).status_code == 200)
    with db.session() as s:
        svc.delete(s, tenant.code)
    _eventually(lambda: client.get("/api/v1/portal", headers={"Host": new_host}).status_code == 404)


def test_console_host_is_not_a_tenant(client):
    response = client.get("/", headers={"Host": "console.test.example", **HTML})
    assert response.status_code == 200
    assert b"Master ISP console" in response.data
    assert client.get("/api/v1/portal", headers={"Host": "console.test.example"}).status_code == 404


def test_portal_front_page_names_the_tenant(client, make_tenant):
    tenant = make_tenant("FRONT", name="Front Porch Fibre")
    page = client.get("/", headers={"Host": host_of(tenant), **HTML})
    assert page.status_code == 200 and b"Front Porch Fibre" in page.data


def _eventually(check, timeout: float = 5.0) -> None:
    """Registry changes reach other connections' caches by NOTIFY: allow for its delivery."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def test_client_address_and_scheme_only_from_a_trusted_proxy(client, make_tenant, db):
    from app.services.auth import users
    from tenants import tenant_context
    from tests.auth.conftest import PASSWORD

    tenant = make_tenant("PROXYIP")
    with db.session() as s, tenant_context(tenant):
        users.create_user(s, username="ops", email="ops@x.example", role="Admin", password=PASSWORD)
    body = {"username": "ops", "password": PASSWORD}
    forwarded = {"Host": "backend", "X-Forwarded-Host": host_of(tenant), "X-Forwarded-Proto": "https",
                 "X-Forwarded-For": "203.0.113.50, 10.9.9.9"}
    via_proxy = client.post("/reseller/auth/login", json=body, headers=forwarded,
                            environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert via_proxy.status_code == 200
    assert "Secure" in via_proxy.headers["Set-Cookie"]  # the client spoke HTTPS to the ingress
    token = via_proxy.get_json()["token"]
    history = client.get("/reseller/auth/login-history", headers={"Host": host_of(tenant),
                                                                  "Authorization": f"Bearer {token}"}).get_json()
    assert history[0]["ip"] == "203.0.113.50"  # the right-most hop that is not our proxy
    direct = client.post("/reseller/auth/login", json=body, environ_base={"REMOTE_ADDR": "198.51.100.9"},
                         headers={"Host": host_of(tenant), "X-Forwarded-For": "1.2.3.4", "X-Forwarded-Proto": "https"})
    assert direct.status_code == 200 and "Secure" not in direct.headers["Set-Cookie"]
    history = client.get("/reseller/auth/login-history", headers={"Host": host_of(tenant),
                                                                  "Authorization": f"Bearer {token}"}).get_json()
    assert history[0]["ip"] == "198.51.100.9"
