"""Password reset: no account enumeration, single use, one hour, bound to its tenant, unlocks the account."""

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

from sqlalchemy import select, update

from app.models import Outbox, ResetToken
from app.models.base import utcnow
from tenants import tenant_context
from tests.auth.conftest import PASSWORD, reseller_login

NEW = "An0ther#Pass"


def _ask(client, acc, identifier):
    return client.post("/reseller/auth/password-reset", json={"identifier": identifier}, headers={"Host": acc.host})


def _token_from_mail(db, acc) -> str:
    with db.session() as s, tenant_context(acc.tenant):
        mail = s.execute(select(Outbox).where(Outbox.template == "security/password_reset")
                         .order_by(Outbox.id.desc())).scalars().first()
    url = mail.context["reset_url"]
    assert url in mail.body_text and mail.to_address == acc.username
    return parse_qs(urlparse(url).query)["token"][0]


def _confirm(client, host, token, password=NEW):
    return client.post("/reseller/auth/password-reset/confirm", json={"token": token, "new_password": password},
                       headers={"Host": host})


def test_the_answer_does_not_reveal_whether_the_account_exists(client, db, accounts):
    acc = accounts()
    known, unknown = _ask(client, acc, acc.username), _ask(client, acc, "nobody@nowhere.example")
    assert known.status_code == unknown.status_code == 202
    assert known.get_json() == unknown.get_json()
    with db.session() as s, tenant_context(acc.tenant):
        assert len(s.execute(select(Outbox).where(Outbox.template == "security/password_reset")).all()) == 1


def test_reset_is_single_use_and_unlocks_and_signs_out(app, client, db, accounts):
    acc = accounts()
    old_session = reseller_login(app.test_client(), acc).get_json()["token"]
    for _ in range(5):  # `client` has never signed in: no device cookie, so the lock applies to it
        reseller_login(client, acc, password="Wrong#Pass1")
    assert reseller_login(client, acc).status_code == 423
    _ask(client, acc, acc.username)
    token = _token_from_mail(db, acc)
    with db.session() as s, tenant_context(acc.tenant):
        assert s.execute(select(ResetToken)).scalars().first().token_hash != token  # stored as a digest
    assert _confirm(client, acc.host, token, "weak").status_code == 422  # policy applies, token not spent
    assert _confirm(client, acc.host, token).status_code == 200
    assert _confirm(client, acc.host, token, "Th1rd#Pass").status_code == 422  # used
    assert reseller_login(client, acc, password=PASSWORD).status_code == 401
    assert reseller_login(client, acc, password=NEW).status_code == 200  # the lock is gone
    me = client.get("/reseller/auth/me", headers={"Authorization": f"Bearer {old_session}", "Host": acc.host})
    assert me.status_code == 401


def test_reset_token_expires_after_an_hour(client, db, accounts):
    acc = accounts()
    _ask(client, acc, acc.username)
    token = _token_from_mail(db, acc)
    with db.session() as s, tenant_context(acc.tenant):
        s.execute(update(ResetToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    refused = _confirm(client, acc.host, token)
    assert refused.status_code == 422 and "expired" in refused.get_json()["detail"]


def test_reset_token_is_bound_to_its_tenant(client, db, accounts):
    a, b = accounts(), accounts()
    _ask(client, a, a.username)
    token = _token_from_mail(db, a)
    assert _confirm(client, b.host, token).status_code == 422
    assert _confirm(client, a.host, token).status_code == 200


def test_customer_reset_by_portal_id(client, db, accounts):
    acc = accounts()
    asked = client.post("/portal/auth/password-reset", json={"identifier": acc.portal_id}, headers={"Host": acc.host})
    assert asked.status_code == 202
    with db.session() as s, tenant_context(acc.tenant):
        mail = s.execute(select(Outbox).where(Outbox.template == "security/password_reset")).scalars().one()
    assert mail.to_address == acc.customer_email
    token = parse_qs(urlparse(mail.context["reset_url"]).query)["token"][0]
    done = client.post("/portal/auth/password-reset/confirm", json={"token": token, "new_password": NEW},
                       headers={"Host": acc.host})
    assert done.status_code == 200
    login = client.post("/portal/auth/login", json={"portal_id": acc.portal_id, "password": NEW},
                        headers={"Host": acc.host})
    assert login.status_code == 200
