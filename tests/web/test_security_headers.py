"""The security headers of app/web/security.py, as a browser and an API client receive them: pages under a
policy with no inline script or style and no framing; JSON without a policy but with the other headers; a
view's own policy kept (the brand preview's sandbox, a chart's SVG); HSTS only over HTTPS from a trusted proxy."""

from __future__ import annotations

from tests.conftest import host_of

HTML = {"Accept": "text/html"}


def test_pages_forbid_inline_script_style_and_framing(client, reseller):
    a = reseller("SEC")
    page = client.get("/login", headers={"Host": a.host, **HTML})
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in page.headers  # plain HTTP: never told it is HTTPS
    missing = client.get("/nothing-here", headers={"Host": a.host, **HTML})
    assert missing.status_code == 404 and "frame-ancestors 'none'" in missing.headers["Content-Security-Policy"]


def test_json_has_no_policy_but_the_other_headers(client, reseller):
    a = reseller("SEJ")
    answer = client.get("/api/v1/portal", headers={"Host": a.host})
    assert answer.status_code == 200 and answer.is_json
    assert "Content-Security-Policy" not in answer.headers
    assert answer.headers["X-Content-Type-Options"] == "nosniff" and answer.headers["X-Frame-Options"] == "DENY"
    refused = client.get("/reseller/api/branding", headers={"Host": a.host})
    assert refused.status_code == 401 and "Content-Security-Policy" not in refused.headers


def test_hsts_only_over_https_from_a_trusted_proxy(client, reseller):
    a = reseller("SEH")
    forged = client.get("/login", headers={"Host": a.host, "X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in forged.headers  # anyone can send the header
    proxied = client.get("/login", headers={"Host": a.host, "X-Forwarded-Proto": "https"},
                         environ_base={"REMOTE_ADDR": "10.0.0.5"})  # BACKHAUL_TRUSTED_PROXIES of the tests
    assert proxied.headers["Strict-Transport-Security"].startswith("max-age=")


def test_a_views_own_policy_is_kept(client, reseller):
    a = reseller("SEP")
    preview = client.post("/reseller/api/branding/preview", headers=a.headers,
                          json={"page": "login", "branding": {"primary_color": "#ABCDEF"}})
    assert preview.status_code == 200 and preview.headers["Content-Security-Policy"].startswith("sandbox")
    assert "--brand-primary: #ABCDEF" in preview.get_data(as_text=True)
    assert client.get("/favicon.ico", headers={"Host": host_of(a.tenant)}).status_code == 200
