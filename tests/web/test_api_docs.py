"""The API reference at /api/docs: it opens on every host, and everything it loads is served by the app
itself, so it works on a machine without internet access."""

import re

import pytest

from tests.conftest import host_of

ASSET = re.compile(r'<script\b[^>]*\bsrc="([^"]+)"|<link\b[^>]*\brel="stylesheet"[^>]*\bhref="([^"]+)"', re.I)


@pytest.fixture
def hosts(make_tenant):
    return ["console.test.example", host_of(make_tenant("DOCS"))]


def test_the_docs_open_on_every_host_and_load_nothing_from_elsewhere(client, hosts):
    for host in hosts:
        page = client.get("/api/docs", headers={"Host": host, "Accept": "text/html"})
        assert page.status_code == 200, (host, page.get_data(as_text=True)[:300])
        assert page.mimetype == "text/html"
        html = page.get_data(as_text=True)
        assets = [script or sheet for script, sheet in ASSET.findall(html)]
        assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets), assets
        for asset in assets:
            assert asset.startswith("/") and not asset.startswith("//"), f"{asset} is not served by the app"
            served = client.get(asset, headers={"Host": host})
            assert served.status_code == 200, asset
            kind = "javascript" if asset.endswith(".js") else "css"
            assert kind in served.mimetype, (asset, served.mimetype)
            assert served.headers["Cache-Control"]
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script (a CSP will forbid it)"
        spec = re.search(r'data-spec-url="([^"]+)"', html).group(1)
        assert client.get(spec, headers={"Host": host}).get_json()["openapi"].startswith("3.")


def test_only_the_viewers_own_files_are_served(client, hosts):
    from app.web.openapi import SWAGGER_UI_URL

    assert client.get(f"{SWAGGER_UI_URL}swagger-ui.css", headers={"Host": hosts[0]}).status_code == 200
    for name in ("..%2F..%2F__init__.py", "index.j2", "swagger-ui-bundle.js.map", "nothing.js"):
        assert client.get(f"{SWAGGER_UI_URL}{name}", headers={"Host": hosts[0]}).status_code == 404
    assert client.get("/api/docs/swagger-ui-0.0.1/swagger-ui.css", headers={"Host": hosts[0]}).status_code == 404


def test_templates_of_flask_extensions_are_found_through_the_theme_chain(app, hosts):
    """The theme loader once replaced Flask's, and flask-smorest's own templates were lost (a 500)."""
    from flask import render_template_string

    with app.test_request_context("/", headers={"Host": hosts[1]}):
        app.preprocess_request()
        html = render_template_string('{% include "rapidoc.html" %}', title="t", spec_url="/s", rapidoc_url="/r",
                                      rapidoc_config={})
    assert "rapi-doc" in html
