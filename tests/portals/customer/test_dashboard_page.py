"""The dashboard as plain HTTP sees it: signed out, a browser is sent to sign in and back, an API client gets
the 401 problem, the console host has no such page; the page speaks the reseller's language."""

from __future__ import annotations

from app.services.settings import put_setting
from tenants import tenant_context
from tests.portals.customers import make_customer
from tests.web.forms import submit


def test_signed_out_browsers_sign_in_first_and_api_clients_get_a_401(client, db, demo):
    customer = make_customer(db)
    sent = client.get("/portal?service=1", headers={"Host": customer.host, "Accept": "text/html"})
    assert sent.status_code == 302 and sent.headers["Location"] == "/login?next=/portal?service%3D1"
    api = client.get("/portal", headers={"Host": customer.host}, json={})
    assert api.status_code == 401 and api.content_type == "application/problem+json"
    assert client.get("/portal", headers={"Host": "console.test.example"}).status_code == 404


def test_the_dashboard_speaks_the_resellers_language(client, db, demo):
    customer = make_customer(db, code="ABC_EAST", host="east.abc.test.example")
    with db.session() as s, tenant_context(customer.tenant):
        put_setting(s, "language", "sw")
        s.commit()
    try:
        submit(client, "/login", customer.host, identifier=customer.portal_id, password="Demo#Pass2026")
        html = client.get("/portal", headers={"Host": customer.host}).get_data(as_text=True)
        assert "Huduma zako" in html and "Imepunguzwa kwa matumizi ya haki." in html
        assert "Ruka hadi maudhui makuu" in html
        assert 'lang="sw"' in html
    finally:
        with db.session() as s, tenant_context(customer.tenant):
            put_setting(s, "language", "en")
            s.commit()
