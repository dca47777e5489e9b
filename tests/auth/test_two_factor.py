"""TOTP enrolment, single use of a code (even under concurrency), backup codes, and turning it off."""

import threading
import time
from datetime import timedelta

import pyotp
from sqlalchemy import update

from app.models import AuthSession, User
from app.models.base import utcnow
from app.services.auth import totp
from app.services.auth.crypto import decrypt
from app.services.auth.realms import USER
from tenants import tenant_context
from tests.auth.conftest import bearer, reseller_login


def _enrol(client, acc, token):
    headers = bearer(token, acc.host)
    started = client.post("/reseller/auth/2fa/enrol", headers=headers)
    assert started.status_code == 200
    body = started.get_json()
    assert body["otpauth_uri"].startswith("otpauth://totp/") and "<svg" in body["qr_svg"]
    secret = body["secret"]
    code = pyotp.TOTP(secret).now()
    confirmed = client.post("/reseller/auth/2fa/confirm", json={"code": code}, headers=headers)
    assert confirmed.status_code == 200, confirmed.get_json()
    codes = confirmed.get_json()["backup_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    return secret, codes


def _next_step_code(secret):
    """A code of a step not yet used (enrolment consumed the current one)."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def test_enrol_then_sign_in_needs_a_code(client, db, accounts):
    acc = accounts()
    token = reseller_login(client, acc).get_json()["token"]
    secret, _ = _enrol(client, acc, token)
    with db.session() as s, tenant_context(acc.tenant):
        stored = s.get(User, acc.user_id).totp_secret
    assert stored != secret and decrypt(stored) == secret  # encrypted at rest
    needs = reseller_login(client, acc)
    assert needs.status_code == 401 and needs.get_json()["type"] == "/problems/two-factor-required"
    assert reseller_login(client, acc, code=_next_step_code(secret)).status_code == 200
    replay = reseller_login(client, acc, code=_next_step_code(secret))
    assert replay.status_code == 401 and replay.get_json()["type"] == "/problems/invalid-credentials"


def test_ten_concurrent_submissions_of_one_code_accept_exactly_one(db, accounts):
    acc = accounts()
    secret = pyotp.random_base32()
    from app.services.auth.crypto import encrypt

    with db.session() as s, tenant_context(acc.tenant):
        user = s.get(User, acc.user_id)
        user.totp_secret, user.totp_enabled_at = encrypt(secret), utcnow()
    now = time.time()
    code = pyotp.TOTP(secret).at(now)
    barrier = threading.Barrier(10)
    results = []

    def submit():
        with tenant_context(acc.tenant), db.session() as s:
            user = s.get(User, acc.user_id)
            barrier.wait()
            results.append(totp.verify(s, USER, user, code, now=now))

    threads = [threading.Thread(target=submit) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 9 + [True]


def test_backup_codes_are_single_use(client, accounts):
    acc = accounts()
    token = reseller_login(client, acc).get_json()["token"]
    _, codes = _enrol(client, acc, token)
    assert reseller_login(client, acc, code=codes[0]).status_code == 200
    assert reseller_login(client, acc, code=codes[0]).status_code == 401
    assert reseller_login(client, acc, code=codes[1].upper().replace("-", " ")).status_code == 200
    status = client.get("/reseller/auth/2fa", headers=bearer(token, acc.host)).get_json()
    assert status == {"enabled": True, "pending": False, "backup_codes_left": 8}


def test_disabling_needs_a_fresh_sign_in(client, db, accounts):
    acc = accounts()
    token = reseller_login(client, acc).get_json()["token"]
    _enrol(client, acc, token)
    with db.session() as s, tenant_context(acc.tenant):
        s.execute(update(AuthSession).values(authenticated_at=utcnow() - timedelta(minutes=10)))
    stale = client.delete("/reseller/auth/2fa", headers=bearer(token, acc.host))
    assert stale.status_code == 403 and "sign in again" in stale.get_json()["detail"]
    with db.session() as s, tenant_context(acc.tenant):
        s.execute(update(AuthSession).values(authenticated_at=utcnow()))
    assert client.delete("/reseller/auth/2fa", headers=bearer(token, acc.host)).status_code == 200
    assert reseller_login(client, acc).status_code == 200  # no code needed any more


def test_a_wrong_code_at_confirmation_leaves_2fa_off(client, accounts):
    acc = accounts()
    token = reseller_login(client, acc).get_json()["token"]
    client.post("/reseller/auth/2fa/enrol", headers=bearer(token, acc.host))
    bad = client.post("/reseller/auth/2fa/confirm", json={"code": "000000"}, headers=bearer(token, acc.host))
    assert bad.status_code == 422
    status = client.get("/reseller/auth/2fa", headers=bearer(token, acc.host)).get_json()
    assert status["enabled"] is False and status["pending"] is True
    assert reseller_login(client, acc).status_code == 200
