"""An e-mail change lands only when the link sent to the new address is opened: once, on its own
reseller's host, within a day, the newest link only; asked for in the customer's own session."""

import re
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from app.models import Customer, Outbox
from app.services.selfcare import email_change
from app.services.settings import put_setting
from tenants import tenant_context
from tests.portal_api.conftest import api_key, impersonate


def _mails(db, p, template):
    with db.session() as s, tenant_context(p.tenant):
        return s.execute(select(Outbox).where(Outbox.template == template).order_by(Outbox.id)).scalars().all()


def _token(mail) -> str:
    url = re.search(r"https?://\S+", mail.body_text).group(0)
    return parse_qs(urlsplit(url).query)["token"][0]


def _email(db, p, customer_id=None) -> str | None:
    with db.session() as s, tenant_context(p.tenant):
        return s.get(Customer, customer_id or p.customer_id).email


def test_the_link_goes_to_the_new_address_and_the_change_lands_when_it_is_opened(client, db, portal):
    p = portal()
    asked = client.post("/portal/api/profile/email", headers=p.headers, json={"email": " New.Me@Example.com "})
    assert asked.status_code == 202, asked.get_json()
    assert asked.get_json()["pending_email"] == "new.me@example.com"
    assert _email(db, p) == p.email  # nothing changes before the link is opened
    assert client.get("/portal/api/profile", headers=p.headers).get_json()["pending_email"] == "new.me@example.com"

    [link_mail] = _mails(db, p, "customer/email_change")
    assert link_mail.to_address == "new.me@example.com"
    url = re.search(r"https?://\S+", link_mail.body_text).group(0)
    parts = urlsplit(url)
    assert parts.hostname == p.host and parts.path == email_change.CONFIRM_PATH
    assert url in link_mail.body_html
    [notice] = _mails(db, p, "customer/email_change_notice")
    assert notice.to_address == p.email and "new.me@example.com" in notice.body_text
    assert not re.search(r"https?://", notice.body_text)  # the notice to the old address carries no link

    token = _token(link_mail)
    confirmed = client.post("/portal/api/profile/email/confirm", json={"token": token}, headers={"Host": p.host})
    assert confirmed.status_code == 200 and confirmed.get_json()["email"] == "new.me@example.com"
    assert _email(db, p) == "new.me@example.com"
    assert client.get("/portal/api/profile", headers=p.headers).get_json()["pending_email"] is None
    again = client.post("/portal/api/profile/email/confirm", json={"token": token}, headers={"Host": p.host})
    assert again.status_code == 422 and again.get_json()["type"].endswith("/invalid")
    actions = [e["action"] for e in client.get("/portal/api/activity", headers=p.headers).get_json()]
    assert "email_change.requested" in actions and "email_change.confirmed" in actions


def test_only_the_newest_link_works(client, db, portal):
    p = portal()
    client.post("/portal/api/profile/email", headers=p.headers, json={"email": "typo@exmaple.com"})
    client.post("/portal/api/profile/email", headers=p.headers, json={"email": "right@example.com"})
    first, second = _mails(db, p, "customer/email_change")
    stale = client.post("/portal/api/profile/email/confirm", json={"token": _token(first)}, headers={"Host": p.host})
    assert stale.status_code == 422 and _email(db, p) == p.email
    assert client.post("/portal/api/profile/email/confirm", json={"token": _token(second)},
                       headers={"Host": p.host}).status_code == 200
    assert _email(db, p) == "right@example.com"


def test_a_link_is_good_on_its_own_resellers_host_only_and_expires(client, db, portal, redis_url):
    p, q = portal(), portal("PAPIB")
    client.post("/portal/api/profile/email", headers=p.headers, json={"email": "moved@example.com"})
    token = _token(_mails(db, p, "customer/email_change")[0])
    elsewhere = client.post("/portal/api/profile/email/confirm", json={"token": token}, headers={"Host": q.host})
    assert elsewhere.status_code == 422
    for forged in ("", "bhe.1.short", token.replace(f"bhe.{p.tenant.id}.", f"bhe.{q.tenant.id}."), "bhe.²." + "x" * 40):
        assert client.post("/portal/api/profile/email/confirm", json={"token": forged},
                           headers={"Host": p.host}).status_code == 422
    assert client.post("/portal/api/profile/email/confirm", json={"token": token},
                       headers={"Host": "console.test.example"}).status_code == 404
    import redis

    with tenant_context(p.tenant):
        left = redis.Redis.from_url(redis_url).ttl(email_change._token_key(token))
    assert 0 < left <= int(email_change.VALID_FOR.total_seconds())  # Redis forgets it after a day
    assert _email(db, p) == p.email
    assert client.post("/portal/api/profile/email/confirm", json={"token": token},
                       headers={"Host": p.host}).status_code == 200


def test_bad_addresses_are_refused_and_nothing_is_sent(client, db, portal):
    p = portal()
    for email in ("not-an-address", "a@b", p.email, p.email.upper()):
        answer = client.post("/portal/api/profile/email", headers=p.headers, json={"email": email})
        assert answer.status_code == 422, email
        assert answer.get_json()["errors"]["email"]
    assert _mails(db, p, "customer/email_change") == []


def test_where_customers_sign_in_by_e_mail_an_address_in_use_is_refused(client, db, portal):
    p = portal()
    other = _email(db, p, p.other_customer_id)
    with db.session() as s, tenant_context(p.tenant):
        put_setting(s, "customers", {"require_approval": False, "login_with_email": True})
    taken = client.post("/portal/api/profile/email", headers=p.headers, json={"email": other})
    assert taken.status_code == 409
    client.post("/portal/api/profile/email", headers=p.headers, json={"email": "free@example.com"})
    token = _token(_mails(db, p, "customer/email_change")[0])
    with db.session() as s, tenant_context(p.tenant):
        s.get(Customer, p.other_customer_id).email = "free@example.com"  # taken meanwhile by the reseller's team
    assert client.post("/portal/api/profile/email/confirm", json={"token": token},
                       headers={"Host": p.host}).status_code == 409
    assert _email(db, p) == p.email


def test_only_the_customers_own_session_asks_for_a_change(app, client, portal, staff):
    p = portal()
    for headers in (api_key(client, p, "read_write"), api_key(client, p, "read")):
        assert client.post("/portal/api/profile/email", headers=headers,
                           json={"email": "key@example.com"}).status_code == 403
    support = impersonate(app, client, p, staff)
    refused = support.post("/portal/api/profile/email", headers={"Host": p.host}, json={"email": "staff@example.com"})
    assert refused.status_code == 403

