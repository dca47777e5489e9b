"""Sessions: a new one per sign-in, listed and revocable, ended by logout, idleness, age, limits and disabling."""

from datetime import timedelta

from sqlalchemy import update

from app.models import AuthSession
from app.models.base import utcnow
from app.services.auth import users
from tenants import tenant_context
from tests.auth.conftest import bearer, reseller_login


def test_each_sign_in_is_a_new_session_listed_and_revocable(app, client, accounts):
    acc = accounts()
    phone, laptop = app.test_client(), app.test_client()
    first = reseller_login(phone, acc).get_json()["token"]
    second = reseller_login(laptop, acc).get_json()["token"]
    assert first != second
    listed = client.get("/reseller/auth/sessions", headers=bearer(second, acc.host)).get_json()
    assert len(listed) == 2 and [s["current"] for s in listed] == [True, False]
    lost_phone = listed[1]["id"]
    assert client.delete(f"/reseller/auth/sessions/{lost_phone}", headers=bearer(second, acc.host)).status_code == 200
    assert client.get("/reseller/auth/me", headers=bearer(first, acc.host)).status_code == 401
    assert client.get("/reseller/auth/me", headers=bearer(second, acc.host)).status_code == 200
    again = client.delete(f"/reseller/auth/sessions/{lost_phone}", headers=bearer(second, acc.host))
    assert again.status_code == 404


def test_logout_ends_the_session_on_the_server(client, accounts):
    acc = accounts()
    token = reseller_login(client, acc).get_json()["token"]
    out = client.post("/reseller/auth/logout", headers=bearer(token, acc.host))
    assert out.status_code == 200
    assert client.get("/reseller/auth/me", headers=bearer(token, acc.host)).status_code == 401


def test_idle_and_absolute_timeouts(client, db, accounts):
    acc = accounts()
    idle = reseller_login(client, acc).get_json()["token"]
    with db.session() as s, tenant_context(acc.tenant):
        s.execute(update(AuthSession).values(last_seen_at=utcnow() - timedelta(minutes=61)))
    assert client.get("/reseller/auth/me", headers=bearer(idle, acc.host)).status_code == 401
    old = reseller_login(client, acc).get_json()["token"]
    with db.session() as s, tenant_context(acc.tenant):
        s.execute(update(AuthSession).where(AuthSession.revoked_at.is_(None))
                  .values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get("/reseller/auth/me", headers=bearer(old, acc.host)).status_code == 401


def test_concurrent_session_limit_ends_the_oldest(client, accounts):
    acc = accounts(max_sessions=2)
    tokens = [reseller_login(client, acc).get_json()["token"] for _ in range(3)]
    alive = [client.get("/reseller/auth/me", headers=bearer(t, acc.host)).status_code for t in tokens]
    assert alive == [401, 200, 200]


def test_disabling_a_user_ends_all_their_sessions(client, db, accounts):
    acc = accounts()
    tokens = [reseller_login(client, acc).get_json()["token"] for _ in range(2)]
    with db.session() as s, tenant_context(acc.tenant):
        users.update_user(s, acc.user_id, is_active=False)
    assert all(client.get("/reseller/auth/me", headers=bearer(t, acc.host)).status_code == 401 for t in tokens)
    assert reseller_login(client, acc).status_code == 401


def test_password_change_needs_the_current_one_and_ends_other_sessions(app, client, accounts):
    acc = accounts()
    other = reseller_login(app.test_client(), acc).get_json()["token"]
    token = reseller_login(client, acc).get_json()["token"]
    headers = bearer(token, acc.host)
    wrong = client.put("/reseller/auth/password", json={"current_password": "nope", "new_password": "N3w#Password"},
                       headers=headers)
    assert wrong.status_code == 422
    weak = client.put("/reseller/auth/password", json={"current_password": "Str0ng#Pass", "new_password": "password"},
                      headers=headers)
    assert weak.status_code == 422 and "upper-case" in weak.get_json()["detail"]
    done = client.put("/reseller/auth/password", json={"current_password": "Str0ng#Pass",
                                                       "new_password": "N3w#Password"}, headers=headers)
    assert done.status_code == 200
    assert client.get("/reseller/auth/me", headers=headers).status_code == 200
    assert client.get("/reseller/auth/me", headers=bearer(other, acc.host)).status_code == 401
    assert reseller_login(client, acc, password="N3w#Password").status_code == 200


def test_login_history_records_successes_and_failures(client, accounts):
    acc = accounts()
    reseller_login(client, acc, password="Wrong#Pass1")
    token = reseller_login(client, acc).get_json()["token"]
    history = client.get("/reseller/auth/login-history", headers=bearer(token, acc.host)).get_json()
    assert [(h["success"], h["reason"]) for h in history[:2]] == [(True, "ok"), (False, "wrong password")]
    assert history[0]["ip"] == "127.0.0.1"


def test_a_new_device_gets_an_alert_a_known_one_does_not(app, db, accounts):
    from sqlalchemy import select

    from app.models import Outbox

    acc = accounts()
    laptop = app.test_client()
    assert reseller_login(laptop, acc).status_code == 200  # the very first device: nothing to compare with
    assert reseller_login(laptop, acc).status_code == 200  # same device (its cookie): no alert
    phone = app.test_client()
    from_phone = phone.post("/reseller/auth/login", json={"username": acc.username, "password": "Str0ng#Pass"},
                            headers={"Host": acc.host, "User-Agent": "Mozilla/5.0 (Linux; Android 14) Mobile"})
    assert from_phone.status_code == 200
    with db.session() as s, tenant_context(acc.tenant):
        alerts = s.execute(select(Outbox).where(Outbox.template == "security/new_device")).scalars().all()
    assert len(alerts) == 1 and alerts[0].to_address == acc.username
    assert "127.0.0.1" in alerts[0].body_text and "Android 14" in alerts[0].body_text


def test_a_script_without_cookies_is_recognised_and_not_alerted_each_time(app, db, accounts):
    from sqlalchemy import func, select

    from app.models import KnownDevice, Outbox

    acc = accounts()
    assert reseller_login(app.test_client(), acc).status_code == 200  # a browser, first
    for _ in range(5):  # a script: a fresh client (no cookie jar) each time, same user agent and address
        assert reseller_login(app.test_client(), acc).status_code == 200
    with db.session() as s, tenant_context(acc.tenant):
        alerts = s.execute(select(func.count()).select_from(Outbox)
                           .where(Outbox.template == "security/new_device")).scalar_one()
        rows = s.execute(select(func.count()).select_from(KnownDevice)).scalar_one()
    assert alerts == 0  # same user agent and address as the browser's first sign-in
    assert rows <= 50
